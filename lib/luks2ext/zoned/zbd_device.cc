#include "zoned/zbd_device.h"

#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <fmt/format.h>
#include <libzbd/zbd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "base/i18n.h"
#include "base/errno_error.h"
#include "luks2ext/fd_io.h"
#include "zoned/io_range.h"

namespace luks2ext {
namespace {

// libzbd reports failures as -1 with errno, or as a negative errno, depending on the call and
// the version; errno 0 with a failure means "not a zoned device" in zbd_open.
int LibzbdErrno(int ret) {
  if (errno != 0) return errno;
  if (ret < -1) return -ret;
  return ENXIO;
}

ZoneType ToZoneType(unsigned int type) {
  switch (type) {
    case ZBD_ZONE_TYPE_SWR:
      return ZoneType::kSequentialRequired;
    case ZBD_ZONE_TYPE_SWP:
      return ZoneType::kSequentialPreferred;
    default:
      return ZoneType::kConventional;
  }
}

ZoneCondition ToZoneCondition(unsigned int cond) {
  switch (cond) {
    case ZBD_ZONE_COND_EMPTY:
      return ZoneCondition::kEmpty;
    case ZBD_ZONE_COND_IMP_OPEN:
      return ZoneCondition::kImplicitOpen;
    case ZBD_ZONE_COND_EXP_OPEN:
      return ZoneCondition::kExplicitOpen;
    case ZBD_ZONE_COND_CLOSED:
      return ZoneCondition::kClosed;
    case ZBD_ZONE_COND_FULL:
      return ZoneCondition::kFull;
    case ZBD_ZONE_COND_READONLY:
      return ZoneCondition::kReadOnly;
    case ZBD_ZONE_COND_OFFLINE:
      return ZoneCondition::kOffline;
    default:
      return ZoneCondition::kNotWritePointer;
  }
}

// sysfs exports "unknown" limits as 0 already; older libzbd may still pass -1 through.
uint32_t ZoneLimit(unsigned int value) { return value == 0xFFFFFFFFu ? 0 : value; }

}  // namespace

ZbdDevice::ZbdFd::~ZbdFd() {
  if (fd_ >= 0) zbd_close(fd_);
}

ZbdDevice::ZbdDevice(std::string path, ZbdFd fd, Geometry geometry, BounceBuffer bounce,
                     bool writable)
    : path_(std::move(path)),
      fd_(std::move(fd)),
      geometry_(geometry),
      bounce_(std::move(bounce)),
      writable_(writable) {}

Result<std::unique_ptr<ZbdDevice>> ZbdDevice::Open(const std::string& path, bool writable,
                                                   int extra_flags) {
  zbd_set_log_level(ZBD_LOG_NONE);  // the library never prints
  struct zbd_info info = {};
  errno = 0;
  ZbdFd fd(zbd_open(path.c_str(),
                    (writable ? O_RDWR : O_RDONLY) | O_DIRECT | O_CLOEXEC | extra_flags, &info));
  if (fd.get() < 0) {
    const int error_number = LibzbdErrno(fd.get());
    if (error_number == ENOENT) {
      return Error::WrongDevice(FormatMsg(_("Device {} does not exist or access denied."), path));
    }
    if (error_number == ENXIO) {
      return Error::WrongDevice(FormatMsg(_("Device {} is not a zoned block device."), path));
    }
    return ErrnoError(error_number, FormatMsg(_("Cannot open device {}"), path), path);
  }

  Geometry geometry;
  geometry.model =
      info.model == ZBD_DM_HOST_AWARE ? ZoneModel::kHostAware : ZoneModel::kHostManaged;
  geometry.size = info.nr_sectors * 512ULL;
  geometry.logical_block_size = info.lblock_size;
  geometry.physical_block_size = info.pblock_size;
  geometry.zone_size = info.zone_size;
  geometry.nr_zones = info.nr_zones;
  geometry.max_open_zones = ZoneLimit(info.max_nr_open_zones);
  geometry.max_active_zones = ZoneLimit(info.max_nr_active_zones);
  int device_read_only = 0;
  geometry.read_only = ::ioctl(fd.get(), BLKROGET, &device_read_only) == 0 && device_read_only != 0;
  if (geometry.logical_block_size == 0 || geometry.zone_size == 0 ||
      kBounceSize % geometry.logical_block_size != 0) {
    return Error::WrongDevice(
        FormatMsg(_("Device {} reports an unusable zone or block geometry."), path));
  }

  // O_DIRECT wants the buffer aligned to the logical block size; a page satisfies every device.
  const size_t alignment =
      std::max<size_t>(geometry.logical_block_size, static_cast<size_t>(::sysconf(_SC_PAGESIZE)));
  void* memory = nullptr;
  if (::posix_memalign(&memory, alignment, kBounceSize) != 0)
    return Error::OutOfMemory(_("Cannot allocate an I/O buffer."));
  BounceBuffer bounce(static_cast<std::uint8_t*>(memory));
  return std::unique_ptr<ZbdDevice>(
      new ZbdDevice(path, std::move(fd), geometry, std::move(bounce), writable));
}

Result<std::vector<Zone>> ZbdDevice::ReportZones(uint64_t offset, uint32_t max_zones) {
  if (offset >= geometry_.size) {
    return Error::WrongParameters(
        FormatMsg(_("Zone report offset {} is past the device end."), offset));
  }
  const uint64_t first = offset / geometry_.zone_size;
  const uint64_t available = geometry_.nr_zones > first ? geometry_.nr_zones - first : 1;
  const unsigned int count = static_cast<unsigned int>(std::min<uint64_t>(max_zones, available));
  if (count == 0) return std::vector<Zone>{};

  // Ask the kernel for exactly these zones: the cost does not depend on the drive size.
  std::vector<struct zbd_zone> reported(count);
  unsigned int nr_reported = count;
  errno = 0;
  const int ret = zbd_report_zones(fd_.get(), static_cast<off_t>(first * geometry_.zone_size),
                                   static_cast<off_t>(count * geometry_.zone_size), ZBD_RO_ALL,
                                   reported.data(), &nr_reported);
  if (ret != 0) {
    const int error_number = LibzbdErrno(ret);
    return ErrnoError(error_number, FormatMsg(_("Cannot report the zones of device {}"), path_),
                      path_);
  }

  std::vector<Zone> zones;
  zones.reserve(nr_reported);
  for (unsigned int i = 0; i < nr_reported && i < count; ++i) {
    const struct zbd_zone& z = reported[i];
    Zone zone;
    zone.start = z.start;
    zone.length = z.len;
    zone.capacity = z.capacity;
    zone.write_pointer = z.wp;
    zone.type = ToZoneType(z.type);
    zone.condition = ToZoneCondition(z.cond);
    zones.push_back(zone);
  }
  RETURN_IF_ERROR(CheckZoneReport(geometry_, first * geometry_.zone_size, zones));
  return zones;
}

Status ZbdDevice::CheckAlignedRange(uint64_t offset, uint64_t length) const {
  return CheckIoRange(geometry_, path_, offset, length);
}

Status ZbdDevice::ReadChunk(uint64_t offset, std::span<std::uint8_t> into) {
  const FdTransfer got = PreadFull(fd_.get(), into.data(), into.size(), offset);
  if (got.error != 0) {
    return ErrnoError(
        got.error,
        FormatMsg(_("Cannot read at offset {} from device {}"), offset + got.done, path_), path_);
  }
  if (got.end) {
    return Error::WrongDevice(FormatMsg(_("Cannot read device {}: unexpected end at offset {}."),
                                        path_, offset + got.done));
  }
  return Status::Ok();
}

Status ZbdDevice::WriteChunk(uint64_t offset, size_t length) {
  const FdTransfer written = PwriteFull(fd_.get(), bounce_.get(), length, offset);
  if (!written.complete()) {
    return ErrnoError(
        written.error,
        FormatMsg(_("Cannot write at offset {} to device {}"), offset + written.done, path_),
        path_);
  }
  return Status::Ok();
}

Status ZbdDevice::Read(uint64_t offset, std::span<std::uint8_t> out) {
  RETURN_IF_ERROR(CheckAlignedRange(offset, out.size()));
  // A destination aligned as O_DIRECT wants (a mapped page, say) is read into directly.
  if (reinterpret_cast<std::uintptr_t>(out.data()) % geometry_.logical_block_size == 0)
    return ReadChunk(offset, out);
  for (size_t done = 0; done < out.size();) {
    const size_t n = std::min(out.size() - done, kBounceSize);
    RETURN_IF_ERROR(ReadChunk(offset + done, {bounce_.get(), n}));
    std::memcpy(out.data() + done, bounce_.get(), n);
    done += n;
  }
  return Status::Ok();
}

Status ZbdDevice::Write(uint64_t offset, std::span<const std::uint8_t> data) {
  if (!writable_ || geometry_.read_only) {
    return Error::WrongDevice(
        FormatMsg(_("Cannot write to device {}: it is open read-only."), path_));
  }
  RETURN_IF_ERROR(CheckAlignedRange(offset, data.size()));
  // Chunks go out one after the other, each at the write pointer the previous one left.
  for (size_t done = 0; done < data.size();) {
    const size_t n = std::min(data.size() - done, kBounceSize);
    std::memcpy(bounce_.get(), data.data() + done, n);
    RETURN_IF_ERROR(WriteChunk(offset + done, n));
    done += n;
  }
  return Status::Ok();
}

Result<Zone> ZbdDevice::ZoneForManagement(uint64_t zone_start) {
  if (zone_start >= geometry_.size || zone_start % geometry_.zone_size != 0) {
    return Error::WrongParameters(
        FormatMsg(_("Offset {} is not the start of a zone."), zone_start));
  }
  ASSIGN_OR_RETURN(std::vector<Zone> zones, ReportZones(zone_start, 1));
  if (zones.empty() || zones.front().start != zone_start) {
    return Error::WrongDevice(
        FormatMsg(_("Device {} reports no zone at offset {}."), path_, zone_start));
  }
  if (!zones.front().is_sequential()) {
    return Error::WrongParameters(FormatMsg(
        _("The zone at offset {} is conventional: it cannot be reset or finished."), zone_start));
  }
  if (!writable_ || geometry_.read_only) {
    return Error::WrongDevice(_("Cannot reset or finish a zone of a read-only device."));
  }
  return zones.front();
}

Status ZbdDevice::ResetZone(uint64_t zone_start) {
  ASSIGN_OR_RETURN(Zone zone, ZoneForManagement(zone_start));
  errno = 0;
  const int ret =
      zbd_reset_zones(fd_.get(), static_cast<off_t>(zone.start), static_cast<off_t>(zone.length));
  if (ret != 0) {
    const int error_number = LibzbdErrno(ret);
    return ErrnoError(
        error_number,
        FormatMsg(_("Cannot reset the zone at offset {} of device {}"), zone.start, path_), path_);
  }
  return Status::Ok();
}

Status ZbdDevice::FinishZone(uint64_t zone_start) {
  ASSIGN_OR_RETURN(Zone zone, ZoneForManagement(zone_start));
  errno = 0;
  const int ret =
      zbd_finish_zones(fd_.get(), static_cast<off_t>(zone.start), static_cast<off_t>(zone.length));
  if (ret != 0) {
    const int error_number = LibzbdErrno(ret);
    return ErrnoError(
        error_number,
        FormatMsg(_("Cannot finish the zone at offset {} of device {}"), zone.start, path_), path_);
  }
  return Status::Ok();
}

Status ZbdDevice::Flush() {
  if (::fsync(fd_.get()) != 0) {
    const int error_number = errno;
    return ErrnoError(error_number, FormatMsg(_("Cannot flush device {}"), path_), path_);
  }
  return Status::Ok();
}

}  // namespace luks2ext
