// luksFormat: what a drive is, the layout chosen for it, and writing a new volume.
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "luks2ext/block_device.h"
#include "luks2ext/format_options.h"
#include "luks2ext/layout.h"
#include "luks2ext/secret.h"

namespace luks2ext {

// What a drive is, as far as placing metadata goes: its geometry, the conventional zones at LBA
// 0 (counted among the first kZonesToReport zones), the capacity of zone 0.
struct DriveSummary {
  Geometry geometry;
  uint32_t conventional_zones = 0;
  bool conventional_zones_at_least = false;  // every reported zone was conventional
  uint64_t zone0_capacity = 0;
};
Result<DriveSummary> SummarizeDrive(BlockDevice& device);
// The same from zones already reported from offset 0 (a Volume's): no second report.
DriveSummary SummarizeZones(const Geometry& geometry, std::span<const Zone> zones);

// The layout luksFormat would choose for these options on this drive (no read-only check).
Result<Layout> PlanLayoutFor(BlockDevice& device, const FormatOptions& options);

// Whether `header` can hold a detached header (cryptsetup --header) for the data on `data`:
// libcryptsetup writes it in place, as stock does, so it must be a regular file or an ordinary
// disk (a zoned device, or anything libcryptsetup may not write itself, is Error::WrongDevice),
// and it must not be `data` itself, whose data from offset 0 would be the header
// (Error::WrongParameters).
Status CheckDetachedHeaderDevice(const BlockDevice& header, const BlockDevice& data);

// Checks the drive and the options and plans the layout, without writing: the step before
// asking for confirmation and a passphrase. A read-only drive is refused here.
// With `detached_data` (cryptsetup --header), `device` is where the header goes and
// `detached_data` the drive the data segment is on (PlanDetachedLayout). The header must be
// writable in place, a regular file or an ordinary disk: a zoned one is Error::WrongDevice.
Result<Layout> PlanFormat(BlockDevice& device, const FormatOptions& options,
                          BlockDevice* detached_data = nullptr);

// Writes a new LUKS2 volume as planned: on zoned drives the journal copy first, then home,
// each reset, appended, finished and verified; on ordinary disks in place, like cryptsetup.
// Holds cryptsetup's device lock throughout. Returns the new volume's UUID.
// With `detached_data` as PlanFormat had it, libcryptsetup writes the header to `device`
// (growing a regular file to the metadata size) and nothing at all to the data drive.
Result<std::string> FormatVolume(BlockDevice& device, const Layout& layout,
                                 const FormatOptions& options, const Secret& passphrase,
                                 BlockDevice* detached_data = nullptr);

}  // namespace luks2ext
