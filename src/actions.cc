#include "actions.h"

#include <linux/capability.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <iostream>

#include "i18n.h"

namespace zcryptsetup {

using luks2ext::Error;
using luks2ext::Status;

namespace {

// The action table's last column: the verb reads a passphrase or handles key material.
constexpr bool kHandlesKeys = true;

// Accepted by every action.
const std::vector<std::string_view> kCommonOptions = {"--batch-mode", "--verbose", "--debug",
                                                      "--help", "--version"};

const std::vector<Action>& Actions() {
  static const std::vector<Action> actions = {
      {"luksFormat", nullptr, 1, 2, N_("<device> [<new key file>]"), ActionLuksFormat,
       {"--key-file", "--keyfile-offset", "--keyfile-size", "--key-slot", "--type", "--cipher",
        "--key-size", "--hash", "--pbkdf", "--iter-time", "--pbkdf-memory", "--pbkdf-parallel",
        "--pbkdf-force-iterations", "--sector-size", "--label", "--subsystem", "--uuid",
        "--offset", "--luks2-metadata-size", "--luks2-keyslots-size", "--no-zone-journal",
        "--verify-passphrase", "--perf-force_inline", "--dry-run"},
       kHandlesKeys},
      {"open", "luksOpen", 1, 2, N_("<device> <name>"), ActionOpen,
       {"--key-file", "--keyfile-offset", "--keyfile-size", "--key-slot", "--type", "--tries",
        "--perf-force_inline", "--persistent", "--readonly", "--allow-discards",
        "--test-passphrase"},
       kHandlesKeys},
      {"close", "luksClose", 1, 1, N_("<name>"), ActionClose, {}},
      {"status", nullptr, 1, 1, N_("<name>"), ActionStatus, {}},
      {"luksDump", nullptr, 1, 1, N_("<device>"), ActionLuksDump, {"--dump-json-metadata"}},
      {"isLuks", nullptr, 1, 1, N_("<device>"), ActionIsLuks, {"--type"}},
      {"luksUUID", nullptr, 1, 1, N_("<device>"), ActionLuksUuid, {}},
      {"luksAddKey", nullptr, 1, 2, N_("<device> [<new key file>]"), ActionLuksAddKey,
       {"--key-file", "--keyfile-offset", "--keyfile-size", "--key-slot", "--type", "--hash",
        "--pbkdf", "--iter-time", "--pbkdf-memory", "--pbkdf-parallel",
        "--pbkdf-force-iterations"},
       kHandlesKeys},
      {"luksChangeKey", nullptr, 1, 2, N_("<device> [<new key file>]"), ActionLuksChangeKey,
       {"--key-file", "--keyfile-offset", "--keyfile-size", "--key-slot", "--type", "--hash",
        "--pbkdf", "--iter-time", "--pbkdf-memory", "--pbkdf-parallel",
        "--pbkdf-force-iterations"},
       kHandlesKeys},
      {"luksRemoveKey", nullptr, 1, 2, N_("<device> [<key file>]"), ActionLuksRemoveKey,
       {"--key-file", "--keyfile-offset", "--keyfile-size", "--type"}, kHandlesKeys},
      {"luksKillSlot", nullptr, 2, 2, N_("<device> <key slot>"), ActionLuksKillSlot,
       {"--key-file", "--keyfile-offset", "--keyfile-size", "--type"}, kHandlesKeys},
      {"config", nullptr, 1, 1, N_("<device>"), ActionConfig,
       {"--label", "--subsystem", "--perf-force_inline", "--type"}},
      {"luksHeaderBackup", nullptr, 1, 1, N_("<device> --header-backup-file <file>"),
       ActionLuksHeaderBackup, {"--header-backup-file", "--type"}, kHandlesKeys},
      {"luksHeaderRestore", nullptr, 1, 1, N_("<device> --header-backup-file <file>"),
       ActionLuksHeaderRestore, {"--header-backup-file", "--type"}, kHandlesKeys},
      {"repair", nullptr, 1, 1, N_("<device>"), ActionRepair, {"--type"}},
      {"crypttab", nullptr, 1, 2, N_("open|close <name>|--all, check, list [--crypttab <file>]"),
       ActionCrypttab, {"--all", "--crypttab", "--memory-budget"},
       kHandlesKeys},  // crypttab open; its other subcommands are cheap to protect as well
      {"layout", nullptr, 1, 1, N_("<device>"), ActionLayout,
       {"--type", "--offset", "--luks2-metadata-size", "--luks2-keyslots-size",
        "--no-zone-journal", "--key-size"}},
  };
  return actions;
}

const Action* FindAction(std::string_view name) {
  for (const Action& action : Actions())
    if (name == action.name || (action.alias && name == action.alias)) return &action;
  return nullptr;
}

bool Allowed(const Action& action, std::string_view option) {
  auto contains = [option](const std::vector<std::string_view>& list) {
    return std::find(list.begin(), list.end(), option) != list.end();
  };
  return contains(kCommonOptions) || contains(action.options);
}

// Whether mlockall(MCL_FUTURE) is safe to ask for. With CAP_IPC_LOCK, or no RLIMIT_MEMLOCK,
// the kernel locks whatever the verb maps later. Under a finite limit without the capability
// it would lock until the limit and then make every later allocation fail (argon2 alone may
// want a GiB): the verb would break instead of its memory merely being swappable.
bool CanLockAllMemory() {
  rlimit limit{};
  if (getrlimit(RLIMIT_MEMLOCK, &limit) == 0 && limit.rlim_cur == RLIM_INFINITY) return true;
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = {};
  if (syscall(SYS_capget, &header, data) != 0) return false;
  return (data[CAP_TO_INDEX(CAP_IPC_LOCK)].effective & CAP_TO_MASK(CAP_IPC_LOCK)) != 0;
}

}  // namespace

void ProtectSecrets(const Options& options) {
  // No core file, and /proc/PID/mem and the like become root's only: the passphrase and the
  // volume key cannot be read out of this process by its own user, nor land in a core dump.
  if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0)
    PrintVerbose(options, FormatMsg(_("WARNING: cannot make the process non-dumpable ({})."),
                                    std::strerror(errno)));
  if (!CanLockAllMemory()) {
    PrintVerbose(options, _("WARNING: memory is not locked (no CAP_IPC_LOCK and a limited "
                            "RLIMIT_MEMLOCK): passphrases and keys may be swapped out."));
    return;
  }
  if (mlockall(MCL_CURRENT | MCL_FUTURE) != 0)
    PrintVerbose(options, FormatMsg(_("WARNING: cannot lock memory ({}): passphrases and keys "
                                      "may be swapped out."),
                                    std::strerror(errno)));
}

void PrintNote(const std::string& text) { std::cout << text << '\n'; }

void PrintWarnings(const luks2ext::Volume& volume, const std::string& prefix) {
  for (const std::string& warning : volume.warnings()) std::cerr << prefix << warning << '\n';
}

void PrintVerbose(const Options& options, const std::string& text) {
  if (options.verbose || options.debug) std::cerr << text << '\n';
}

Status RunAction(const ParsedCommandLine& command) {
  const Action* action = FindAction(command.action);
  if (!action)
    return Error::WrongParameters(FormatMsg(
        _("Unknown action {}. Try 'zcryptsetup --help'."), command.action));
  for (const std::string& option : command.given) {
    // "--key-file" and the like are stored without the leading dashes by CLI11.
    const std::string name = "--" + option;
    if (!Allowed(*action, name))
      return Error::WrongParameters(FormatMsg(_("Option {} is not allowed with {} action."), name,
                                              action->name));
  }
  if (command.args.size() < action->min_args || command.args.size() > action->max_args)
    return Error::WrongParameters(FormatMsg(_("Usage: zcryptsetup {} {}"), action->name,
                                            _(action->usage)));
  if (!command.options.type.empty() && command.options.type != "luks2" &&
      command.options.type != "luks")
    return Error::WrongParameters(FormatMsg(
        _("Unsupported --type {}: zcryptsetup handles LUKS2 only."), command.options.type));
  if (action->handles_keys) ProtectSecrets(command.options);
  return action->run(Invocation{command.options, command.args});
}

}  // namespace zcryptsetup
