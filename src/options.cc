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

// Every numeric option goes through the one strict parser (luks2ext/number.h). CLI11's own
// conversion takes "-1" for an unsigned option and wraps it to 2^64-1.
template <typename T>
CLI::Option* AddNumber(CLI::App& app, const std::string& names, T& target, const std::string& help,
                       uint64_t min = 0, uint64_t max = std::numeric_limits<T>::max()) {
  return app
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
  app.footer(
      // TRANSLATORS: {} is the list of actions, one line each.
      FormatMsg(_("<action> is one of:\n"
                  "{}\n"
                  "Exit codes: 0 ok, 1 wrong parameters, 2 no permission or bad passphrase,\n"
                  "3 out of memory, 4 wrong device, 5 device busy or exists."),
                ActionList()));
}

// The options most actions share: prompts and messages, where the key comes from, which slot.
void AddCommonOptions(CLI::App& app, Options& o) {
  app.add_flag("-q,--batch-mode", o.batch_mode, _("Do not ask for confirmation"));
  app.add_flag("-v,--verbose", o.verbose, _("Shows more detailed error messages"));
  app.add_flag("--debug", o.debug, _("Show debug messages"));
  app.add_option("-d,--key-file", o.key_file, _("Read the key from a file ('-' for stdin)"));
  AddNumber(app, "--keyfile-offset", o.keyfile_offset, _("Number of bytes to skip in keyfile"));
  AddNumber(app, "-l,--keyfile-size", o.keyfile_size, _("Limits the read from keyfile"));
  AddNumber(app, "-S,--key-slot", o.key_slot, _("Slot number for new key (default is first free)"),
            0, 31);
  AddNumber(app, "-T,--tries", o.tries, _("How often the input of the passphrase can be retried"),
            1, 1000);
  app.add_option("-M,--type", o.type, _("Type of device metadata: luks2 (the only one)"));
}

// The cipher and the PBKDF of new keyslots (luksFormat, luksAddKey, luksChangeKey).
void AddKeyslotOptions(CLI::App& app, Options& o) {
  app.add_option("-c,--cipher", o.cipher, _("The cipher used to encrypt the disk"));
  AddNumber(app, "-s,--key-size", o.key_size, _("The size of the encryption key (bits)"));
  app.add_option("-h,--hash", o.hash, _("The hash used by the PBKDF and the LUKS2 digest"));
  app.add_option("--pbkdf", o.pbkdf, _("PBKDF algorithm: argon2i, argon2id, pbkdf2"))
      ->check(CLI::IsMember({"argon2i", "argon2id", "pbkdf2"}));
  AddNumber(app, "-i,--iter-time", o.iter_time, _("PBKDF iteration time (ms)"));
  AddNumber(app, "--pbkdf-memory", o.pbkdf_memory, _("PBKDF memory cost limit (KiB)"));
  AddNumber(app, "--pbkdf-parallel", o.pbkdf_parallel, _("PBKDF parallel cost"));
  AddNumber(app, "--pbkdf-force-iterations", o.pbkdf_force_iterations,
            _("PBKDF iterations cost (forced, disables benchmark)"));
}

// The volume luksFormat writes, and where (layout plans with some of these).
void AddFormatOptions(CLI::App& app, Options& o, PendingValues& pending) {
  AddNumber(app, "--sector-size", o.sector_size,
            _("Encryption sector size (default: the drive's block size, at most 4096)"));
  app.add_option("--label", o.label, _("Set label for the LUKS2 device"));
  app.add_option("--subsystem", o.subsystem, _("Set subsystem label for the LUKS2 device"));
  app.add_option("--uuid", o.uuid, _("UUID for device to use"));
  pending.offset = AddNumber(
      app, "-o,--offset", pending.offset_sectors,
      _("The start offset in the backend device (512-byte sectors; a zone multiple on zoned "
        "drives)"),
      0, std::numeric_limits<uint64_t>::max() / 512);
  app.add_option("--luks2-metadata-size", o.luks2_metadata_size,
                 _("LUKS2 header metadata area size"));
  app.add_option("--luks2-keyslots-size", o.luks2_keyslots_size,
                 _("LUKS2 header keyslots area size"));
  app.add_flag("--no-zone-journal", o.no_zone_journal,
               _("Zoned drives: keep no journal copy of the metadata (updates are then not "
                 "crash-safe)"));
  app.add_flag("--dry-run", o.dry_run,
               _("luksFormat: print the layout it would write, and write nothing"));
  app.add_flag("-y,--verify-passphrase", o.verify_passphrase,
               _("Verifies the passphrase by asking for it twice"));
}

// Which LUKS2 tokens open tries before it asks for a passphrase.
void AddTokenUnlockOptions(CLI::App& app, Options& o) {
  app.add_option("--token-type", o.token_type,
                 _("Only tokens of this type (e.g. systemd-tpm2, luks2-keyring)"));
  app.add_flag("--token-only", o.token_only,
               _("Do not ask for passphrase if activation by token fails"));
  app.add_flag("--disable-external-tokens", o.disable_external_tokens,
               _("Disable loading of external LUKS2 token plugins"));
}

// How open maps the volume (config persists --perf-force_inline too).
void AddActivationOptions(CLI::App& app, Options& o) {
  app.add_flag("--perf-force_inline{flags}", o.perf_force_inline,
               _("Process crypto inline, without dm-crypt's workqueues (=native: the RFC's "
                 "force_inline table argument)"));
  app.add_flag("--persistent", o.persistent, _("Set activation flags persistent for device"));
  app.add_flag("-r,--readonly", o.readonly, _("Create a readonly mapping"));
  app.add_flag("--allow-discards", o.allow_discards,
               _("Allow discards (aka TRIM) requests for device"));
  app.add_flag("--test-passphrase", o.test_passphrase,
               _("Do not activate device, just check passphrase"));
  AddTokenUnlockOptions(app, o);
}

// token's options: which token, where its JSON comes from or goes, the keyring description.
void AddTokenOptions(CLI::App& app, Options& o) {
  AddNumber(app, "--token-id", o.token_id, _("Token number (default: any)"), 0, 31);
  app.add_option("--json-file", o.json_file,
                 _("Read or write the JSON from or to a file ('-' for stdin or stdout)"));
  app.add_flag("--token-replace", o.token_replace, _("Replace the current token"));
  app.add_option("--key-description", o.key_description,
                 _("Key description (token add: the kernel keyring key of the passphrase)"));
}

// luksDump's, crypttab's and the header backup's own options, then the action and its
// arguments.
void AddRemainingOptions(CLI::App& app, Options& o, PendingValues& pending) {
  app.add_flag("--dump-json-metadata", o.dump_json_metadata, _("Dump the LUKS2 JSON metadata"));
  app.add_flag("--all", o.all, _("crypttab open/close: every entry (open skips noauto)"));
  app.add_option("--crypttab", o.crypttab, _("crypttab file (default /etc/crypttab)"));
  app.add_option("--memory-budget", pending.memory_budget,
                 _("crypttab open --all: PBKDF memory for drives opened at once (e.g. 2G; "
                   "default half of the available memory)"));
  app.add_option("--header-backup-file", o.header_backup_file,
                 _("File with LUKS header and keyslots backup"));
  app.add_option("action_and_args", o.positional, _("<action> <action-specific>"));
}

// benchmark's own options (--cipher and --key-size are the keyslot options').
void AddBenchmarkOptions(CLI::App& app, Options& o) {
  app.add_flag("--inline", o.inline_bench,
               _("benchmark: measure dm-crypt with and without its workqueues (force_inline) "
                 "on a scratch RAM disk, or read-only on a given device"));
  app.add_flag("--json", o.json, _("benchmark --inline: print one JSON object"));
  AddNumber(app, "--benchmark-seconds", o.benchmark_seconds,
            _("benchmark --inline: seconds per workload and round (default 4)"), 1, 3600);
  AddNumber(app, "--rounds", o.rounds,
            _("benchmark --inline: rounds, modes alternated in each (default 3)"), 1, 100);
  app.add_option("--benchmark-modes", o.benchmark_modes,
                 _("benchmark --inline: workqueue, inline, native, comma-separated, or auto "
                   "(default: workqueue,inline and native when the kernel takes it)"));
}

// True when the command line asked for help or the version, which are then printed.
Result<bool> Parse(CLI::App& app, int argc, char** argv) {
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    std::cout << app.help();
    return true;
  } catch (const CLI::CallForVersion&) {
    std::cout << "zcryptsetup " ZCRYPTSETUP_VERSION "\n";
    return true;
  } catch (const CLI::ParseError& e) {
    return Error::WrongParameters(e.what());
  }
  return false;
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
  if (pending.offset->count() > 0) o.offset = pending.offset_sectors;
  if (!pending.memory_budget.empty()) {
    ASSIGN_OR_RETURN(o.memory_budget, ParseSize(pending.memory_budget, "--memory-budget"));
  }
  o.given_label = app.get_option("--label")->count() > 0;
  o.given_subsystem = app.get_option("--subsystem")->count() > 0;
  o.given_cipher = app.get_option("--cipher")->count() > 0;
  o.given_key_size = app.get_option("--key-size")->count() > 0;
  if (o.perf_force_inline != "" && o.perf_force_inline != "flags" &&
      o.perf_force_inline != "native" && o.perf_force_inline != "off")
    return Error::WrongParameters(
        FormatMsg(_("Unknown --perf-force_inline mode '{}': use --perf-force_inline, "
                    "--perf-force_inline=native (open) or --perf-force_inline=off (config)."),
                  o.perf_force_inline));
  return Status::Ok();
}

}  // namespace

Result<ParsedCommandLine> ParseCommandLine(int argc, char** argv) {
  ParsedCommandLine parsed;
  Options& o = parsed.options;
  CLI::App app{_("zcryptsetup: LUKS2 disk encryption for zoned (SMR, ZNS) and ordinary drives")};
  SetUpHelpAndVersion(app);
  PendingValues pending;
  AddCommonOptions(app, o);
  AddKeyslotOptions(app, o);
  AddFormatOptions(app, o, pending);
  AddActivationOptions(app, o);
  AddTokenOptions(app, o);
  AddBenchmarkOptions(app, o);
  AddRemainingOptions(app, o, pending);

  // enroll's tool command follows the first "--" and is never parsed as our options.
  std::vector<char*> ours(argv, argv + argc);
  std::vector<std::string> after_separator;
  if (auto separator = std::find(ours.begin() + std::min(argc, 1), ours.end(), std::string_view("--"));
      separator != ours.end()) {
    after_separator.assign(separator + 1, ours.end());
    ours.erase(separator, ours.end());
  }
  ASSIGN_OR_RETURN(parsed.help_or_version,
                   Parse(app, static_cast<int>(ours.size()), ours.data()));
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

}  // namespace zcryptsetup
