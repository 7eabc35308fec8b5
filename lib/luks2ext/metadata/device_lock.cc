#include "metadata/device_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <mutex>
#include <vector>

#include "base/i18n.h"
#include "luks2ext/fd_io.h"

namespace luks2ext {

struct DeviceLock::Yielding {
  UniqueFd fd;  // not valid() once it gave way
  dev_t dev = 0;
  ino_t ino = 0;
};

namespace {

// cryptsetup's lock directory (its default --with-luks2-lock-path).
constexpr const char* kLockDirectory = "/run/cryptsetup";

Error LockError(const std::string& what, const std::string& path) {
  return Error::Busy(FormatMsg(_("Cannot take the metadata lock {} for {}: {}."), what, path,
                               std::strerror(errno)));
}

// This process's yielding locks. The mutex also guards each one's fd.
std::mutex& YieldingMutex() {
  static std::mutex mutex;
  return mutex;
}
std::vector<std::weak_ptr<DeviceLock::Yielding>>& YieldingLocks() {
  static std::vector<std::weak_ptr<DeviceLock::Yielding>> locks;
  return locks;
}

// Before `fd` (open on a lock file, not yet locked) is locked exclusively: lets go of this
// process's yielding locks on the same file, which the exclusive lock would wait for forever.
void YieldTo(int fd) {
  struct stat st {};
  if (fstat(fd, &st) != 0) return;
  std::lock_guard guard(YieldingMutex());
  auto& locks = YieldingLocks();
  for (auto it = locks.begin(); it != locks.end();) {
    const std::shared_ptr<DeviceLock::Yielding> lock = it->lock();
    if (!lock) {
      it = locks.erase(it);
      continue;
    }
    if (lock->fd.valid() && lock->dev == st.st_dev && lock->ino == st.st_ino) lock->fd.Reset();
    ++it;
  }
}

// flock() on `fd`, retried on EINTR; exclusive after the yielding locks gave way.
bool Lock(int fd, LockMode mode) {
  if (mode == LockMode::kExclusive) YieldTo(fd);
  const int operation = mode == LockMode::kExclusive ? LOCK_EX : LOCK_SH;
  return RetryOnEintr([&] { return flock(fd, operation); }) == 0;
}

// The locked descriptor: the file itself for a regular file, cryptsetup's lock file for a
// block device.
Result<UniqueFd> OpenAndLock(const std::string& device_path, LockMode mode) {
  struct stat st {};
  if (stat(device_path.c_str(), &st) != 0)
    return Error::WrongDevice(
        FormatMsg(_("Device {} does not exist or access denied."), device_path));
  if (!S_ISBLK(st.st_mode)) {
    UniqueFd fd(open(device_path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd.valid() || !Lock(fd.get(), mode)) return LockError(device_path, device_path);
    return fd;
  }
  // cryptsetup creates the directory on demand, mode 0700; so do we.
  if (mkdir(kLockDirectory, 0700) != 0 && errno != EEXIST)
    return LockError(kLockDirectory, device_path);
  const std::string lock_path =
      FormatMsg("{}/L_{}:{}", kLockDirectory, major(st.st_rdev), minor(st.st_rdev));
  for (;;) {
    UniqueFd fd(open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600));
    if (!fd.valid() || !Lock(fd.get(), mode)) return LockError(lock_path, device_path);
    // cryptsetup unlinks the lock file when it releases a lock nobody else holds. If that
    // happened between our open and flock, we hold a lock on an orphan inode that excludes
    // nobody: start again with the file now at the path.
    struct stat held {
    }, current{};
    if (fstat(fd.get(), &held) == 0 && stat(lock_path.c_str(), &current) == 0 &&
        held.st_ino == current.st_ino && held.st_dev == current.st_dev)
      return fd;
  }  // the orphan's lock goes with its descriptor
}

}  // namespace

Result<DeviceLock> DeviceLock::Acquire(const std::string& device_path, LockMode mode) {
  ASSIGN_OR_RETURN(UniqueFd fd, OpenAndLock(device_path, mode));
  return DeviceLock(std::move(fd));
}

Result<DeviceLock> DeviceLock::AcquireYielding(const std::string& device_path) {
  ASSIGN_OR_RETURN(UniqueFd fd, OpenAndLock(device_path, LockMode::kShared));
  struct stat st {};
  if (fstat(fd.get(), &st) != 0) return LockError(device_path, device_path);
  auto yielding = std::make_shared<Yielding>(Yielding{std::move(fd), st.st_dev, st.st_ino});
  std::lock_guard guard(YieldingMutex());
  YieldingLocks().push_back(yielding);
  return DeviceLock(std::move(yielding));
}

DeviceLock::~DeviceLock() { Release(); }

bool DeviceLock::held() const {
  if (yielding_) {
    std::lock_guard guard(YieldingMutex());
    return yielding_->fd.valid();
  }
  return fd_.valid();
}

void DeviceLock::Release() {
  // The lock file stays: cryptsetup removes it only when it can prove nobody waits on it,
  // and a stale empty file is harmless.
  if (yielding_) {
    std::lock_guard guard(YieldingMutex());
    yielding_->fd.Reset();
    yielding_.reset();
  }
  fd_.Reset();
}

}  // namespace luks2ext
