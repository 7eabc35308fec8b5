#include "options.h"

#include <fmt/core.h>
#include <popt.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
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

// Values the parse fills in that become Options only after it, converted or checked there.
struct PendingValues {
  std::optional<uint64_t> offset_sectors;
  std::string memory_budget;
};

// What an option does with its value (nullptr for a flag).
using ApplyFn = Status (*)(const char* name, const char* value, Options& o, PendingValues& p);

template <auto Member>
Status SetFlag(const char*, const char*, Options& o, PendingValues&) {
  o.*Member = true;
  return Status::Ok();
}

template <auto Member>
Status SetText(const char*, const char* value, Options& o, PendingValues&) {
  o.*Member = value;
  return Status::Ok();
}

// Every numeric option goes through the one strict parser (luks2ext/number.h): "-1" for an
// unsigned option is refused, not wrapped to 2^64-1.
Result<uint64_t> Decimal(const char* name, const char* value, uint64_t min, uint64_t max) {
  const std::optional<uint64_t> number = luks2ext::ParseDecimalAtMost(value, max);
  if (!number || *number < min)
    return Error::WrongParameters(FormatMsg(_("--{}: '{}' is not a decimal number from {} to {}"),
                                            name, value, min, max));
  return *number;
}

template <auto Member, uint64_t Min, uint64_t Max>
Status SetNumber(const char* name, const char* value, Options& o, PendingValues&) {
  using T = std::remove_reference_t<decltype(o.*Member)>;
  static_assert(Max <= static_cast<uint64_t>(std::numeric_limits<T>::max()));
  auto number = Decimal(name, value, Min, Max);
  if (!number.ok()) return number.error();
  o.*Member = static_cast<T>(*number);
  return Status::Ok();
}

template <auto Member>
constexpr uint64_t MaxOf() {
  using T = std::remove_reference_t<decltype(std::declval<Options&>().*Member)>;
  return static_cast<uint64_t>(std::numeric_limits<T>::max());
}

Status SetPbkdf(const char*, const char* value, Options& o, PendingValues&) {
  const std::string_view kdf = value;
  if (kdf != "argon2i" && kdf != "argon2id" && kdf != "pbkdf2")
    return Error::WrongParameters(
        FormatMsg(_("Unknown --pbkdf {}: use argon2i, argon2id or pbkdf2."), kdf));
  o.pbkdf = value;
  return Status::Ok();
}

Status SetOffset(const char* name, const char* value, Options&, PendingValues& p) {
  auto sectors = Decimal(name, value, 0, std::numeric_limits<uint64_t>::max() / 512);
  if (!sectors.ok()) return sectors.error();
  p.offset_sectors = *sectors;
  return Status::Ok();
}

Status SetMemoryBudget(const char*, const char* value, Options&, PendingValues& p) {
  p.memory_budget = value;
  return Status::Ok();
}

// --perf-force_inline alone means the upstream flags; =native and =off name the other modes.
Status SetForceInline(const char*, const char* value, Options& o, PendingValues&) {
  o.perf_force_inline = value != nullptr ? value : "flags";
  return Status::Ok();
}

enum class Takes { kNothing, kValue, kOptionalValue };

// One option: its names, what it takes, its help (N_, translated when printed), what it does.
struct OptionSpec {
  const char* name;  // long name without the dashes
  char short_name;   // '\0' when none
  Takes takes;
  const char* value_name;  // --help's placeholder for the value
  const char* help;
  ApplyFn apply;
};

// Every option, in --help's order. cryptsetup's names and short letters: -h is --hash, so
// help is -? / --help.
constexpr OptionSpec kOptionTable[] = {
    // The options most actions share: prompts and messages, the key's source, the slot.
    {"batch-mode", 'q', Takes::kNothing, nullptr, N_("Do not ask for confirmation"),
     SetFlag<&Options::batch_mode>},
    {"verbose", 'v', Takes::kNothing, nullptr, N_("Shows more detailed error messages"),
     SetFlag<&Options::verbose>},
    {"debug", '\0', Takes::kNothing, nullptr, N_("Show debug messages"),
     SetFlag<&Options::debug>},
    {"key-file", 'd', Takes::kValue, "TEXT", N_("Read the key from a file ('-' for stdin)"),
     SetText<&Options::key_file>},
    {"keyfile-offset", '\0', Takes::kValue, "NUM", N_("Number of bytes to skip in keyfile"),
     SetNumber<&Options::keyfile_offset, 0, MaxOf<&Options::keyfile_offset>()>},
    {"keyfile-size", 'l', Takes::kValue, "NUM", N_("Limits the read from keyfile"),
     SetNumber<&Options::keyfile_size, 0, MaxOf<&Options::keyfile_size>()>},
    {"key-slot", 'S', Takes::kValue, "NUM", N_("Slot number for new key (default is first free)"),
     SetNumber<&Options::key_slot, 0, 31>},
    {"timeout", 't', Takes::kValue, "secs",
     N_("Timeout for interactive passphrase prompt (in seconds)"),
     SetNumber<&Options::timeout, 0, MaxOf<&Options::timeout>()>},
    {"new-keyfile", '\0', Takes::kValue, "FILE", N_("Read the key for a new slot from a file"),
     SetText<&Options::new_keyfile>},
    {"new-keyfile-offset", '\0', Takes::kValue, "NUM",
     N_("Number of bytes to skip in newly added keyfile"),
     SetNumber<&Options::new_keyfile_offset, 0, MaxOf<&Options::new_keyfile_offset>()>},
    {"new-keyfile-size", '\0', Takes::kValue, "NUM", N_("Limits the read from newly added keyfile"),
     SetNumber<&Options::new_keyfile_size, 0, MaxOf<&Options::new_keyfile_size>()>},
    {"new-key-slot", '\0', Takes::kValue, "NUM", N_("Slot number for new key (default is first free)"),
     SetNumber<&Options::new_key_slot, 0, 31>},
    {"tries", 'T', Takes::kValue, "NUM",
     N_("How often the input of the passphrase can be retried"),
     SetNumber<&Options::tries, 1, 1000>},
    {"type", 'M', Takes::kValue, "TEXT", N_("Type of device metadata: luks2 (the only one)"),
     SetText<&Options::type>},
    // The cipher and the PBKDF of new keyslots (luksFormat, luksAddKey, luksChangeKey).
    {"cipher", 'c', Takes::kValue, "TEXT", N_("The cipher used to encrypt the disk"),
     SetText<&Options::cipher>},
    {"key-size", 's', Takes::kValue, "NUM", N_("The size of the encryption key (bits)"),
     SetNumber<&Options::key_size, 0, MaxOf<&Options::key_size>()>},
    {"hash", 'h', Takes::kValue, "TEXT", N_("The hash used by the PBKDF and the LUKS2 digest"),
     SetText<&Options::hash>},
    {"pbkdf", '\0', Takes::kValue, "TEXT", N_("PBKDF algorithm: argon2i, argon2id, pbkdf2"),
     SetPbkdf},
    {"iter-time", 'i', Takes::kValue, "NUM", N_("PBKDF iteration time (ms)"),
     SetNumber<&Options::iter_time, 0, MaxOf<&Options::iter_time>()>},
    {"pbkdf-memory", '\0', Takes::kValue, "NUM", N_("PBKDF memory cost limit (KiB)"),
     SetNumber<&Options::pbkdf_memory, 0, MaxOf<&Options::pbkdf_memory>()>},
    {"pbkdf-parallel", '\0', Takes::kValue, "NUM", N_("PBKDF parallel cost"),
     SetNumber<&Options::pbkdf_parallel, 0, MaxOf<&Options::pbkdf_parallel>()>},
    {"pbkdf-force-iterations", '\0', Takes::kValue, "NUM",
     N_("PBKDF iterations cost (forced, disables benchmark)"),
     SetNumber<&Options::pbkdf_force_iterations, 0, MaxOf<&Options::pbkdf_force_iterations>()>},
    // The volume luksFormat writes, and where (layout plans with some of these).
    {"sector-size", '\0', Takes::kValue, "NUM",
     N_("Encryption sector size (default: the drive's block size, at most 4096)"),
     SetNumber<&Options::sector_size, 0, MaxOf<&Options::sector_size>()>},
    {"label", '\0', Takes::kValue, "TEXT", N_("Set label for the LUKS2 device"),
     SetText<&Options::label>},
    {"subsystem", '\0', Takes::kValue, "TEXT", N_("Set subsystem label for the LUKS2 device"),
     SetText<&Options::subsystem>},
    {"uuid", '\0', Takes::kValue, "TEXT", N_("UUID for device to use"), SetText<&Options::uuid>},
    {"offset", 'o', Takes::kValue, "NUM",
     N_("The start offset in the backend device (512-byte sectors; a zone multiple on zoned "
        "drives)"),
     SetOffset},
    {"luks2-metadata-size", '\0', Takes::kValue, "TEXT", N_("LUKS2 header metadata area size"),
     SetText<&Options::luks2_metadata_size>},
    {"luks2-keyslots-size", '\0', Takes::kValue, "TEXT", N_("LUKS2 header keyslots area size"),
     SetText<&Options::luks2_keyslots_size>},
    {"no-zone-journal", '\0', Takes::kNothing, nullptr,
     N_("Zoned drives: keep no journal copy of the metadata (updates are then not "
        "crash-safe)"),
     SetFlag<&Options::no_zone_journal>},
    {"dry-run", '\0', Takes::kNothing, nullptr,
     N_("luksFormat: print the layout it would write, and write nothing"),
     SetFlag<&Options::dry_run>},
    {"verify-passphrase", 'y', Takes::kNothing, nullptr,
     N_("Verifies the passphrase by asking for it twice"), SetFlag<&Options::verify_passphrase>},
    // How open maps the volume (config persists --perf-force_inline too).
    {"perf-force_inline", '\0', Takes::kOptionalValue, "=native|=off",
     N_("Process crypto inline, without dm-crypt's workqueues (=native: the RFC's "
        "force_inline table argument)"),
     SetForceInline},
    {"perf-same_cpu_crypt", '\0', Takes::kNothing, nullptr,
     N_("Use dm-crypt same_cpu_crypt performance compatibility option"),
     SetFlag<&Options::perf_same_cpu_crypt>},
    {"perf-submit_from_crypt_cpus", '\0', Takes::kNothing, nullptr,
     N_("Use dm-crypt submit_from_crypt_cpus performance compatibility option"),
     SetFlag<&Options::perf_submit_from_crypt_cpus>},
    {"perf-no_read_workqueue", '\0', Takes::kNothing, nullptr,
     N_("Bypass dm-crypt workqueue and process read requests synchronously"),
     SetFlag<&Options::perf_no_read_workqueue>},
    {"perf-no_write_workqueue", '\0', Takes::kNothing, nullptr,
     N_("Bypass dm-crypt workqueue and process write requests synchronously"),
     SetFlag<&Options::perf_no_write_workqueue>},
    {"perf-high_priority", '\0', Takes::kNothing, nullptr,
     N_("Set dm-crypt workqueues and the writer thread to high priority"),
     SetFlag<&Options::perf_high_priority>},
    {"size", 'b', Takes::kValue, "SECTORS", N_("The size of the device"),
     SetNumber<&Options::size, 0, MaxOf<&Options::size>() / 512>},
    {"device-size", '\0', Takes::kValue, "bytes",
     N_("Use only specified device size (ignore rest of device), DANGEROUS!"),
     SetNumber<&Options::device_size, 0, MaxOf<&Options::device_size>()>},
    {"disable-keyring", '\0', Takes::kNothing, nullptr,
     N_("Disable loading volume keys via kernel keyring"), SetFlag<&Options::disable_keyring>},
    {"priority", '\0', Takes::kValue, "TEXT",
     N_("Keyslot priority: ignore, normal, prefer"), SetText<&Options::priority>},
    {"persistent", '\0', Takes::kNothing, nullptr, N_("Set activation flags persistent for device"),
     SetFlag<&Options::persistent>},
    {"readonly", 'r', Takes::kNothing, nullptr, N_("Create a readonly mapping"),
     SetFlag<&Options::readonly>},
    {"allow-discards", '\0', Takes::kNothing, nullptr,
     N_("Allow discards (aka TRIM) requests for device"), SetFlag<&Options::allow_discards>},
    {"test-passphrase", '\0', Takes::kNothing, nullptr,
     N_("Do not activate device, just check passphrase"), SetFlag<&Options::test_passphrase>},
    // Which LUKS2 tokens open tries before it asks for a passphrase.
    {"token-type", '\0', Takes::kValue, "TEXT",
     N_("Only tokens of this type (e.g. systemd-tpm2, luks2-keyring)"),
     SetText<&Options::token_type>},
    {"token-only", '\0', Takes::kNothing, nullptr,
     N_("Do not ask for passphrase if activation by token fails"), SetFlag<&Options::token_only>},
    {"disable-external-tokens", '\0', Takes::kNothing, nullptr,
     N_("Disable loading of external LUKS2 token plugins"),
     SetFlag<&Options::disable_external_tokens>},
    // token's options: which token, where its JSON comes from or goes, the keyring description.
    {"token-id", '\0', Takes::kValue, "NUM", N_("Token number (default: any)"),
     SetNumber<&Options::token_id, 0, 31>},
    {"json-file", '\0', Takes::kValue, "TEXT",
     N_("Read or write the JSON from or to a file ('-' for stdin or stdout)"),
     SetText<&Options::json_file>},
    {"token-replace", '\0', Takes::kNothing, nullptr, N_("Replace the current token"),
     SetFlag<&Options::token_replace>},
    {"key-description", '\0', Takes::kValue, "TEXT",
     N_("Key description (token add: the kernel keyring key of the passphrase)"),
     SetText<&Options::key_description>},
    // benchmark's own options (--cipher and --key-size are the keyslot options').
    {"inline", '\0', Takes::kNothing, nullptr,
     N_("benchmark: measure dm-crypt with and without its workqueues (force_inline) "
        "on a scratch RAM disk, or read-only on a given device"),
     SetFlag<&Options::inline_bench>},
    {"json", '\0', Takes::kNothing, nullptr, N_("benchmark --inline: print one JSON object"),
     SetFlag<&Options::json>},
    {"benchmark-seconds", '\0', Takes::kValue, "NUM",
     N_("benchmark --inline: seconds per workload and round (default 4)"),
     SetNumber<&Options::benchmark_seconds, 1, 3600>},
    {"rounds", '\0', Takes::kValue, "NUM",
     N_("benchmark --inline: rounds, modes alternated in each (default 3)"),
     SetNumber<&Options::rounds, 1, 100>},
    {"benchmark-modes", '\0', Takes::kValue, "TEXT",
     N_("benchmark --inline: workqueue, inline, native, comma-separated, or auto "
        "(default: workqueue,inline and native when the kernel takes it)"),
     SetText<&Options::benchmark_modes>},
    // luksDump's, crypttab's and the header backup's own options.
    {"dump-json-metadata", '\0', Takes::kNothing, nullptr, N_("Dump the LUKS2 JSON metadata"),
     SetFlag<&Options::dump_json_metadata>},
    {"all", '\0', Takes::kNothing, nullptr,
     N_("crypttab open/close: every entry (open skips noauto)"), SetFlag<&Options::all>},
    {"crypttab", '\0', Takes::kValue, "TEXT", N_("crypttab file (default /etc/crypttab)"),
     SetText<&Options::crypttab>},
    {"memory-budget", '\0', Takes::kValue, "TEXT",
     N_("crypttab open --all: PBKDF memory for drives opened at once (e.g. 2G; "
        "default half of the available memory)"),
     SetMemoryBudget},
    {"header-backup-file", '\0', Takes::kValue, "TEXT",
     N_("File with LUKS header and keyslots backup"), SetText<&Options::header_backup_file>},
    {"header", '\0', Takes::kValue, "TEXT", N_("Device or file with separated LUKS header"),
     SetText<&Options::header>},
};
constexpr int kOptionCount = static_cast<int>(std::size(kOptionTable));
// popt's return values: an option's index + kFirstValue; help and version after them.
constexpr int kFirstValue = 1;
constexpr int kHelpValue = kFirstValue + kOptionCount;
constexpr int kVersionValue = kHelpValue + 1;

// popt's table: ours, then help and version. popt hands every value back through
// poptGetOptArg (arg pointers stay null), so one loop applies them in command-line order.
std::vector<poptOption> PoptTable() {
  std::vector<poptOption> table;
  table.reserve(kOptionCount + 3);
  for (int i = 0; i < kOptionCount; ++i) {
    const OptionSpec& spec = kOptionTable[i];
    unsigned int info = spec.takes == Takes::kNothing ? POPT_ARG_NONE : POPT_ARG_STRING;
    if (spec.takes == Takes::kOptionalValue) info |= POPT_ARGFLAG_OPTIONAL;
    table.push_back({spec.name, spec.short_name, info, nullptr, kFirstValue + i, nullptr,
                     nullptr});
  }
  table.push_back({"help", '?', POPT_ARG_NONE, nullptr, kHelpValue, nullptr, nullptr});
  table.push_back({"version", 'V', POPT_ARG_NONE, nullptr, kVersionValue, nullptr, nullptr});
  table.push_back(POPT_TABLEEND);
  return table;
}

struct ContextDeleter {
  void operator()(poptContext context) const { poptFreeContext(context); }
};
using UniqueContext = std::unique_ptr<std::remove_pointer_t<poptContext>, ContextDeleter>;
struct FreeDeleter {
  void operator()(char* text) const { std::free(text); }
};

void PrintHelp() {
  std::string text = FormatMsg(
      "{}\n{}\n\n{}\n",
      _("zcryptsetup: LUKS2 disk encryption for zoned (SMR, ZNS) and ordinary drives"),
      _("Usage: zcryptsetup [OPTIONS] <action> <action-specific>"), _("Options:"));
  auto line = [&text](const std::string& names, const char* help) {
    constexpr size_t kColumn = 32;
    text += "  " + names;
    if (names.size() + 2 < kColumn)
      text.append(kColumn - names.size() - 2, ' ');
    else
      text += "\n" + std::string(kColumn, ' ');
    text += help;
    text += '\n';
  };
  line("-?, --help", _("Show this help message"));
  line("-V, --version", _("Display program version information and exit"));
  for (const OptionSpec& spec : kOptionTable) {
    std::string names = spec.short_name ? FormatMsg("-{}, --{}", spec.short_name, spec.name)
                                        : FormatMsg("--{}", spec.name);
    if (spec.takes == Takes::kValue) names += FormatMsg(" {}", spec.value_name);
    if (spec.takes == Takes::kOptionalValue) names += FormatMsg("[{}]", spec.value_name);
    line(names, _(spec.help));
  }
  // TRANSLATORS: {} is the list of actions, one line each.
  text += "\n" + FormatMsg(_("<action> is one of:\n"
                             "{}\n"
                             "Exit codes: 0 ok, 1 wrong parameters, 2 no permission or bad "
                             "passphrase,\n"
                             "3 out of memory, 4 wrong device, 5 device busy or exists."),
                           ActionList());
  fmt::print(stdout, "{}\n", text);
}

// What the options loop saw: which options were given, the pending values, help and version.
struct OptionsSeen {
  std::vector<bool> given = std::vector<bool>(kOptionCount, false);
  PendingValues pending;
  bool help = false;
  bool version = false;

  bool Given(std::string_view name) const {
    for (int i = 0; i < kOptionCount; ++i)
      if (given[i] && name == kOptionTable[i].name) return true;
    return false;
  }
};

// Applies every option of the command line, in its order, to `o`.
Status ReadOptions(poptContext context, Options& o, OptionsSeen& seen) {
  int next = 0;
  while ((next = poptGetNextOpt(context)) > 0) {
    if (next == kHelpValue) {
      seen.help = true;
    } else if (next == kVersionValue) {
      seen.version = true;
    } else if (const int index = next - kFirstValue; index >= 0 && index < kOptionCount) {
      const OptionSpec& spec = kOptionTable[index];
      const std::unique_ptr<char, FreeDeleter> value(poptGetOptArg(context));
      RETURN_IF_ERROR(spec.apply(spec.name, value.get(), o, seen.pending));
      seen.given[index] = true;
    }
  }
  if (next < -1)
    return Error::WrongParameters(FormatMsg(
        "{}: {}", poptBadOption(context, POPT_BADOPTION_NOALIAS), poptStrerror(next)));
  return Status::Ok();
}

// Moves the pending values into `o` and checks what one option alone could not.
Status FinishOptions(const OptionsSeen& seen, Options& o) {
  o.offset = seen.pending.offset_sectors;
  if (!seen.pending.memory_budget.empty()) {
    ASSIGN_OR_RETURN(o.memory_budget, ParseSize(seen.pending.memory_budget, "--memory-budget"));
  }
  o.given_label = seen.Given("label");
  o.given_subsystem = seen.Given("subsystem");
  o.given_cipher = seen.Given("cipher");
  o.given_key_size = seen.Given("key-size");
  if (o.perf_force_inline != "" && o.perf_force_inline != "flags" &&
      o.perf_force_inline != "native" && o.perf_force_inline != "off")
    return Error::WrongParameters(
        FormatMsg(_("Unknown --perf-force_inline mode '{}': use --perf-force_inline, "
                    "--perf-force_inline=native (open) or --perf-force_inline=off (config)."),
                  o.perf_force_inline));
  return Status::Ok();
}

}  // namespace

Status ParseCommandLine(int argc, char** argv, ParsedCommandLine& parsed) {
  Options& o = parsed.options;

  // enroll's tool command follows the first "--" and is never parsed as our options.
  std::vector<const char*> ours(argv, argv + argc);
  std::vector<std::string> after_separator;
  if (auto separator =
          std::find(ours.begin() + std::min(argc, 1), ours.end(), std::string_view("--"));
      separator != ours.end()) {
    after_separator.assign(separator + 1, ours.end());
    ours.erase(separator, ours.end());
  }
  // popt would take the next word as an optional value ("--perf-force_inline /dev/sdb" would
  // read the device as the mode): the bare flag is spelled with its mode here.
  for (const char*& word : ours)
    if (std::string_view(word) == "--perf-force_inline") word = "--perf-force_inline=flags";

  const std::vector<poptOption> table = PoptTable();
  UniqueContext context(poptGetContext("zcryptsetup", static_cast<int>(ours.size()), ours.data(),
                                       table.data(), 0));
  if (!context) return Error::OutOfMemory(_("Cannot parse the command line."));
  OptionsSeen seen;
  RETURN_IF_ERROR(ReadOptions(context.get(), o, seen));
  if (seen.help) PrintHelp();
  if (seen.version) fmt::print(stdout, "{}", "zcryptsetup " ZCRYPTSETUP_VERSION "\n");
  parsed.help_or_version = seen.help || seen.version;
  if (parsed.help_or_version) return Status::Ok();
  // Room first: a vector that grows runs its reallocation code, which a process meets once and
  // under emulation pays to translate (docs/performance.md).
  parsed.given.reserve(kOptionCount);
  for (int i = 0; i < kOptionCount; ++i)
    if (seen.given[i]) parsed.given.emplace_back(kOptionTable[i].name);
  RETURN_IF_ERROR(FinishOptions(seen, o));

  o.positional.reserve(static_cast<std::size_t>(argc));
  while (const char* argument = poptGetArg(context.get())) o.positional.emplace_back(argument);
  if (o.positional.empty()) o.positional = std::move(after_separator);  // "zcryptsetup -- open ..."
  if (o.positional.empty())
    return Error::WrongParameters(_("Argument <action> missing. Try 'zcryptsetup --help'."));
  parsed.action = o.positional.front();
  parsed.args.assign(o.positional.begin() + 1, o.positional.end());
  if (parsed.action == "enroll")
    o.enroll_command = std::move(after_separator);
  else  // "--" ends our options, as it always did
    parsed.args.insert(parsed.args.end(), after_separator.begin(), after_separator.end());
  return Status::Ok();
}

}  // namespace zcryptsetup
