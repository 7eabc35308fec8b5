// luksFormat: the drive summary, the plan, and the first write of a volume's copies.
#include "luks2ext/format_volume.h"

#include <sys/stat.h>

#include <memory>
#include <string>
#include <vector>

#include "base/i18n.h"
#include "metadata/device_lock.h"
#include "metadata/image_builder.h"
#include "metadata/update_protocol.h"

namespace luks2ext {

Result<DriveSummary> SummarizeDrive(BlockDevice& device) {
  if (!device.geometry().is_zoned()) return SummarizeZones(device.geometry(), {});
  ASSIGN_OR_RETURN(const std::vector<Zone> zones, device.ReportZones(0, kZonesToReport));
  return SummarizeZones(device.geometry(), zones);
}

DriveSummary SummarizeZones(const Geometry& geometry, std::span<const Zone> zones) {
  DriveSummary summary;
  summary.geometry = geometry;
  if (!summary.geometry.is_zoned()) return summary;
  for (const Zone& zone : zones) {
    if (zone.is_sequential()) break;
    ++summary.conventional_zones;
  }
  summary.conventional_zones_at_least =
      !zones.empty() && summary.conventional_zones == zones.size() &&
      zones.size() < summary.geometry.nr_zones;
  if (!zones.empty()) summary.zone0_capacity = zones.front().capacity;
  return summary;
}

Result<Layout> PlanLayoutFor(BlockDevice& device, const FormatOptions& options) {
  std::vector<Zone> zones;
  if (device.geometry().is_zoned()) {
    ASSIGN_OR_RETURN(zones, device.ReportZones(0, kZonesToReport));
  }
  LayoutRequest request = options.layout;
  request.volume_key_bytes = options.key_bits / 8;
  return PlanLayout(device.geometry(), zones, request);
}

namespace {

// The same file or block device under two names (a symlink, /dev/disk/by-id/...).
bool SameFile(const std::string& a, const std::string& b) {
  struct stat sa {}, sb {};
  if (stat(a.c_str(), &sa) != 0 || stat(b.c_str(), &sb) != 0) return false;
  if (S_ISBLK(sa.st_mode) && S_ISBLK(sb.st_mode)) return sa.st_rdev == sb.st_rdev;
  return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

}  // namespace

Status CheckDetachedHeaderDevice(const BlockDevice& header, const BlockDevice& data) {
  if (header.geometry().is_zoned() || !header.editable_in_place_at_path())
    return Error::WrongDevice(FormatMsg(
        _("Device {} cannot hold a detached header: put it on a regular file or an ordinary "
          "(not zoned) disk."),
        header.path()));
  if (SameFile(header.path(), data.path()))
    return Error::WrongParameters(FormatMsg(
        _("The detached header {} is the data device itself."), header.path()));
  return Status::Ok();
}

Result<Layout> PlanFormat(BlockDevice& device, const FormatOptions& options,
                          BlockDevice* detached_data) {
  if (device.geometry().read_only)
    return Error::WrongDevice(FormatMsg(
        _("Device {} is read-only; luksFormat needs to write to it."), device.path()));
  if (!detached_data) return PlanLayoutFor(device, options);
  RETURN_IF_ERROR(CheckDetachedHeaderDevice(device, *detached_data));
  LayoutRequest request = options.layout;
  request.volume_key_bytes = options.key_bits / 8;
  return PlanDetachedLayout(detached_data->geometry(), request);
}

Result<std::string> FormatVolume(BlockDevice& device, const Layout& layout,
                                 const FormatOptions& options, const Secret& passphrase,
                                 BlockDevice* detached_data) {
  const Geometry& geometry = device.geometry();
  if (detached_data) RETURN_IF_ERROR(CheckDetachedHeaderDevice(device, *detached_data));
  if (!geometry.is_zoned() && device.editable_in_place_at_path()) {
    // The encryption sector size follows the drive the data is on.
    const Geometry& data = detached_data ? detached_data->geometry() : geometry;
    ASSIGN_OR_RETURN(std::string uuid,
                     FormatInPlace(layout, options, passphrase, device.path(),
                                   detached_data ? detached_data->path() : std::string(),
                                   data.logical_block_size, data.physical_block_size));
    if (options.force_inline) {
      // libcryptsetup may have grown a detached header file past the size `device` saw when
      // it was opened: the update reads it through a fresh handle.
      std::unique_ptr<BlockDevice> grown;
      if (detached_data) {
        ASSIGN_OR_RETURN(grown, OpenBlockDevice(device.path(), true));
      }
      RETURN_IF_ERROR(UpdateMetadata(grown ? *grown : device,
                                     [](Luks2Image& image, const VolumeState&) {
                                       return image.AddConfigFlag(kForceInlineFlag);
                                     }));
    }
    return uuid;
  }
  ASSIGN_OR_RETURN(DeviceLock lock, DeviceLock::Acquire(device.path(), LockMode::kExclusive));
  std::vector<Zone> zones;
  if (geometry.is_zoned()) {
    ASSIGN_OR_RETURN(zones, device.ReportZones(0, kZonesToReport));
  }
  ASSIGN_OR_RETURN(Luks2Image image,
                   BuildImage(layout, options, passphrase, device.path(),
                              geometry.logical_block_size, geometry.physical_block_size));
  RETURN_IF_ERROR(WriteNewCopies(device, layout, zones, image));
  return std::string(image.uuid());
}

}  // namespace luks2ext
