// OpenBlockDevice picks the backend; the name functions give the words dumps and errors use.
#include "luks2ext/block_device.h"

#include <fmt/format.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <cerrno>
#include <optional>
#include <string>

#include "base/i18n.h"
#include "base/errno_error.h"
#include "luks2ext/fd_io.h"
#include "zoned/plain_device.h"
#include "zoned/tallying_device.h"
#include "zoned/zbd_device.h"
#include "luks2ext/log.h"

namespace luks2ext {

namespace {

// Whether the kernel calls the block device `st` zoned: its queue's "zoned" attribute, what
// zbd_device_is_zoned reads too. Read by device number, as one small file: libzbd's own check
// resolves the path and stats it first, and zbd_open makes that check again anyway. A
// partition has no queue directory of its own, and the kernel does not partition zoned drives.
bool KernelSaysZoned(const struct stat& st) {
  const std::string attribute =
      fmt::format("/sys/dev/block/{}:{}/queue/zoned", major(st.st_rdev), minor(st.st_rdev));
  const std::optional<std::string> model = ReadKernelText(attribute.c_str(), 64);
  return model && (model->starts_with("host-managed") || model->starts_with("host-aware"));
}

Result<std::unique_ptr<BlockDevice>> OpenBackend(const std::string& path, bool writable,
                                                 Exclusive exclusive) {
  struct stat st = {};
  if (::stat(path.c_str(), &st) != 0) {
    const int error_number = errno;
    if (error_number == ENOENT) {
      return Error::WrongDevice(FormatMsg(_("Device {} does not exist or access denied."), path));
    }
    return ErrnoError(error_number, FormatMsg(_("Cannot open device {}"), path), path);
  }
  // Only a block device can be zoned. When sysfs cannot tell, PlainDevice still refuses a
  // drive with a zone size.
  // O_EXCL without O_CREAT means "exclusive" only for block devices (open(2)).
  const int extra_flags = exclusive == Exclusive::kYes && S_ISBLK(st.st_mode) ? O_EXCL : 0;
  if (S_ISBLK(st.st_mode) && KernelSaysZoned(st)) {
    ASSIGN_OR_RETURN(std::unique_ptr<ZbdDevice> zoned,
                     ZbdDevice::Open(path, writable, extra_flags));
    return std::unique_ptr<BlockDevice>(std::move(zoned));
  }
  ASSIGN_OR_RETURN(std::unique_ptr<PlainDevice> plain,
                   PlainDevice::Open(path, writable, extra_flags));
  return std::unique_ptr<BlockDevice>(std::move(plain));
}

}  // namespace

Result<std::string> BlockDeviceNumber(const std::string& path) {
  struct stat st {};
  if (stat(path.c_str(), &st) != 0)
    return ErrnoError(errno, FormatMsg(_("Cannot use device {}"), path), path);
  if (!S_ISBLK(st.st_mode))
    return Error::WrongDevice(FormatMsg(_("{} is not a block device."), path));
  return fmt::format("{}:{}", major(st.st_rdev), minor(st.st_rdev));
}

Result<std::unique_ptr<BlockDevice>> OpenBlockDevice(const std::string& path, bool writable,
                                                     Exclusive exclusive) {
  ASSIGN_OR_RETURN(std::unique_ptr<BlockDevice> device, OpenBackend(path, writable, exclusive));
  // --debug says what each verb read, wrote and reset (TallyingDevice logs it at the end).
  if (DebugLogging()) return std::unique_ptr<BlockDevice>(new TallyingDevice(std::move(device)));
  return device;
}

Status CheckZoneReport(const Geometry& geometry, uint64_t first_start,
                       const std::vector<Zone>& zones) {
  const uint32_t block = geometry.logical_block_size;
  if (block < 512 || block > 4096 || (block & (block - 1)) != 0)
    return Error::WrongDevice(
        FormatMsg(_("The drive reports a logical block size of {} bytes; Linux block devices "
                    "have 512 to 4096."),
                  block));
  if (!geometry.is_zoned()) return Status::Ok();
  if (geometry.zone_size == 0 || geometry.zone_size % block != 0 ||
      geometry.zone_size > geometry.size)
    return Error::WrongDevice(FormatMsg(
        _("The drive reports an unusable zone size of {} bytes."), geometry.zone_size));
  uint64_t expected_start = first_start;
  for (const Zone& zone : zones) {
    auto bad = [&zone](const char* why) {
      return Error::WrongDevice(FormatMsg(_("The drive reports an inconsistent zone at offset "
                                            "{}: {}."),
                                          zone.start, why));
    };
    if (zone.start != expected_start) return bad(_("not where the previous zone ended"));
    if (zone.start >= geometry.size) return bad(_("past the end of the device"));
    const uint64_t room = geometry.size - zone.start;
    if (zone.length != std::min(geometry.zone_size, room)) return bad(_("wrong length"));
    if (zone.capacity < block || zone.capacity > zone.length || zone.capacity % block != 0)
      return bad(_("capacity out of range"));
    // Only these conditions have a meaningful write pointer (ZBC: read-only and offline zones,
    // and a FULL one, report none).
    const bool has_write_pointer = zone.condition == ZoneCondition::kEmpty ||
                                   zone.condition == ZoneCondition::kImplicitOpen ||
                                   zone.condition == ZoneCondition::kExplicitOpen ||
                                   zone.condition == ZoneCondition::kClosed;
    if (zone.is_sequential() && has_write_pointer &&
        (zone.write_pointer < zone.start || zone.write_pointer - zone.start > zone.capacity ||
         (zone.write_pointer - zone.start) % block != 0))
      return bad(_("write pointer outside the zone"));
    expected_start = zone.start + zone.length;
  }
  return Status::Ok();
}

const char* ZoneModelName(ZoneModel model) {
  switch (model) {
    case ZoneModel::kHostManaged:
      return "host-managed";
    case ZoneModel::kHostAware:
      return "host-aware";
    case ZoneModel::kNone:
      return "none";
  }
  return "unknown";
}

// Names as the kernel and blkzone(8) print them.
const char* ZoneTypeName(ZoneType type) {
  switch (type) {
    case ZoneType::kConventional:
      return "conventional";
    case ZoneType::kSequentialRequired:
      return "seq-write-required";
    case ZoneType::kSequentialPreferred:
      return "seq-write-preferred";
  }
  return "unknown";
}

const char* ZoneConditionName(ZoneCondition condition) {
  switch (condition) {
    case ZoneCondition::kNotWritePointer:
      return "not-write-pointer";
    case ZoneCondition::kEmpty:
      return "empty";
    case ZoneCondition::kImplicitOpen:
      return "implicit-open";
    case ZoneCondition::kExplicitOpen:
      return "explicit-open";
    case ZoneCondition::kClosed:
      return "closed";
    case ZoneCondition::kFull:
      return "full";
    case ZoneCondition::kReadOnly:
      return "read-only";
    case ZoneCondition::kOffline:
      return "offline";
  }
  return "unknown";
}

}  // namespace luks2ext
