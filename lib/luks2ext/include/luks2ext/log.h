// The library never prints. Diagnostics (libcryptsetup's and its own) go to one sink the
// program installs; without one they are dropped.
#pragma once

#include <functional>
#include <string_view>

namespace luks2ext {

enum class LogLevel { kDebug, kVerbose, kNormal, kError };

using LogSink = std::function<void(LogLevel, std::string_view)>;

// Installs the sink and, when `debug` is set, asks for debug messages (libcryptsetup's among
// them, from the next libcryptsetup context on).
void SetLogSink(LogSink sink, bool debug);
bool DebugLogging();
void Log(LogLevel level, std::string_view message);

}  // namespace luks2ext
