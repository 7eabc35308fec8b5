// The range check every backend makes before I/O, as O_DIRECT on a block device demands:
// aligned to the logical block size and inside the device.
#pragma once

#include <cstdint>
#include <string>

#include "base/i18n.h"
#include "luks2ext/block_device.h"

namespace luks2ext {

inline Status CheckIoRange(const Geometry& geometry, const std::string& path, uint64_t offset,
                           uint64_t length) {
  const uint32_t lbs = geometry.logical_block_size;
  if (offset % lbs != 0 || length % lbs != 0)
    return Error::WrongParameters(
        FormatMsg(_("I/O at offset {} of {} bytes is not aligned to the logical block size {}."),
                  offset, length, lbs));
  if (length > geometry.size || offset > geometry.size - length)
    return Error::WrongParameters(FormatMsg(
        _("I/O at offset {} of {} bytes goes past the end of device {}."), offset, length, path));
  return Status::Ok();
}

}  // namespace luks2ext
