// luksHeaderRestore against hostile backup files: every refusal comes before the first write,
// and the drive's metadata and data stay byte for byte as they were.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "luks2/binary_header.h"
#include "luks2/image.h"
#include "luks2ext/header_backup.h"
#include "luks2ext/volume.h"
#include "support/volume_fixture.h"

namespace luks2ext {
namespace {

using testing::Config;
using testing::FastOptions;
using testing::FormatNew;
using testing::Formatted;
using testing::MustOpen;

constexpr uint64_t kMaxSeqid = std::numeric_limits<uint64_t>::max();

class ScratchFiles {
 public:
  ScratchFiles() {
    char pattern[] = "/tmp/zc-restore-test.XXXXXX";
    dir_ = mkdtemp(pattern);
  }
  ~ScratchFiles() { std::filesystem::remove_all(dir_); }
  std::string Path(const std::string& name) const { return dir_ + "/" + name; }

 private:
  std::string dir_;
};

std::vector<uint8_t> ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void WriteAll(const std::string& path, const std::vector<uint8_t>& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

// Rewrites the JSON text of both header copies with `edit` and seals each copy again with a
// correct checksum, as an attacker with the codec would: only the JSON rules can catch it.
void EditJsonKeepingChecksums(std::vector<uint8_t>& image,
                              const std::function<std::string(std::string)>& edit) {
  auto primary = DecodeBinaryHeader(image, 0);
  ASSERT_TRUE(primary.ok()) << primary.error().message();
  const uint64_t hdr_size = primary->hdr_size;
  for (uint64_t offset : {uint64_t{0}, hdr_size}) {
    auto copy = std::span<uint8_t>(image).subspan(offset, hdr_size);
    auto header = DecodeBinaryHeader(copy, offset);
    ASSERT_TRUE(header.ok()) << header.error().message();
    auto json_area = copy.subspan(kBinaryHeaderSize);
    const auto* text = reinterpret_cast<const char*>(json_area.data());
    const std::string edited = edit(std::string(text, strnlen(text, json_area.size())));
    ASSERT_LT(edited.size(), json_area.size());
    std::fill(json_area.begin(), json_area.end(), 0);
    std::memcpy(json_area.data(), edited.data(), edited.size());
    ASSERT_TRUE(WriteHeaderCopy(*header, copy).ok());
  }
}

std::string ReplaceOnce(std::string text, const std::string& from, const std::string& to) {
  const size_t at = text.find(from);
  EXPECT_NE(at, std::string::npos) << "no '" << from << "' in " << text;
  if (at != std::string::npos) text.replace(at, from.size(), to);
  return text;
}

// The JSON member `"digests":{...}` replaced by `"digests":{}`.
std::string WithoutDigests(std::string json) {
  const size_t start = json.find("\"digests\":{");
  EXPECT_NE(start, std::string::npos);
  if (start == std::string::npos) return json;
  size_t i = start + std::strlen("\"digests\":{");
  int depth = 1;
  for (; i < json.size() && depth > 0; ++i) depth += json[i] == '{' ? 1 : json[i] == '}' ? -1 : 0;
  json.replace(start, i - start, "\"digests\":{}");
  return json;
}

struct Drive {
  const char* name;
  Config config;
};

class RestoreRefusalTest : public ::testing::TestWithParam<Drive> {
 protected:
  void SetUp() override {
    formatted_ = FormatNew(GetParam().config, FastOptions());
    ASSERT_NE(formatted_.device, nullptr);
    auto volume = MustOpen(*formatted_.device);
    ASSERT_NE(volume, nullptr);
    good_ = scratch_.Path("good.img");
    ASSERT_TRUE(volume->BackupHeader(good_).ok());
    image_ = ReadAll(good_);
    ASSERT_EQ(image_.size(), formatted_.layout.image_size());
  }

  // Everything up to the data segment: the metadata zones (or area) as a reader sees them.
  std::vector<std::uint8_t> Metadata() const {
    return formatted_.device->Contents(0, formatted_.layout.data_offset);
  }

  // Restores `bytes` and expects a refusal with `code`, no write, and the volume still opening.
  void ExpectRefused(const std::vector<uint8_t>& bytes, ExitCode code, const std::string& words) {
    const std::string path = scratch_.Path("bad.img");
    WriteAll(path, bytes);
    const std::vector<std::uint8_t> before = Metadata();
    const uint64_t ops = formatted_.device->mutating_ops();
    auto restored = RestoreHeader(*formatted_.device, path);
    ASSERT_FALSE(restored.ok()) << "restored a header that must be refused";
    EXPECT_EQ(restored.error().code(), code) << restored.error().message();
    EXPECT_NE(restored.error().message().find(words), std::string::npos)
        << restored.error().message();
    EXPECT_EQ(formatted_.device->mutating_ops(), ops) << "a refused restore wrote to the drive";
    EXPECT_TRUE(Metadata() == before) << "a refused restore changed the metadata";
    EXPECT_NE(MustOpen(*formatted_.device), nullptr);
  }

  ScratchFiles scratch_;
  Formatted formatted_;
  std::string good_;
  std::vector<uint8_t> image_;
};

// Issue 8 item 1: checksums right, JSON that libcryptsetup refuses. Our codec alone accepts it
// (it reads only what placement needs), so before the fix the restore wrote it and the volume
// never opened again.
TEST_P(RestoreRefusalTest, JsonThatLibcryptsetupRefusesIsNotWritten) {
  std::vector<uint8_t> bad = image_;
  ASSERT_NO_FATAL_FAILURE(EditJsonKeepingChecksums(bad, WithoutDigests));
  ASSERT_TRUE(Luks2Image::Parse(bad).ok()) << "the codec should accept it; the test would "
                                              "then prove nothing about libcryptsetup's check";
  ExpectRefused(bad, ExitCode::kWrongParameters, "does not contain a valid LUKS2 header");
}

TEST_P(RestoreRefusalTest, KeyslotWithoutItsDigestIsNotWritten) {
  std::vector<uint8_t> bad = image_;
  ASSERT_NO_FATAL_FAILURE(EditJsonKeepingChecksums(bad, [](std::string json) {
    return ReplaceOnce(json, "\"keyslots\":[\"0\"]", "\"keyslots\":[\"7\"]");
  }));
  ASSERT_TRUE(Luks2Image::Parse(bad).ok());
  ExpectRefused(bad, ExitCode::kWrongParameters, "does not contain a valid LUKS2 header");
}

// Issue 8 item 2: a restore writes seqid + 1 above every copy; at 2^64-1 that wrapped to 0, and
// readers (highest seqid wins) then preferred any older copy.
TEST_P(RestoreRefusalTest, BackupAtTheLargestSeqidIsRefusedNotWrapped) {
  auto image = Luks2Image::Parse(image_);
  ASSERT_TRUE(image.ok());
  ASSERT_TRUE(image->SetSeqid(kMaxSeqid).ok());
  ExpectRefused(std::move(*image).TakeBytes(), ExitCode::kWrongParameters, "largest value");
}

// A volume restored at 2^64-2 gets seqid 2^64-1; the next update would wrap inside
// libcryptsetup and must be refused with nothing written.
TEST_P(RestoreRefusalTest, UpdateAtTheLargestSeqidIsRefusedNotWrapped) {
  auto image = Luks2Image::Parse(image_);
  ASSERT_TRUE(image.ok());
  ASSERT_TRUE(image->SetSeqid(kMaxSeqid - 1).ok());
  const std::string path = scratch_.Path("high.img");
  WriteAll(path, std::move(*image).TakeBytes());
  ASSERT_TRUE(RestoreHeader(*formatted_.device, path).ok());
  auto volume = MustOpen(*formatted_.device);
  ASSERT_NE(volume, nullptr);
  ASSERT_EQ(volume->copies().front().seqid, kMaxSeqid);

  const std::vector<std::uint8_t> before = Metadata();
  const uint64_t ops = formatted_.device->mutating_ops();
  auto added = volume->AddKey(Secret(testing::kPassphrase), Secret("another passphrase"), -1,
                              FastOptions().pbkdf);
  ASSERT_FALSE(added.ok()) << "an update wrapped the seqid";
  EXPECT_NE(added.error().message().find("cannot grow"), std::string::npos)
      << added.error().message();
  EXPECT_EQ(formatted_.device->mutating_ops(), ops);
  EXPECT_TRUE(Metadata() == before);
  // And a second restore cannot go above it either.
  ExpectRefused(image_, ExitCode::kWrongParameters, "largest value");
}

const Drive kDrives[] = {
    {"HostManaged", testing::HostManaged(4096)},
    {"Conventional", testing::HostManagedConventional()},
    {"ZnsLike", testing::ZnsLike()},
    {"NotZoned", testing::NotZoned()},
};

INSTANTIATE_TEST_SUITE_P(Drives, RestoreRefusalTest, ::testing::ValuesIn(kDrives),
                         [](const auto& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace luks2ext
