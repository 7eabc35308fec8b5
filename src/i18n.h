// Translation for the CLI's own messages (same text domain as the library).
#pragma once

#include <fmt/format.h>
#include <libintl.h>

#include <string>
#include <string_view>

#define _(msgid) dgettext("zcryptsetup", msgid)
#define N_(msgid) msgid

namespace zcryptsetup {

// fmt::format for translated (run-time) format strings.
template <typename... Args>
std::string FormatMsg(std::string_view translated, const Args&... args) {
  return fmt::vformat(translated, fmt::make_format_args(args...));
}

}  // namespace zcryptsetup
