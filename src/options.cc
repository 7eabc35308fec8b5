#include "options.h"

#include <CLI/CLI.hpp>

#include <cctype>
#include <limits>
#include <optional>
#include <iostream>

#include "i18n.h"
#include "luks2ext/number.h"

namespace zcryptsetup {

using luks2ext::Error;

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
CLI::Option* AddNumber(CLI::App& app, const std::string& names, T& target,
                       const std::string& help, uint64_t min = 0,
                       uint64_t max = std::numeric_limits<T>::max()) {
  return app
      .add_option_function<std::string>(
          names,
          [&target, names, min, max](const std::string& text) {
            const std::optional<uint64_t> value = luks2ext::ParseDecimalAtMost(text, max);
            if (!value || *value < min)
              throw CLI::ValidationError(
                  names, FormatMsg(_("'{}' is not a decimal number from {} to {}"), text, min, max));
            target = static_cast<T>(*value);
          },
          help)
      ->type_name("NUM");
}

}  // namespace

Result<ParsedCommandLine> ParseCommandLine(int argc, char** argv) {
  ParsedCommandLine parsed;
  Options& o = parsed.options;
  CLI::App app{_("zcryptsetup: LUKS2 disk encryption for zoned (SMR, ZNS) and ordinary drives")};
  app.name("zcryptsetup");
  // cryptsetup uses -h for --hash; help is -? / --help.
  app.set_help_flag("-?,--help", _("Show this help message"));
  app.set_version_flag("-V,--version", "zcryptsetup " ZCRYPTSETUP_VERSION);
  app.footer(_("<action> is one of:\n"
               "  luksFormat <device> [<new key file>]   format a LUKS2 volume\n"
               "  open|luksOpen <device> <name>          open a LUKS2 device as mapping <name>\n"
               "  close <name>                           remove the mapping\n"
               "  status <name>                          show the mapping's status\n"
               "  luksDump <device>                      dump the header and its placement\n"
               "  isLuks <device>                        tests <device> for a LUKS2 header\n"
               "  luksUUID <device>                      print the UUID\n"
               "  luksAddKey <device> [<new key file>]   add a key\n"
               "  luksChangeKey <device> [<new key file>] change a key\n"
               "  luksRemoveKey <device> [<key file>]    remove the key a passphrase opens\n"
               "  luksKillSlot <device> <key slot>       wipe a keyslot\n"
               "  config <device>                        set --label, --subsystem, persistent\n"
               "                                         --perf-force_inline[=off]\n"
               "  luksHeaderBackup <device>              back the header up (--header-backup-file)\n"
               "  luksHeaderRestore <device>             restore it (--header-backup-file)\n"
               "  repair <device>                        rewrite torn or stale metadata copies\n"
               "  crypttab open <name>|--all             open drives listed in /etc/crypttab\n"
               "  crypttab close <name>|--all            close them\n"
               "  crypttab check                         report every bad crypttab line\n"
               "  crypttab list                          list the entries and their state\n"
               "  layout <device>                        the drive's zones and where metadata and\n"
               "                                         data lie (or would lie)\n"
               "\n"
               "Exit codes: 0 ok, 1 wrong parameters, 2 no permission or bad passphrase,\n"
               "3 out of memory, 4 wrong device, 5 device busy or exists."));

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
  AddNumber(app, "--sector-size", o.sector_size, _("Encryption sector size (default: the drive's block size, at most 4096)"));
  app.add_option("--label", o.label, _("Set label for the LUKS2 device"));
  app.add_option("--subsystem", o.subsystem, _("Set subsystem label for the LUKS2 device"));
  app.add_option("--uuid", o.uuid, _("UUID for device to use"));
  uint64_t offset_sectors = 0;
  CLI::Option* offset_option = AddNumber(
      app, "-o,--offset", offset_sectors,
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
  app.add_flag("--perf-force_inline{flags}", o.perf_force_inline,
               _("Process crypto inline, without dm-crypt's workqueues (=native: the RFC's "
                 "force_inline table argument)"));
  app.add_flag("--persistent", o.persistent, _("Set activation flags persistent for device"));
  app.add_flag("-r,--readonly", o.readonly, _("Create a readonly mapping"));
  app.add_flag("--allow-discards", o.allow_discards, _("Allow discards (aka TRIM) requests for device"));
  app.add_flag("--test-passphrase", o.test_passphrase,
               _("Do not activate device, just check passphrase"));
  app.add_flag("--dump-json-metadata", o.dump_json_metadata, _("Dump the LUKS2 JSON metadata"));
  app.add_flag("--all", o.all, _("crypttab open/close: every entry (open skips noauto)"));
  app.add_option("--crypttab", o.crypttab, _("crypttab file (default /etc/crypttab)"));
  std::string memory_budget;
  app.add_option("--memory-budget", memory_budget,
                 _("crypttab open --all: PBKDF memory for drives opened at once (e.g. 2G; "
                   "default half of the available memory)"));
  app.add_option("--header-backup-file", o.header_backup_file,
                 _("File with LUKS header and keyslots backup"));
  app.add_option("action_and_args", o.positional, _("<action> <action-specific>"));

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    std::cout << app.help();
    parsed.help_or_version = true;
    return parsed;
  } catch (const CLI::CallForVersion&) {
    std::cout << "zcryptsetup " ZCRYPTSETUP_VERSION "\n";
    parsed.help_or_version = true;
    return parsed;
  } catch (const CLI::ParseError& e) {
    return Error::WrongParameters(e.what());
  }

  for (const CLI::Option* option : app.get_options()) {
    if (option->count() == 0 || option->get_lnames().empty()) continue;
    parsed.given.push_back(option->get_lnames().front());
  }
  if (offset_option->count() > 0) o.offset = offset_sectors;
  if (!memory_budget.empty()) {
    ASSIGN_OR_RETURN(o.memory_budget, ParseSize(memory_budget, "--memory-budget"));
  }
  o.given_label = app.get_option("--label")->count() > 0;
  o.given_subsystem = app.get_option("--subsystem")->count() > 0;
  if (o.perf_force_inline != "" && o.perf_force_inline != "flags" &&
      o.perf_force_inline != "native" && o.perf_force_inline != "off")
    return Error::WrongParameters(FormatMsg(
        _("Unknown --perf-force_inline mode '{}': use --perf-force_inline, "
          "--perf-force_inline=native (open) or --perf-force_inline=off (config)."),
        o.perf_force_inline));
  if (o.positional.empty())
    return Error::WrongParameters(_("Argument <action> missing. Try 'zcryptsetup --help'."));
  parsed.action = o.positional.front();
  parsed.args.assign(o.positional.begin() + 1, o.positional.end());
  return parsed;
}

}  // namespace zcryptsetup
