#include "luks2/image.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include "luks2/big_endian.h"
#include "support/luks2_fixture.h"

namespace luks2ext {
namespace {

using testing::Luks2Fixture;
using testing::Luks2FormatOptions;

constexpr std::uint64_t kHdr = 16 * 1024;
constexpr std::uint64_t kKeyslotsSize = 1024 * 1024;
constexpr std::uint64_t kImageSize = 2 * kHdr + kKeyslotsSize;

class Luks2ImageTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Luks2FormatOptions options;
    options.label = "zlabel";
    options.subsystem = "zsub";
    image_ = fixture_.Format(options);
    ASSERT_EQ(image_.size(), kImageSize);
  }

  Luks2Image MustParse(std::vector<std::uint8_t> bytes) {
    auto parsed = Luks2Image::Parse(std::move(bytes));
    EXPECT_TRUE(parsed.ok()) << parsed.error().message();
    return std::move(parsed).value();
  }

  // Loads `bytes` with libcryptsetup; fails the test when it refuses.
  testing::CryptDevicePtr MustLoad(std::span<const std::uint8_t> bytes) {
    int error = 0;
    auto cd = fixture_.Load(bytes, &error);
    EXPECT_NE(cd, nullptr) << "crypt_load: " << error;
    return cd;
  }

  Luks2Fixture fixture_;
  std::vector<std::uint8_t> image_;
};

TEST_F(Luks2ImageTest, RealImageAgreesWithLibcryptsetup) {
  Luks2Image image = MustParse(image_);
  auto cd = MustLoad(image_);
  ASSERT_NE(cd, nullptr);

  EXPECT_EQ(image.uuid(), crypt_get_uuid(cd.get()));
  EXPECT_EQ(image.label(), "zlabel");
  EXPECT_EQ(image.subsystem(), "zsub");
  EXPECT_EQ(image.hdr_size(), kHdr);
  EXPECT_EQ(image.json_size(), kHdr - 4096);
  EXPECT_EQ(image.keyslots_size(), kKeyslotsSize);
  EXPECT_EQ(image.image_size(), kImageSize);
  EXPECT_EQ(image.bytes().size(), kImageSize);
  EXPECT_TRUE(image.has_keyslots_area());
  EXPECT_EQ(image.seqid(), LoadBigEndian<std::uint64_t>(image_.data() + 16));
  EXPECT_TRUE(image.config_flags().empty());

  auto data_offset = image.data_segment_offset();
  ASSERT_TRUE(data_offset.ok());
  EXPECT_EQ(*data_offset, crypt_get_data_offset(cd.get()) * 512);
  EXPECT_EQ(*data_offset, 16u * 1024 * 1024);

  ASSERT_EQ(image.keyslot_areas().size(), 1u);
  for (const auto& area : image.keyslot_areas()) {
    std::uint64_t offset = 0, length = 0;
    ASSERT_EQ(crypt_keyslot_area(cd.get(), area.keyslot, &offset, &length), 0);
    EXPECT_EQ(area.offset, offset);
    EXPECT_EQ(area.size, length);
    EXPECT_GE(area.offset, 2 * kHdr);
    EXPECT_LE(area.offset + area.size, kImageSize);
  }
}

TEST_F(Luks2ImageTest, BothCopiesAreValidWithOneSeqid) {
  Luks2Image image = MustParse(image_);
  EXPECT_TRUE(image.both_copies_valid());
  EXPECT_EQ(image.primary().seqid, image.secondary().seqid);
  EXPECT_EQ(image.secondary().offset, kHdr);
  EXPECT_NE(image.copy_header(HeaderCopy::kPrimary).salt,
            image.copy_header(HeaderCopy::kSecondary).salt);
}

TEST_F(Luks2ImageTest, SeqidFollowsLibcryptsetupUpdates) {
  Luks2Image before = MustParse(image_);
  auto cd = MustLoad(image_);
  ASSERT_NE(cd, nullptr);
  ASSERT_GE(crypt_keyslot_add_by_passphrase(cd.get(), CRYPT_ANY_SLOT, Luks2Fixture::kPassphrase,
                                            sizeof(Luks2Fixture::kPassphrase) - 1, "second", 6),
            0);
  cd.reset();
  Luks2Image after = MustParse(Luks2Fixture::ReadFile(fixture_.last_header_path()));
  EXPECT_EQ(after.seqid(), before.seqid() + 1);
  EXPECT_EQ(after.keyslot_areas().size(), 2u);
}

TEST_F(Luks2ImageTest, LargerMetadataAreaParses) {
  Luks2FormatOptions options;
  options.metadata_size = 64 * 1024;
  options.keyslots_size = 2 * 1024 * 1024;
  options.keyslots = 2;
  auto bytes = fixture_.Format(options);
  Luks2Image image = MustParse(bytes);
  EXPECT_EQ(image.hdr_size(), 64u * 1024);
  EXPECT_EQ(image.image_size(), 2 * 64 * 1024 + 2u * 1024 * 1024);
  EXPECT_EQ(image.keyslot_areas().size(), 2u);
  EXPECT_TRUE(image.both_copies_valid());
}

TEST_F(Luks2ImageTest, SparseLoadReadsHeadersThenLearnsImageSize) {
  auto needed = Luks2Image::HeaderBytesNeeded(std::span(image_).subspan(0, 4096));
  ASSERT_TRUE(needed.ok());
  EXPECT_EQ(*needed, 2 * kHdr);
  auto headers = Luks2Image::ParseHeaders(std::span(image_).subspan(0, *needed));
  ASSERT_TRUE(headers.ok()) << headers.error().message();
  EXPECT_FALSE(headers->has_keyslots_area());
  EXPECT_TRUE(headers->both_copies_valid());
  EXPECT_EQ(headers->bytes().size(), 2 * kHdr);
  EXPECT_EQ(headers->image_size(), kImageSize);
  Luks2Image full = MustParse(image_);
  ASSERT_EQ(headers->keyslot_areas().size(), full.keyslot_areas().size());
  EXPECT_EQ(headers->keyslot_areas()[0].offset, full.keyslot_areas()[0].offset);

  std::vector<std::uint8_t> garbage(4096, 0);
  EXPECT_FALSE(Luks2Image::HeaderBytesNeeded(garbage).ok());
}

TEST_F(Luks2ImageTest, OversizedInputIsTrimmedToTheImage) {
  std::vector<std::uint8_t> zone = image_;
  zone.resize(kImageSize + 3 * 4096, 0xab);
  Luks2Image image = MustParse(zone);
  EXPECT_EQ(image.bytes().size(), kImageSize);
  EXPECT_TRUE(std::equal(image_.begin(), image_.end(), image.bytes().begin()));
}

// One corrupt copy still yields the other; both corrupt is "not a LUKS device".
TEST_F(Luks2ImageTest, OneCorruptCopyStillYieldsTheOther) {
  struct Corruption {
    const char* name;
    std::size_t offset_in_copy;
    std::uint8_t xor_mask;
  };
  const Corruption corruptions[] = {
      {"magic", 0, 0x01},        {"version", 7, 0x03},    {"hdr_size", 13, 0x80},
      {"hdr_offset", 263, 0x10}, {"checksum", 448, 0x01}, {"JSON byte", 4096 + 10, 0x20},
      {"seqid", 23, 0x01},
  };
  const Luks2Image pristine = MustParse(image_);
  for (const auto& corruption : corruptions) {
    for (std::uint64_t copy_offset : {std::uint64_t{0}, kHdr}) {
      std::vector<std::uint8_t> bytes = image_;
      bytes[copy_offset + corruption.offset_in_copy] ^= corruption.xor_mask;
      auto parsed = Luks2Image::Parse(bytes);
      ASSERT_TRUE(parsed.ok()) << corruption.name << ": " << parsed.error().message();
      const bool primary_corrupt = copy_offset == 0;
      EXPECT_EQ(parsed->primary().valid, !primary_corrupt) << corruption.name;
      EXPECT_EQ(parsed->secondary().valid, primary_corrupt) << corruption.name;
      EXPECT_FALSE((primary_corrupt ? parsed->primary() : parsed->secondary()).problem.empty());
      EXPECT_EQ(parsed->uuid(), pristine.uuid()) << corruption.name;
      EXPECT_EQ(parsed->seqid(), pristine.seqid()) << corruption.name;
      EXPECT_EQ(parsed->hdr_size(), kHdr) << corruption.name;
      EXPECT_EQ(parsed->json_text(), pristine.json_text()) << corruption.name;

      // The other copy corrupt as well: nothing left.
      bytes[(copy_offset == 0 ? kHdr : 0) + corruption.offset_in_copy] ^= corruption.xor_mask;
      auto neither = Luks2Image::Parse(bytes);
      ASSERT_FALSE(neither.ok()) << corruption.name;
      EXPECT_EQ(neither.error().code(), ExitCode::kWrongDevice);
    }
  }
}

TEST_F(Luks2ImageTest, NewerCopyWinsOverAStaleOne) {
  const Luks2Image old_image = MustParse(image_);
  auto cd = MustLoad(image_);
  ASSERT_NE(cd, nullptr);
  ASSERT_GE(crypt_keyslot_add_by_passphrase(cd.get(), CRYPT_ANY_SLOT, Luks2Fixture::kPassphrase,
                                            sizeof(Luks2Fixture::kPassphrase) - 1, "second", 6),
            0);
  cd.reset();
  const std::vector<std::uint8_t> updated = Luks2Fixture::ReadFile(fixture_.last_header_path());
  ASSERT_EQ(updated.size(), kImageSize);

  // A torn update: only one of the copies carries the new seqid.
  for (bool new_primary : {true, false}) {
    std::vector<std::uint8_t> mixed = updated;
    const std::uint64_t stale_offset = new_primary ? kHdr : 0;
    std::copy_n(image_.begin() + static_cast<std::ptrdiff_t>(stale_offset), kHdr,
                mixed.begin() + static_cast<std::ptrdiff_t>(stale_offset));
    Luks2Image image = MustParse(mixed);
    EXPECT_TRUE(image.both_copies_valid());
    EXPECT_EQ(image.seqid(), old_image.seqid() + 1) << new_primary;
    EXPECT_EQ(image.keyslot_areas().size(), 2u) << new_primary;
  }
}

// Found by the image fuzzer: leading bytes that end inside the zero padding of a NEWER
// secondary. The parser judges that secondary truncated and uses the primary; the kept bytes
// were zero-filled past the input, which restored the secondary exactly, so a re-parse (Clone)
// or libcryptsetup loading bytes() took the newer copy the parser had refused.
TEST_F(Luks2ImageTest, HeaderOnlyImageKeepsNoBytesOfARefusedCopy) {
  auto updated = fixture_.Load(image_);
  ASSERT_NE(updated, nullptr);
  ASSERT_GE(crypt_keyslot_add_by_passphrase(updated.get(), CRYPT_ANY_SLOT,
                                            Luks2Fixture::kPassphrase,
                                            sizeof(Luks2Fixture::kPassphrase) - 1, "second", 6),
            0);
  updated.reset();
  std::vector<std::uint8_t> mixed = Luks2Fixture::ReadFile(fixture_.last_header_path());
  // The primary stays at the old seqid; the secondary is the newer one.
  std::copy_n(image_.begin(), kHdr, mixed.begin());
  const Luks2Image whole = MustParse(mixed);
  ASSERT_EQ(whole.secondary().seqid, whole.primary().seqid + 1);
  // Cut inside the secondary's JSON padding: its text is all there, its trailing zeros are not.
  const std::uint64_t cut = 2 * kHdr - 512;
  ASSERT_EQ(mixed[cut], 0) << "the cut must fall in the zero padding";
  auto headers = Luks2Image::ParseHeaders(std::span(mixed).first(cut));
  ASSERT_TRUE(headers.ok()) << headers.error().message();
  ASSERT_FALSE(headers->secondary().valid);
  EXPECT_EQ(headers->seqid(), whole.primary().seqid);

  auto clone = headers->Clone();
  ASSERT_TRUE(clone.ok()) << clone.error().message();
  EXPECT_EQ(clone->seqid(), headers->seqid()) << "the clone took the refused newer copy";
  EXPECT_FALSE(clone->secondary().valid);
  // What libcryptsetup is given (LoadHeaders) describes the same copy.
  std::vector<std::uint8_t> given(headers->bytes().begin(), headers->bytes().end());
  given.resize(kImageSize);
  auto cd = MustLoad(given);
  ASSERT_NE(cd, nullptr);
  EXPECT_EQ(crypt_keyslot_status(cd.get(), 1), CRYPT_SLOT_INACTIVE)
      << "libcryptsetup saw the newer copy's second keyslot";
}

// Cutting the image anywhere never crashes and never yields a result that differs from the
// whole image's.
TEST_F(Luks2ImageTest, TruncationSweep) {
  const Luks2Image full = MustParse(image_);
  std::set<std::size_t> lengths = {0,
                                   1,
                                   5,
                                   6,
                                   4095,
                                   4096,
                                   4097,
                                   kHdr - 1,
                                   kHdr,
                                   kHdr + 1,
                                   kHdr + 4096,
                                   2 * kHdr - 1,
                                   2 * kHdr,
                                   2 * kHdr + 1,
                                   kImageSize - 4096,
                                   kImageSize - 1};
  for (std::size_t length = 0; length <= 2 * kHdr + 4096; length += 509) lengths.insert(length);
  for (std::size_t length = 2 * kHdr; length < kImageSize; length += 65536) lengths.insert(length);

  for (std::size_t length : lengths) {
    const std::span<const std::uint8_t> cut(image_.data(), length);
    auto whole = Luks2Image::Parse(std::vector<std::uint8_t>(cut.begin(), cut.end()));
    EXPECT_FALSE(whole.ok()) << "full parse accepted " << length << " bytes";

    auto headers = Luks2Image::ParseHeaders(cut);
    EXPECT_EQ(headers.ok(), length >= kHdr) << length;
    if (!headers.ok()) {
      EXPECT_EQ(headers.error().code(), ExitCode::kWrongDevice);
      continue;
    }
    EXPECT_TRUE(headers->primary().valid);
    EXPECT_EQ(headers->secondary().valid, length >= 2 * kHdr) << length;
    EXPECT_EQ(headers->seqid(), full.seqid());
    EXPECT_EQ(headers->uuid(), full.uuid());
    EXPECT_EQ(headers->image_size(), full.image_size());
    EXPECT_EQ(headers->json_text(), full.json_text());
    EXPECT_EQ(headers->bytes().size(), 2 * kHdr);
  }

  // With the primary gone, the headers need the secondary in full.
  std::vector<std::uint8_t> no_primary = image_;
  no_primary[0] ^= 0xff;
  for (std::size_t length : lengths) {
    auto headers = Luks2Image::ParseHeaders(std::span(no_primary).subspan(0, length));
    EXPECT_EQ(headers.ok(), length >= 2 * kHdr) << length;
    if (headers.ok()) {
      EXPECT_EQ(headers->json_text(), full.json_text());
    }
  }
}

TEST_F(Luks2ImageTest, SecondaryFoundByScanWhenPrimaryMisstatesItsSize) {
  std::vector<std::uint8_t> bytes = image_;
  StoreBigEndian<std::uint64_t>(bytes.data() + kHdrSizeOffset, 64 * 1024);  // passes cheap checks
  Luks2Image image = MustParse(bytes);
  EXPECT_FALSE(image.primary().valid);
  EXPECT_TRUE(image.secondary().valid);
  EXPECT_EQ(image.secondary().offset, kHdr);
}

TEST_F(Luks2ImageTest, FlagsAddedByUsKeepTheImageLoadableByLibcryptsetup) {
  Luks2Image image = MustParse(image_);
  const std::uint64_t seqid = image.seqid();
  ASSERT_TRUE(image.AddConfigFlag("no-read-workqueue").ok());
  EXPECT_EQ(image.seqid(), seqid + 1);
  ASSERT_TRUE(image.AddConfigFlag("no-write-workqueue").ok());
  ASSERT_TRUE(image.AddConfigFlag("force-inline").ok());
  EXPECT_EQ(image.seqid(), seqid + 3);
  EXPECT_TRUE(image.both_copies_valid());
  EXPECT_EQ(image.primary().seqid, image.secondary().seqid);
  EXPECT_EQ(image.config_flags(),
            (std::vector<std::string>{"no-read-workqueue", "no-write-workqueue", "force-inline"}));
  // The keyslots area is untouched.
  EXPECT_TRUE(
      std::equal(image_.begin() + 2 * kHdr, image_.end(), image.bytes().begin() + 2 * kHdr));

  auto cd = MustLoad(image.bytes());
  ASSERT_NE(cd, nullptr);
  std::uint32_t flags = 0;
  ASSERT_EQ(crypt_persistent_flags_get(cd.get(), CRYPT_FLAGS_ACTIVATION, &flags), 0);
  EXPECT_TRUE(flags & CRYPT_ACTIVATE_NO_READ_WORKQUEUE);
  EXPECT_TRUE(flags & CRYPT_ACTIVATE_NO_WRITE_WORKQUEUE);
  EXPECT_TRUE(Luks2Fixture::PassphraseUnlocks(cd.get()));
  EXPECT_EQ(image.uuid(), crypt_get_uuid(cd.get()));
}

TEST_F(Luks2ImageTest, UnknownFlagSurvivesALibcryptsetupHeaderWrite) {
  Luks2Image image = MustParse(image_);
  ASSERT_TRUE(image.SetConfigFlags({"force-inline", "no-read-workqueue"}).ok());
  auto cd = MustLoad(image.bytes());
  ASSERT_NE(cd, nullptr);
  // Any metadata write by libcryptsetup: a label change.
  ASSERT_EQ(crypt_set_label(cd.get(), "relabelled", nullptr), 0);
  cd.reset();

  Luks2Image reread = MustParse(Luks2Fixture::ReadFile(fixture_.last_header_path()));
  EXPECT_TRUE(reread.HasConfigFlag("force-inline"));
  EXPECT_TRUE(reread.HasConfigFlag("no-read-workqueue"));
  EXPECT_EQ(reread.label(), "relabelled");
  EXPECT_EQ(reread.seqid(), image.seqid() + 1);
}

TEST_F(Luks2ImageTest, SetConfigFlagsDropsDuplicatesAndEmptyRemoves) {
  Luks2Image image = MustParse(image_);
  ASSERT_TRUE(image.SetConfigFlags({"allow-discards", "allow-discards", "force-inline"}).ok());
  EXPECT_EQ(image.config_flags(), (std::vector<std::string>{"allow-discards", "force-inline"}));
  ASSERT_TRUE(image.RemoveConfigFlag("allow-discards").ok());
  EXPECT_EQ(image.config_flags(), (std::vector<std::string>{"force-inline"}));
  ASSERT_TRUE(image.SetConfigFlags({}).ok());
  EXPECT_TRUE(image.config_flags().empty());
  EXPECT_EQ(image.json_text().find("\"flags\""), std::string::npos);

  auto cd = MustLoad(image.bytes());
  ASSERT_NE(cd, nullptr);
  std::uint32_t flags = ~0u;
  ASSERT_EQ(crypt_persistent_flags_get(cd.get(), CRYPT_FLAGS_ACTIVATION, &flags), 0);
  EXPECT_EQ(flags, 0u);
}

TEST_F(Luks2ImageTest, MutatorRewritesACorruptCopy) {
  std::vector<std::uint8_t> bytes = image_;
  bytes[kHdr + 4096 + 3] ^= 0x01;  // secondary JSON
  Luks2Image image = MustParse(bytes);
  ASSERT_FALSE(image.secondary().valid);
  ASSERT_TRUE(image.AddConfigFlag("force-inline").ok());
  EXPECT_TRUE(image.both_copies_valid());
  EXPECT_NE(image.copy_header(HeaderCopy::kPrimary).salt,
            image.copy_header(HeaderCopy::kSecondary).salt);
  EXPECT_NE(MustLoad(image.bytes()), nullptr);
}

TEST_F(Luks2ImageTest, JsonThatDoesNotFitLeavesTheImageUnchanged) {
  Luks2Image image = MustParse(image_);
  const std::vector<std::uint8_t> before(image.bytes().begin(), image.bytes().end());
  auto status = image.AddConfigFlag(std::string(kHdr, 'x'));
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().code(), ExitCode::kWrongParameters);
  EXPECT_TRUE(std::equal(before.begin(), before.end(), image.bytes().begin()));
  EXPECT_TRUE(image.config_flags().empty());
}

TEST_F(Luks2ImageTest, HeaderOnlyImageCanBeMutated) {
  auto headers = Luks2Image::ParseHeaders(std::span(image_).subspan(0, 2 * kHdr));
  ASSERT_TRUE(headers.ok());
  ASSERT_TRUE(headers->AddConfigFlag("force-inline").ok());
  EXPECT_FALSE(headers->has_keyslots_area());
  EXPECT_EQ(headers->bytes().size(), 2 * kHdr);
  EXPECT_TRUE(headers->HasConfigFlag("force-inline"));
}

TEST_F(Luks2ImageTest, ResealWithFreshSaltsMakesADistinctLoadableCopy) {
  Luks2Image home = MustParse(image_);
  auto journal_result = home.Clone();
  ASSERT_TRUE(journal_result.ok());
  Luks2Image journal = std::move(journal_result).value();
  ASSERT_TRUE(journal.ResealWithFreshSalts().ok());

  EXPECT_EQ(journal.seqid(), home.seqid());
  EXPECT_EQ(journal.json_text(), home.json_text());
  EXPECT_TRUE(journal.both_copies_valid());
  for (HeaderCopy copy : {HeaderCopy::kPrimary, HeaderCopy::kSecondary}) {
    EXPECT_NE(journal.copy_header(copy).salt, home.copy_header(copy).salt);
    EXPECT_NE(journal.copy_header(copy).csum, home.copy_header(copy).csum);
  }
  EXPECT_NE(journal.copy_header(HeaderCopy::kPrimary).salt,
            journal.copy_header(HeaderCopy::kSecondary).salt);
  // JSON areas and keyslots area are byte-identical.
  EXPECT_TRUE(std::equal(home.bytes().begin() + 4096, home.bytes().begin() + kHdr,
                         journal.bytes().begin() + 4096));
  EXPECT_TRUE(std::equal(home.bytes().begin() + 2 * kHdr, home.bytes().end(),
                         journal.bytes().begin() + 2 * kHdr));

  auto cd = MustLoad(journal.bytes());
  ASSERT_NE(cd, nullptr);
  EXPECT_TRUE(Luks2Fixture::PassphraseUnlocks(cd.get()));
  EXPECT_EQ(journal.uuid(), crypt_get_uuid(cd.get()));
}

TEST_F(Luks2ImageTest, MalformedJsonIsRejectedEvenWithValidChecksums) {
  struct JsonCase {
    const char* name;
    std::string json;
  };
  const Luks2Image pristine = MustParse(image_);
  std::string good = pristine.json_text();
  auto replace = [&](const std::string& from, const std::string& to) {
    std::string s = good;
    const auto at = s.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    if (at != std::string::npos) s.replace(at, from.size(), to);
    return s;
  };
  const JsonCase cases[] = {
      {"not JSON", "{\"config\":"},
      {"array", "[]"},
      {"json_size mismatch", replace("\"json_size\":\"12288\"", "\"json_size\":\"4096\"")},
      {"keyslots_size not decimal",
       replace("\"keyslots_size\":\"1048576\"", "\"keyslots_size\":\"0x100000\"")},
      {"flags not array", replace("\"config\":{", "\"config\":{\"flags\":\"x\",")},
      {"flag not string", replace("\"config\":{", "\"config\":{\"flags\":[1],")},
      {"keyslot area past the image", replace("\"offset\":\"32768\"", "\"offset\":\"2097152\"")},
      // A split key larger than its area: libcryptsetup (stock's too) spends minutes on it.
      {"key_size 2^31-1", replace("\"key_size\":64", "\"key_size\":2147483647")},
      {"key_size 0", replace("\"key_size\":64", "\"key_size\":0")},
      {"key_size a string", replace("\"key_size\":64", "\"key_size\":\"64\"")},
      {"af.stripes 0", replace("\"stripes\":4000", "\"stripes\":0")},
  };
  for (const auto& test_case : cases) {
    std::vector<std::uint8_t> bytes = image_;
    for (std::uint64_t copy_offset : {std::uint64_t{0}, kHdr}) {
      auto area = std::span(bytes).subspan(copy_offset, kHdr);
      auto header = ParseHeaderCopy(area, copy_offset);
      ASSERT_TRUE(header.ok());
      std::fill(area.begin() + 4096, area.end(), 0);
      std::copy(test_case.json.begin(), test_case.json.end(), area.begin() + 4096);
      ASSERT_TRUE(WriteHeaderCopy(*header, area).ok());
    }
    auto parsed = Luks2Image::Parse(bytes);
    ASSERT_FALSE(parsed.ok()) << test_case.name;
    EXPECT_EQ(parsed.error().code(), ExitCode::kWrongDevice) << test_case.name;
  }
}

// Random JSON damage behind valid checksums (what cryptsetup's fuzzer does): the parser must
// either refuse with WrongDevice or return an image whose areas lie inside it.
TEST_F(Luks2ImageTest, ResealedRandomJsonDamageNeverYieldsAnInconsistentImage) {
  const Luks2Image pristine = MustParse(image_);
  const std::size_t json_length = pristine.json_text().size();
  std::uint32_t state = 12345;
  auto next = [&state] { return state = state * 1664525u + 1013904223u; };
  for (int round = 0; round < 300; ++round) {
    // The headers alone hold everything the JSON checks look at.
    std::vector<std::uint8_t> bytes(image_.begin(), image_.begin() + 2 * kHdr);
    const std::size_t at = next() % json_length;
    const auto value = static_cast<std::uint8_t>(next() >> 24);
    for (std::uint64_t copy_offset : {std::uint64_t{0}, kHdr}) {
      auto area = std::span(bytes).subspan(copy_offset, kHdr);
      auto header = ParseHeaderCopy(area, copy_offset);
      ASSERT_TRUE(header.ok());
      area[4096 + at] = value;
      ASSERT_TRUE(WriteHeaderCopy(*header, area).ok());
    }
    auto parsed = Luks2Image::ParseHeaders(bytes);
    if (!parsed.ok()) {
      EXPECT_EQ(parsed.error().code(), ExitCode::kWrongDevice);
      continue;
    }
    EXPECT_TRUE(parsed->both_copies_valid());
    EXPECT_LE(parsed->image_size(), kMaxImageSize);
    for (const auto& area : parsed->keyslot_areas()) {
      EXPECT_GE(area.offset, 2 * parsed->hdr_size());
      EXPECT_LE(area.offset + area.size, parsed->image_size());
    }
  }
}

}  // namespace
}  // namespace luks2ext
