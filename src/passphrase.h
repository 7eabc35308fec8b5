// Where a passphrase comes from, as cryptsetup reads it: a key file (or '-' for standard input,
// read whole), else the terminal without echo, else one line of standard input.
#pragma once

#include <cstdint>
#include <string>

#include "luks2ext/error.h"
#include "luks2ext/secret.h"

namespace zcryptsetup {

struct PassphraseSource {
  std::string key_file;        // "" = ask; "-" = standard input
  uint64_t keyfile_offset = 0;
  uint64_t keyfile_size = 0;   // 0 = all (up to the 8 MiB cryptsetup limit); at most 8 MiB
  uint32_t timeout_seconds = 0;  // a terminal prompt gives up after this long; 0 = never
};

// Reads the passphrase. `prompt` is shown when asking on a terminal; with `verify`, asks a
// second time and fails (exit 2) when the two differ.
// A key file must be a regular file or a block device (exit 1 otherwise: a FIFO would hang the
// boot); one that others may read or write is used with a warning on stderr. keyfile-offset
// seeks in a file (exit 1 past its end) and is read and discarded on standard input.
luks2ext::Result<luks2ext::Secret> ReadPassphrase(const PassphraseSource& source,
                                                  const std::string& prompt, bool verify);

// ReadPassphrase with cryptsetup's prompt "Enter passphrase for DEVICE: ", formatted only when
// it is shown (on a terminal): with a key file or piped input, formatting it is work stock
// cryptsetup does not do, and under emulation code to translate (docs/performance.md).
luks2ext::Result<luks2ext::Secret> ReadDevicePassphrase(const PassphraseSource& source,
                                                        const std::string& device, bool verify);

// True when standard input is a terminal and so questions can be asked.
bool InteractiveInput();

// What standard input is, for the crypttab rule of where a passphrase comes from
// (docs/crypttab.md): a terminal (ask on it), a stream a script feeds (a FIFO or a regular
// file: read one line), or nothing to read from (/dev/null or another character device, a
// socket, a directory, or closed: ask through systemd's password agents).
enum class InputKind { kTerminal, kStream, kNone };
InputKind StandardInputKind();

// Asks a yes/no question as cryptsetup does ("Type 'yes' in capital letters"); true to go on.
bool ConfirmOnTerminal(const std::string& question);

// cryptsetup's question before a change that cannot be undone, asked only when someone can
// answer it: not in batch mode (-q), and standard input a terminal. Unasked, the answer is
// yes, as cryptsetup's. True to go on.
bool ConfirmUnlessBatch(bool batch_mode, const std::string& question);

}  // namespace zcryptsetup
