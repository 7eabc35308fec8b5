#include "luks2ext/log.h"

#include <string_view>
#include <utility>

namespace luks2ext {
namespace {

struct LogSettings {
  LogSink sink;
  bool debug = false;
};

LogSettings& Settings() {
  static LogSettings settings;
  return settings;
}

}  // namespace

void SetLogSink(LogSink sink, bool debug) {
  Settings().sink = std::move(sink);
  Settings().debug = debug;
}

bool DebugLogging() { return Settings().debug; }

void Log(LogLevel level, std::string_view message) {
  if (Settings().sink) Settings().sink(level, message);
}

}  // namespace luks2ext
