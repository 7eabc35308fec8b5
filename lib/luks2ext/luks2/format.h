// Every constant of the bytes zcryptsetup reads and writes: the LUKS2 binary header (LUKS2
// On-Disk Format Specification, section 2), the limits libcryptsetup enforces on the metadata,
// the config flag names, and zcryptsetup's commit record. docs/format.md describes the same
// bytes as a grammar. Choices (default sizes, how many keyslots a small zone must hold) are
// not here: they are the planner's, in luks2ext/layout.h.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace luks2ext {

// ---- The binary header: the first 4096 bytes of each of the two header copies.
inline constexpr std::size_t kBinaryHeaderSize = 4096;

inline constexpr std::size_t kMagicOffset = 0;
inline constexpr std::size_t kMagicSize = 6;
inline constexpr std::size_t kVersionOffset = 6;
inline constexpr std::size_t kHdrSizeOffset = 8;
inline constexpr std::size_t kSeqidOffset = 16;
inline constexpr std::size_t kLabelOffset = 24;
inline constexpr std::size_t kLabelSize = 48;
inline constexpr std::size_t kCsumAlgOffset = 72;
inline constexpr std::size_t kCsumAlgSize = 32;
inline constexpr std::size_t kSaltOffset = 104;
inline constexpr std::size_t kSaltSize = 64;
inline constexpr std::size_t kUuidOffset = 168;
inline constexpr std::size_t kUuidSize = 40;
inline constexpr std::size_t kSubsystemOffset = 208;
inline constexpr std::size_t kSubsystemSize = 48;
inline constexpr std::size_t kHdrOffsetOffset = 256;
inline constexpr std::size_t kCsumOffset = 448;
inline constexpr std::size_t kCsumSize = 64;

static_assert(kMagicOffset + kMagicSize == kVersionOffset);
static_assert(kVersionOffset + 2 == kHdrSizeOffset);
static_assert(kHdrSizeOffset + 8 == kSeqidOffset);
static_assert(kSeqidOffset + 8 == kLabelOffset);
static_assert(kLabelOffset + kLabelSize == kCsumAlgOffset);
static_assert(kCsumAlgOffset + kCsumAlgSize == kSaltOffset);
static_assert(kSaltOffset + kSaltSize == kUuidOffset);
static_assert(kUuidOffset + kUuidSize == kSubsystemOffset);
static_assert(kSubsystemOffset + kSubsystemSize == kHdrOffsetOffset);
static_assert(kHdrOffsetOffset + 8 + 184 == kCsumOffset);
static_assert(kCsumOffset + kCsumSize == 512);
static_assert(512 + 7 * 512 == kBinaryHeaderSize);

inline constexpr std::uint16_t kLuks2Version = 2;
// hdr_size (binary header + JSON area of one copy): a power of two in [16 KiB, 4 MiB].
inline constexpr std::uint64_t kMinHdrSize = 16 * 1024;
inline constexpr std::uint64_t kMaxHdrSize = 4 * 1024 * 1024;
constexpr bool IsValidHdrSize(std::uint64_t hdr_size) {
  return hdr_size >= kMinHdrSize && hdr_size <= kMaxHdrSize && (hdr_size & (hdr_size - 1)) == 0;
}

// Where a secondary copy may sit: every legal hdr_size. Used to find the secondary when the
// primary cannot tell its own size (it is corrupt), as cryptsetup does.
inline constexpr std::array<std::uint64_t, 9> kSecondaryHeaderOffsets = {
    0x4000, 0x8000, 0x10000, 0x20000, 0x40000, 0x80000, 0x100000, 0x200000, 0x400000};
static_assert(kSecondaryHeaderOffsets.front() == kMinHdrSize);
static_assert(kSecondaryHeaderOffsets.back() == kMaxHdrSize);

// ---- The metadata image: [primary copy][secondary copy][keyslots area].
// Keyslot areas, the keyslots area and the data offset are aligned to this.
inline constexpr std::uint64_t kLuks2Alignment = 4096;
// libcryptsetup's ceiling for config.keyslots_size.
inline constexpr std::uint64_t kMaxKeyslotsSize = 128 * 1024 * 1024;
inline constexpr std::uint64_t kMaxImageSize = 2 * kMaxHdrSize + kMaxKeyslotsSize;
// A LUKS2 keyslot holds this many anti-forensic stripes of the volume key.
inline constexpr std::uint64_t kAfStripes = 4000;

// ---- config.flags names. The upstream ones are cryptsetup's persistent activation flags;
// force-inline is zcryptsetup's, stored beside them (stock tools ignore unknown flags).
inline constexpr const char* kForceInlineFlag = "force-inline";
inline constexpr const char* kNoReadWorkqueueFlag = "no-read-workqueue";
inline constexpr const char* kNoWriteWorkqueueFlag = "no-write-workqueue";
inline constexpr const char* kAllowDiscardsFlag = "allow-discards";
inline constexpr const char* kSameCpuCryptFlag = "same-cpu-crypt";
inline constexpr const char* kSubmitFromCryptCpusFlag = "submit-from-crypt-cpus";

// ---- zcryptsetup's commit record: 4096 bytes right after an image (luks2/commit_record.h).
inline constexpr std::uint64_t kCommitRecordSize = 4096;
inline constexpr std::size_t kSha256Size = 32;  // the record's two digests
inline constexpr std::array<std::uint8_t, 8> kCommitRecordMagic = {'Z', 'C', 'L', 'U',
                                                                   'K', 'S', '2', 'C'};
inline constexpr std::uint32_t kCommitRecordVersion = 1;

inline constexpr std::size_t kRecordMagicOffset = 0;
inline constexpr std::size_t kRecordVersionOffset = 8;
inline constexpr std::size_t kRecordReservedOffset = 12;
inline constexpr std::size_t kRecordSeqidOffset = 16;
inline constexpr std::size_t kRecordImageSizeOffset = 24;
inline constexpr std::size_t kRecordImageSha256Offset = 32;
inline constexpr std::size_t kRecordUuidOffset = 64;
inline constexpr std::size_t kRecordUuidSize = 40;
inline constexpr std::size_t kRecordPaddingOffset = 104;
inline constexpr std::size_t kRecordSha256Offset = kCommitRecordSize - kSha256Size;

static_assert(kRecordMagicOffset + kCommitRecordMagic.size() == kRecordVersionOffset);
static_assert(kRecordVersionOffset + 4 == kRecordReservedOffset);
static_assert(kRecordReservedOffset + 4 == kRecordSeqidOffset);
static_assert(kRecordSeqidOffset + 8 == kRecordImageSizeOffset);
static_assert(kRecordImageSizeOffset + 8 == kRecordImageSha256Offset);
static_assert(kRecordImageSha256Offset + kSha256Size == kRecordUuidOffset);
static_assert(kRecordUuidOffset + kRecordUuidSize == kRecordPaddingOffset);
static_assert(kRecordPaddingOffset < kRecordSha256Offset);
static_assert(kRecordSha256Offset == 4064);
static_assert(kRecordSha256Offset + kSha256Size == kCommitRecordSize);

// Bounds on M a record may claim: two minimal header areas, at most the largest image; always
// a multiple of kLuks2Alignment.
inline constexpr std::uint64_t kMinRecordedImageSize = 2 * kMinHdrSize;
inline constexpr std::uint64_t kMaxRecordedImageSize = kMaxImageSize;

}  // namespace luks2ext
