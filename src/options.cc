#include "options.h"

#include <CLI/CLI.hpp>

#include <algorithm>
#include <cctype>
#include <string_view>
#include <iostream>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "action_help.h"
#include "actions.h"
#include "i18n.h"
#include "luks2ext/number.h"

namespace zcryptsetup {

using luks2ext::Error;
using luks2ext::Status;

Result<uint64_t> ParseSize(const std::string& text, const char* option) {
  const std::optional<uint64_t> bytes = luks2ext::ParseSizeWithUnit(text);
  if (!bytes)
    return Error::WrongParameters(FormatMsg(
        _("Invalid size '{}' for {}: digits and an optional unit (k, M, G, T, s), at most "
          "16 EiB."),
        text, option));
  return *bytes;
}

namespace {

// The options one parse registers: all of them, or only those `action` accepts. Building
// CLI11's table costs about a quarter of a start-up (each option is checked against every one
// added before it), and a verb runs at boot once per drive; so a parse first registers only
// the options of the action named on the command line and falls back to the whole table
// whenever that parse does not succeed as it is (ParseCommandLine). A skipped option's Add*
// returns nullptr.
// Which options a parse registers: every one, or those of one action (with none named, only
// the common ones).
struct OptionScope {
  bool all = true;
  std::string_view action;
};

class OptionTable {
 public:
  OptionTable(CLI::App& app, OptionScope scope) : app_(app), scope_(scope) {}

  CLI::App& app() { return app_; }

  template <typename T>
  CLI::Option* Flag(const std::string& names, T& target, const std::string& help) {
    return Wants(names) ? app_.add_flag(names, target, help) : nullptr;
  }
  template <typename T>
  CLI::Option* Value(const std::string& names, T& target, const std::string& help) {
    return Wants(names) ? app_.add_option(names, target, help) : nullptr;
  }

  // Every numeric option goes through the one strict parser (luks2ext/number.h). CLI11's own
  // conversion takes "-1" for an unsigned option and wraps it to 2^64-1.
  template <typename T>
  CLI::Option* Number(const std::string& names, T& target, const std::string& help,
                      uint64_t min = 0, uint64_t max = std::numeric_limits<T>::max()) {
    if (!Wants(names)) return nullptr;
    return app_
        .add_option_function<std::string>(
            names,
            [&target, names, min, max](const std::string& text) {
              const std::optional<uint64_t> value = luks2ext::ParseDecimalAtMost(text, max);
              if (!value || *value < min)
                throw CLI::ValidationError(
                    names,
                    FormatMsg(_("'{}' is not a decimal number from {} to {}"), text, min, max));
              target = static_cast<T>(*value);
            },
            help)
        ->type_name("NUM");
  }

 private:
  // The long name in CLI11's names ("-d,--key-file", "--perf-force_inline{flags}").
  bool Wants(const std::string& names) const {
    if (scope_.all) return true;
    const size_t start = names.find("--");
    if (start == std::string::npos) return true;
    const size_t end = names.find_first_of(",{", start);
    return ActionAcceptsOption(scope_.action, std::string_view(names).substr(start, end - start));
  }

  CLI::App& app_;
  OptionScope scope_;
};

// Values CLI11 fills in that become Options only after the parse, converted or checked there.
struct PendingValues {
  uint64_t offset_sectors = 0;
  CLI::Option* offset = nullptr;  // counts whether --offset was given
  std::string memory_budget;
};

void SetUpHelpAndVersion(CLI::App& app) {
  app.name("zcryptsetup");
  // cryptsetup uses -h for --hash; help is -? / --help.
  app.set_help_flag("-?,--help", _("Show this help message"));
  app.set_version_flag("-V,--version", "zcryptsetup " ZCRYPTSETUP_VERSION);
  // Built only when --help prints it: every other run skips formatting the action list.
  app.footer([] {
    // TRANSLATORS: {} is the list of actions, one line each.
    return FormatMsg(_("<action> is one of:\n"
                       "{}\n"
                       "Exit codes: 0 ok, 1 wrong parameters, 2 no permission or bad passphrase,\n"
                       "3 out of memory, 4 wrong device, 5 device busy or exists."),
                     ActionList());
  });
}

// The options most actions share: prompts and messages, where the key comes from, which slot.
void AddCommonOptions(OptionTable& t, Options& o) {
  t.Flag("-q,--batch-mode", o.batch_mode, _("Do not ask for confirmation"));
  t.Flag("-v,--verbose", o.verbose, _("Shows more detailed error messages"));
  t.Flag("--debug", o.debug, _("Show debug messages"));
  t.Value("-d,--key-file", o.key_file, _("Read the key from a file ('-' for stdin)"));
  t.Number("--keyfile-offset", o.keyfile_offset, _("Number of bytes to skip in keyfile"));
  t.Number("-l,--keyfile-size", o.keyfile_size, _("Limits the read from keyfile"));
  t.Number("-S,--key-slot", o.key_slot, _("Slot number for new key (default is first free)"),
            0, 31);
  t.Number("-T,--tries", o.tries, _("How often the input of the passphrase can be retried"),
            1, 1000);
  t.Value("-M,--type", o.type, _("Type of device metadata: luks2 (the only one)"));
}

// The cipher and the PBKDF of new keyslots (luksFormat, luksAddKey, luksChangeKey).
void AddKeyslotOptions(OptionTable& t, Options& o) {
  t.Value("-c,--cipher", o.cipher, _("The cipher used to encrypt the disk"));
  t.Number("-s,--key-size", o.key_size, _("The size of the encryption key (bits)"));
  t.Value("-h,--hash", o.hash, _("The hash used by the PBKDF and the LUKS2 digest"));
  if (CLI::Option* pbkdf =
          t.Value("--pbkdf", o.pbkdf, _("PBKDF algorithm: argon2i, argon2id, pbkdf2")))
    pbkdf->check(CLI::IsMember({"argon2i", "argon2id", "pbkdf2"}));
  t.Number("-i,--iter-time", o.iter_time, _("PBKDF iteration time (ms)"));
  t.Number("--pbkdf-memory", o.pbkdf_memory, _("PBKDF memory cost limit (KiB)"));
  t.Number("--pbkdf-parallel", o.pbkdf_parallel, _("PBKDF parallel cost"));
  t.Number("--pbkdf-force-iterations", o.pbkdf_force_iterations,
            _("PBKDF iterations cost (forced, disables benchmark)"));
}

// The volume luksFormat writes, and where (layout plans with some of these).
void AddFormatOptions(OptionTable& t, Options& o, PendingValues& pending) {
  t.Number("--sector-size", o.sector_size,
            _("Encryption sector size (default: the drive's block size, at most 4096)"));
  t.Value("--label", o.label, _("Set label for the LUKS2 device"));
  t.Value("--subsystem", o.subsystem, _("Set subsystem label for the LUKS2 device"));
  t.Value("--uuid", o.uuid, _("UUID for device to use"));
  pending.offset = t.Number(
      "-o,--offset", pending.offset_sectors,
      _("The start offset in the backend device (512-byte sectors; a zone multiple on zoned "
        "drives)"),
      0, std::numeric_limits<uint64_t>::max() / 512);
  t.Value("--luks2-metadata-size", o.luks2_metadata_size,
                 _("LUKS2 header metadata area size"));
  t.Value("--luks2-keyslots-size", o.luks2_keyslots_size,
                 _("LUKS2 header keyslots area size"));
  t.Flag("--no-zone-journal", o.no_zone_journal,
               _("Zoned drives: keep no journal copy of the metadata (updates are then not "
                 "crash-safe)"));
  t.Flag("--dry-run", o.dry_run,
               _("luksFormat: print the layout it would write, and write nothing"));
  t.Flag("-y,--verify-passphrase", o.verify_passphrase,
               _("Verifies the passphrase by asking for it twice"));
}

// Which LUKS2 tokens open tries before it asks for a passphrase.
void AddTokenUnlockOptions(OptionTable& t, Options& o) {
  t.Value("--token-type", o.token_type,
                 _("Only tokens of this type (e.g. systemd-tpm2, luks2-keyring)"));
  t.Flag("--token-only", o.token_only,
               _("Do not ask for passphrase if activation by token fails"));
  t.Flag("--disable-external-tokens", o.disable_external_tokens,
               _("Disable loading of external LUKS2 token plugins"));
}

// How open maps the volume (config persists --perf-force_inline too).
void AddActivationOptions(OptionTable& t, Options& o) {
  t.Flag("--perf-force_inline{flags}", o.perf_force_inline,
               _("Process crypto inline, without dm-crypt's workqueues (=native: the RFC's "
                 "force_inline table argument)"));
  t.Flag("--persistent", o.persistent, _("Set activation flags persistent for device"));
  t.Flag("-r,--readonly", o.readonly, _("Create a readonly mapping"));
  t.Flag("--allow-discards", o.allow_discards,
               _("Allow discards (aka TRIM) requests for device"));
  t.Flag("--test-passphrase", o.test_passphrase,
               _("Do not activate device, just check passphrase"));
  AddTokenUnlockOptions(t, o);
}

// token's options: which token, where its JSON comes from or goes, the keyring description.
void AddTokenOptions(OptionTable& t, Options& o) {
  t.Number("--token-id", o.token_id, _("Token number (default: any)"), 0, 31);
  t.Value("--json-file", o.json_file,
                 _("Read or write the JSON from or to a file ('-' for stdin or stdout)"));
  t.Flag("--token-replace", o.token_replace, _("Replace the current token"));
  t.Value("--key-description", o.key_description,
                 _("Key description (token add: the kernel keyring key of the passphrase)"));
}

// luksDump's, crypttab's and the header backup's own options, then the action and its
// arguments.
void AddRemainingOptions(OptionTable& t, Options& o, PendingValues& pending) {
  t.Flag("--dump-json-metadata", o.dump_json_metadata, _("Dump the LUKS2 JSON metadata"));
  t.Flag("--all", o.all, _("crypttab open/close: every entry (open skips noauto)"));
  t.Value("--crypttab", o.crypttab, _("crypttab file (default /etc/crypttab)"));
  t.Value("--memory-budget", pending.memory_budget,
                 _("crypttab open --all: PBKDF memory for drives opened at once (e.g. 2G; "
                   "default half of the available memory)"));
  t.Value("--header-backup-file", o.header_backup_file,
                 _("File with LUKS header and keyslots backup"));
  t.app().add_option("action_and_args", o.positional, _("<action> <action-specific>"));
}

// benchmark's own options (--cipher and --key-size are the keyslot options').
void AddBenchmarkOptions(OptionTable& t, Options& o) {
  t.Flag("--inline", o.inline_bench,
               _("benchmark: measure dm-crypt with and without its workqueues (force_inline) "
                 "on a scratch RAM disk, or read-only on a given device"));
  t.Flag("--json", o.json, _("benchmark --inline: print one JSON object"));
  t.Number("--benchmark-seconds", o.benchmark_seconds,
            _("benchmark --inline: seconds per workload and round (default 4)"), 1, 3600);
  t.Number("--rounds", o.rounds,
            _("benchmark --inline: rounds, modes alternated in each (default 3)"), 1, 100);
  t.Value("--benchmark-modes", o.benchmark_modes,
                 _("benchmark --inline: workqueue, inline, native, comma-separated, or auto "
                   "(default: workqueue,inline and native when the kernel takes it)"));
}

enum class ParseOutcome { kParsed, kHelp, kVersion };

Result<ParseOutcome> Parse(CLI::App& app, int argc, char** argv) {
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    return ParseOutcome::kHelp;
  } catch (const CLI::CallForVersion&) {
    return ParseOutcome::kVersion;
  } catch (const CLI::ParseError& e) {
    return Error::WrongParameters(e.what());
  }
  return ParseOutcome::kParsed;
}

// The long name of every option given, in the order of the option table.
std::vector<std::string> GivenOptions(const CLI::App& app) {
  std::vector<std::string> given;
  for (const CLI::Option* option : app.get_options()) {
    if (option->count() == 0 || option->get_lnames().empty()) continue;
    given.push_back(option->get_lnames().front());
  }
  return given;
}

// Moves the pending values into `o` and checks what CLI11 could not check alone.
Status FinishOptions(const CLI::App& app, const PendingValues& pending, Options& o) {
  if (pending.offset && pending.offset->count() > 0) o.offset = pending.offset_sectors;
  if (!pending.memory_budget.empty()) {
    ASSIGN_OR_RETURN(o.memory_budget, ParseSize(pending.memory_budget, "--memory-budget"));
  }
  auto given = [&app](const std::string& name) {
    const CLI::Option* option = app.get_option_no_throw(name);
    return option != nullptr && option->count() > 0;
  };
  o.given_label = given("--label");
  o.given_subsystem = given("--subsystem");
  o.given_cipher = given("--cipher");
  o.given_key_size = given("--key-size");
  if (o.perf_force_inline != "" && o.perf_force_inline != "flags" &&
      o.perf_force_inline != "native" && o.perf_force_inline != "off")
    return Error::WrongParameters(
        FormatMsg(_("Unknown --perf-force_inline mode '{}': use --perf-force_inline, "
                    "--perf-force_inline=native (open) or --perf-force_inline=off (config)."),
                  o.perf_force_inline));
  return Status::Ok();
}

// The first word before any "--" that names an action; "" when none does.
std::string_view NamedAction(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    const std::string_view word = argv[i];
    if (word == "--") break;
    if (IsActionName(word)) return word;
  }
  return {};
}

// One parse with `scope`'s option table.
Result<ParsedCommandLine> ParseWith(OptionScope scope, int argc, char** argv) {
  ParsedCommandLine parsed;
  Options& o = parsed.options;
  CLI::App app{_("zcryptsetup: LUKS2 disk encryption for zoned (SMR, ZNS) and ordinary drives")};
  SetUpHelpAndVersion(app);
  PendingValues pending;
  OptionTable t(app, scope);
  AddCommonOptions(t, o);
  AddKeyslotOptions(t, o);
  AddFormatOptions(t, o, pending);
  AddActivationOptions(t, o);
  AddTokenOptions(t, o);
  AddBenchmarkOptions(t, o);
  AddRemainingOptions(t, o, pending);

  // enroll's tool command follows the first "--" and is never parsed as our options.
  std::vector<char*> ours(argv, argv + argc);
  std::vector<std::string> after_separator;
  if (auto separator = std::find(ours.begin() + std::min(argc, 1), ours.end(), std::string_view("--"));
      separator != ours.end()) {
    after_separator.assign(separator + 1, ours.end());
    ours.erase(separator, ours.end());
  }
  ASSIGN_OR_RETURN(const ParseOutcome outcome,
                   Parse(app, static_cast<int>(ours.size()), ours.data()));
  if (outcome == ParseOutcome::kHelp) {
    // Help lists every option: a partial table must not print it.
    if (!scope.all) return Error::WrongParameters("");
    std::cout << app.help();
  }
  if (outcome == ParseOutcome::kVersion) std::cout << "zcryptsetup " ZCRYPTSETUP_VERSION "\n";
  parsed.help_or_version = outcome != ParseOutcome::kParsed;
  if (parsed.help_or_version) return parsed;
  parsed.given = GivenOptions(app);
  RETURN_IF_ERROR(FinishOptions(app, pending, o));
  if (o.positional.empty()) o.positional = std::move(after_separator);  // "zcryptsetup -- open ..."
  if (o.positional.empty())
    return Error::WrongParameters(_("Argument <action> missing. Try 'zcryptsetup --help'."));
  parsed.action = o.positional.front();
  parsed.args.assign(o.positional.begin() + 1, o.positional.end());
  if (parsed.action == "enroll")
    o.enroll_command = std::move(after_separator);
  else  // "--" ends our options, as it always did
    parsed.args.insert(parsed.args.end(), after_separator.begin(), after_separator.end());
  return parsed;
}

}  // namespace

Result<ParsedCommandLine> ParseCommandLine(int argc, char** argv) {
  // The fast parse, with the named action's options only, stands when it succeeds and finds
  // that same action; otherwise (an error, --help, an option of another action, a value that
  // happened to spell an action) the whole table decides, so every message and every result
  // is the whole table's.
  const std::string_view named = NamedAction(argc, argv);
  auto fast = ParseWith(OptionScope{false, named}, argc, argv);
  if (fast.ok() && (fast->help_or_version || fast->action == named)) return fast;
  return ParseWith(OptionScope{true, {}}, argc, argv);
}

}  // namespace zcryptsetup
