// Maps an errno from a device system call to the library's Error (and so to cryptsetup's exit
// codes): EACCES/EPERM/EROFS -> NoPermission, EBUSY -> Busy, ENOMEM -> OutOfMemory, anything
// else -> WrongDevice. The message names the device and carries strerror.
#pragma once

#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "base/i18n.h"
#include "luks2ext/error.h"

namespace luks2ext {

// `action` is already translated, e.g. _("Cannot open device").
inline Error ErrnoError(int error_number, const std::string& action,
                        const std::string& device_path) {
  std::string message = FormatMsg(_("{} {}: {}"), action, device_path, std::strerror(error_number));
  switch (error_number) {
    case EACCES:
    case EPERM:
    case EROFS:
      return Error::NoPermission(std::move(message));
    case EBUSY:
      // What the kernel says to an O_EXCL open of a mounted or mapped device; cryptsetup's words.
      return Error::Busy(FormatMsg(
          _("Cannot use device {} which is in use (already mapped or mounted)."), device_path));
    case ENOMEM:
      return Error::OutOfMemory(std::move(message));
    default:
      return Error::WrongDevice(std::move(message));
  }
}

}  // namespace luks2ext
