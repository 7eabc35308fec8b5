// cryptsetup's metadata lock, so zcryptsetup and cryptsetup never interleave a header
// read-modify-write: flock(2) on /run/cryptsetup/L_<major>:<minor> for a block device (shared
// to read, exclusive to write), or on the file itself for a regular file.
#pragma once

#include <memory>
#include <string>
#include <utility>

#include "luks2ext/error.h"
#include "luks2ext/unique_fd.h"

namespace luks2ext {

enum class LockMode { kShared, kExclusive };

class DeviceLock {
 public:
  // Waits for the lock. Fails (Error::Busy) only when the lock cannot be taken at all.
  //
  // An exclusive lock first releases every yielding lock (below) this process holds on the
  // same lock file: flock(2) locks taken through two open() calls conflict even inside one
  // process, so it would otherwise wait for itself forever.
  static Result<DeviceLock> Acquire(const std::string& device_path, LockMode mode);

  // A shared lock that gives way to this process's own exclusive lock of the same device. An
  // unlock keeps one from the header read to the keyslot reads; an update that follows in the
  // same process (open --persistent, luksAddKey after the header was read) then takes the
  // exclusive lock without first finding whoever holds the yielding one.
  static Result<DeviceLock> AcquireYielding(const std::string& device_path);

  DeviceLock(DeviceLock&& other) noexcept = default;
  DeviceLock& operator=(DeviceLock&&) = delete;
  DeviceLock(const DeviceLock&) = delete;
  DeviceLock& operator=(const DeviceLock&) = delete;
  ~DeviceLock();

  // False once a yielding lock gave way (or after Release).
  bool held() const;
  void Release();

  struct Yielding;  // a yielding lock's descriptor, shared with the process-wide list

 private:
  explicit DeviceLock(UniqueFd fd) : fd_(std::move(fd)) {}
  explicit DeviceLock(std::shared_ptr<Yielding> yielding) : yielding_(std::move(yielding)) {}
  UniqueFd fd_;                         // an ordinary lock
  std::shared_ptr<Yielding> yielding_;  // a yielding one
};

}  // namespace luks2ext
