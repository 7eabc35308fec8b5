// Asking for a passphrase through systemd's password agents (the ask-password protocol), as
// systemd-cryptsetup does at boot: Plymouth, the console agent and
// systemd-tty-ask-password-agent answer. zcryptsetup runs systemd-ask-password and reads the
// answer from a pipe; docs/crypttab.md says when.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "luks2ext/error.h"
#include "luks2ext/secret.h"

namespace zcryptsetup {

struct AgentQuestion {
  std::string message;         // shown by the agent ("Please enter passphrase for disk NAME:")
  std::string id;              // "cryptsetup:DEVICE": names the disk to agents
  uint64_t timeout_sec = 0;    // 0: no timeout
  std::string keyname = "cryptsetup";  // the kernel keyring cache's name (--keyname=)
  // Take the passphrases cached in the kernel keyring, if any. The cache holds every answer
  // given under the key name, wrong ones too, so all of them are returned (--multiple).
  bool accept_cached = false;
};

// The systemd-ask-password binary, looked up in a fixed list of absolute paths (never $PATH:
// this runs as root at boot); "" when none is installed.
std::string FindAskPasswordTool();

// The argument vector for `tool` (argv[0] included): --icon=drive-harddisk, --id=,
// --keyname= (the question's), --accept-cached --multiple when asked for, --timeout=, then the message.
std::vector<std::string> AskPasswordArguments(const std::string& tool,
                                              const AgentQuestion& question);

// Runs systemd-ask-password (no shell, an empty environment, standard input /dev/null, its
// standard output a pipe) and returns its answer, one passphrase a line (several only from
// the cache), in wiped memory; at most 8 MiB in all. NoPermission (exit 2) when the tool is
// missing, fails, times out or gives nothing. The answer is never logged.
luks2ext::Result<std::vector<luks2ext::Secret>> AskPasswordAgent(const AgentQuestion& question);

}  // namespace zcryptsetup
