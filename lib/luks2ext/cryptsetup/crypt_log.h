// Routing of libcryptsetup's log messages into the library's log sink (log.h).
#pragma once

#include <string>

struct crypt_device;

namespace luks2ext {

// Routes libcryptsetup's global messages to the sink at the debug level SetLogSink asked for.
// Called before every crypt_init, so that the context's own first messages arrive too.
void RouteCryptLog();
void InstallCryptLogCallback(crypt_device* cd);
// The last error libcryptsetup logged on this thread (and forgets it), to explain a failure.
std::string TakeLastCryptError();

}  // namespace luks2ext
