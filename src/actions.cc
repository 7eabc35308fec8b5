#include "actions.h"

#include <fmt/core.h>

#include <algorithm>
#include <cstdio>

#include "action_help.h"
#include "i18n.h"
#include "protect_secrets.h"

namespace zcryptsetup {

using luks2ext::Error;
using luks2ext::Status;

namespace {

// The action table's handles_keys column: the verb reads a passphrase or handles key material.
constexpr bool kHandlesKeys = true;

// The option lists are constant arrays, like the table itself: nothing is built at start-up
// (the table as vectors of strings was a thousand instructions run in every process).

// Accepted by every action.
constexpr std::string_view kCommonOptions[] = {"--batch-mode", "--verbose", "--debug", "--help",
                                               "--version"};

// luksFormat's, the longest list of the table.
constexpr std::string_view kFormatOptions[] = {
    "--key-file", "--keyfile-offset", "--keyfile-size", "--key-slot", "--type", "--cipher",
    "--key-size", "--hash", "--pbkdf", "--iter-time", "--pbkdf-memory", "--pbkdf-parallel",
    "--pbkdf-force-iterations", "--sector-size", "--label", "--subsystem", "--uuid", "--offset",
    "--luks2-metadata-size", "--luks2-keyslots-size", "--no-zone-journal", "--verify-passphrase",
    "--perf-force_inline", "--dry-run", "--timeout", "--header"};

constexpr std::string_view kOpenOptions[] = {
    "--key-file", "--keyfile-offset", "--keyfile-size", "--key-slot", "--type", "--tries",
    "--perf-force_inline", "--perf-same_cpu_crypt", "--perf-submit_from_crypt_cpus",
    "--perf-no_read_workqueue", "--perf-no_write_workqueue", "--perf-high_priority",
    "--persistent", "--readonly", "--allow-discards", "--test-passphrase", "--token-id",
    "--token-type", "--token-only", "--disable-external-tokens", "--timeout", "--disable-keyring",
    "--verify-passphrase", "--header"};
// refresh's: open's, less what cannot change on a live mapping (cryptsetup's list).
constexpr std::string_view kRefreshOptions[] = {
    "--key-file", "--keyfile-offset", "--keyfile-size", "--key-slot", "--type", "--tries",
    "--perf-force_inline", "--perf-same_cpu_crypt", "--perf-submit_from_crypt_cpus",
    "--perf-no_read_workqueue", "--perf-no_write_workqueue", "--perf-high_priority",
    "--persistent", "--allow-discards", "--token-id", "--token-type", "--token-only",
    "--disable-external-tokens", "--timeout", "--disable-keyring", "--header"};

// benchmark's. Not kHandlesKeys: the inline benchmark's random key lives in a wiped Secret and
// in the kernel, and locking all memory would also lock the Argon2 benchmark's gigabyte.
constexpr std::string_view kBenchmarkOptions[] = {
    "--cipher", "--key-size", "--iter-time", "--inline", "--json", "--benchmark-seconds",
    "--rounds", "--benchmark-modes"};

// resize's: the new size, and how to unlock when the key is in the keyring.
constexpr std::string_view kResizeOptions[] = {
    "--size", "--device-size", "--key-file", "--keyfile-offset", "--keyfile-size", "--key-slot",
    "--type", "--tries", "--timeout", "--token-id", "--token-type", "--token-only",
    "--disable-external-tokens", "--disable-keyring", "--header"};
// luksResume's: how open unlocks, nothing of how it maps.
constexpr std::string_view kResumeOptions[] = {
    "--key-file", "--keyfile-offset", "--keyfile-size", "--key-slot", "--type", "--tries",
    "--timeout", "--token-id", "--token-type", "--token-only", "--disable-external-tokens",
    "--header"};

// luksConvertKey's: a passphrase in, the keyslot's new PBKDF.
constexpr std::string_view kConvertKeyOptions[] = {
    "--key-file", "--keyfile-offset", "--keyfile-size", "--key-slot", "--type", "--hash",
    "--pbkdf", "--iter-time", "--pbkdf-memory", "--pbkdf-parallel", "--pbkdf-force-iterations",
    "--timeout", "--header"};
// luksChangeKey's: convert's, and where the new passphrase comes from.
constexpr std::string_view kNewKeyOptions[] = {
    "--key-file", "--keyfile-offset", "--keyfile-size", "--key-slot", "--type", "--hash",
    "--pbkdf", "--iter-time", "--pbkdf-memory", "--pbkdf-parallel", "--pbkdf-force-iterations",
    "--timeout", "--new-keyfile", "--new-keyfile-offset", "--new-keyfile-size",
    "--verify-passphrase", "--header"};
// luksAddKey's: luksChangeKey's and the new keyslot's number (cryptsetup 2.7's option).
constexpr std::string_view kAddKeyOptions[] = {
    "--key-file", "--keyfile-offset", "--keyfile-size", "--key-slot", "--type", "--hash",
    "--pbkdf", "--iter-time", "--pbkdf-memory", "--pbkdf-parallel", "--pbkdf-force-iterations",
    "--timeout", "--new-keyfile", "--new-keyfile-offset", "--new-keyfile-size",
    "--verify-passphrase", "--new-key-slot", "--header"};
constexpr std::string_view kKeyFileOptions[] = {"--key-file", "--keyfile-offset", "--keyfile-size",
                                                "--type", "--timeout", "--header"};
constexpr std::string_view kTypeOption[] = {"--type"};
// isLuks', erase's, luksSuspend's: the header may be detached.
constexpr std::string_view kTypeHeaderOptions[] = {"--type", "--header"};
// status reads the dm table, which names everything it prints; cryptsetup's --header (which
// stock needs to know a detached volume's type) is accepted and not needed.
constexpr std::string_view kStatusOptions[] = {"--header"};
constexpr std::string_view kUuidOptions[] = {"--uuid", "--type", "--header"};
constexpr std::string_view kDumpOptions[] = {"--dump-json-metadata", "--header"};
constexpr std::string_view kConfigOptions[] = {"--label", "--subsystem", "--perf-force_inline",
                                               "--priority", "--key-slot", "--type", "--header"};
constexpr std::string_view kBackupOptions[] = {"--header-backup-file", "--type", "--header"};
constexpr std::string_view kTokenOptions[] = {"--token-id",        "--key-slot",
                                              "--json-file",       "--token-replace",
                                              "--key-description", "--type", "--header"};
constexpr std::string_view kCrypttabOptions[] = {"--all", "--crypttab", "--memory-budget",
                                                 "--test-passphrase"};
constexpr std::string_view kLayoutOptions[] = {"--type",
                                               "--offset",
                                               "--luks2-metadata-size",
                                               "--luks2-keyslots-size",
                                               "--no-zone-journal",
                                               "--key-size"};

}  // namespace

std::span<const Action> Actions() {
  static constexpr Action kActions[] = {
      {"luksFormat", nullptr, 1, 2, N_("<device> [<new key file>]"), N_("format a LUKS2 volume"),
       ActionLuksFormat, kFormatOptions, kHandlesKeys},
      {"open", "luksOpen", 1, 2, N_("<device> <name>"),
       N_("open a LUKS2 device as mapping <name>"), ActionOpen, kOpenOptions, kHandlesKeys},
      {"refresh", nullptr, 1, 2, N_("[<device>] <name>"),
       N_("change a live mapping's flags (--perf-*, --allow-discards)"), ActionRefresh,
       kRefreshOptions, kHandlesKeys},
      {"resize", nullptr, 1, 1, N_("<name>"), N_("resize an active mapping (--size, --device-size)"),
       ActionResize, kResizeOptions, kHandlesKeys},
      {"luksSuspend", nullptr, 1, 1, N_("<name>"),
       N_("suspend the mapping's I/O and wipe its key"), ActionLuksSuspend, kTypeHeaderOptions},
      {"luksResume", nullptr, 1, 1, N_("<name>"), N_("resume a suspended mapping"),
       ActionLuksResume, kResumeOptions, kHandlesKeys},
      {"close", "luksClose", 1, 1, N_("<name>"), N_("remove the mapping"), ActionClose},
      {"status", nullptr, 1, 1, N_("<name>"), N_("show the mapping's status"), ActionStatus,
       kStatusOptions},
      {"luksDump", nullptr, 1, 1, N_("<device>"), N_("dump the header and its placement"),
       ActionLuksDump, kDumpOptions},
      {"isLuks", nullptr, 1, 1, N_("<device>"), N_("tests <device> for a LUKS2 header"),
       ActionIsLuks, kTypeHeaderOptions},
      {"luksUUID", nullptr, 1, 1, N_("<device>"), N_("print the UUID, or set it (--uuid)"),
       ActionLuksUuid, kUuidOptions},
      {"luksAddKey", nullptr, 1, 2, N_("<device> [<new key file>]"), N_("add a key"),
       ActionLuksAddKey, kAddKeyOptions, kHandlesKeys},
      {"luksChangeKey", nullptr, 1, 2, N_("<device> [<new key file>]"), N_("change a key"),
       ActionLuksChangeKey, kNewKeyOptions, kHandlesKeys},
      {"luksConvertKey", nullptr, 1, 1, N_("<device>"),
       N_("give a keyslot new PBKDF parameters"), ActionLuksConvertKey, kConvertKeyOptions,
       kHandlesKeys},
      {"luksRemoveKey", nullptr, 1, 2, N_("<device> [<key file>]"),
       N_("remove the key a passphrase opens"), ActionLuksRemoveKey,
       kKeyFileOptions, kHandlesKeys},
      {"luksKillSlot", nullptr, 2, 2, N_("<device> <key slot>"), N_("wipe a keyslot"),
       ActionLuksKillSlot, kKeyFileOptions, kHandlesKeys},
      {"erase", "luksErase", 1, 1, N_("<device>"),
       N_("erase all keyslots (the volume's data is lost)"), ActionErase, kTypeHeaderOptions,
       kHandlesKeys},
      {"config", nullptr, 1, 1, N_("<device>"),
       // TRANSLATORS: --help puts a summary's second line under its first.
       N_("set --label, --subsystem, --priority -S N,\npersistent --perf-force_inline[=off]"), ActionConfig,
       kConfigOptions},
      {"luksHeaderBackup", nullptr, 1, 1, N_("<device> --header-backup-file <file>"),
       N_("back the header up"), ActionLuksHeaderBackup, kBackupOptions,
       kHandlesKeys},
      {"luksHeaderRestore", nullptr, 1, 1, N_("<device> --header-backup-file <file>"),
       N_("restore it"), ActionLuksHeaderRestore, kBackupOptions,
       kHandlesKeys},
      // TRANSLATORS: {} is written as it is: the tool's argument that names the header image.
      {"enroll", nullptr, 1, 1, N_("<device> -- <command> [<argument>...]"),
       // TRANSLATORS: --help puts a summary's second line under its first.
       N_("run systemd-cryptenroll, clevis... on a private\ncopy of the header ({}), write it back safely"),
       ActionEnroll, kTypeOption},
      {"token", nullptr, 2, 2, "", nullptr, ActionToken, kTokenOptions, false, TokenSubVerbs},
      {"repair", nullptr, 1, 1, N_("<device>"), N_("rewrite torn or stale metadata copies"),
       ActionRepair, kTypeOption},
      // crypttab open handles keys; its other sub-verbs are cheap to protect as well.
      {"crypttab", nullptr, 1, 2, N_("[--crypttab <file>]"), nullptr, ActionCrypttab,
       kCrypttabOptions, kHandlesKeys, CrypttabSubVerbs},
      {"layout", nullptr, 1, 1, N_("<device>"),
       // TRANSLATORS: --help puts a summary's second line under its first.
       N_("the drive's zones and where metadata and\ndata lie (or would lie)"), ActionLayout,
       kLayoutOptions},
      {"benchmark", nullptr, 0, 1, N_("[--cipher <cipher>] | --inline [<device>]"),
       N_("cipher speeds; --inline: does force_inline help"), ActionBenchmark,
       kBenchmarkOptions},
  };
  return kActions;
}

namespace {

const Action* FindAction(std::string_view name) {
  for (const Action& action : Actions())
    if (name == action.name || (action.alias && name == action.alias)) return &action;
  return nullptr;
}

bool Allowed(const Action& action, std::string_view option) {
  auto contains = [option](std::span<const std::string_view> list) {
    return std::find(list.begin(), list.end(), option) != list.end();
  };
  return contains(kCommonOptions) || contains(action.options);
}

}  // namespace

void PrintNote(const std::string& text) { fmt::print(stdout, "{}\n", text); }

void PrintWarnings(const luks2ext::Volume& volume, const std::string& prefix) {
  for (const std::string& warning : volume.warnings())
    fmt::print(stderr, "{}{}\n", prefix, warning);
}

Result<OpenedVolume> OpenVolume(const std::string& path, bool writable,
                                luks2ext::Volume::ReadScope scope) {
  OpenedVolume opened;
  ASSIGN_OR_RETURN(opened.device, luks2ext::OpenBlockDevice(path, writable));
  ASSIGN_OR_RETURN(opened.volume, luks2ext::Volume::Open(*opened.device, scope));
  PrintWarnings(*opened.volume);
  return opened;
}

Result<MappableVolume> OpenMappableVolume(const std::string& data_path, const std::string& header,
                                          bool writable) {
  MappableVolume opened;
  ASSIGN_OR_RETURN(opened.data, luks2ext::OpenBlockDevice(data_path, writable && header.empty()));
  if (header.empty()) {
    ASSIGN_OR_RETURN(opened.volume, luks2ext::Volume::Open(
                                        *opened.data, luks2ext::Volume::ReadScope::kForOpen));
    return opened;
  }
  ASSIGN_OR_RETURN(opened.header, luks2ext::OpenBlockDevice(header, writable));
  ASSIGN_OR_RETURN(opened.volume,
                   luks2ext::Volume::Open(*opened.header, luks2ext::Volume::ReadScope::kForOpen,
                                          opened.data.get()));
  return opened;
}

void PrintVerbose(const Options& options, const std::string& text) {
  if (options.verbose || options.debug) fmt::print(stderr, "{}\n", text);
}

Status RunAction(const ParsedCommandLine& command) {
  const Action* action = FindAction(command.action);
  if (!action)
    return Error::WrongParameters(FormatMsg(
        _("Unknown action {}. Try 'zcryptsetup --help'."), command.action));
  for (const std::string& option : command.given) {
    // "key-file" and the like: the long names, without the leading dashes.
    const std::string name = "--" + option;
    if (!Allowed(*action, name))
      return Error::WrongParameters(FormatMsg(_("Option {} is not allowed with {} action."), name,
                                              action->name));
  }
  if (command.args.size() < action->min_args || command.args.size() > action->max_args)
    return Error::WrongParameters(
        FormatMsg(_("Usage: zcryptsetup {} {}"), action->name, ActionUsage(*action)));
  if (!command.options.type.empty() && command.options.type != "luks2" &&
      command.options.type != "luks")
    return Error::WrongParameters(FormatMsg(
        _("Unsupported --type {}: zcryptsetup handles LUKS2 only."), command.options.type));
  if (action->handles_keys) ProtectSecrets(command.options);
  return action->run(Invocation{command.options, command.args});
}

}  // namespace zcryptsetup
