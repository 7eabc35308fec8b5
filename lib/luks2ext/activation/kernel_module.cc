#include "activation/kernel_module.h"

#include <fmt/format.h>
#include <libkmod.h>
#include <unistd.h>

#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <memory>

#include "base/dynamic_library.h"
#include "base/i18n.h"
#include "luks2ext/log.h"

namespace luks2ext {
namespace {

// libkmod is opened only when a module has to be loaded (dm_crypt, once per boot at most):
// linked at start it cost every zcryptsetup run three libraries (libkmod, liblzma, libzstd)
// and their symbol bindings, which an open must not spend beyond what stock cryptsetup does
// (base/dynamic_library.h).
// The package depends on libkmod2 by name (debian/control), as shlibdeps cannot see this.
struct Kmod {
  decltype(&kmod_new) new_ctx;
  decltype(&kmod_unref) unref;
  decltype(&kmod_set_log_fn) set_log_fn;
  decltype(&kmod_module_new_from_lookup) new_from_lookup;
  decltype(&kmod_module_unref_list) unref_list;
  decltype(&kmod_module_get_module) get_module;
  decltype(&kmod_module_unref) module_unref;
  decltype(&kmod_module_get_install_commands) get_install_commands;
  decltype(&kmod_module_probe_insert_module) probe_insert_module;
  decltype(&kmod_list_next) list_next;
  decltype(&kmod_module_new_from_name) new_from_name;
  decltype(&kmod_module_remove_module) remove_module;
};

// The library's entry points, or null with `why` set. Kept open for the process's life.
const Kmod* OpenKmod(std::string& why) {
  static Kmod kmod;
  static bool opened = false;
  if (opened) return &kmod;
  opened = OpenLibraryFunctions(
      "libkmod.so.2", why, std::pair{&kmod.new_ctx, "kmod_new"},
      std::pair{&kmod.unref, "kmod_unref"}, std::pair{&kmod.set_log_fn, "kmod_set_log_fn"},
      std::pair{&kmod.new_from_lookup, "kmod_module_new_from_lookup"},
      std::pair{&kmod.unref_list, "kmod_module_unref_list"},
      std::pair{&kmod.get_module, "kmod_module_get_module"},
      std::pair{&kmod.module_unref, "kmod_module_unref"},
      std::pair{&kmod.get_install_commands, "kmod_module_get_install_commands"},
      std::pair{&kmod.probe_insert_module, "kmod_module_probe_insert_module"},
      std::pair{&kmod.list_next, "kmod_list_next"},
      std::pair{&kmod.new_from_name, "kmod_module_new_from_name"},
      std::pair{&kmod.remove_module, "kmod_module_remove_module"});
  return opened ? &kmod : nullptr;
}

const Kmod* g_kmod = nullptr;  // set by LoadKernelModule before any handle below exists

struct KmodContextFree {
  void operator()(kmod_ctx* ctx) const { g_kmod->unref(ctx); }
};
struct KmodModuleFree {
  void operator()(kmod_module* module) const { g_kmod->module_unref(module); }
};
struct KmodListFree {
  void operator()(kmod_list* list) const { g_kmod->unref_list(list); }
};
using KmodContext = std::unique_ptr<kmod_ctx, KmodContextFree>;
using KmodModule = std::unique_ptr<kmod_module, KmodModuleFree>;
using KmodModuleList = std::unique_ptr<kmod_list, KmodListFree>;

// libkmod logs to stderr unless told otherwise; the library never prints.
void KmodLog(void* data, int priority, const char* file, int line, const char* fn,
             const char* format, va_list args) {
  (void)data, (void)priority, (void)file, (void)line, (void)fn;
  char buffer[1024];
  if (std::vsnprintf(buffer, sizeof buffer, format, args) < 0) return;
  const size_t n = std::strlen(buffer);
  if (n > 0 && buffer[n - 1] == '\n') buffer[n - 1] = '\0';
  Log(LogLevel::kDebug, fmt::format("libkmod: {}", buffer));
}

Error CannotLoad(const std::string& name, const std::string& why) {
  return Error::WrongDevice(FormatMsg(_("Cannot load kernel module {}: {}."), name, why));
}

}  // namespace

Status LoadKernelModule(const std::string& name, const std::string& options) {
  std::string why;
  g_kmod = OpenKmod(why);
  if (!g_kmod) return CannotLoad(name, why);
  const Kmod& kmod = *g_kmod;
  // The running kernel's /lib/modules/<release> and the system's modprobe.d.
  KmodContext ctx(kmod.new_ctx(nullptr, nullptr));
  if (!ctx) return CannotLoad(name, _("libkmod cannot start"));
  kmod.set_log_fn(ctx.get(), KmodLog, nullptr);

  kmod_list* found = nullptr;
  const int r = kmod.new_from_lookup(ctx.get(), name.c_str(), &found);
  KmodModuleList modules(found);
  if (r < 0) return CannotLoad(name, std::strerror(-r));
  if (!modules) return CannotLoad(name, _("no such module for this kernel"));

  for (kmod_list* entry = modules.get(); entry; entry = kmod.list_next(modules.get(), entry)) {
    KmodModule module(kmod.get_module(entry));
    if (kmod.get_install_commands(module.get()))
      return CannotLoad(name, _("modprobe.d gives it an install command, which zcryptsetup "
                                "does not run; load it with modprobe first"));
    // KMOD_PROBE_IGNORE_COMMAND: the dependencies' install commands are not run either, since
    // running them means spawning a shell.
    const int err = kmod.probe_insert_module(module.get(), KMOD_PROBE_IGNORE_COMMAND,
                                             options.empty() ? nullptr : options.c_str(), nullptr,
                                             nullptr, nullptr);
    if (err < 0) return CannotLoad(name, std::strerror(-err));
  }
  return Status::Ok();
}

bool KernelModuleLoaded(const std::string& name) {
  return access(fmt::format("/sys/module/{}", name).c_str(), F_OK) == 0;
}

Status UnloadKernelModule(const std::string& name) {
  std::string why;
  g_kmod = OpenKmod(why);
  if (!g_kmod)
    return Error::Busy(FormatMsg(_("Cannot unload kernel module {}: {}."), name, why));
  const Kmod& kmod = *g_kmod;
  KmodContext ctx(kmod.new_ctx(nullptr, nullptr));
  if (!ctx) return Error::Busy(FormatMsg(_("Cannot unload kernel module {}."), name));
  kmod.set_log_fn(ctx.get(), KmodLog, nullptr);
  kmod_module* raw = nullptr;
  if (kmod.new_from_name(ctx.get(), name.c_str(), &raw) < 0)
    return Error::Busy(FormatMsg(_("Cannot unload kernel module {}."), name));
  KmodModule module(raw);
  const int r = kmod.remove_module(module.get(), 0);
  if (r < 0)
    return Error::Busy(
        FormatMsg(_("Cannot unload kernel module {}: {}."), name, std::strerror(-r)));
  return Status::Ok();
}

}  // namespace luks2ext
