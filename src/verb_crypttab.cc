// crypttab open|close|check|list: drives from /etc/crypttab (crypttab(5)). The sub-verb table
// below declares each sub-verb once: what it takes, what it does (for --help and the usage
// message) and its handler. `open --all` is crypttab_scheduler.cc.
#include <fmt/core.h>

#include <cstdio>

#include "action_help.h"
#include "actions.h"
#include "crypttab_open.h"
#include "crypttab_scheduler.h"
#include "i18n.h"
#include "luks2ext/activation.h"
#include "luks2ext/crypttab.h"

namespace zcryptsetup {

using luks2ext::CrypttabEntry;
using luks2ext::Error;
using luks2ext::Status;

namespace {

// What a sub-verb works on.
struct CrypttabCall {
  const Options& options;
  std::string path;  // the crypttab file
  std::string name;  // the entry named on the command line; "" with --all or none
};

struct SubVerb {
  SubVerbHelp help;
  // Takes an entry's name or --all, one of the two; otherwise neither.
  bool takes_name_or_all;
  Status (*run)(const CrypttabCall& call);
};

Result<std::vector<CrypttabEntry>> LoadEntries(const std::string& path, bool report_problems) {
  std::vector<luks2ext::CrypttabProblem> problems;
  ASSIGN_OR_RETURN(std::vector<CrypttabEntry> entries,
                   luks2ext::ParseCrypttabFile(path, &problems));
  if (report_problems)
    for (const auto& problem : problems)
      fmt::print(stderr, "{}\n", FormatMsg("{}:{}: {}", path, problem.line, problem.message));
  return entries;
}

Status Open(const CrypttabCall& call) {
  const Options& o = call.options;
  ASSIGN_OR_RETURN(const std::vector<CrypttabEntry> entries, LoadEntries(call.path, true));
  if (o.all) return OpenAll(entries, o.memory_budget ? o.memory_budget : DefaultMemoryBudget(), o);
  const CrypttabEntry* entry = luks2ext::FindCrypttabEntry(entries, call.name);
  if (!entry)
    return Error::WrongParameters(FormatMsg(_("No entry named {} in {}."), call.name, call.path));
  CrypttabJob job;
  RETURN_IF_ERROR(PrepareCrypttabJob(*entry, job));
  return OpenCrypttabEntry(*entry, job.device, std::nullopt, o.test_passphrase);
}

// Closes the active entries in reverse order (a later entry may stand on an earlier one).
Status CloseAll(const std::vector<CrypttabEntry>& entries) {
  Status first_failure;
  for (auto it = entries.rbegin(); it != entries.rend(); ++it) {
    if (!luks2ext::MappingExists(it->name)) continue;
    if (Status s = luks2ext::Deactivate(it->name); !s.ok()) {
      fmt::print(stderr, "{}: {}\n", it->name, s.error().message());
      if (first_failure.ok()) first_failure = s;
    } else {
      fmt::print(stdout, "{}\n", FormatMsg(_("{}: closed"), it->name));
    }
  }
  return first_failure;
}

Status Close(const CrypttabCall& call) {
  ASSIGN_OR_RETURN(const std::vector<CrypttabEntry> entries, LoadEntries(call.path, true));
  if (call.options.all) return CloseAll(entries);
  if (!luks2ext::FindCrypttabEntry(entries, call.name))
    return Error::WrongParameters(FormatMsg(_("No entry named {} in {}."), call.name, call.path));
  return luks2ext::Deactivate(call.name);
}

Status Check(const CrypttabCall& call) {
  const std::string& path = call.path;
  std::vector<luks2ext::CrypttabProblem> problems;
  ASSIGN_OR_RETURN(auto entries, luks2ext::ParseCrypttabFile(path, &problems));
  for (const auto& problem : problems)
    fmt::print(stdout, "{}\n", FormatMsg("{}:{}: {}", path, problem.line, problem.message));
  for (const CrypttabEntry& entry : entries)
    for (const std::string& option : entry.options.ignored)
      fmt::print(
          stdout, "{}\n",
          FormatMsg(_("{}:{}: warning: unknown option '{}' is ignored"), path, entry.line, option));
  fmt::print(stdout, "{}\n",
             FormatMsg(_("{}: {} entries, {} bad lines"), path, entries.size(), problems.size()));
  if (!problems.empty())
    return Error::WrongParameters(FormatMsg(_("{} has {} bad lines."), path, problems.size()));
  return Status::Ok();
}

// The options that are set, as crypttab spells them.
std::string OptionWords(const luks2ext::CrypttabOptions& op) {
  std::string words;
  for (auto [set, word] : {std::pair{op.force_inline, "force-inline"},
                           {op.read_only, "read-only"},
                           {op.discard, "discard"},
                           {op.noauto, "noauto"},
                           {op.nofail, "nofail"}})
    if (set) words += (words.empty() ? "" : ",") + std::string(word);
  return words;
}

Status List(const CrypttabCall& call) {
  ASSIGN_OR_RETURN(const std::vector<CrypttabEntry> entries, LoadEntries(call.path, false));
  fmt::print(
      stdout, "{}",
      FormatMsg("{:<16} {:<40} {:<8} {}\n", _("NAME"), _("DEVICE"), _("STATE"), _("OPTIONS")));
  for (const CrypttabEntry& entry : entries)
    fmt::print(stdout, "{}",
               FormatMsg("{:<16} {:<40} {:<8} {}\n", entry.name, entry.device,
                         luks2ext::MappingExists(entry.name) ? _("active") : _("inactive"),
                         OptionWords(entry.options)));
  return Status::Ok();
}

const std::vector<SubVerb>& SubVerbs() {
  static const std::vector<SubVerb> sub_verbs = {
      {{"open", N_("<name>|--all"), N_("open drives listed in /etc/crypttab")}, true, Open},
      {{"close", N_("<name>|--all"), N_("close them")}, true, Close},
      {{"check", "", N_("report every bad crypttab line")}, false, Check},
      {{"list", "", N_("list the entries and their state")}, false, List},
  };
  return sub_verbs;
}

const SubVerb* FindSubVerb(const std::string& name) {
  for (const SubVerb& sub : SubVerbs())
    if (name == sub.help.name) return &sub;
  return nullptr;
}

std::string SubVerbNames() {
  std::string names;
  for (const SubVerb& sub : SubVerbs())
    names += (names.empty() ? "" : ", ") + std::string(sub.help.name);
  return names;
}

}  // namespace

const std::vector<SubVerbHelp>& CrypttabSubVerbs() {
  static const std::vector<SubVerbHelp> help = [] {
    std::vector<SubVerbHelp> list;
    for (const SubVerb& sub : SubVerbs()) list.push_back(sub.help);
    return list;
  }();
  return help;
}

Status ActionCrypttab(const Invocation& call) {
  const Options& o = call.options;
  const SubVerb* sub = FindSubVerb(call.args[0]);
  if (!sub)
    return Error::WrongParameters(
        FormatMsg(_("Unknown crypttab action {}: use one of {}."), call.args[0], SubVerbNames()));
  if (o.test_passphrase && std::string_view(sub->help.name) != "open")
    return Error::WrongParameters(FormatMsg(
        _("Option --test-passphrase is not allowed with crypttab {}."), sub->help.name));
  const std::string name = call.args.size() > 1 ? call.args[1] : "";
  const bool target_ok = sub->takes_name_or_all ? name.empty() == o.all : name.empty() && !o.all;
  if (!target_ok)
    return Error::WrongParameters(FormatMsg(_("Usage: zcryptsetup crypttab {} [--crypttab <file>]"),
                                            SubVerbSynopsis(sub->help)));
  const std::string path = o.crypttab.empty() ? luks2ext::kDefaultCrypttabPath : o.crypttab;
  return sub->run(CrypttabCall{o, path, name});
}

}  // namespace zcryptsetup
