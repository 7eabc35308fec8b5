// open, close, status: activation and the state of active mappings.
#include <fstream>
#include <iostream>

#include "actions.h"
#include "i18n.h"
#include "luks2ext/activation.h"
#include "luks2ext/volume.h"

namespace zcryptsetup {

using luks2ext::Error;
using luks2ext::ExitCode;
using luks2ext::Status;

namespace {

// dm reports the backing device as "major:minor"; show its /dev name as cryptsetup does.
std::string DeviceName(const std::string& major_minor) {
  std::ifstream uevent("/sys/dev/block/" + major_minor + "/uevent");
  std::string line;
  while (std::getline(uevent, line))
    if (line.rfind("DEVNAME=", 0) == 0) return "/dev/" + line.substr(8);
  return major_minor;
}

std::string Join(const std::vector<std::string>& words) {
  std::string text;
  for (const auto& word : words) text += (text.empty() ? "" : " ") + word;
  return text;
}

}  // namespace

Status ActionOpen(const Invocation& call) {
  const Options& o = call.options;
  const std::string& path = call.args[0];
  luks2ext::ActivationRequest request;
  if (call.args.size() > 1) request.name = call.args[1];
  if (request.name.empty() && !o.test_passphrase)
    return Error::WrongParameters(_("Usage: zcryptsetup open <device> <name>"));
  if (o.test_passphrase) request.name.clear();
  if (o.persistent && o.test_passphrase)
    return Error::WrongParameters(_("Option --persistent is not allowed with --test-passphrase."));
  request.read_only = o.readonly;
  request.allow_discards = o.allow_discards;
  request.keyslot = o.key_slot;
  if (o.perf_force_inline == "off")
    return Error::WrongParameters(
        _("--perf-force_inline=off applies to config only (open without it, or clear the "
          "persisted flag with config)."));
  if (o.perf_force_inline == "flags") request.inline_mode = luks2ext::InlineMode::kWorkqueueFlags;
  if (o.perf_force_inline == "native") request.inline_mode = luks2ext::InlineMode::kNative;
  if (o.persistent && !o.perf_force_inline.empty() && !request.inline_mode)
    return Error::WrongParameters(_("Nothing to make persistent."));

  // Only --persistent writes metadata; otherwise the drive is opened read-only.
  ASSIGN_OR_RETURN(auto device, luks2ext::OpenBlockDevice(path, o.persistent));
  ASSIGN_OR_RETURN(auto volume, luks2ext::Volume::Open(*device, luks2ext::Volume::ReadScope::kForOpen));
  PrintWarnings(*volume);
  if (o.persistent && request.inline_mode == luks2ext::InlineMode::kNative)
    return Error::WrongParameters(
        _("=native cannot be made persistent: stock tools would not understand it."));

  // Retry a wrong passphrase typed on a terminal, as cryptsetup does (--tries).
  const bool can_retry = o.key_file.empty() && InteractiveInput();
  const int attempts = can_retry ? o.tries : 1;
  for (int attempt = 1;; ++attempt) {
    ASSIGN_OR_RETURN(const luks2ext::Secret passphrase,
                     ReadPassphrase(call.passphrase_source(),
                                    FormatMsg(_("Enter passphrase for {}: "), path), false));
    Status status = volume->Activate(request, passphrase,
                                     o.persistent ? luks2ext::Volume::FlagStorage::kPersistent
                                                  : luks2ext::Volume::FlagStorage::kThisActivationOnly);
    if (status.ok() || status.error().code() != ExitCode::kNoPermission || attempt >= attempts)
      return status;
    std::cerr << status.error().message() << '\n';
  }
}

Status ActionClose(const Invocation& call) { return luks2ext::Deactivate(call.args[0]); }

Status ActionStatus(const Invocation& call) {
  const std::string& name = call.args[0];
  auto mapping = luks2ext::QueryMapping(name);
  if (!mapping.ok()) {
    // A mapping that exists but is not one we can read (another target, a table the parser
    // refuses) is not "inactive": only its error is shown.
    if (mapping.error().code() == ExitCode::kWrongDevice && !luks2ext::MappingExists(name))
      std::cout << FormatMsg(_("/dev/mapper/{} is inactive."), name) << '\n';
    return mapping.error();
  }
  const luks2ext::ActiveMapping& m = *mapping;
  std::cout << FormatMsg(_("/dev/mapper/{} is active."), name) << '\n';
  std::cout << "  type:    " << (m.type.empty() ? "n/a" : m.type) << '\n';
  std::cout << "  cipher:  " << m.cipher << '\n';
  std::cout << "  keysize: " << m.key_bits << " bits\n";
  // cryptsetup's wording: where dm-crypt got the key from.
  std::cout << "  key location: " << (m.key_in_keyring ? "keyring" : "dm-crypt") << '\n';
  std::cout << "  device:  " << DeviceName(m.device) << '\n';
  std::cout << "  sector size:  " << m.sector_size << '\n';
  std::cout << "  offset:  " << m.offset_sectors << " sectors\n";
  std::cout << "  size:    " << m.size_sectors << " sectors\n";
  std::cout << "  mode:    " << (m.read_only ? "readonly" : "read/write") << '\n';
  std::vector<std::string> flags;
  for (const std::string& arg : m.feature_args)
    if (arg.rfind("sector_size:", 0) != 0) flags.push_back(arg);
  if (!flags.empty()) std::cout << "  flags:   " << Join(flags) << '\n';
  std::vector<std::string> inline_args;
  for (const char* arg : {"force_inline", "no_read_workqueue", "no_write_workqueue"})
    if (m.HasFeature(arg)) inline_args.emplace_back(arg);
  std::cout << "  inline:  "
            << (m.RunsInline() ? FormatMsg(_("yes ({})"), Join(inline_args))
                               : inline_args.empty() ? std::string(_("no"))
                                                     : FormatMsg(_("partly ({})"), Join(inline_args)))
            << '\n';
  return Status::Ok();
}

}  // namespace zcryptsetup
