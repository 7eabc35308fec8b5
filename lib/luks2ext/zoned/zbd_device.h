// ZbdDevice: a zoned block device (SMR host-managed / host-aware, NVMe ZNS) through libzbd.
//
// The device is opened with O_DIRECT, so each write reaches the drive in the order it is issued
// (no page cache reordering writes to a sequential zone). I/O goes through an aligned bounce
// buffer in chunks of at most kBounceSize bytes, one synchronous pwrite after the other: a large
// write lands sequentially at the write pointer. ResetZone and FinishZone first report the
// target zone, so a call on a conventional zone or a non-zone-start offset gets the same clear
// error as from the emulator instead of the kernel's bare EIO/EINVAL.
//
// libzbd keeps per-fd state in a table of 1024 entries, so the process must not have more than
// about 1000 descriptors open when it opens a drive.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "luks2ext/block_device.h"
#include "luks2ext/error.h"

namespace luks2ext {

class ZbdDevice : public BlockDevice {
 public:
  static constexpr size_t kBounceSize = 1 << 20;

  // Opens `path` read-write (or read-only when `writable` is false). WrongDevice when the
  // kernel does not report it zoned.
  // `extra_flags` are added to open(2)'s flags (O_EXCL for an exclusive open).
  static Result<std::unique_ptr<ZbdDevice>> Open(const std::string& path, bool writable,
                                                 int extra_flags = 0);

  ZbdDevice(const ZbdDevice&) = delete;
  ZbdDevice& operator=(const ZbdDevice&) = delete;

  const Geometry& geometry() const override { return geometry_; }
  std::string path() const override { return path_; }
  Result<std::vector<Zone>> ReportZones(uint64_t offset, uint32_t max_zones) override;
  Status Read(uint64_t offset, std::span<std::uint8_t> out) override;
  Status Write(uint64_t offset, std::span<const std::uint8_t> data) override;
  Status ResetZone(uint64_t zone_start) override;
  Status FinishZone(uint64_t zone_start) override;
  Status Flush() override;

 private:
  struct FreeDeleter {
    void operator()(std::uint8_t* p) const { std::free(p); }
  };
  using BounceBuffer = std::unique_ptr<std::uint8_t, FreeDeleter>;

  // A descriptor from zbd_open. Not a UniqueFd: zbd_close must close it, which also frees
  // libzbd's per-descriptor state.
  class ZbdFd {
   public:
    explicit ZbdFd(int fd) : fd_(fd) {}
    ZbdFd(ZbdFd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
    ZbdFd& operator=(ZbdFd&&) = delete;
    ~ZbdFd();
    int get() const { return fd_; }

   private:
    int fd_;
  };

  ZbdDevice(std::string path, ZbdFd fd, Geometry geometry, BounceBuffer bounce, bool writable);

  Status CheckAlignedRange(uint64_t offset, uint64_t length) const;
  // The sequential zone starting exactly at zone_start, for reset and finish.
  Result<Zone> ZoneForManagement(uint64_t zone_start);
  // One pread of `into` (the bounce buffer, or a caller's buffer aligned for O_DIRECT), and one
  // pwrite of `length` bytes of the bounce buffer; retried on EINTR and continued after short
  // transfers.
  Status ReadChunk(uint64_t offset, std::span<std::uint8_t> into);
  Status WriteChunk(uint64_t offset, size_t length);

  std::string path_;
  ZbdFd fd_;
  Geometry geometry_;    // read_only: the device itself refuses writes
  BounceBuffer bounce_;  // kBounceSize bytes, aligned for O_DIRECT
  bool writable_;        // this handle was opened for writing
};

}  // namespace luks2ext
