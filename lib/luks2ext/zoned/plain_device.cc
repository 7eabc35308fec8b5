#include "zoned/plain_device.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <linux/blkzoned.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "base/i18n.h"
#include "base/errno_error.h"
#include "luks2ext/fd_io.h"
#include "zoned/io_range.h"

namespace luks2ext {
namespace {

// Geometry of an ordinary block device from the kernel's ioctls.
Status ReadBlockDeviceGeometry(int fd, const std::string& path, Geometry& geometry) {
  uint64_t size = 0;
  int logical_block_size = 0;
  unsigned int physical_block_size = 0;
  int read_only = 0;
  if (::ioctl(fd, BLKGETSIZE64, &size) != 0 || ::ioctl(fd, BLKSSZGET, &logical_block_size) != 0 ||
      ::ioctl(fd, BLKPBSZGET, &physical_block_size) != 0 ||
      ::ioctl(fd, BLKROGET, &read_only) != 0) {
    const int error_number = errno;  // read before _() can change it
    return ErrnoError(error_number, FormatMsg(_("Cannot read the geometry of device {}"), path),
                      path);
  }
  // A zoned drive opened here would take random writes it must refuse; it needs ZbdDevice.
  unsigned int zone_sectors = 0;
  if (::ioctl(fd, BLKGETZONESZ, &zone_sectors) == 0 && zone_sectors != 0) {
    return Error::WrongDevice(
        FormatMsg(_("Device {} is zoned and cannot be used as an ordinary disk."), path));
  }
  if (logical_block_size <= 0) {
    return Error::WrongDevice(FormatMsg(_("Device {} reports no logical block size."), path));
  }
  geometry.size = size;
  geometry.logical_block_size = static_cast<uint32_t>(logical_block_size);
  geometry.physical_block_size =
      physical_block_size != 0 ? physical_block_size : geometry.logical_block_size;
  geometry.read_only = geometry.read_only || read_only != 0;
  return Status::Ok();
}

}  // namespace

Result<std::unique_ptr<PlainDevice>> PlainDevice::Open(const std::string& path, bool writable,
                                                       int extra_flags) {
  UniqueFd fd(::open(path.c_str(), (writable ? O_RDWR : O_RDONLY) | O_CLOEXEC | extra_flags));
  if (!fd.valid()) {
    const int error_number = errno;
    if (error_number == ENOENT) {
      return Error::WrongDevice(FormatMsg(_("Device {} does not exist or access denied."), path));
    }
    return ErrnoError(error_number, FormatMsg(_("Cannot open device {}"), path), path);
  }
  struct stat st = {};
  if (::fstat(fd.get(), &st) != 0) {
    const int error_number = errno;
    return ErrnoError(error_number, FormatMsg(_("Cannot stat device {}"), path), path);
  }

  // Reads go through the page cache (an unaligned buffer is fine), but without readahead:
  // reading a header must read the header, as stock's O_DIRECT reads do, not the 128 KiB
  // around it (which an ordinary disk's own counters showed as reads beyond stock's).
  (void)::posix_fadvise(fd.get(), 0, 0, POSIX_FADV_RANDOM);

  Geometry geometry;
  geometry.model = ZoneModel::kNone;
  if (S_ISREG(st.st_mode)) {
    geometry.read_only = ::access(path.c_str(), W_OK) != 0;
    geometry.size = static_cast<uint64_t>(st.st_size);
    geometry.logical_block_size = 512;
    geometry.physical_block_size = 512;
  } else if (S_ISBLK(st.st_mode)) {
    RETURN_IF_ERROR(ReadBlockDeviceGeometry(fd.get(), path, geometry));
  } else {
    return Error::WrongDevice(
        FormatMsg(_("Device {} is neither a block device nor a regular file."), path));
  }
  return std::unique_ptr<PlainDevice>(new PlainDevice(path, std::move(fd), geometry, writable));
}

Result<std::vector<Zone>> PlainDevice::ReportZones(uint64_t /*offset*/, uint32_t /*max_zones*/) {
  return std::vector<Zone>{};
}

Status PlainDevice::CheckAlignedRange(uint64_t offset, uint64_t length) const {
  return CheckIoRange(geometry_, path_, offset, length);
}

Status PlainDevice::Read(uint64_t offset, std::span<std::uint8_t> out) {
  RETURN_IF_ERROR(CheckAlignedRange(offset, out.size()));
  const FdTransfer got = PreadFull(fd_.get(), out.data(), out.size(), offset);
  if (got.error != 0)
    return ErrnoError(got.error, FormatMsg(_("Cannot read device {}"), path_), path_);
  if (got.end) {  // the file shrank under us
    return Error::WrongDevice(FormatMsg(_("Cannot read device {}: unexpected end at offset {}."),
                                        path_, offset + got.done));
  }
  return Status::Ok();
}

Status PlainDevice::Write(uint64_t offset, std::span<const std::uint8_t> data) {
  if (!writable_ || geometry_.read_only) {
    return Error::WrongDevice(
        FormatMsg(_("Cannot write to device {}: it is open read-only."), path_));
  }
  RETURN_IF_ERROR(CheckAlignedRange(offset, data.size()));
  const FdTransfer written = PwriteFull(fd_.get(), data.data(), data.size(), offset);
  if (!written.complete())
    return ErrnoError(written.error, FormatMsg(_("Cannot write to device {}"), path_), path_);
  return Status::Ok();
}

Status PlainDevice::ResetZone(uint64_t /*zone_start*/) {
  return Error::WrongParameters(
      FormatMsg(_("Device {} is not zoned: it has no zone to reset."), path_));
}

Status PlainDevice::FinishZone(uint64_t /*zone_start*/) {
  return Error::WrongParameters(
      FormatMsg(_("Device {} is not zoned: it has no zone to finish."), path_));
}

Status PlainDevice::Flush() {
  if (::fsync(fd_.get()) != 0) {
    const int error_number = errno;
    return ErrnoError(error_number, FormatMsg(_("Cannot flush device {}"), path_), path_);
  }
  return Status::Ok();
}

}  // namespace luks2ext
