// An unlock reads the drive only under cryptsetup's metadata lock: the headers Volume::Open
// chooses from and the keyslot areas Volume::Activate tries, without reading more than before
// and without an update after it waiting for a lock its own process holds.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <functional>
#include <mutex>
#include <ostream>
#include <thread>

#include "support/forwarding_device.h"
#include "support/volume_fixture.h"

namespace luks2ext::testing {
namespace {

// Whether some other open file description holds a flock on `path`: a fresh open() cannot take
// the exclusive lock without waiting. For a regular file (the emulator's stand-in is a memfd)
// DeviceLock flocks the file itself, as cryptsetup does.
bool LockHeldOn(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  const bool held = ::flock(fd, LOCK_EX | LOCK_NB) != 0 && errno == EWOULDBLOCK;
  ::close(fd);  // drops the probe's own lock, if it got one
  return held;
}

// Forwards to the emulator; at every read, notes whether the lock was held.
class LockCheckingDevice : public testing::ForwardingDevice {
 public:
  using ForwardingDevice::ForwardingDevice;

  Status Read(uint64_t offset, std::span<std::uint8_t> out) override {
    ++reads;
    bytes_read += out.size();
    if (!LockHeldOn(inner().path())) unlocked_reads.push_back(offset);
    return inner().Read(offset, out);
  }

  size_t reads = 0;
  uint64_t bytes_read = 0;
  std::vector<uint64_t> unlocked_reads;  // offsets read while nobody held the lock
};

std::string Offsets(const std::vector<uint64_t>& offsets) {
  std::string s;
  for (uint64_t o : offsets) s += std::to_string(o) + " ";
  return s;
}

// Runs `step`; ends the whole test program when it takes over a minute, since a thread stuck
// in flock(2) cannot be stopped otherwise.
Status WithinAMinute(const char* what, const std::function<Status()>& step) {
  std::mutex mutex;
  std::condition_variable finished;
  bool done = false;
  std::thread watchdog([&] {
    std::unique_lock lock(mutex);
    if (!finished.wait_for(lock, std::chrono::seconds(60), [&] { return done; })) {
      std::fprintf(stderr, "%s: still waiting after 60 s (deadlock)\n", what);
      std::_Exit(1);
    }
  });
  Status status = step();
  {
    std::lock_guard lock(mutex);
    done = true;
  }
  finished.notify_one();
  watchdog.join();
  return status;
}

struct DriveCase {
  const char* name;
  Config config;
};

void PrintTo(const DriveCase& drive, std::ostream* os) { *os << drive.name; }

class UnlockLockTest : public ::testing::TestWithParam<DriveCase> {};

TEST_P(UnlockLockTest, HeaderAndKeyslotReadsHappenUnderTheLock) {
  Formatted f = FormatNew(GetParam().config, FastOptions());
  ASSERT_TRUE(f.device);
  LockCheckingDevice device(*f.device);
  auto volume = Volume::Open(device, Volume::ReadScope::kForOpen);
  ASSERT_TRUE(volume.ok()) << volume.error().message();
  const size_t header_reads = device.reads;
  EXPECT_TRUE(LockHeldOn(device.path())) << "the lock was dropped between Open and Activate";

  const Status unlocked = CheckPassphrase(**volume, kPassphrase);
  ASSERT_TRUE(unlocked.ok()) << unlocked.error().message();
  EXPECT_GT(device.reads, header_reads) << "Activate read no keyslot area";
  EXPECT_TRUE(device.unlocked_reads.empty())
      << "reads without cryptsetup's lock at offsets " << Offsets(device.unlocked_reads);
  // Unlocked: the lock goes at once, so that writers (cryptsetup luksAddKey) do not wait for
  // the rest of this process.
  EXPECT_FALSE(LockHeldOn(device.path())) << "the lock outlived the unlock";
  // A figure for the report: what Open + Activate read.
  std::printf("[ figure ] %s: unlock read %zu times, %llu bytes\n", GetParam().name, device.reads,
              static_cast<unsigned long long>(device.bytes_read));
}

TEST_P(UnlockLockTest, WrongPassphraseKeepsTheLockForTheNextTry) {
  Formatted f = FormatNew(GetParam().config, FastOptions());
  ASSERT_TRUE(f.device);
  LockCheckingDevice device(*f.device);
  auto volume = Volume::Open(device, Volume::ReadScope::kForOpen);
  ASSERT_TRUE(volume.ok()) << volume.error().message();

  const Status wrong = CheckPassphrase(**volume, "not the passphrase");
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.error().code(), ExitCode::kNoPermission);
  EXPECT_TRUE(LockHeldOn(device.path())) << "a retry (--tries) would read keyslots unlocked";
  const Status right = CheckPassphrase(**volume, kPassphrase);
  EXPECT_TRUE(right.ok()) << right.error().message();
  EXPECT_TRUE(device.unlocked_reads.empty())
      << "reads without cryptsetup's lock at offsets " << Offsets(device.unlocked_reads);
}

// flock locks taken through two open() calls conflict even inside one process: an update after
// Open (open --persistent, luksAddKey, config) must not wait for the shared lock Open kept.
TEST_P(UnlockLockTest, UpdateAfterOpenDoesNotWaitForItsOwnLock) {
  Formatted f = FormatNew(GetParam().config, FastOptions());
  ASSERT_TRUE(f.device);
  auto volume = Volume::Open(*f.device, Volume::ReadScope::kForOpen);
  ASSERT_TRUE(volume.ok()) << volume.error().message();

  const Status updated = WithinAMinute("update after open", [&] {
    return (*volume)->SetLabel(std::string("after-open"), std::nullopt);
  });
  EXPECT_TRUE(updated.ok()) << updated.error().message();
}

// On an ordinary disk libcryptsetup reads and locks the device itself, and repairs a damaged
// header copy under cryptsetup's exclusive lock: the shared lock Open kept must be gone by then.
TEST(UnlockLockStandardTest, LibcryptsetupHeaderRepairDoesNotWaitForOurLock) {
  Formatted f = FormatNew(NotZoned(), FastOptions());
  ASSERT_TRUE(f.device);
  MirrorIntoStandIn(*f.device, f.layout.data_offset);
  // Only the stand-in libcryptsetup reads gets a bad secondary header (its magic): Open,
  // reading the emulator, still finds two good copies.
  {
    const int fd = ::open(f.device->path().c_str(), O_WRONLY | O_CLOEXEC);
    ASSERT_GE(fd, 0);
    const char junk[8] = {};
    ASSERT_EQ(::pwrite(fd, junk, sizeof junk, static_cast<off_t>(f.layout.header_size)), 8);
    ::close(fd);
  }
  auto volume = Volume::Open(*f.device, Volume::ReadScope::kForOpen);
  ASSERT_TRUE(volume.ok()) << volume.error().message();

  const Status unlocked = WithinAMinute("libcryptsetup header repair",
                                        [&] { return CheckPassphrase(**volume, kPassphrase); });
  EXPECT_TRUE(unlocked.ok()) << unlocked.error().message();
}

const DriveCase kDrives[] = {
    {"HostManaged4k", HostManaged(4096)},
    {"HostManaged512", HostManaged(512)},
    {"ConventionalAtZero", HostManagedConventional()},
    {"ZnsLike", ZnsLike()},
};

std::string DriveName(const ::testing::TestParamInfo<DriveCase>& param) { return param.param.name; }

INSTANTIATE_TEST_SUITE_P(Drives, UnlockLockTest, ::testing::ValuesIn(kDrives), DriveName);

}  // namespace
}  // namespace luks2ext::testing
