// The library never prints. Diagnostics (libcryptsetup's and its own) go to one sink the
// program installs; without one they are dropped.
#pragma once

#include <functional>
#include <string_view>

namespace luks2ext {

enum class LogLevel { kDebug, kVerbose, kNormal, kError };

using LogSink = std::function<void(LogLevel, std::string_view)>;

// Installs the sink and, when `debug` is set, turns on libcryptsetup's debug messages.
void SetLogSink(LogSink sink, bool debug);
void Log(LogLevel level, std::string_view message);

}  // namespace luks2ext
