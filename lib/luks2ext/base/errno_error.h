// Maps an errno from a device system call to the library's Error (and so to cryptsetup's exit
// codes): EACCES/EPERM/EROFS -> NoPermission, EBUSY -> Busy, ENOMEM -> OutOfMemory, anything
// else -> WrongDevice. The message is the caller's sentence followed by strerror.
#pragma once

#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "base/i18n.h"
#include "luks2ext/error.h"

namespace luks2ext {

// `sentence` is one whole translated sentence that names the device, e.g.
// FormatMsg(_("Cannot open device {}"), path): a translator must see the sentence whole, never
// a fragment glued to a path. The system's own words for `error_number` follow after ": ", a
// join that needs no translation. EBUSY gets cryptsetup's message instead, which names
// `device_path`.
inline Error ErrnoError(int error_number, const std::string& sentence,
                        const std::string& device_path) {
  std::string message = fmt::format("{}: {}", sentence, std::strerror(error_number));
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
