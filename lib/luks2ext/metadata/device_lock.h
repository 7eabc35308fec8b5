// cryptsetup's metadata lock, so zcryptsetup and cryptsetup never interleave a header
// read-modify-write: flock(2) on /run/cryptsetup/L_<major>:<minor> for a block device (shared
// to read, exclusive to write), or on the file itself for a regular file.
#pragma once

#include <string>

#include "luks2ext/error.h"

namespace luks2ext {

enum class LockMode { kShared, kExclusive };

class DeviceLock {
 public:
  // Waits for the lock. Fails (Error::Busy) only when the lock cannot be taken at all.
  static Result<DeviceLock> Acquire(const std::string& device_path, LockMode mode);

  DeviceLock(DeviceLock&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  DeviceLock& operator=(DeviceLock&&) = delete;
  DeviceLock(const DeviceLock&) = delete;
  DeviceLock& operator=(const DeviceLock&) = delete;
  ~DeviceLock();

 private:
  explicit DeviceLock(int fd) : fd_(fd) {}
  int fd_;
};

}  // namespace luks2ext
