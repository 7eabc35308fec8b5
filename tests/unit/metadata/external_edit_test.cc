// enroll (EditHeaderExternally): the tool's private file, the lock it runs under, and every
// result that must be refused with nothing written. Power cuts during an enrollment are in
// update_crash_test.cc (Enroll).
#include <gtest/gtest.h>

#include <fcntl.h>
#include <libcryptsetup.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <linux/magic.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "luks2ext/external_edit.h"
#include "luks2ext/fd_io.h"
#include "metadata/scratch_file.h"
#include "support/enroll_tool.h"
#include "support/update_scene.h"
#include "support/volume_fixture.h"

namespace luks2ext {
namespace {

using testing::EnrollKeyWithToken;
using testing::EnrollScratchDirs;
using testing::kPassphrase;
using testing::kSecond;
using testing::MakeScene;
using testing::Scene;

std::vector<std::uint8_t> DriveBytes(MemoryZonedDevice& device) {
  std::vector<std::uint8_t> bytes(device.geometry().size);
  EXPECT_TRUE(device.Read(0, bytes).ok());
  return bytes;
}

size_t FilesIn(const std::string& dir) {
  if (!std::filesystem::exists(dir)) return 0;
  return static_cast<size_t>(std::distance(std::filesystem::directory_iterator(dir),
                                           std::filesystem::directory_iterator()));
}

// Runs `tool` as the enrollment tool on a fresh zoned drive: it must be refused, the drive
// must be byte for byte as it was, and no image file may be left.
void ExpectRefused(const std::function<Status(const std::string&)>& tool,
                   const std::string& expected_words) {
  auto scene = MakeScene(testing::HostManaged(4096));
  ASSERT_NE(scene, nullptr);
  const std::vector<std::uint8_t> before = DriveBytes(*scene->device);
  auto outcome = EditHeaderExternally(*scene->device, EnrollScratchDirs(), tool);
  ASSERT_FALSE(outcome.ok());
  EXPECT_EQ(outcome.error().code(), ExitCode::kWrongParameters) << outcome.error().message();
  EXPECT_NE(outcome.error().message().find(expected_words), std::string::npos)
      << outcome.error().message();
  EXPECT_TRUE(DriveBytes(*scene->device) == before) << "a refused enrollment wrote to the drive";
  EXPECT_EQ(FilesIn(EnrollScratchDirs().front()), 0u);
}

Status WithCrypt(const std::string& path, const std::function<int(crypt_device*)>& edit) {
  crypt_device* cd = nullptr;
  if (crypt_init(&cd, path.c_str()) < 0) return Error::WrongDevice("init");
  std::unique_ptr<crypt_device, decltype(&crypt_free)> owned(cd, &crypt_free);
  if (crypt_load(cd, CRYPT_LUKS2, nullptr) < 0) return Error::WrongDevice("load");
  if (edit(cd) < 0) return Error::WrongParameters("edit failed");
  return Status::Ok();
}

TEST(ExternalEdit, EnrollsKeyAndTokenOnEveryDriveKind) {
  for (const auto& config : {testing::HostManaged(4096), testing::HostManagedConventional(),
                             testing::ZnsLike(), testing::HostAware(), testing::NotZoned()}) {
    auto scene = MakeScene(config);
    ASSERT_NE(scene, nullptr);
    auto outcome = EditHeaderExternally(*scene->device, EnrollScratchDirs(), [](const auto& image) {
      return EnrollKeyWithToken(image, kPassphrase, kSecond);
    });
    ASSERT_TRUE(outcome.ok()) << outcome.error().message();
    EXPECT_TRUE(outcome->changed);
    EXPECT_EQ(outcome->before.keyslots, std::vector<int>({0}));
    EXPECT_EQ(outcome->after.keyslots, std::vector<int>({0, 1}));
    EXPECT_TRUE(outcome->before.tokens.empty());
    ASSERT_EQ(outcome->after.tokens.size(), 1u);
    EXPECT_EQ(outcome->after.tokens[0],
              std::string("0: ") + testing::kEnrollTokenType + " (keyslot 1)");
    EXPECT_GE(outcome->after.seqid, outcome->before.seqid + 2);
    // The drive itself now opens with the enrolled key, and its chosen copy is the new one.
    auto volume = Volume::Open(*scene->device);
    ASSERT_TRUE(volume.ok());
    EXPECT_EQ((*volume)->active_keyslots(), std::vector<int>({0, 1}));
    EXPECT_TRUE((*volume)->warnings().empty());
    auto observed = testing::Observe(*scene->device, scene->layout,
                                     {{kPassphrase, true, true}, {kSecond, false, true}});
    ASSERT_TRUE(observed.has_value());
    EXPECT_EQ(observed->opens, std::vector<bool>({true, true})) << testing::Describe(*observed);
    EXPECT_NE((*volume)->json_text(false).find(testing::kEnrollTokenType), std::string::npos);
    EXPECT_EQ(FilesIn(EnrollScratchDirs().front()), 0u);
  }
}

TEST(ExternalEdit, ToolRunsUnderTheExclusiveLockOnAPrivateFileInMemory) {
  auto scene = MakeScene(testing::HostManaged(4096));
  ASSERT_NE(scene, nullptr);
  const std::string device_path = scene->device->path();
  bool checked = false;
  UniqueFd kept;
  auto outcome = EditHeaderExternally(*scene->device, EnrollScratchDirs(),
                                      [&](const std::string& image) -> Status {
    struct stat st {}, dir {};
    EXPECT_EQ(stat(image.c_str(), &st), 0);
    EXPECT_TRUE(S_ISREG(st.st_mode));
    EXPECT_EQ(st.st_mode & 07777, 0600u);
    EXPECT_EQ(stat(EnrollScratchDirs().front().c_str(), &dir), 0);
    EXPECT_EQ(dir.st_mode & 07777, 0700u);
    struct statfs fs {};
    EXPECT_EQ(statfs(image.c_str(), &fs), 0);
    EXPECT_EQ(static_cast<unsigned long>(fs.f_type), static_cast<unsigned long>(TMPFS_MAGIC));
    // cryptsetup's lock of the drive is held: a reader (stock cryptsetup) waits.
    UniqueFd other(open(device_path.c_str(), O_RDONLY | O_CLOEXEC));
    EXPECT_NE(flock(other.get(), LOCK_SH | LOCK_NB), 0);
    EXPECT_EQ(errno, EWOULDBLOCK);
    kept.Reset(open(image.c_str(), O_RDONLY | O_CLOEXEC));  // to see what the wipe leaves
    checked = true;
    return EnrollKeyWithToken(image, kPassphrase, kSecond);
  });
  ASSERT_TRUE(outcome.ok()) << outcome.error().message();
  ASSERT_TRUE(checked);
  // Unlinked and overwritten: the bytes the tool saw are zeros now.
  struct stat st {};
  ASSERT_EQ(fstat(kept.get(), &st), 0);
  EXPECT_EQ(st.st_nlink, 0u);
  std::vector<std::uint8_t> left(static_cast<size_t>(st.st_size));
  ASSERT_TRUE(PreadFull(kept.get(), left.data(), left.size(), 0).complete());
  EXPECT_TRUE(std::all_of(left.begin(), left.end(), [](std::uint8_t b) { return b == 0; }));
}

TEST(ExternalEdit, AToolThatChangesNothingWritesNothing) {
  auto scene = MakeScene(testing::ZnsLike());
  ASSERT_NE(scene, nullptr);
  const std::vector<std::uint8_t> before = DriveBytes(*scene->device);
  auto outcome = EditHeaderExternally(*scene->device, EnrollScratchDirs(),
                                      [](const std::string&) { return Status::Ok(); });
  ASSERT_TRUE(outcome.ok());
  EXPECT_FALSE(outcome->changed);
  EXPECT_TRUE(DriveBytes(*scene->device) == before);
}

TEST(ExternalEdit, RefusesAFailedTool) {
  ExpectRefused(
      [](const std::string& image) {
        // Half done, then failed: what it wrote must not count.
        EXPECT_TRUE(EnrollKeyWithToken(image, kPassphrase, kSecond).ok());
        return Status(Error::WrongParameters("the tool failed"));
      },
      "the tool failed");
}

TEST(ExternalEdit, RefusesAnotherUuid) {
  ExpectRefused(
      [](const std::string& image) {
        return WithCrypt(image, [](crypt_device* cd) {
          return crypt_set_uuid(cd, "11111111-2222-3333-4444-555555555555");
        });
      },
      "UUID");
}

TEST(ExternalEdit, RefusesAResizedImage) {
  ExpectRefused([](const std::string& image) {
    return truncate(image.c_str(), 4096) == 0 ? Status::Ok() : Status(Error::WrongDevice("t"));
  }, "metadata size");
}

TEST(ExternalEdit, RefusesAnImageThatIsNoLongerLuks2) {
  ExpectRefused([](const std::string& image) {
    std::fstream file(image, std::ios::in | std::ios::out | std::ios::binary);
    file.seekp(0);
    file.write("XXXXXX", 6);
    file.seekp(16384);
    file.write("XXXXXX", 6);
    return Status::Ok();
  }, "no valid LUKS2 header");
}

TEST(ExternalEdit, RefusesChangesWithoutANewSequenceNumber) {
  ExpectRefused([](const std::string& image) {
    // A keyslot area byte changed behind libcryptsetup's back: the header is unchanged.
    std::fstream file(image, std::ios::in | std::ios::out | std::ios::binary);
    file.seekp(0x8000 + 100);
    file.write("\x5a", 1);
    return Status::Ok();
  }, "sequence number");
}

TEST(ExternalEdit, RefusesATokenWithoutItsKeyslot) {
  // libcryptsetup itself may already refuse such a token; either way nothing reaches the drive.
  auto scene = MakeScene(testing::HostManaged(4096));
  ASSERT_NE(scene, nullptr);
  const std::vector<std::uint8_t> before = DriveBytes(*scene->device);
  auto outcome = EditHeaderExternally(*scene->device, EnrollScratchDirs(), [](const auto& image) {
    return testing::ImportToken(image, R"({"type":"orphan","keyslots":["7"]})");
  });
  ASSERT_FALSE(outcome.ok());
  EXPECT_TRUE(DriveBytes(*scene->device) == before);
}

TEST(ScratchFile, RefusesDirectoriesThatAreNotPrivateOrNotInMemory) {
  const std::vector<std::uint8_t> bytes(4096, 7);
  const std::string base = "/dev/shm/zcryptsetup-scratch-test-" + std::to_string(getpid());
  std::filesystem::remove_all(base);
  ASSERT_EQ(mkdir(base.c_str(), 0700), 0);
  auto refused = [&](const std::string& dir, const std::string& why) {
    const std::vector<std::string> dirs = {dir};
    auto file = ScratchFile::Create(dirs, bytes);
    ASSERT_FALSE(file.ok()) << dir;
    EXPECT_NE(file.error().message().find(why), std::string::npos) << file.error().message();
  };
  // Open to others.
  ASSERT_EQ(mkdir((base + "/open").c_str(), 0755), 0);
  ASSERT_EQ(chmod((base + "/open").c_str(), 0755), 0);
  refused(base + "/open", "open to other users");
  // Someone else's.
  ASSERT_EQ(mkdir((base + "/theirs").c_str(), 0700), 0);
  if (geteuid() == 0 && chown((base + "/theirs").c_str(), 65534, 65534) == 0)
    refused(base + "/theirs", "owned by another user");
  // A symlink to a private directory.
  ASSERT_EQ(mkdir((base + "/real").c_str(), 0700), 0);
  ASSERT_EQ(symlink((base + "/real").c_str(), (base + "/link").c_str()), 0);
  refused(base + "/link", "not a directory");
  refused("relative/dir", "not an absolute path");
  // On a disk (the build tree, unless it is itself on tmpfs).
  const std::string on_disk = std::filesystem::current_path().string() + "/scratch-on-disk";
  struct statfs fs {};
  if (statfs(std::filesystem::current_path().c_str(), &fs) == 0 &&
      static_cast<unsigned long>(fs.f_type) != TMPFS_MAGIC)
    refused(on_disk, "not on tmpfs or ramfs");
  EXPECT_FALSE(std::filesystem::exists(on_disk));
  // The first usable directory of the list is taken.
  const std::vector<std::string> dirs = {base + "/open", base + "/made"};
  auto file = ScratchFile::Create(dirs, bytes);
  ASSERT_TRUE(file.ok()) << file.error().message();
  EXPECT_EQ(file->path().rfind(base + "/made/enroll-", 0), 0u) << file->path();
  file->Wipe();
  EXPECT_EQ(FilesIn(base + "/made"), 0u);
  std::filesystem::remove_all(base);
}

TEST(ScratchFile, WipesAFileTheToolPutInItsPlace) {
  const std::vector<std::string> dirs = EnrollScratchDirs();
  const std::vector<std::uint8_t> bytes(8192, 7);
  auto file = ScratchFile::Create(dirs, bytes);
  ASSERT_TRUE(file.ok());
  const std::string replacement = file->path() + ".new";
  { std::ofstream(replacement) << std::string(8192, 'k'); }
  ASSERT_EQ(rename(replacement.c_str(), file->path().c_str()), 0);
  UniqueFd kept(open(file->path().c_str(), O_RDONLY | O_CLOEXEC));
  auto read = file->ReadBack(8192);
  ASSERT_TRUE(read.ok());
  EXPECT_EQ((*read)[0], 'k');
  file->Wipe();
  std::vector<std::uint8_t> left(8192, 1);
  ASSERT_TRUE(PreadFull(kept.get(), left.data(), left.size(), 0).complete());
  EXPECT_TRUE(std::all_of(left.begin(), left.end(), [](std::uint8_t b) { return b == 0; }));
  EXPECT_EQ(FilesIn(dirs.front()), 0u);
}

}  // namespace
}  // namespace luks2ext
