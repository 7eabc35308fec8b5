// Translation markers for library messages. The library translates with its own text domain,
// as libcryptsetup does, so messages reach the CLI ready to print.
#pragma once

#include <fmt/format.h>
#include <libintl.h>

#include <string>
#include <string_view>

#ifndef _
#define _(msgid) dgettext("zcryptsetup", msgid)
#endif
#ifndef N_
#define N_(msgid) msgid
#endif

namespace luks2ext {

// fmt::format for a translated format string: translations are only known at run time, so
// fmt's compile-time check cannot apply. Use as FormatMsg(_("Device {} is busy."), path).
template <typename... Args>
std::string FormatMsg(std::string_view translated, const Args&... args) {
  return fmt::vformat(translated, fmt::make_format_args(args...));
}

}  // namespace luks2ext
