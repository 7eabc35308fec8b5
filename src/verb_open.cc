// open, close, status: activation and the state of active mappings.
#include <fmt/core.h>

#include <algorithm>
#include <cstdio>
#include <memory>
#include <optional>
#include <string_view>

#include "actions.h"
#include "i18n.h"
#include "luks2ext/activation.h"
#include "luks2ext/fd_io.h"
#include "luks2ext/volume.h"

namespace zcryptsetup {

using luks2ext::Error;
using luks2ext::ExitCode;
using luks2ext::Status;

namespace {

// dm reports the backing device as "major:minor"; show its /dev name as cryptsetup does.
std::string DeviceName(const std::string& major_minor) {
  const std::string path = "/sys/dev/block/" + major_minor + "/uevent";
  // The text outlives the view into it (value_or returns a temporary).
  const std::string uevent = luks2ext::ReadKernelText(path.c_str()).value_or("");
  if (const auto name = luks2ext::KernelTextField(uevent, "DEVNAME="))
    return "/dev/" + std::string(*name);
  return major_minor;
}

// A loop device's backing file, as cryptsetup status shows it ("" for any other device).
std::string LoopBackingFile(const std::string& device) {
  if (device.rfind("/dev/loop", 0) != 0) return "";
  const std::string path = "/sys/block/" + device.substr(5) + "/loop/backing_file";
  std::string text = luks2ext::ReadKernelText(path.c_str()).value_or("");
  while (!text.empty() && text.back() == '\n') text.pop_back();
  return text;
}

std::string Join(const std::vector<std::string>& words) {
  std::string text;
  for (const auto& word : words) text += (text.empty() ? "" : " ") + word;
  return text;
}

// The token stage of open: any token, or the one --token-id / --token-type names. A token that
// needs a PIN gets one asked for (up to --tries on a terminal) only when tokens were asked for
// explicitly, as cryptsetup does; otherwise the passphrase follows. Why no token unlocked is
// shown then, or with -v before the passphrase is asked. Returns the final status, or nullopt
// when the passphrase is to be asked next.
std::optional<Status> OpenByToken(const Options& o, luks2ext::Volume& volume,
                                  const luks2ext::ActivationRequest& request, bool tokens_asked,
                                  luks2ext::Volume::FlagStorage storage) {
  luks2ext::TokenRequest token{o.token_id, o.token_type, nullptr};
  luks2ext::TokenFailure why = luks2ext::TokenFailure::kNone;
  Status status = volume.ActivateByToken(request, token, &why, storage);
  if (!status.ok() && why == luks2ext::TokenFailure::kPinRequired && tokens_asked) {
    const std::string prompt = o.token_id >= 0 ? FormatMsg(_("Enter token {} PIN: "), o.token_id)
                                               : std::string(_("Enter token PIN: "));
    const int attempts = InteractiveInput() ? o.tries : 1;
    for (int attempt = 1; why == luks2ext::TokenFailure::kPinRequired && attempt <= attempts;
         ++attempt) {
      if (attempt > 1) fmt::print(stderr, "{}\n", status.error().message());
      auto pin = ReadPassphrase({}, prompt, false);
      if (!pin.ok()) return Status(pin.error());
      token.pin = &*pin;
      status = volume.ActivateByToken(request, token, &why, storage);
      token.pin = nullptr;
    }
  }
  // Unlocked, --token-only, or a failure no passphrase would change (a busy name, a kernel
  // refusing the flags): that is the answer.
  if (status.ok() || o.token_only || why == luks2ext::TokenFailure::kNone) return status;
  if (tokens_asked)
    fmt::print(stderr, "{}\n", status.error().message());
  else
    PrintVerbose(o, status.error().message());
  return std::nullopt;
}

// The mapping's flags from the command line, as open and refresh take them.
Status SetMappingFlags(const Options& o, luks2ext::ActivationRequest& request) {
  request.allow_discards = o.allow_discards;
  request.keyslot = o.key_slot;
  request.same_cpu_crypt = o.perf_same_cpu_crypt;
  request.submit_from_crypt_cpus = o.perf_submit_from_crypt_cpus;
  request.no_read_workqueue = o.perf_no_read_workqueue;
  request.no_write_workqueue = o.perf_no_write_workqueue;
  request.disable_keyring = o.disable_keyring;
  if (o.perf_high_priority)
    return Error::WrongParameters(
        _("--perf-high_priority is not available: this build's libcryptsetup (2.6) cannot pass "
          "it, and dm-crypt takes high_priority only from Linux 6.10 (dm-crypt 1.26). Nothing "
          "was activated."));
  if (o.perf_force_inline == "off")
    return Error::WrongParameters(
        _("--perf-force_inline=off applies to config only (open without it, or clear the "
          "persisted flag with config)."));
  if (o.perf_force_inline == "flags") request.inline_mode = luks2ext::InlineMode::kWorkqueueFlags;
  if (o.perf_force_inline == "native") request.inline_mode = luks2ext::InlineMode::kNative;
  if (o.persistent && request.inline_mode == luks2ext::InlineMode::kNative)
    return Error::WrongParameters(
        _("=native cannot be made persistent: stock tools would not understand it."));
  return Status::Ok();
}

// Unlocks `volume` by token, then by passphrase, and maps (or refreshes) it as `request` says:
// what open and refresh share once the volume is read.
Status UnlockAndMap(const Invocation& call, const std::string& path, luks2ext::Volume& volume,
                    const luks2ext::ActivationRequest& request) {
  const Options& o = call.options;
  PrintWarnings(volume);
  const auto storage = o.persistent ? luks2ext::Volume::FlagStorage::kPersistent
                                    : luks2ext::Volume::FlagStorage::kThisActivationOnly;
  // Tokens first, as cryptsetup 2.6.1 does (a key file too waits for them).
  if (o.disable_external_tokens) luks2ext::DisableExternalTokens();
  const bool tokens_asked = o.token_only || o.token_id >= 0 || !o.token_type.empty();
  if (request.inline_mode == luks2ext::InlineMode::kNative && !tokens_asked &&
      !request.name.empty()) {
    PrintVerbose(o, _("Tokens are not tried with --perf-force_inline=native."));
  } else {
    if (auto done = OpenByToken(o, volume, request, tokens_asked, storage)) return *done;
  }

  // Retry a wrong passphrase typed on a terminal, as cryptsetup does (--tries).
  const bool can_retry = o.key_file.empty() && InteractiveInput();
  const int attempts = can_retry ? o.tries : 1;
  for (int attempt = 1;; ++attempt) {
    ASSIGN_OR_RETURN(const luks2ext::Secret passphrase,
                     ReadDevicePassphrase(call.passphrase_source(), path,
                                          /*verify=*/o.verify_passphrase && InteractiveInput()));
    Status status = volume.Activate(request, passphrase, storage);
    if (status.ok() || status.error().code() != ExitCode::kNoPermission || attempt >= attempts)
      return status;
    fmt::print(stderr, "{}\n", status.error().message());
  }
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
  RETURN_IF_ERROR(SetMappingFlags(o, request));

  // Only --persistent writes metadata; otherwise the drive is opened read-only.
  ASSIGN_OR_RETURN(const MappableVolume opened, OpenMappableVolume(path, o.header, o.persistent));
  return UnlockAndMap(call, path, *opened.volume, request);
}

namespace {

// The LUKS2 volume a live mapping maps, read for an unlock (refresh, luksResume): the drive
// its table names, which must hold the volume its dm UUID names; a device the user gave too
// (refresh <device> <name>) must be that drive.
// With a detached `header` (--header), the metadata is read there and the drive the table
// names is its data drive.
struct MappedVolume {
  luks2ext::ActiveMapping mapping;
  std::string path;
  MappableVolume opened;
  luks2ext::Volume& volume() const { return *opened.volume; }
};
Result<MappedVolume> OpenMappedVolume(const std::string& name, const std::string* given_device,
                                      bool writable, const std::string& header) {
  MappedVolume mapped;
  auto mapping = luks2ext::QueryMapping(name);
  if (!mapping.ok()) {
    if (!luks2ext::MappingExists(name))
      return luks2ext::MappingNotActive(name);
    return mapping.error();
  }
  if (mapping->type != "LUKS2")
    return Error::WrongDevice(FormatMsg(_("Device {} is not a LUKS2 mapping."), name));
  mapped.mapping = std::move(*mapping);
  mapped.path = DeviceName(mapped.mapping.device);
  if (given_device) {
    ASSIGN_OR_RETURN(const std::string given, luks2ext::BlockDeviceNumber(*given_device));
    if (given != mapped.mapping.device)
      return Error::WrongDevice(FormatMsg(_("Device {} is not the device {} maps ({})."),
                                          *given_device, name, mapped.path));
  }
  auto opened = OpenMappableVolume(mapped.path, header, writable);
  // No LUKS2 header on the drive the table names: its header may be detached.
  if (!opened.ok() && header.empty() && opened.error().code() == luks2ext::ExitCode::kWrongDevice)
    return Error::WrongDevice(
        FormatMsg(_("{} A mapping with a detached header needs it named with --header."),
                  opened.error().message()));
  if (!opened.ok()) return opened.error();
  mapped.opened = std::move(*opened);
  if (!mapped.mapping.MapsVolume(mapped.volume().uuid()))
    return Error::WrongDevice(FormatMsg(_("Device {} does not map the LUKS2 volume on {} (UUID {})."),
                                        name, mapped.path, mapped.volume().uuid()));
  return mapped;
}

}  // namespace

// cryptsetup refresh [<device>] <name>: the live mapping gets a new table with the flags asked
// for (and those the header stores), unlocked again from the volume it maps; nothing is
// unmounted.
Status ActionRefresh(const Invocation& call) {
  const Options& o = call.options;
  luks2ext::ActivationRequest request;
  request.name = call.args.back();
  request.refresh = true;
  RETURN_IF_ERROR(SetMappingFlags(o, request));
  RETURN_IF_ERROR(luks2ext::CheckRefreshRequest(request));
  ASSIGN_OR_RETURN(MappedVolume mapped,
                   OpenMappedVolume(request.name, call.args.size() > 1 ? &call.args[0] : nullptr,
                                    o.persistent, o.header));
  if (mapped.mapping.HasFeature("force_inline"))
    return Error::WrongParameters(FormatMsg(
        _("Device {} runs the native force_inline table argument, which libcryptsetup cannot "
          "reload: close it and open it again with the flags wanted."),
        request.name));
  request.read_only = mapped.mapping.read_only;
  return UnlockAndMap(call, mapped.path, mapped.volume(), request);
}

// cryptsetup resize <name>: the mapping's new length, from --size (sectors) or --device-size
// (bytes), else all the drive holds. A key in the keyring is unlocked again first (tokens,
// then the passphrase), as cryptsetup does; a key in the table is read back from it.
Status ActionResize(const Invocation& call) {
  const Options& o = call.options;
  if (o.size && o.device_size)
    return Error::WrongParameters(_("Only one of --size and --device-size can be given."));
  if (o.device_size % 512)
    return Error::WrongParameters(_("Device size must be multiple of 512 bytes sector."));
  luks2ext::ActivationRequest request;
  request.name = call.args[0];
  request.keyslot = o.key_slot;
  request.resize_sectors = o.device_size ? o.device_size / 512 : o.size;
  ASSIGN_OR_RETURN(MappedVolume mapped,
                   OpenMappedVolume(request.name, nullptr, false, o.header));
  // A zoned mapping covers whole zones: dm refuses a table that ends inside one.
  const luks2ext::Geometry& geometry = mapped.volume().data_device().geometry();
  if (geometry.is_zoned() && *request.resize_sectors * 512 % geometry.zone_size != 0)
    return Error::WrongParameters(FormatMsg(
        _("On a zoned drive the size must be a multiple of the zone size ({} sectors)."),
        geometry.zone_size / 512));
  if (!mapped.mapping.key_in_keyring)
    return luks2ext::ResizeWithTableKey(request.name, *request.resize_sectors);
  if (o.disable_keyring)
    return Error::WrongParameters(_("Resize of active device requires volume key in keyring "
                                    "but --disable-keyring option is set."));
  return UnlockAndMap(call, mapped.path, mapped.volume(), request);
}

Status ActionLuksSuspend(const Invocation& call) { return luks2ext::Suspend(call.args[0]); }

// cryptsetup luksResume <name>: tokens, then the passphrase, as open; the key goes back to the
// suspended mapping.
Status ActionLuksResume(const Invocation& call) {
  luks2ext::ActivationRequest request;
  request.name = call.args[0];
  request.resume = true;
  request.keyslot = call.options.key_slot;
  ASSIGN_OR_RETURN(MappedVolume mapped,
                   OpenMappedVolume(request.name, nullptr, false, call.options.header));
  if (!mapped.mapping.suspended)
    return Error::WrongParameters(FormatMsg(_("Volume {} is not suspended."), request.name));
  return UnlockAndMap(call, mapped.path, mapped.volume(), request);
}

Status ActionClose(const Invocation& call) { return luks2ext::Deactivate(call.args[0]); }

Status ActionStatus(const Invocation& call) {
  const std::string& name = call.args[0];
  auto mapping = luks2ext::QueryMapping(name);
  if (!mapping.ok()) {
    // A mapping that exists but is not one we can read (another target, a table the parser
    // refuses) is not "inactive": only its error is shown.
    if (mapping.error().code() == ExitCode::kWrongDevice && !luks2ext::MappingExists(name))
      fmt::print(stdout, "{}\n", FormatMsg(_("/dev/mapper/{} is inactive."), name));
    return mapping.error();
  }
  const luks2ext::ActiveMapping& m = *mapping;
  // cryptsetup 2.6's lines, in its order and words, then zcryptsetup's inline line.
  fmt::print(stdout, "{}\n",
             m.in_use ? FormatMsg(_("/dev/mapper/{} is active and is in use."), name)
                      : FormatMsg(_("/dev/mapper/{} is active."), name));
  fmt::print(stdout, "  type:    {}\n", (m.type.empty() ? "n/a" : m.type));
  fmt::print(stdout, "  cipher:  {}\n", m.cipher);
  fmt::print(stdout, "  keysize: {} bits\n", m.key_bits);
  // cryptsetup's wording: where dm-crypt got the key from.
  fmt::print(stdout, "  key location: {}\n", (m.key_in_keyring ? "keyring" : "dm-crypt"));
  const std::string device = DeviceName(m.device);
  fmt::print(stdout, "  device:  {}\n", device);
  if (const std::string backing = LoopBackingFile(device); !backing.empty())
    fmt::print(stdout, "  loop:    {}\n", backing);
  fmt::print(stdout, "  sector size:  {}\n", m.sector_size);
  fmt::print(stdout, "  offset:  {} sectors\n", m.offset_sectors);
  fmt::print(stdout, "  size:    {} sectors\n", m.size_sectors);
  if (m.iv_offset != 0) fmt::print(stdout, "  skipped: {} sectors\n", m.iv_offset);
  fmt::print(stdout, "  mode:    {}{}\n", (m.read_only ? "readonly" : "read/write"),
             (m.suspended ? " (suspended)" : ""));
  // Stock's names and spacing, a trailing blank included when the last flag is not the last
  // of the five: scripts that compare the line see the same bytes.
  const bool discards = m.HasFeature("allow_discards");
  const bool same_cpu = m.HasFeature("same_cpu_crypt");
  const bool submit = m.HasFeature("submit_from_crypt_cpus");
  const bool no_read = m.HasFeature("no_read_workqueue");
  const bool no_write = m.HasFeature("no_write_workqueue");
  if (discards || same_cpu || submit || no_read || no_write)
    fmt::print(stdout, "  flags:   {}{}{}{}{}\n", (discards ? "discards " : ""),
               (same_cpu ? "same_cpu_crypt " : ""), (submit ? "submit_from_crypt_cpus " : ""),
               (no_read ? "no_read_workqueue " : ""), (no_write ? "no_write_workqueue" : ""));
  std::vector<std::string> inline_args;
  for (const char* arg : {"force_inline", "no_read_workqueue", "no_write_workqueue"})
    if (m.HasFeature(arg)) inline_args.emplace_back(arg);
  // force_inline is the RFC's table argument, which only a patched dm-crypt accepts (=native).
  fmt::print(stdout, "  inline:  {}\n",
             (m.HasFeature("force_inline") ? FormatMsg(_("yes, native ({})"), Join(inline_args))
              : m.RunsInline()             ? FormatMsg(_("yes ({})"), Join(inline_args))
              : inline_args.empty()        ? std::string(_("no"))
                                           : FormatMsg(_("partly ({})"), Join(inline_args))));
  return Status::Ok();
}

}  // namespace zcryptsetup
