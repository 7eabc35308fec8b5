// A BlockDevice that forwards every call to another one, so that a test can override just the
// call it watches or falsifies (leveldb's EnvWrapper pattern). The inner device must outlive it.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "luks2ext/block_device.h"

namespace luks2ext::testing {

class ForwardingDevice : public BlockDevice {
 public:
  explicit ForwardingDevice(BlockDevice& inner) : inner_(inner) {}

  const Geometry& geometry() const override { return inner_.geometry(); }
  std::string path() const override { return inner_.path(); }
  Result<std::vector<Zone>> ReportZones(uint64_t offset, uint32_t max_zones) override {
    return inner_.ReportZones(offset, max_zones);
  }
  Status Read(uint64_t offset, std::span<std::uint8_t> out) override {
    return inner_.Read(offset, out);
  }
  Status Write(uint64_t offset, std::span<const std::uint8_t> data) override {
    return inner_.Write(offset, data);
  }
  Status ResetZone(uint64_t zone_start) override { return inner_.ResetZone(zone_start); }
  Status FinishZone(uint64_t zone_start) override { return inner_.FinishZone(zone_start); }
  Status Flush() override { return inner_.Flush(); }

 protected:
  BlockDevice& inner() const { return inner_; }

 private:
  BlockDevice& inner_;
};

}  // namespace luks2ext::testing
