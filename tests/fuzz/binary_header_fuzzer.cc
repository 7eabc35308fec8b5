// The LUKS2 binary header codec (luks2/binary_header.h): DecodeBinaryHeader, ParseHeaderCopy,
// IsLuks1Header, and WriteHeaderCopy on what was accepted.
//
// Input: one byte choosing the device offset the bytes were "read" at (0: the primary; 1..9:
// the legal secondary offsets 16 KiB .. 4 MiB; anything else: that byte times 4096), then the
// bytes of one header copy (binary header + JSON area).
//
// Oracles: no crash or sanitizer report; whatever is accepted obeys the documented checks
// (magic for the offset, version 2, legal hdr_size, hdr_offset == read offset, a secondary's
// hdr_size == its offset); ParseHeaderCopy accepts only what DecodeBinaryHeader accepts, with
// the same fields, a terminated JSON area and a matching checksum; a LUKS1 header is never a
// LUKS2 one; an accepted copy written back with WriteHeaderCopy parses to the same header.
#include <algorithm>
#include <string_view>
#include <vector>

#include "fuzz_check.h"
#include "luks2/binary_header.h"

using namespace luks2ext;

namespace {

uint64_t ReadOffset(uint8_t selector) {
  if (selector == 0) return 0;
  if (selector <= kSecondaryHeaderOffsets.size()) return kSecondaryHeaderOffsets[selector - 1];
  return uint64_t{selector} * 4096;
}

bool SameFields(const BinaryHeader& a, const BinaryHeader& b) {
  return a.copy == b.copy && a.version == b.version && a.hdr_size == b.hdr_size &&
         a.seqid == b.seqid && a.label == b.label && a.csum_alg == b.csum_alg &&
         a.salt == b.salt && a.uuid == b.uuid && a.subsystem == b.subsystem &&
         a.hdr_offset == b.hdr_offset;
}

bool FitsField(std::string_view s, size_t field) {
  return s.size() < field && s.find('\0') == std::string_view::npos;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const uint64_t read_offset = ReadOffset(data[0]);
  const std::span<const uint8_t> copy = fuzz::Bytes(data + 1, size - 1);

  const bool luks1 = IsLuks1Header(copy);
  auto decoded = DecodeBinaryHeader(copy, read_offset);
  auto parsed = ParseHeaderCopy(copy, read_offset);

  if (decoded.ok()) {
    const BinaryHeader& h = *decoded;
    FUZZ_CHECK(copy.size() >= kBinaryHeaderSize);
    FUZZ_CHECK(!luks1);
    FUZZ_CHECK(h.version == kLuks2Version);
    FUZZ_CHECK(IsValidHdrSize(h.hdr_size));
    FUZZ_CHECK(h.hdr_offset == read_offset);
    FUZZ_CHECK(h.copy == (read_offset == 0 ? HeaderCopy::kPrimary : HeaderCopy::kSecondary));
    if (read_offset != 0) FUZZ_CHECK(h.hdr_size == read_offset);
    FUZZ_CHECK(h.label.size() <= kLabelSize && h.csum_alg.size() <= kCsumAlgSize);
    FUZZ_CHECK(h.uuid.size() <= kUuidSize && h.subsystem.size() <= kSubsystemSize);
    FUZZ_CHECK(h.json_size() == h.hdr_size - kBinaryHeaderSize);
  }

  if (!parsed.ok()) return 0;
  FUZZ_CHECK(decoded.ok());
  const BinaryHeader& h = *parsed;
  FUZZ_CHECK(SameFields(h, *decoded) && h.csum == decoded->csum);
  FUZZ_CHECK(copy.size() >= h.hdr_size);
  const auto json_area = copy.subspan(kBinaryHeaderSize, h.json_size());
  FUZZ_CHECK(std::find(json_area.begin(), json_area.end(), 0) != json_area.end());
  auto csum = ComputeHeaderChecksum(copy, h.hdr_size, h.csum_alg.view());
  FUZZ_CHECK(csum.ok() && *csum == h.csum);

  // Written back (fresh padding, recomputed checksum), the copy parses to the same header.
  std::vector<uint8_t> rewritten(copy.begin(), copy.begin() + h.hdr_size);
  const Status written = WriteHeaderCopy(h, rewritten);
  const bool fits =
      FitsField(h.label.view(), kLabelSize) && FitsField(h.csum_alg.view(), kCsumAlgSize) &&
      FitsField(h.uuid.view(), kUuidSize) && FitsField(h.subsystem.view(), kSubsystemSize);
  FUZZ_CHECK(written.ok() == fits);
  if (written.ok()) {
    auto reparsed = ParseHeaderCopy(rewritten, read_offset);
    FUZZ_CHECK(reparsed.ok());
    FUZZ_CHECK(SameFields(*reparsed, h));
  }
  return 0;
}
