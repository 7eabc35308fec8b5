#include "luks2/commit_record.h"

#include <algorithm>
#include <cstring>

#include "base/i18n.h"
#include "luks2/big_endian.h"
#include "luks2/image.h"

namespace luks2ext {
namespace {

static_assert(kMaxRecordedImageSize == kMaxImageSize);

bool ImageSizeInBounds(std::uint64_t image_size) {
  return image_size >= kMinRecordedImageSize && image_size <= kMaxRecordedImageSize &&
         image_size % kLuks2Alignment == 0;
}

Error BadRecord(const std::string& why) {
  return Error::WrongDevice(FormatMsg(_("Invalid metadata commit record: {}."), why));
}

}  // namespace

Result<CommitRecord> MakeCommitRecord(const Luks2Image& image) {
  assert(image.has_keyslots_area());
  CommitRecord record;
  record.seqid = image.seqid();
  record.image_size = image.image_size();
  record.uuid = image.uuid();
  ASSIGN_OR_RETURN(record.image_sha256, Sha256Of({image.bytes()}));
  return record;
}

Result<EncodedCommitRecord> EncodeCommitRecord(const CommitRecord& record) {
  if (record.uuid.size() > kRecordUuidSize || record.uuid.find('\0') != std::string::npos) {
    return Error::WrongParameters(FormatMsg(_("UUID {} is too long."), record.uuid));
  }
  if (!ImageSizeInBounds(record.image_size)) {
    return Error::WrongParameters(
        FormatMsg(_("Metadata image size {} is out of bounds."), record.image_size));
  }
  EncodedCommitRecord out{};  // zero: reserved and padding
  std::uint8_t* p = out.data();
  std::copy(kCommitRecordMagic.begin(), kCommitRecordMagic.end(), p + kRecordMagicOffset);
  StoreBigEndian<std::uint32_t>(p + kRecordVersionOffset, kCommitRecordVersion);
  StoreBigEndian<std::uint64_t>(p + kRecordSeqidOffset, record.seqid);
  StoreBigEndian<std::uint64_t>(p + kRecordImageSizeOffset, record.image_size);
  std::copy(record.image_sha256.begin(), record.image_sha256.end(), p + kRecordImageSha256Offset);
  std::memcpy(p + kRecordUuidOffset, record.uuid.data(), record.uuid.size());

  ASSIGN_OR_RETURN(Sha256Digest own,
                   Sha256Of({std::span<const std::uint8_t>(p, kRecordSha256Offset)}));
  std::copy(own.begin(), own.end(), p + kRecordSha256Offset);
  return out;
}

Result<CommitRecord> DecodeCommitRecord(std::span<const std::uint8_t> bytes) {
  if (bytes.size() < kCommitRecordSize) return BadRecord(_("record is truncated"));
  const std::uint8_t* p = bytes.data();

  // Cheap checks first: an unwritten or foreign block fails on its magic.
  if (!std::equal(kCommitRecordMagic.begin(), kCommitRecordMagic.end(), p + kRecordMagicOffset)) {
    return BadRecord(_("bad magic"));
  }
  const auto version = LoadBigEndian<std::uint32_t>(p + kRecordVersionOffset);
  if (version != kCommitRecordVersion) {
    return BadRecord(FormatMsg(_("unsupported version {}"), version));
  }
  ASSIGN_OR_RETURN(Sha256Digest own,
                   Sha256Of({std::span<const std::uint8_t>(p, kRecordSha256Offset)}));
  if (!std::equal(own.begin(), own.end(), p + kRecordSha256Offset)) {
    return BadRecord(_("checksum mismatch"));
  }
  // Fields this version does not define must be zero, so a later version can use them.
  if (LoadBigEndian<std::uint32_t>(p + kRecordReservedOffset) != 0 ||
      std::any_of(p + kRecordPaddingOffset, p + kRecordSha256Offset,
                  [](std::uint8_t b) { return b != 0; })) {
    return BadRecord(_("reserved bytes are not zero"));
  }

  CommitRecord record;
  record.seqid = LoadBigEndian<std::uint64_t>(p + kRecordSeqidOffset);
  record.image_size = LoadBigEndian<std::uint64_t>(p + kRecordImageSizeOffset);
  if (!ImageSizeInBounds(record.image_size)) {
    return BadRecord(FormatMsg(_("image size {} is out of bounds"), record.image_size));
  }
  std::copy_n(p + kRecordImageSha256Offset, kSha256Size, record.image_sha256.begin());
  const auto* uuid = reinterpret_cast<const char*>(p + kRecordUuidOffset);
  record.uuid.assign(uuid, strnlen(uuid, kRecordUuidSize));
  // NUL padding means nothing may follow the first NUL inside the field.
  if (std::any_of(p + kRecordUuidOffset + record.uuid.size(), p + kRecordPaddingOffset,
                  [](std::uint8_t b) { return b != 0; })) {
    return BadRecord(_("UUID field is not NUL-padded"));
  }
  return record;
}

Status VerifyImage(const CommitRecord& record, std::span<const std::uint8_t> image) {
  if (image.size() != record.image_size) {
    return Error::WrongDevice(
        FormatMsg(_("Metadata image is {} bytes but its commit record says {}."), image.size(),
                  record.image_size));
  }
  ASSIGN_OR_RETURN(Sha256Digest digest, Sha256Of({image}));
  if (digest != record.image_sha256) {
    return Error::WrongDevice(_("Metadata image does not match its commit record."));
  }
  return Status::Ok();
}

}  // namespace luks2ext
