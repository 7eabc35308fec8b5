// Opening one crypttab entry, the same way for `crypttab open NAME` and for each opener process
// of `crypttab open --all`.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "luks2ext/crypttab.h"
#include "luks2ext/error.h"
#include "luks2ext/secret.h"

namespace zcryptsetup {

// One drive, prepared in the parent: where it is, what its unlock costs, its passphrase when
// it must be asked for.
struct CrypttabJob {
  const luks2ext::CrypttabEntry* entry = nullptr;
  std::string device;
  uint64_t memory = 0;  // bytes the unlock may take
  // The opener tries LUKS2 tokens first (no key file, and the volume has one): its passphrase,
  // if it comes to that, is asked for by the opener, not up front.
  bool tries_tokens = false;
  std::optional<luks2ext::Secret> passphrase;
};

// Fills in `job` for `entry`: finds its device and reads what its unlock may cost (from the
// header= file or disk for a detached header, which must exist: else WrongDevice). Refuses
// what luks2ext::CheckZcryptsetupOpens refuses (systemd-cryptsetup opens such entries).
luks2ext::Status PrepareCrypttabJob(const luks2ext::CrypttabEntry& entry, CrypttabJob& job);

// True when the passphrase of `entry` is asked through systemd's password agents: it has no
// key file and standard input is nothing to read from (InputKind::kNone; docs/crypttab.md).
bool AsksThroughAgent(const luks2ext::CrypttabEntry& entry);

// Unlocks and maps one entry with `given`, or else with its key file, or else asks for the
// passphrase: on the terminal, from standard input, or through systemd's password agents
// (StandardInputKind), up to the entry's tries and within its timeout=. keyfile-timeout=
// waits for a missing key file, then asks. Without a key file (and without `given`) the LUKS2
// tokens come first, as in systemd-cryptsetup 252 (docs/crypttab.md); headless= then never
// asks. With header= the metadata is read there and `device_path` is the data drive, as
// `open --header` does. With `test_passphrase` nothing is mapped.
luks2ext::Status OpenCrypttabEntry(const luks2ext::CrypttabEntry& entry,
                                   const std::string& device_path,
                                   const std::optional<luks2ext::Secret>& given,
                                   bool test_passphrase);

}  // namespace zcryptsetup
