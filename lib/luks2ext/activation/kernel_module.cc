#include "activation/kernel_module.h"

#include <fmt/format.h>
#include <libkmod.h>

#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <memory>

#include <unistd.h>

#include "base/i18n.h"
#include "luks2ext/log.h"

namespace luks2ext {
namespace {

struct KmodContextFree {
  void operator()(kmod_ctx* ctx) const { kmod_unref(ctx); }
};
struct KmodModuleFree {
  void operator()(kmod_module* module) const { kmod_module_unref(module); }
};
struct KmodListFree {
  void operator()(kmod_list* list) const { kmod_module_unref_list(list); }
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
  // The running kernel's /lib/modules/<release> and the system's modprobe.d.
  KmodContext ctx(kmod_new(nullptr, nullptr));
  if (!ctx) return CannotLoad(name, _("libkmod cannot start"));
  kmod_set_log_fn(ctx.get(), KmodLog, nullptr);

  kmod_list* found = nullptr;
  const int r = kmod_module_new_from_lookup(ctx.get(), name.c_str(), &found);
  KmodModuleList modules(found);
  if (r < 0) return CannotLoad(name, std::strerror(-r));
  if (!modules) return CannotLoad(name, _("no such module for this kernel"));

  kmod_list* entry = nullptr;
  kmod_list_foreach(entry, modules.get()) {
    KmodModule module(kmod_module_get_module(entry));
    if (kmod_module_get_install_commands(module.get()))
      return CannotLoad(name, _("modprobe.d gives it an install command, which zcryptsetup "
                                "does not run; load it with modprobe first"));
    // KMOD_PROBE_IGNORE_COMMAND: the dependencies' install commands are not run either, since
    // running them means spawning a shell.
    const int err = kmod_module_probe_insert_module(
        module.get(), KMOD_PROBE_IGNORE_COMMAND, options.empty() ? nullptr : options.c_str(),
        nullptr, nullptr, nullptr);
    if (err < 0) return CannotLoad(name, std::strerror(-err));
  }
  return Status::Ok();
}

bool KernelModuleLoaded(const std::string& name) {
  return access(fmt::format("/sys/module/{}", name).c_str(), F_OK) == 0;
}

Status UnloadKernelModule(const std::string& name) {
  KmodContext ctx(kmod_new(nullptr, nullptr));
  if (!ctx) return Error::Busy(FormatMsg(_("Cannot unload kernel module {}."), name));
  kmod_set_log_fn(ctx.get(), KmodLog, nullptr);
  kmod_module* raw = nullptr;
  if (kmod_module_new_from_name(ctx.get(), name.c_str(), &raw) < 0)
    return Error::Busy(FormatMsg(_("Cannot unload kernel module {}."), name));
  KmodModule module(raw);
  const int r = kmod_module_remove_module(module.get(), 0);
  if (r < 0)
    return Error::Busy(
        FormatMsg(_("Cannot unload kernel module {}: {}."), name, std::strerror(-r)));
  return Status::Ok();
}

}  // namespace luks2ext
