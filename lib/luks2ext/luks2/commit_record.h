// zcryptsetup's commit record: 4096 bytes written right after a LUKS2 metadata image (at
// offset M). It proves that the image before it was written completely: a copy counts as
// complete when its record decodes and VerifyImage() accepts the image. Stock cryptsetup never
// reads past the keyslots area, so it never sees the record. docs/format.md has the grammar.
//
// Layout (integers big-endian):
//   offset size field
//        0    8 magic          "ZCLUKS2C"
//        8    4 version        1
//       12    4 reserved       0
//       16    8 seqid          LUKS2 seqid of the image
//       24    8 image_size     M
//       32   32 image_sha256   SHA-256 of image bytes [0, M)
//       64   40 uuid           LUKS2 uuid, NUL-padded
//      104 3960 padding        0
//     4064   32 record_sha256  SHA-256 of record bytes [0, 4064)
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "luks2/digest.h"
#include "luks2ext/error.h"
#include "luks2/format.h"

namespace luks2ext {

class Luks2Image;

struct CommitRecord {
  std::uint64_t seqid = 0;
  std::uint64_t image_size = 0;
  Sha256Digest image_sha256{};
  std::string uuid;  // at most kRecordUuidSize bytes, no NUL
};

using EncodedCommitRecord = std::array<std::uint8_t, kCommitRecordSize>;

// The record for `image`, hashing all of it. REQUIRES: image.has_keyslots_area().
Result<CommitRecord> MakeCommitRecord(const Luks2Image& image);

// The 4096 on-disk bytes, record checksum included. WrongParameters when the uuid is too long
// or image_size is out of bounds.
Result<EncodedCommitRecord> EncodeCommitRecord(const CommitRecord& record);

// Decodes and checks 4096 bytes read at offset M: magic, version, reserved and padding zero,
// record checksum, image_size a multiple of 4096 within bounds. WrongDevice on any failure
// (a torn or absent record); shorter input is WrongDevice too.
Result<CommitRecord> DecodeCommitRecord(std::span<const std::uint8_t> bytes);

// OK when `image` is exactly record.image_size bytes whose SHA-256 is record.image_sha256;
// WrongDevice otherwise.
Status VerifyImage(const CommitRecord& record, std::span<const std::uint8_t> image);

}  // namespace luks2ext
