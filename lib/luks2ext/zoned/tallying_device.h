// What a verb did to a drive, for --debug: a BlockDevice that forwards every call and counts
// the bytes read and written and the zones reset and finished, and logs the tally (debug
// level) when it goes away. OpenBlockDevice puts it around a drive only when debug logging is
// on, so an ordinary run pays nothing for it.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "luks2ext/block_device.h"

namespace luks2ext {

struct IoTally {
  uint64_t bytes_read = 0, reads = 0;
  uint64_t bytes_written = 0, writes = 0;
  uint64_t flushes = 0, zone_reports = 0;
  std::vector<uint64_t> zones_reset;     // zone start offsets, in call order
  std::vector<uint64_t> zones_finished;

  // "read 32768 bytes (2 reads), wrote ... , zones reset: none" (the --debug line).
  std::string Describe(uint64_t zone_size) const;
};

// What libcryptsetup does to a drive it edits in place itself, where no BlockDevice sees the
// I/O: the process's storage bytes from /proc/self/io across the scope (what it read from
// and wrote to storage, O_DIRECT included), logged at debug level when the scope ends. Costs
// nothing unless debug logging is on.
class ProcessIoTally {
 public:
  explicit ProcessIoTally(std::string device_path);
  ~ProcessIoTally();
  ProcessIoTally(const ProcessIoTally&) = delete;
  ProcessIoTally& operator=(const ProcessIoTally&) = delete;

 private:
  std::string device_path_;
  bool counting_ = false;
  uint64_t read_bytes_ = 0, write_bytes_ = 0;
};

class TallyingDevice : public BlockDevice {
 public:
  explicit TallyingDevice(std::unique_ptr<BlockDevice> inner) : inner_(std::move(inner)) {}
  ~TallyingDevice() override;

  const IoTally& tally() const { return tally_; }

  const Geometry& geometry() const override { return inner_->geometry(); }
  std::string path() const override { return inner_->path(); }
  Result<std::vector<Zone>> ReportZones(uint64_t offset, uint32_t max_zones) override;
  Status Read(uint64_t offset, std::span<std::uint8_t> out) override;
  Status Write(uint64_t offset, std::span<const std::uint8_t> data) override;
  Status ResetZone(uint64_t zone_start) override;
  Status FinishZone(uint64_t zone_start) override;
  Status Flush() override;
  bool editable_in_place_at_path() const override { return inner_->editable_in_place_at_path(); }

 private:
  std::unique_ptr<BlockDevice> inner_;
  IoTally tally_;
};

}  // namespace luks2ext
