// OpenBlockDevice picks the backend; the name functions give the words dumps and errors use.
#include "luks2ext/block_device.h"

#include <fmt/format.h>
#include <libzbd/zbd.h>
#include <sys/stat.h>

#include <cerrno>

#include "i18n.h"
#include "zoned/errno_error.h"
#include "zoned/plain_device.h"
#include "zoned/zbd_device.h"

namespace luks2ext {

Result<std::unique_ptr<BlockDevice>> OpenBlockDevice(const std::string& path, bool writable) {
  struct stat st = {};
  if (::stat(path.c_str(), &st) != 0) {
    const int error_number = errno;
    if (error_number == ENOENT) {
      return Error::WrongDevice(FormatMsg(_("Device {} does not exist or access denied."), path));
    }
    return ErrnoError(error_number, _("Cannot open device"), path);
  }
  // Only a block device can be zoned; zbd_device_is_zoned reads the kernel's sysfs verdict.
  // When it cannot tell (< 0), PlainDevice still refuses a drive with a zone size.
  if (S_ISBLK(st.st_mode) && zbd_device_is_zoned(path.c_str()) > 0) {
    ASSIGN_OR_RETURN(std::unique_ptr<ZbdDevice> zoned, ZbdDevice::Open(path, writable));
    return std::unique_ptr<BlockDevice>(std::move(zoned));
  }
  ASSIGN_OR_RETURN(std::unique_ptr<PlainDevice> plain, PlainDevice::Open(path, writable));
  return std::unique_ptr<BlockDevice>(std::move(plain));
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
