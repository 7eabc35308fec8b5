// Drive descriptions for layout tests: a Geometry plus the leading zones a drive would report
// for it (ReportZones(0, kZonesToReport)), without any device behind them.
#pragma once

#include <cstdint>
#include <vector>

#include "luks2ext/block_device.h"
#include "luks2ext/layout.h"

namespace luks2ext::testing {

struct DriveSpec {
  ZoneModel model = ZoneModel::kHostManaged;
  uint64_t zone_size = 64 * MiB;
  uint64_t zone_capacity = 0;  // 0: same as zone_size
  uint32_t nr_zones = 16;
  uint32_t conventional_zones = 0;
  uint32_t logical_block_size = 4096;
};

struct Drive {
  Geometry geometry;
  std::vector<Zone> zones;  // what ReportZones(0, kZonesToReport) returns: at most 64 zones
};

// The geometry and leading zones of a drive as the kernel reports them: conventional zones
// (NOT_WP, capacity = length) from LBA 0, then EMPTY sequential zones whose type follows the
// model. A non-zoned spec (model kNone) gives nr_zones * zone_size bytes and no zones.
Drive MakeDrive(const DriveSpec& spec);

// An ordinary (non-zoned) disk of `size` bytes.
Drive MakeStandardDrive(uint64_t size);

}  // namespace luks2ext::testing
