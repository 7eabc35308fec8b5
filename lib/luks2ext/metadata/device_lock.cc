#include "metadata/device_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "i18n.h"

namespace luks2ext {
namespace {

// cryptsetup's lock directory (its default --with-luks2-lock-path).
constexpr const char* kLockDirectory = "/run/cryptsetup";

Error LockError(const std::string& what, const std::string& path) {
  return Error::Busy(FormatMsg(_("Cannot take the metadata lock {} for {}: {}."), what, path,
                               std::strerror(errno)));
}

}  // namespace

Result<DeviceLock> DeviceLock::Acquire(const std::string& device_path, LockMode mode) {
  struct stat st {};
  if (stat(device_path.c_str(), &st) != 0)
    return Error::WrongDevice(
        FormatMsg(_("Device {} does not exist or access denied."), device_path));
  if (!S_ISBLK(st.st_mode)) {
    const int fd = open(device_path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return LockError(device_path, device_path);
    while (flock(fd, mode == LockMode::kExclusive ? LOCK_EX : LOCK_SH) != 0) {
      if (errno == EINTR) continue;
      Error error = LockError(device_path, device_path);
      close(fd);
      return error;
    }
    return DeviceLock(fd);
  }
  // cryptsetup creates the directory on demand, mode 0700; so do we.
  if (mkdir(kLockDirectory, 0700) != 0 && errno != EEXIST)
    return LockError(kLockDirectory, device_path);
  const std::string lock_path =
      FormatMsg("{}/L_{}:{}", kLockDirectory, major(st.st_rdev), minor(st.st_rdev));
  for (;;) {
    const int fd = open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) return LockError(lock_path, device_path);
    if (flock(fd, mode == LockMode::kExclusive ? LOCK_EX : LOCK_SH) != 0) {
      if (errno == EINTR) {
        close(fd);
        continue;
      }
      Error error = LockError(lock_path, device_path);
      close(fd);
      return error;
    }
    // cryptsetup unlinks the lock file when it releases a lock nobody else holds. If that
    // happened between our open and flock, we hold a lock on an orphan inode that excludes
    // nobody: start again with the file now at the path.
    struct stat held {}, current {};
    if (fstat(fd, &held) == 0 && stat(lock_path.c_str(), &current) == 0 &&
        held.st_ino == current.st_ino && held.st_dev == current.st_dev)
      return DeviceLock(fd);
    close(fd);
  }
}

DeviceLock::~DeviceLock() {
  // The lock file stays: cryptsetup removes it only when it can prove nobody waits on it,
  // and a stale empty file is harmless.
  if (fd_ >= 0) close(fd_);
}

}  // namespace luks2ext
