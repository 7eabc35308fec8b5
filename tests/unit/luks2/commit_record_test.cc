#include "luks2/commit_record.h"

#include <gtest/gtest.h>

#include <cstring>
#include <functional>
#include <vector>

#include "luks2/big_endian.h"
#include "luks2/image.h"
#include "support/luks2_fixture.h"

namespace luks2ext {
namespace {

using testing::Luks2Fixture;

// Recomputes the record's own checksum after a test edits it, so the edit reaches the check
// behind the checksum.
void Reseal(EncodedCommitRecord& record) {
  auto own = Sha256Of({std::span<const std::uint8_t>(record.data(), kRecordSha256Offset)});
  ASSERT_TRUE(own.ok());
  std::copy(own->begin(), own->end(), record.begin() + kRecordSha256Offset);
}

CommitRecord SampleRecord() {
  CommitRecord record;
  record.seqid = 0x0102030405060708ull;
  record.image_size = 2 * 16384 + 1024 * 1024;
  for (std::size_t i = 0; i < record.image_sha256.size(); ++i) {
    record.image_sha256[i] = static_cast<std::uint8_t>(i * 7);
  }
  record.uuid = "2f0f3c8e-6b1b-4a36-9d0c-1c1f3e9a0b21";
  return record;
}

TEST(CommitRecordTest, RoundTripsARealImage) {
  Luks2Fixture fixture;
  auto bytes = fixture.Format();
  auto image = Luks2Image::Parse(bytes);
  ASSERT_TRUE(image.ok());

  auto record = MakeCommitRecord(*image);
  ASSERT_TRUE(record.ok());
  EXPECT_EQ(record->seqid, image->seqid());
  EXPECT_EQ(record->image_size, image->image_size());
  EXPECT_EQ(record->uuid, image->uuid());

  auto encoded = EncodeCommitRecord(*record);
  ASSERT_TRUE(encoded.ok());
  auto decoded = DecodeCommitRecord(*encoded);
  ASSERT_TRUE(decoded.ok()) << decoded.error().message();
  EXPECT_EQ(decoded->seqid, record->seqid);
  EXPECT_EQ(decoded->image_size, record->image_size);
  EXPECT_EQ(decoded->image_sha256, record->image_sha256);
  EXPECT_EQ(decoded->uuid, record->uuid);

  EXPECT_TRUE(VerifyImage(*decoded, image->bytes()).ok());

  std::vector<std::uint8_t> flipped(image->bytes().begin(), image->bytes().end());
  flipped[flipped.size() / 2] ^= 0x01;
  auto status = VerifyImage(*decoded, flipped);
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().code(), ExitCode::kWrongDevice);
  EXPECT_FALSE(VerifyImage(*decoded, image->bytes().first(image->bytes().size() - 4096)).ok());
}

TEST(CommitRecordTest, FieldsSitAtTheirDocumentedOffsets) {
  auto encoded = EncodeCommitRecord(SampleRecord());
  ASSERT_TRUE(encoded.ok());
  const std::uint8_t* p = encoded->data();
  EXPECT_EQ(std::memcmp(p, "ZCLUKS2C", 8), 0);
  EXPECT_EQ(LoadBigEndian<std::uint32_t>(p + 8), 1u);
  EXPECT_EQ(LoadBigEndian<std::uint32_t>(p + 12), 0u);
  EXPECT_EQ(LoadBigEndian<std::uint64_t>(p + 16), 0x0102030405060708ull);
  EXPECT_EQ(LoadBigEndian<std::uint64_t>(p + 24), 2u * 16384 + 1024 * 1024);
  EXPECT_EQ(p[32 + 1], 7);
  EXPECT_EQ(std::memcmp(p + 64, "2f0f3c8e-", 9), 0);
  EXPECT_EQ(p[64 + 36], 0);
  for (std::size_t i = 104; i < 4064; ++i) ASSERT_EQ(p[i], 0) << i;
  auto own = Sha256Of({std::span<const std::uint8_t>(p, 4064)});
  ASSERT_TRUE(own.ok());
  EXPECT_EQ(std::memcmp(p + 4064, own->data(), 32), 0);
}

TEST(CommitRecordTest, DecodeRejectsDamagedRecords) {
  struct Damage {
    const char* name;
    bool reseal;  // fix the checksum so the check behind it is reached
    std::function<void(EncodedCommitRecord&)> apply;
  };
  const Damage damages[] = {
      {"zeroed block", false, [](auto& r) { r.fill(0); }},
      {"erased block", false, [](auto& r) { r.fill(0xff); }},
      {"bad magic", true, [](auto& r) { r[0] = 'X'; }},
      {"version 0", true, [](auto& r) { StoreBigEndian<std::uint32_t>(r.data() + 8, 0); }},
      {"version 2", true, [](auto& r) { StoreBigEndian<std::uint32_t>(r.data() + 8, 2); }},
      {"reserved nonzero", true, [](auto& r) { r[15] = 1; }},
      {"padding nonzero", true, [](auto& r) { r[2000] = 1; }},
      {"uuid not NUL padded", true, [](auto& r) { r[64 + 38] = 'x'; }},
      {"image size unaligned", true,
       [](auto& r) { StoreBigEndian<std::uint64_t>(r.data() + 24, 32768 + 512); }},
      {"image size zero", true, [](auto& r) { StoreBigEndian<std::uint64_t>(r.data() + 24, 0); }},
      {"image size absurd", true,
       [](auto& r) { StoreBigEndian<std::uint64_t>(r.data() + 24, 1ull << 40); }},
      {"seqid flipped", false, [](auto& r) { r[16] ^= 0x01; }},
      {"image hash flipped", false, [](auto& r) { r[40] ^= 0x01; }},
      {"padding flipped", false, [](auto& r) { r[3000] ^= 0x01; }},
      {"checksum flipped", false, [](auto& r) { r[4064] ^= 0x01; }},
      {"checksum last byte", false, [](auto& r) { r[4095] ^= 0x80; }},
  };
  auto good = EncodeCommitRecord(SampleRecord());
  ASSERT_TRUE(good.ok());
  ASSERT_TRUE(DecodeCommitRecord(*good).ok());
  for (const auto& damage : damages) {
    EncodedCommitRecord record = *good;
    damage.apply(record);
    if (damage.reseal) Reseal(record);
    auto decoded = DecodeCommitRecord(record);
    ASSERT_FALSE(decoded.ok()) << damage.name;
    EXPECT_EQ(decoded.error().code(), ExitCode::kWrongDevice) << damage.name;
  }
}

TEST(CommitRecordTest, DecodeRejectsEveryTruncation) {
  auto good = EncodeCommitRecord(SampleRecord());
  ASSERT_TRUE(good.ok());
  for (std::size_t length = 0; length < kCommitRecordSize; length += 97) {
    EXPECT_FALSE(DecodeCommitRecord(std::span(good->data(), length)).ok()) << length;
  }
  EXPECT_FALSE(DecodeCommitRecord(std::span(good->data(), kCommitRecordSize - 1)).ok());
}

TEST(CommitRecordTest, EncodeRejectsWhatDecodeWould) {
  CommitRecord long_uuid = SampleRecord();
  long_uuid.uuid = std::string(kRecordUuidSize + 1, 'u');
  EXPECT_FALSE(EncodeCommitRecord(long_uuid).ok());

  CommitRecord full_uuid = SampleRecord();
  full_uuid.uuid = std::string(kRecordUuidSize, 'u');  // fills the field, no NUL needed
  auto encoded = EncodeCommitRecord(full_uuid);
  ASSERT_TRUE(encoded.ok());
  auto decoded = DecodeCommitRecord(*encoded);
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(decoded->uuid, full_uuid.uuid);

  for (std::uint64_t size : {std::uint64_t{0}, std::uint64_t{4096}, std::uint64_t{32768 + 1},
                             kMaxRecordedImageSize + 4096}) {
    CommitRecord bad_size = SampleRecord();
    bad_size.image_size = size;
    auto result = EncodeCommitRecord(bad_size);
    ASSERT_FALSE(result.ok()) << size;
    EXPECT_EQ(result.error().code(), ExitCode::kWrongParameters);
  }
}

}  // namespace
}  // namespace luks2ext
