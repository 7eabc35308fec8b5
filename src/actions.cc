#include "actions.h"

#include <algorithm>
#include <iostream>

#include "i18n.h"

namespace zcryptsetup {

using luks2ext::Error;
using luks2ext::Status;

namespace {

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
        "--verify-passphrase", "--perf-force_inline", "--dry-run"}},
      {"open", "luksOpen", 1, 2, N_("<device> <name>"), ActionOpen,
       {"--key-file", "--keyfile-offset", "--keyfile-size", "--key-slot", "--type", "--tries",
        "--perf-force_inline", "--persistent", "--readonly", "--allow-discards",
        "--test-passphrase"}},
      {"close", "luksClose", 1, 1, N_("<name>"), ActionClose, {}},
      {"status", nullptr, 1, 1, N_("<name>"), ActionStatus, {}},
      {"luksDump", nullptr, 1, 1, N_("<device>"), ActionLuksDump, {"--dump-json-metadata"}},
      {"isLuks", nullptr, 1, 1, N_("<device>"), ActionIsLuks, {"--type"}},
      {"luksUUID", nullptr, 1, 1, N_("<device>"), ActionLuksUuid, {}},
      {"luksAddKey", nullptr, 1, 2, N_("<device> [<new key file>]"), ActionLuksAddKey,
       {"--key-file", "--keyfile-offset", "--keyfile-size", "--key-slot", "--type", "--hash",
        "--pbkdf", "--iter-time", "--pbkdf-memory", "--pbkdf-parallel",
        "--pbkdf-force-iterations"}},
      {"luksChangeKey", nullptr, 1, 2, N_("<device> [<new key file>]"), ActionLuksChangeKey,
       {"--key-file", "--keyfile-offset", "--keyfile-size", "--key-slot", "--type", "--hash",
        "--pbkdf", "--iter-time", "--pbkdf-memory", "--pbkdf-parallel",
        "--pbkdf-force-iterations"}},
      {"luksRemoveKey", nullptr, 1, 2, N_("<device> [<key file>]"), ActionLuksRemoveKey,
       {"--key-file", "--keyfile-offset", "--keyfile-size", "--type"}},
      {"luksKillSlot", nullptr, 2, 2, N_("<device> <key slot>"), ActionLuksKillSlot,
       {"--key-file", "--keyfile-offset", "--keyfile-size", "--type"}},
      {"config", nullptr, 1, 1, N_("<device>"), ActionConfig,
       {"--label", "--subsystem", "--perf-force_inline", "--type"}},
      {"luksHeaderBackup", nullptr, 1, 1, N_("<device> --header-backup-file <file>"),
       ActionLuksHeaderBackup, {"--header-backup-file", "--type"}},
      {"luksHeaderRestore", nullptr, 1, 1, N_("<device> --header-backup-file <file>"),
       ActionLuksHeaderRestore, {"--header-backup-file", "--type"}},
      {"repair", nullptr, 1, 1, N_("<device>"), ActionRepair, {"--type"}},
      {"crypttab", nullptr, 1, 2, N_("open|close <name>|--all, check, list [--crypttab <file>]"),
       ActionCrypttab, {"--all", "--crypttab", "--memory-budget"}},
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

}  // namespace

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
  return action->run(Invocation{command.options, command.args});
}

}  // namespace zcryptsetup
