// Loading a kernel module through libkmod, in this process: what `modprobe NAME` does, without
// looking a program up in $PATH or spawning one.
#pragma once

#include <string>

#include "luks2ext/error.h"

namespace luks2ext {

// Loads `name` and the modules it depends on; nothing to do when it is loaded or built in.
// A module that modprobe.d gives an "install" command (a shell command modprobe would run) is
// refused rather than loaded behind the administrator's back: Error::WrongDevice.
// `options` ("rd_nr=1 rd_size=262144") are given to `name` itself, not to its dependencies.
Status LoadKernelModule(const std::string& name, const std::string& options = "");

// Whether `name` is loaded (/sys/module/<name>; a built-in module with parameters shows too).
bool KernelModuleLoaded(const std::string& name);
// Removes `name` (rmmod); a module in use is Error::Busy.
Status UnloadKernelModule(const std::string& name);

}  // namespace luks2ext
