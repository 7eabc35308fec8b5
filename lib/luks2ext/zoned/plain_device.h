// PlainDevice: a regular file or an ordinary (non-zoned) block device.
//
// The device size is fixed when it is opened (a regular file is never grown). Reads and writes
// must be aligned to the logical block size (512 for a regular file), as on the zoned backends,
// so code tested on files behaves the same on drives. It has no zones: ReportZones returns an
// empty list and zone management is an error.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "luks2ext/block_device.h"
#include "luks2ext/error.h"
#include "luks2ext/unique_fd.h"

namespace luks2ext {

class PlainDevice : public BlockDevice {
 public:
  // Opens `path` read-write, or read-only when `writable` is false. Refuses a block device the
  // kernel reports as zoned (that one needs ZbdDevice), and anything that is neither a regular
  // file nor a block device.
  // `extra_flags` are added to open(2)'s flags (O_EXCL for an exclusive open).
  static Result<std::unique_ptr<PlainDevice>> Open(const std::string& path, bool writable,
                                                   int extra_flags = 0);

  const Geometry& geometry() const override { return geometry_; }
  std::string path() const override { return path_; }
  Result<std::vector<Zone>> ReportZones(uint64_t offset, uint32_t max_zones) override;
  Status Read(uint64_t offset, std::span<std::uint8_t> out) override;
  Status Write(uint64_t offset, std::span<const std::uint8_t> data) override;
  Status ResetZone(uint64_t zone_start) override;
  Status FinishZone(uint64_t zone_start) override;
  Status Flush() override;
  bool editable_in_place_at_path() const override { return true; }

 private:
  PlainDevice(std::string path, UniqueFd fd, Geometry geometry, bool writable)
      : path_(std::move(path)), fd_(std::move(fd)), geometry_(geometry), writable_(writable) {}

  Status CheckAlignedRange(uint64_t offset, uint64_t length) const;

  std::string path_;
  UniqueFd fd_;
  Geometry geometry_;  // read_only: the device itself refuses writes
  bool writable_;      // this handle was opened for writing
};

}  // namespace luks2ext
