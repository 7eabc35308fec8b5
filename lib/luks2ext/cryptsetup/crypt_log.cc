#include "cryptsetup/crypt_log.h"

#include <libcryptsetup.h>

#include <string>
#include <string_view>

#include "luks2ext/log.h"

namespace luks2ext {
namespace {

// libcryptsetup's messages end in a newline; ours do not.
std::string_view Chomp(std::string_view text) {
  while (!text.empty() && text.back() == '\n') text.remove_suffix(1);
  return text;
}

thread_local std::string last_crypt_error;

void CryptLogCallback(int level, const char* message, void* /*usrptr*/) {
  if (message == nullptr) return;
  const std::string_view text = Chomp(message);
  switch (level) {
    case CRYPT_LOG_ERROR:
      last_crypt_error = text;
      Log(LogLevel::kError, text);
      break;
    case CRYPT_LOG_DEBUG:
    case CRYPT_LOG_DEBUG_JSON:
      Log(LogLevel::kDebug, text);
      break;
    case CRYPT_LOG_VERBOSE:
      Log(LogLevel::kVerbose, text);
      break;
    default:
      Log(LogLevel::kNormal, text);
  }
}

}  // namespace

void RouteCryptLog() {
  // The program may change its sink or debug setting between contexts (tests do): apply the
  // current one each time rather than once.
  crypt_set_log_callback(nullptr, CryptLogCallback, nullptr);
  crypt_set_debug_level(DebugLogging() ? CRYPT_DEBUG_ALL : CRYPT_DEBUG_NONE);
}

void InstallCryptLogCallback(crypt_device* cd) {
  crypt_set_log_callback(cd, CryptLogCallback, nullptr);
}

std::string TakeLastCryptError() {
  std::string message;
  message.swap(last_crypt_error);
  return message;
}

}  // namespace luks2ext
