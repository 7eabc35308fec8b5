#include "action_help.h"

#include <string_view>
#include <utility>
#include <vector>

#include "i18n.h"

namespace zcryptsetup {

namespace {

// The summaries start in this column, after a synopsis padded to it (a longer synopsis is
// followed by one blank).
constexpr size_t kSynopsisWidth = 38;
constexpr std::string_view kIndent = "  ";

// gettext maps the empty message to the catalogue's header, so "no arguments" stays empty.
std::string Translated(const char* message) {
  return *message == '\0' ? std::string() : std::string(_(message));
}

std::string Synopsis(const std::string& verb, const char* usage) {
  const std::string args = Translated(usage);
  return args.empty() ? verb : verb + " " + args;
}

// "  <synopsis, padded> <summary>\n", the summary's further lines indented to its column.
std::string HelpLine(const std::string& synopsis, const char* summary) {
  std::string line = FormatMsg("{}{:<{}} ", kIndent, synopsis, kSynopsisWidth);
  const std::string continuation = "\n" + std::string(kIndent.size() + kSynopsisWidth + 1, ' ');
  for (const char c : Translated(summary)) {
    if (c == '\n')
      line += continuation;
    else
      line += c;
  }
  return line + '\n';
}

std::string HelpLines(const Action& action) {
  if (action.sub_verbs) {
    std::string lines;
    for (const SubVerbHelp& sub : action.sub_verbs())
      lines += HelpLine(std::string(action.name) + " " + SubVerbSynopsis(sub), sub.summary);
    return lines;
  }
  std::string verb = action.name;
  if (action.alias) verb += std::string("|") + action.alias;
  return HelpLine(Synopsis(verb, action.usage), action.summary);
}

}  // namespace

std::string SubVerbSynopsis(const SubVerbHelp& sub) { return Synopsis(sub.name, sub.usage); }

std::string ActionUsage(const Action& action) {
  if (!action.sub_verbs) return Translated(action.usage);
  // Runs of sub-verbs with the same arguments: their names joined by '|', and those arguments.
  std::vector<std::pair<std::string, const char*>> groups;
  for (const SubVerbHelp& sub : action.sub_verbs()) {
    if (!groups.empty() && std::string_view(groups.back().second) == sub.usage)
      groups.back().first += std::string("|") + sub.name;
    else
      groups.emplace_back(sub.name, sub.usage);
  }
  std::string usage;
  for (const auto& [names, args] : groups)
    usage += (usage.empty() ? "" : ", ") + Synopsis(names, args);
  return Synopsis(usage, action.usage);
}

std::string ActionList() {
  std::string list;
  for (const Action& action : Actions()) list += HelpLines(action);
  return list;
}

}  // namespace zcryptsetup
