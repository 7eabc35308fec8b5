// The action table: each verb, its arguments, the options it accepts and its handler.
#pragma once

#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "luks2ext/error.h"
#include "luks2ext/format_options.h"
#include "luks2ext/volume.h"
#include "options.h"
#include "passphrase.h"

namespace zcryptsetup {

struct Invocation {
  const Options& options;
  const std::vector<std::string>& args;

  PassphraseSource passphrase_source() const {
    return {options.key_file, options.keyfile_offset, options.keyfile_size, options.timeout};
  }
  // Whether a new passphrase (luksFormat, luksAddKey, luksChangeKey) is asked twice: on a
  // terminal, unless -q, or with -y (cryptsetup's rule for new passphrases).
  bool verify_new_passphrase() const {
    return InteractiveInput() && (options.verify_passphrase || !options.batch_mode);
  }
  // Where the verb reads and writes the metadata: the detached header (--header) when given,
  // else the device argument `index` (cryptsetup's uuid_or_device_header). The verbs that
  // only change metadata ignore the device argument beside --header, as cryptsetup does.
  const std::string& metadata_device(size_t index = 0) const {
    return options.header.empty() ? args[index] : options.header;
  }
};

using ActionHandler = luks2ext::Status (*)(const Invocation&);

// A sub-verb of an action (crypttab open, crypttab check, ...) as --help and the usage message
// show it. The action that has sub-verbs declares them in its own table.
struct SubVerbHelp {
  const char* name;
  const char* usage;    // its arguments (N_), "" when none
  const char* summary;  // what it does, for --help (N_)
};

struct Action {
  const char* name;
  const char* alias;  // nullptr when none
  size_t min_args;
  size_t max_args;
  // The arguments (N_). With sub-verbs: what follows every one of them.
  const char* usage;
  // What the action does, for --help (N_); a '\n' continues it on a line of its own. Unused
  // with sub-verbs, which have summaries of their own.
  const char* summary;
  ActionHandler run;
  std::span<const std::string_view> options;  // long names allowed beyond the common ones
  // The verb reads a passphrase or handles key material: before it runs, its memory is locked
  // and the process made non-dumpable (ProtectSecrets).
  bool handles_keys = false;
  const std::vector<SubVerbHelp>& (*sub_verbs)() = nullptr;  // nullptr when it has none
};

// Every action, in the order --help lists them.
std::span<const Action> Actions();

// Runs the parsed command line: finds the action, checks its arguments and options against the
// table, protects secrets if the action handles keys, and calls it.
luks2ext::Status RunAction(const ParsedCommandLine& command);

// The PBKDF options for new keyslots (luksFormat, luksAddKey, luksChangeKey).
luks2ext::PbkdfOptions PbkdfFrom(const Options& o);

// luksFormat's options as the library takes them (also what `layout` plans with).
luks2ext::Result<luks2ext::FormatOptions> FormatOptionsFrom(const Options& o);

// Verb handlers, one file per group.
luks2ext::Status ActionLuksFormat(const Invocation& call);
luks2ext::Status ActionOpen(const Invocation& call);
luks2ext::Status ActionRefresh(const Invocation& call);
luks2ext::Status ActionLuksSuspend(const Invocation& call);
luks2ext::Status ActionResize(const Invocation& call);
luks2ext::Status ActionLuksResume(const Invocation& call);
luks2ext::Status ActionClose(const Invocation& call);
luks2ext::Status ActionStatus(const Invocation& call);
luks2ext::Status ActionLuksDump(const Invocation& call);
luks2ext::Status ActionIsLuks(const Invocation& call);
luks2ext::Status ActionLuksUuid(const Invocation& call);
// luksUUID --uuid: the change (verb_header.cc); ActionLuksUuid hands it over.
luks2ext::Status SetVolumeUuid(const Invocation& call);
luks2ext::Status ActionLuksAddKey(const Invocation& call);
luks2ext::Status ActionLuksChangeKey(const Invocation& call);
luks2ext::Status ActionLuksConvertKey(const Invocation& call);
luks2ext::Status ActionLuksRemoveKey(const Invocation& call);
luks2ext::Status ActionErase(const Invocation& call);
luks2ext::Status ActionLuksKillSlot(const Invocation& call);
luks2ext::Status ActionConfig(const Invocation& call);
luks2ext::Status ActionLuksHeaderBackup(const Invocation& call);
luks2ext::Status ActionLuksHeaderRestore(const Invocation& call);
luks2ext::Status ActionEnroll(const Invocation& call);
luks2ext::Status ActionRepair(const Invocation& call);
luks2ext::Status ActionLayout(const Invocation& call);
luks2ext::Status ActionBenchmark(const Invocation& call);
luks2ext::Status ActionCrypttab(const Invocation& call);
const std::vector<SubVerbHelp>& CrypttabSubVerbs();
luks2ext::Status ActionToken(const Invocation& call);
const std::vector<SubVerbHelp>& TokenSubVerbs();

// Messages for the user (stdout), and verbose notes (stderr, with -v).
void PrintNote(const std::string& text);
void PrintVerbose(const Options& options, const std::string& text);
// What Volume::Open found worth telling (a torn or older copy), on stderr, each line after
// `prefix` (crypttab names the drive).
void PrintWarnings(const luks2ext::Volume& volume, const std::string& prefix = "");

// A volume and the drive it was read from, which must outlive it.
struct OpenedVolume {
  std::unique_ptr<luks2ext::BlockDevice> device;
  std::unique_ptr<luks2ext::Volume> volume;
};
// Opens the drive (`writable` for the verbs that update it), reads its metadata with `scope`
// and prints the warnings (a torn or older copy) before the verb goes on. The verbs that change
// metadata only give it the detached header's path with --header (Invocation::metadata_device).
luks2ext::Result<OpenedVolume> OpenVolume(const std::string& path, bool writable,
                                          luks2ext::Volume::ReadScope scope);

// A volume for the verbs that map its data (open, refresh, resize, luksResume, crypttab open):
// with a detached `header` (--header, crypttab header=) the metadata is read there and
// `data_path` is the data drive, opened read-only (dm-crypt opens it itself); without one both
// are on `data_path`. `writable` applies to the drive holding the metadata.
struct MappableVolume {
  std::unique_ptr<luks2ext::BlockDevice> data;
  std::unique_ptr<luks2ext::BlockDevice> header;  // null without a detached header
  std::unique_ptr<luks2ext::Volume> volume;       // last: destroyed before the drives it reads
};
luks2ext::Result<MappableVolume> OpenMappableVolume(const std::string& data_path,
                                                    const std::string& header, bool writable);

}  // namespace zcryptsetup
