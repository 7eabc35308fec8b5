// zcryptsetup's commit record (luks2/commit_record.h): DecodeCommitRecord, VerifyImage, and
// the record made for a parsed image (MakeCommitRecord, EncodeCommitRecord).
//
// Input: 4096 record bytes, then the image the record should describe. The image is padded
// with zeros up to the size the record claims (when that is at most 4 MiB), so that seeds can
// leave out an image's all-zero tail. A custom mutator, after libFuzzer's mutation, mostly
// zeroes the reserved and padding bytes, sometimes points image_size and image_sha256 at the
// (padded) image, and recomputes the record's own checksum, so that mutations reach the
// checks behind it.
//
// Oracles: no crash or sanitizer report; a record that decodes re-encodes to exactly the same
// 4096 bytes (the format is canonical); VerifyImage accepts exactly an image of the recorded
// size whose SHA-256 (computed here with OpenSSL directly) is the recorded one; for an image
// that parses, its own record round-trips and verifies.
#include <openssl/sha.h>

#include <algorithm>
#include <cstring>
#include <random>
#include <vector>

#include "fuzz_check.h"
#include "luks2/big_endian.h"
#include "luks2/commit_record.h"
#include "luks2/image.h"
#include "luks2ext/units.h"

using namespace luks2ext;

namespace {

constexpr uint64_t kMaxPaddedImage = 4 * MiB;

// The image a record at the front of `input` is checked against: the rest of the input, padded
// with zeros to `claimed` bytes when that is larger but not too large.
std::vector<uint8_t> ImageAfterRecord(std::span<const uint8_t> input, uint64_t claimed) {
  std::vector<uint8_t> image;
  if (input.size() > kCommitRecordSize) image.assign(input.begin() + kCommitRecordSize, input.end());
  if (claimed > image.size() && claimed <= kMaxPaddedImage) image.resize(claimed, 0);
  return image;
}

Sha256Digest Sha256(std::span<const uint8_t> bytes) {
  Sha256Digest digest;
  SHA256(bytes.data(), bytes.size(), digest.data());
  return digest;
}

}  // namespace

extern "C" size_t LLVMFuzzerCustomMutator(uint8_t* data, size_t size, size_t max_size,
                                          unsigned int seed) {
  std::minstd_rand rng(seed);
  size = LLVMFuzzerMutate(data, size, max_size);
  if (size < kCommitRecordSize) return size;
  if (rng() % 4 != 0) {
    std::fill(data + kRecordReservedOffset, data + kRecordSeqidOffset, 0);
    std::fill(data + kRecordPaddingOffset, data + kRecordSha256Offset, 0);
  }
  if (rng() % 2 == 0) {
    // Point the record at the image that follows it.
    const uint64_t claimed = LoadBigEndian<uint64_t>(data + kRecordImageSizeOffset);
    const uint64_t rest = size - kCommitRecordSize;
    const uint64_t image_size =
        rng() % 2 == 0 || claimed > kMaxPaddedImage ? (rest + 4095) / 4096 * 4096 : claimed;
    StoreBigEndian<uint64_t>(data + kRecordImageSizeOffset, image_size);
    const std::vector<uint8_t> image = ImageAfterRecord({data, size}, image_size);
    const Sha256Digest digest = Sha256(image);
    std::copy(digest.begin(), digest.end(), data + kRecordImageSha256Offset);
  }
  if (rng() % 16 != 0) {
    const Sha256Digest own = Sha256({data, kRecordSha256Offset});
    std::copy(own.begin(), own.end(), data + kRecordSha256Offset);
  }
  return size;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::span<const uint8_t> input = fuzz::Bytes(data, size);

  auto record = DecodeCommitRecord(input);
  if (record.ok()) {
    FUZZ_CHECK(size >= kCommitRecordSize);
    FUZZ_CHECK(record->image_size >= kMinRecordedImageSize &&
               record->image_size <= kMaxRecordedImageSize && record->image_size % 4096 == 0);
    FUZZ_CHECK(record->uuid.size() <= kRecordUuidSize);
    auto encoded = EncodeCommitRecord(*record);
    FUZZ_CHECK(encoded.ok());
    FUZZ_CHECK(std::equal(encoded->begin(), encoded->end(), input.begin()));

    const std::vector<uint8_t> image = ImageAfterRecord(input, record->image_size);
    const bool matches = image.size() == record->image_size && Sha256(image) == record->image_sha256;
    FUZZ_CHECK(VerifyImage(*record, image).ok() == matches);
  } else if (size >= kCommitRecordSize) {
    // Anything that is not a canonical record is refused: a record re-encoded from the
    // fields we can read must then differ from the input (or be unencodable).
    CommitRecord guess;
    guess.seqid = LoadBigEndian<uint64_t>(data + kRecordSeqidOffset);
    guess.image_size = LoadBigEndian<uint64_t>(data + kRecordImageSizeOffset);
    std::copy_n(data + kRecordImageSha256Offset, kSha256Size, guess.image_sha256.begin());
    guess.uuid.assign(reinterpret_cast<const char*>(data + kRecordUuidOffset),
                      strnlen(reinterpret_cast<const char*>(data + kRecordUuidOffset),
                              kRecordUuidSize));
    if (auto encoded = EncodeCommitRecord(guess); encoded.ok())
      FUZZ_CHECK(!std::equal(encoded->begin(), encoded->end(), input.begin()));
  }

  // The image part as an image of its own: its record round-trips and verifies.
  if (size <= kCommitRecordSize) return 0;
  const std::vector<uint8_t> rest = ImageAfterRecord(input, 0);
  auto headers = Luks2Image::ParseHeaders(rest);
  if (!headers.ok()) return 0;
  auto image = Luks2Image::Parse(ImageAfterRecord(input, headers->image_size()));
  if (!image.ok()) return 0;
  auto made = MakeCommitRecord(*image);
  FUZZ_CHECK(made.ok());
  auto encoded = EncodeCommitRecord(*made);
  if (!encoded.ok()) {
    // Only a uuid that does not fit the record's field can make it unencodable.
    FUZZ_CHECK(made->uuid.size() > kRecordUuidSize);
    return 0;
  }
  auto decoded = DecodeCommitRecord(*encoded);
  FUZZ_CHECK(decoded.ok());
  FUZZ_CHECK(decoded->seqid == image->seqid() && decoded->image_size == image->image_size());
  FUZZ_CHECK(decoded->uuid == image->uuid() && decoded->image_sha256 == made->image_sha256);
  FUZZ_CHECK(VerifyImage(*decoded, image->bytes()).ok());
  return 0;
}
