// Libraries opened when a verb needs them rather than linked: libkmod (loading dm_crypt) and
// liburing (the benchmark). Linked, each would cost every zcryptsetup process, every open at
// boot among them, one more library to map and bind for work few runs do.
#pragma once

#include <dlfcn.h>

#include <string>
#include <utility>

namespace luks2ext {

// Opens `soname` and sets each function pointer to the symbol named beside it:
//   OpenLibraryFunctions("libkmod.so.2", why, std::pair{&table.new_ctx, "kmod_new"}, ...)
// On success the library stays open for the process's life. Otherwise `why` says what was
// missing, the library is closed again, and the pointers must not be used.
template <typename... Functions>
bool OpenLibraryFunctions(const char* soname, std::string& why,
                          std::pair<Functions*, const char*>... functions) {
  void* library = dlopen(soname, RTLD_NOW | RTLD_LOCAL);
  if (!library) {
    const char* error = dlerror();
    why = error ? error : std::string("dlopen ") + soname;
    return false;
  }
  const bool all =
      ((*functions.first = reinterpret_cast<Functions>(dlsym(library, functions.second))) && ...);
  if (!all) {
    why = std::string(soname) + " lacks a function zcryptsetup needs";
    dlclose(library);
    return false;
  }
  return true;
}

}  // namespace luks2ext
