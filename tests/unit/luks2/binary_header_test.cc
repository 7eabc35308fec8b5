#include "luks2/binary_header.h"

#include <gtest/gtest.h>

#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "luks2/big_endian.h"
#include "support/luks2_fixture.h"

namespace luks2ext {
namespace {

using testing::Luks2Fixture;

class BinaryHeaderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    image_ = fixture_.Format();
    ASSERT_FALSE(image_.empty());
  }
  std::span<std::uint8_t> Primary() { return std::span(image_).subspan(0, kHdr); }
  std::span<std::uint8_t> Secondary() { return std::span(image_).subspan(kHdr, kHdr); }

  static constexpr std::uint64_t kHdr = 16 * 1024;
  Luks2Fixture fixture_;
  std::vector<std::uint8_t> image_;
};

TEST_F(BinaryHeaderTest, ParsesBothCopiesOfARealHeader) {
  auto primary = ParseHeaderCopy(Primary(), 0);
  ASSERT_TRUE(primary.ok()) << primary.error().message();
  EXPECT_EQ(primary->copy, HeaderCopy::kPrimary);
  EXPECT_EQ(primary->version, 2);
  EXPECT_EQ(primary->hdr_size, kHdr);
  EXPECT_EQ(primary->hdr_offset, 0u);
  EXPECT_EQ(primary->csum_alg, "sha256");
  EXPECT_EQ(primary->uuid.size(), 36u);

  auto secondary = ParseHeaderCopy(Secondary(), kHdr);
  ASSERT_TRUE(secondary.ok()) << secondary.error().message();
  EXPECT_EQ(secondary->copy, HeaderCopy::kSecondary);
  EXPECT_EQ(secondary->hdr_offset, kHdr);
  EXPECT_EQ(secondary->seqid, primary->seqid);
  EXPECT_EQ(secondary->uuid, primary->uuid);
  EXPECT_NE(secondary->salt, primary->salt);
}

TEST_F(BinaryHeaderTest, FieldOffsetsMatchTheSpecification) {
  const std::uint8_t* p = image_.data();
  EXPECT_EQ(std::memcmp(p + kMagicOffset, "LUKS\xba\xbe", 6), 0);
  EXPECT_EQ(std::memcmp(image_.data() + kHdr + kMagicOffset, "SKUL\xba\xbe", 6), 0);
  EXPECT_EQ(LoadBigEndian<std::uint16_t>(p + kVersionOffset), 2);
  EXPECT_EQ(LoadBigEndian<std::uint64_t>(p + kHdrSizeOffset), kHdr);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(p + kCsumAlgOffset)), "sha256");
  EXPECT_EQ(LoadBigEndian<std::uint64_t>(image_.data() + kHdr + kHdrOffsetOffset), kHdr);
}

TEST_F(BinaryHeaderTest, RewritingAnUnchangedHeaderReproducesLibcryptsetupBytes) {
  const std::vector<std::uint8_t> original = image_;
  for (std::uint64_t offset : {std::uint64_t{0}, kHdr}) {
    auto area = std::span(image_).subspan(offset, kHdr);
    auto header = ParseHeaderCopy(area, offset);
    ASSERT_TRUE(header.ok());
    std::fill_n(area.begin(), kBinaryHeaderSize, 0xee);  // the writer must set every byte
    ASSERT_TRUE(WriteHeaderCopy(*header, area).ok());
  }
  EXPECT_EQ(image_, original);
}

TEST_F(BinaryHeaderTest, WriteHeaderCopyRoundTripsChangedFields) {
  auto header = ParseHeaderCopy(Primary(), 0);
  ASSERT_TRUE(header.ok());
  header->seqid = 77;
  ASSERT_TRUE(header->label.Assign("a label"));
  ASSERT_TRUE(header->subsystem.Assign("zoned"));
  ASSERT_TRUE(header->csum_alg.Assign("sha512"));
  ASSERT_TRUE(WriteHeaderCopy(*header, Primary()).ok());
  auto reread = ParseHeaderCopy(Primary(), 0);
  ASSERT_TRUE(reread.ok()) << reread.error().message();
  EXPECT_EQ(reread->seqid, 77u);
  EXPECT_EQ(reread->label, "a label");
  EXPECT_EQ(reread->subsystem, "zoned");
  EXPECT_EQ(reread->csum_alg, "sha512");
}

TEST_F(BinaryHeaderTest, WriteHeaderCopyRejectsOverlongFields) {
  auto header = ParseHeaderCopy(Primary(), 0);
  ASSERT_TRUE(header.ok());
  ASSERT_TRUE(header->label.Assign(std::string(kLabelSize, 'x')));  // no room for the NUL
  auto status = WriteHeaderCopy(*header, Primary());
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().code(), ExitCode::kWrongParameters);
}

TEST(FieldStringTest, HoldsAtMostItsFieldAndStopsAtTheFirstNul) {
  FieldString<8> text;
  EXPECT_EQ(text.size(), 0u);
  EXPECT_TRUE(text.Assign("12345678"));  // the whole field
  EXPECT_EQ(text.view(), "12345678");
  EXPECT_FALSE(text.Assign("123456789"));  // longer than the field: refused, unchanged
  EXPECT_EQ(text, "12345678");
  const std::uint8_t terminated[8] = {'a', 'b', 0, 'c', 'd', 0, 0, 0};
  EXPECT_EQ(FieldString<8>::FromField(terminated).view(), "ab");
  const std::uint8_t full[8] = {'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'};
  EXPECT_EQ(FieldString<8>::FromField(full).view(), "abcdefgh");
  FieldString<8> copy = text;
  EXPECT_TRUE(copy == text);
  EXPECT_EQ(copy.size(), 8u);
}

TEST_F(BinaryHeaderTest, DecodeNeedsOnlyTheFirst4096Bytes) {
  auto header = DecodeBinaryHeader(std::span(image_).subspan(0, kBinaryHeaderSize), 0);
  ASSERT_TRUE(header.ok());
  EXPECT_EQ(header->hdr_size, kHdr);
  EXPECT_FALSE(DecodeBinaryHeader(std::span(image_).subspan(0, kBinaryHeaderSize - 1), 0).ok());
}

TEST_F(BinaryHeaderTest, CopyReadAtTheWrongOffsetIsRejected) {
  EXPECT_FALSE(ParseHeaderCopy(Secondary(), 0).ok());         // secondary magic at 0
  EXPECT_FALSE(ParseHeaderCopy(Primary(), kHdr).ok());        // primary magic elsewhere
  EXPECT_FALSE(ParseHeaderCopy(Secondary(), 2 * kHdr).ok());  // hdr_offset mismatch
}

TEST_F(BinaryHeaderTest, TruncatedJsonAreaIsRejected) {
  EXPECT_FALSE(ParseHeaderCopy(Primary().subspan(0, kHdr - 1), 0).ok());
}

struct Mutation {
  const char* name;
  std::function<void(std::span<std::uint8_t> copy_area)> apply;
};

void PutU64(std::span<std::uint8_t> area, std::size_t offset, std::uint64_t value) {
  StoreBigEndian<std::uint64_t>(area.data() + offset, value);
}

const std::vector<Mutation>& Mutations() {
  static const std::vector<Mutation> mutations = {
      {"magic first byte", [](auto a) { a[0] ^= 0x01; }},
      {"magic last byte", [](auto a) { a[kMagicSize - 1] = 0; }},
      {"version 1", [](auto a) { StoreBigEndian<std::uint16_t>(a.data() + kVersionOffset, 1); }},
      {"version 3", [](auto a) { StoreBigEndian<std::uint16_t>(a.data() + kVersionOffset, 3); }},
      {"hdr_size 0", [](auto a) { PutU64(a, kHdrSizeOffset, 0); }},
      {"hdr_size 8 KiB", [](auto a) { PutU64(a, kHdrSizeOffset, 8192); }},
      {"hdr_size not power of two", [](auto a) { PutU64(a, kHdrSizeOffset, 20480); }},
      {"hdr_size 8 MiB", [](auto a) { PutU64(a, kHdrSizeOffset, 8 << 20); }},
      {"hdr_size 32 KiB", [](auto a) { PutU64(a, kHdrSizeOffset, 32768); }},
      {"hdr_offset", [](auto a) { a[kHdrOffsetOffset + 7] ^= 0x10; }},
      {"seqid", [](auto a) { a[kSeqidOffset + 7] ^= 0x01; }},
      {"label", [](auto a) { a[kLabelOffset] = 'x'; }},
      {"csum_alg unknown", [](auto a) { std::memcpy(a.data() + kCsumAlgOffset, "nohash", 7); }},
      {"salt", [](auto a) { a[kSaltOffset] ^= 0x80; }},
      {"uuid", [](auto a) { a[kUuidOffset] ^= 0x01; }},
      {"padding", [](auto a) { a[300] = 1; }},
      {"checksum first byte", [](auto a) { a[kCsumOffset] ^= 0x01; }},
      {"checksum last digest byte", [](auto a) { a[kCsumOffset + 31] ^= 0x01; }},
      {"JSON first byte", [](auto a) { a[kBinaryHeaderSize] ^= 0x01; }},
      {"JSON padding byte", [](auto a) { a[a.size() - 2] = 'x'; }},
      {"JSON unterminated",
       [](auto a) { std::fill(a.begin() + kBinaryHeaderSize, a.end(), std::uint8_t{' '}); }},
  };
  return mutations;
}

TEST_F(BinaryHeaderTest, EveryFieldMutationIsRejectedInEitherCopy) {
  for (const auto& mutation : Mutations()) {
    for (std::uint64_t offset : {std::uint64_t{0}, kHdr}) {
      std::vector<std::uint8_t> corrupt = image_;
      auto area = std::span(corrupt).subspan(offset, kHdr);
      mutation.apply(area);
      auto parsed = ParseHeaderCopy(area, offset);
      ASSERT_FALSE(parsed.ok()) << mutation.name << " at " << offset;
      EXPECT_EQ(parsed.error().code(), ExitCode::kWrongDevice) << mutation.name;
    }
  }
}

TEST_F(BinaryHeaderTest, UnterminatedJsonIsRejectedEvenWithAValidChecksum) {
  auto header = ParseHeaderCopy(Primary(), 0);
  ASSERT_TRUE(header.ok());
  std::fill(Primary().begin() + kBinaryHeaderSize, Primary().end(), std::uint8_t{' '});
  ASSERT_TRUE(WriteHeaderCopy(*header, Primary()).ok());
  auto parsed = ParseHeaderCopy(Primary(), 0);
  ASSERT_FALSE(parsed.ok());
  EXPECT_NE(parsed.error().message().find("terminated"), std::string::npos)
      << parsed.error().message();
}

TEST(BinaryHeaderSizeTest, OnlyPowersOfTwoFrom16KiBTo4MiB) {
  for (std::uint64_t size : kSecondaryHeaderOffsets) EXPECT_TRUE(IsValidHdrSize(size)) << size;
  for (std::uint64_t size :
       {0ull, 4096ull, 8192ull, 16383ull, 16385ull, 24576ull, 8ull << 20, ~0ull}) {
    EXPECT_FALSE(IsValidHdrSize(size)) << size;
  }
}

}  // namespace
}  // namespace luks2ext
