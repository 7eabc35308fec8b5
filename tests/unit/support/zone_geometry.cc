#include "support/zone_geometry.h"

#include <algorithm>

namespace luks2ext::testing {

Drive MakeDrive(const DriveSpec& spec) {
  Drive drive;
  Geometry& g = drive.geometry;
  g.model = spec.model;
  g.size = uint64_t{spec.nr_zones} * spec.zone_size;
  g.logical_block_size = spec.logical_block_size;
  g.physical_block_size = spec.logical_block_size;
  if (spec.model == ZoneModel::kNone) return drive;

  g.zone_size = spec.zone_size;
  g.nr_zones = spec.nr_zones;
  const uint64_t capacity = spec.zone_capacity ? spec.zone_capacity : spec.zone_size;
  const ZoneType sequential = spec.model == ZoneModel::kHostAware
                                  ? ZoneType::kSequentialPreferred
                                  : ZoneType::kSequentialRequired;
  const uint32_t reported = std::min(spec.nr_zones, kZonesToReport);
  for (uint32_t i = 0; i < reported; ++i) {
    Zone zone;
    zone.start = uint64_t{i} * spec.zone_size;
    zone.length = spec.zone_size;
    zone.write_pointer = zone.start;
    if (i < spec.conventional_zones) {
      zone.type = ZoneType::kConventional;
      zone.condition = ZoneCondition::kNotWritePointer;
      zone.capacity = spec.zone_size;
    } else {
      zone.type = sequential;
      zone.condition = ZoneCondition::kEmpty;
      zone.capacity = capacity;
    }
    drive.zones.push_back(zone);
  }
  return drive;
}

Drive MakeStandardDrive(uint64_t size) {
  Drive drive;
  drive.geometry.model = ZoneModel::kNone;
  drive.geometry.size = size;
  return drive;
}

}  // namespace luks2ext::testing
