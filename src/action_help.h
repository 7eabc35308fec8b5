// What --help and the usage message say about the actions, built from the action table so that
// each action and sub-verb is declared once (actions.cc, and the sub-verb table of its verb).
#pragma once

#include <string>

#include "actions.h"

namespace zcryptsetup {

// The action's arguments as "Usage: zcryptsetup ACTION ..." shows them, translated. With
// sub-verbs, those that take the same arguments share one entry:
// "open|close <name>|--all, check|list [--crypttab <file>]".
std::string ActionUsage(const Action& action);

// A sub-verb and its arguments: "open <name>|--all", translated.
std::string SubVerbSynopsis(const SubVerbHelp& sub);

// One line per action (one per sub-verb of an action that has them): the synopsis, and what it
// does in a column of its own. Every line ends with '\n'.
std::string ActionList();

}  // namespace zcryptsetup
