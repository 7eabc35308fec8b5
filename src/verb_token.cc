// token import|export|add|remove: LUKS2 tokens, as cryptsetup-token(8). Each change is one
// crash-safe update of the metadata (luks2ext/volume.h); export only reads. The sub-verb table
// below declares each sub-verb once: its arguments and summary (for --help and the usage
// message), the options it takes beyond the device, and its handler.
#include <fcntl.h>
#include <fmt/core.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>

#include "action_help.h"
#include "actions.h"
#include "i18n.h"
#include "luks2ext/fd_io.h"
#include "luks2ext/unique_fd.h"
#include "luks2ext/volume.h"

namespace zcryptsetup {

using luks2ext::Error;
using luks2ext::Status;

namespace {

// An update re-reads the drive under the exclusive lock, so add and remove read first only
// what unlocking would (kForOpen). Export, and import before it waits for its JSON, read every
// copy under the shared lock and keep no lock.
using ReadScope = luks2ext::Volume::ReadScope;

bool IsStandardStream(const std::string& path) { return path.empty() || path == "-"; }

// The token JSON from --json-file or standard input, at most kMaxTokenJsonBytes: one byte more
// is read only to tell that the input is too long.
Result<std::string> ReadTokenJson(const Options& o) {
  luks2ext::UniqueFd file;
  int fd = STDIN_FILENO;
  if (!IsStandardStream(o.json_file)) {
    file = luks2ext::UniqueFd(open(o.json_file.c_str(), O_RDONLY | O_CLOEXEC));
    if (!file.valid())
      return Error::WrongParameters(
          FormatMsg(_("Failed to open file {} in read-only mode."), o.json_file));
    fd = file.get();
  } else if (isatty(STDIN_FILENO) && !o.batch_mode) {
    fmt::print(stdout, "{}\n", _("Provide valid LUKS2 token JSON:"));
    std::fflush(stdout);
  }
  std::string json(luks2ext::kMaxTokenJsonBytes + 1, '\0');
  const luks2ext::FdTransfer read = luks2ext::ReadFull(fd, json.data(), json.size());
  if (read.error)
    return Error::WrongParameters(
        FormatMsg(_("Failed to read JSON file: {}"), std::strerror(read.error)));
  if (read.done > luks2ext::kMaxTokenJsonBytes)
    return Error::WrongParameters(
        FormatMsg(_("The token JSON is longer than {} bytes, the most a LUKS2 header holds. "
                    "Nothing was written."),
                  luks2ext::kMaxTokenJsonBytes));
  json.resize(read.done);
  return json;
}

// To --json-file (created 0600, or truncated, as cryptsetup does) or standard output, as
// libcryptsetup serializes it and without a newline, as cryptsetup writes it.
Status WriteTokenJson(const Options& o, const std::string& json) {
  if (IsStandardStream(o.json_file)) {
    if (std::fputs(json.c_str(), stdout) == EOF || std::fflush(stdout) != 0)
      return Error::WrongParameters(_("Failed to write JSON file."));
    return Status::Ok();
  }
  luks2ext::UniqueFd file(
      open(o.json_file.c_str(), O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, 0600));
  if (!file.valid())
    return Error::WrongParameters(
        FormatMsg(_("Failed to open file {} in write mode."), o.json_file));
  if (!luks2ext::WriteFull(file.get(), json.data(), json.size()).complete())
    return Error::WrongParameters(_("Failed to write JSON file."));
  return Status::Ok();
}

Status Import(const Invocation& call) {
  const Options& o = call.options;
  // The device first, as cryptsetup: a wrong one is reported before the JSON is waited for.
  ASSIGN_OR_RETURN(OpenedVolume v,
                   OpenVolume(call.metadata_device(1), true, ReadScope::kEverything));
  ASSIGN_OR_RETURN(const std::string json, ReadTokenJson(o));
  ASSIGN_OR_RETURN(const int token,
                   v.volume->ImportToken(json, o.token_id, o.key_slot, o.token_replace));
  PrintVerbose(o, FormatMsg(_("Token {} created."), token));
  return Status::Ok();
}

Status Export(const Invocation& call) {
  ASSIGN_OR_RETURN(OpenedVolume v,
                   OpenVolume(call.metadata_device(1), false, ReadScope::kEverything));
  ASSIGN_OR_RETURN(const std::string json, v.volume->ExportToken(call.options.token_id));
  return WriteTokenJson(call.options, json);
}

Status Add(const Invocation& call) {
  const Options& o = call.options;
  ASSIGN_OR_RETURN(OpenedVolume v,
                   OpenVolume(call.metadata_device(1), true, ReadScope::kForOpen));
  ASSIGN_OR_RETURN(const int token, v.volume->AddKeyringToken(o.key_description, o.token_id,
                                                              o.key_slot, o.token_replace));
  PrintVerbose(o, FormatMsg(_("Token {} created."), token));
  return Status::Ok();
}

Status Remove(const Invocation& call) {
  ASSIGN_OR_RETURN(OpenedVolume v,
                   OpenVolume(call.metadata_device(1), true, ReadScope::kForOpen));
  RETURN_IF_ERROR(v.volume->RemoveToken(call.options.token_id));
  PrintVerbose(call.options, FormatMsg(_("Token {} removed."), call.options.token_id));
  return Status::Ok();
}

struct SubVerb {
  SubVerbHelp help;
  std::vector<std::string_view> options;  // of the token action's, those it takes
  bool needs_token_id;
  Status (*run)(const Invocation& call);
};

const std::vector<SubVerb>& SubVerbs() {
  static const std::vector<SubVerb> sub_verbs = {
      {{"import", N_("[--json-file <file>] <device>"),
        // TRANSLATORS: --help puts a summary's second line under its first.
        N_("store a token's JSON (file or standard input;\n--token-id, -S, --token-replace)")},
       {"--json-file", "--token-id", "--key-slot", "--token-replace"},
       false,
       Import},
      {{"export", N_("--token-id <id> <device>"),
        N_("write a token's JSON (--json-file or stdout)")},
       {"--json-file", "--token-id"},
       true,
       Export},
      {{"remove", N_("--token-id <id> <device>"), N_("remove a token of any type")},
       {"--token-id"},
       true,
       Remove},
      {{"add", N_("--key-description <text> <device>"),
        // TRANSLATORS: --help puts a summary's second line under its first.
        N_("add a luks2-keyring token for the passphrase\nin the kernel keyring (-S, --token-id)")},
       {"--key-description", "--token-id", "--key-slot", "--token-replace"},
       false,
       Add},
  };
  return sub_verbs;
}

std::string SubVerbNames() {
  std::string names;
  for (const SubVerb& sub : SubVerbs())
    names += (names.empty() ? "" : ", ") + std::string(sub.help.name);
  return names;
}

// cryptsetup's checks before the device is opened: the options the sub-verb uses, a key
// description for add, a token id for remove and export.
Status CheckOptions(const SubVerb& sub, const Invocation& call) {
  const Options& o = call.options;
  const std::vector<std::pair<bool, std::string_view>> given = {
      {o.token_id >= 0, "--token-id"},
      {o.key_slot >= 0, "--key-slot"},
      {!o.json_file.empty(), "--json-file"},
      {o.token_replace, "--token-replace"},
      {!o.key_description.empty(), "--key-description"}};
  for (const auto& [set, name] : given) {
    if (set && std::find(sub.options.begin(), sub.options.end(), name) == sub.options.end())
      return Error::WrongParameters(
          FormatMsg(_("Option {} is not allowed with token {}."), name, sub.help.name));
  }
  if (std::string_view(sub.help.name) == "add" && o.key_description.empty())
    return Error::WrongParameters(
        _("--key-description parameter is mandatory for token add action."));
  if (sub.needs_token_id && o.token_id < 0)
    return Error::WrongParameters(_("Action requires specific token. Use --token-id parameter."));
  return Status::Ok();
}

}  // namespace

const std::vector<SubVerbHelp>& TokenSubVerbs() {
  static const std::vector<SubVerbHelp> help = [] {
    std::vector<SubVerbHelp> list;
    for (const SubVerb& sub : SubVerbs()) list.push_back(sub.help);
    return list;
  }();
  return help;
}

Status ActionToken(const Invocation& call) {
  const auto& sub_verbs = SubVerbs();
  const auto sub = std::find_if(sub_verbs.begin(), sub_verbs.end(),
                                [&](const SubVerb& s) { return call.args[0] == s.help.name; });
  if (sub == sub_verbs.end())
    return Error::WrongParameters(
        FormatMsg(_("Unknown token action {}: use one of {}."), call.args[0], SubVerbNames()));
  RETURN_IF_ERROR(CheckOptions(*sub, call));
  return sub->run(call);
}

}  // namespace zcryptsetup
