// The LUKS2 binary header: the first 4096 bytes of each of the two header copies.
//
// Layout (LUKS2 On-Disk Format Specification, section 2; all integers big-endian):
//   offset size field
//        0    6 magic       "LUKS\xba\xbe" (primary) or "SKUL\xba\xbe" (secondary)
//        6    2 version     2
//        8    8 hdr_size    binary header + JSON area, a power of two in 16 KiB .. 4 MiB
//       16    8 seqid       bumped on every metadata update; both copies carry the same one
//       24   48 label       NUL-terminated
//       72   32 csum_alg    NUL-terminated digest name, e.g. "sha256"
//      104   64 salt        random; differs between the copies
//      168   40 uuid        NUL-terminated
//      208   48 subsystem   NUL-terminated
//      256    8 hdr_offset  where this copy starts on the device (0 or hdr_size)
//      264  184 padding
//      448   64 csum        digest of [binary header with csum zeroed] + [JSON area]
//      512 3584 padding
// The JSON area (hdr_size - 4096 bytes, NUL-terminated, zero-padded) follows each binary header.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "luks2/field_string.h"
#include "luks2/format.h"
#include "luks2ext/error.h"

namespace luks2ext {

// Which of the two copies a binary header belongs to; decided by its magic.
enum class HeaderCopy { kPrimary, kSecondary };

// The decoded fields of one binary header. Strings stop at their first NUL. Every member is
// held in place (FieldString), so a header is copied and moved as bytes.
struct BinaryHeader {
  HeaderCopy copy = HeaderCopy::kPrimary;
  std::uint16_t version = kLuks2Version;
  std::uint64_t hdr_size = 0;
  std::uint64_t seqid = 0;
  FieldString<kLabelSize> label;
  FieldString<kCsumAlgSize> csum_alg;
  std::array<std::uint8_t, kSaltSize> salt{};
  FieldString<kUuidSize> uuid;
  FieldString<kSubsystemSize> subsystem;
  std::uint64_t hdr_offset = 0;
  std::array<std::uint8_t, kCsumSize> csum{};

  std::uint64_t json_size() const { return hdr_size - kBinaryHeaderSize; }
};

// True when `first_bytes` start with a LUKS1 header: LUKS2's magic with version 1 (LUKS1 and
// LUKS2 share the magic; the version, a big-endian u16 at 6, tells them apart).
bool IsLuks1Header(std::span<const std::uint8_t> first_bytes);

// The version field of bytes that start with the primary LUKS magic ("LUKS\xba\xbe"), whatever
// the version; nullopt when the magic is not there (or fewer than 8 bytes are given).
std::optional<std::uint16_t> LuksMagicVersion(std::span<const std::uint8_t> first_bytes);

// The cheap checks only, on the 4096 bytes read at device offset `read_offset`: magic (primary
// at offset 0, secondary elsewhere), version, hdr_size, and hdr_offset == read_offset (for a
// secondary also hdr_size == read_offset). Does not look at the JSON area or the checksum.
// Lets a caller learn hdr_size from one 4096-byte read. Errors are WrongDevice.
// REQUIRES: binary_header.size() >= kBinaryHeaderSize (shorter input is WrongDevice).
Result<BinaryHeader> DecodeBinaryHeader(std::span<const std::uint8_t> binary_header,
                                        std::uint64_t read_offset);

// Full validation of one copy, in cryptsetup's order: the cheap checks above, then the JSON area
// must be NUL-terminated, then the checksum. `copy_area` starts at the binary header and must
// hold at least hdr_size bytes (a shorter area is WrongDevice: the copy is truncated).
Result<BinaryHeader> ParseHeaderCopy(std::span<const std::uint8_t> copy_area,
                                     std::uint64_t read_offset);

// The checksum of a copy: digest(csum_alg) over its binary header with csum zeroed, followed
// by the JSON area. REQUIRES: copy_area.size() >= hdr_size.
Result<std::array<std::uint8_t, kCsumSize>> ComputeHeaderChecksum(
    std::span<const std::uint8_t> copy_area, std::uint64_t hdr_size, std::string_view csum_alg);

// Writes `header` (its magic from header.copy) into copy_area[0, 4096), then computes the
// checksum over that and the JSON area already in copy_area[4096, hdr_size) and stores it.
// header.csum is ignored. Fails with WrongParameters when a string does not fit its field
// (with its NUL) or hdr_size is illegal.
// REQUIRES: copy_area.size() >= header.hdr_size.
Status WriteHeaderCopy(const BinaryHeader& header, std::span<std::uint8_t> copy_area);

}  // namespace luks2ext
