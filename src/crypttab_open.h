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
  std::optional<luks2ext::Secret> passphrase;
};

// Fills in `job` for `entry`: finds its device and reads what its unlock may cost. Refuses a
// detached header (systemd-cryptsetup opens such entries).
luks2ext::Status PrepareCrypttabJob(const luks2ext::CrypttabEntry& entry, CrypttabJob& job);

// Unlocks and maps one entry with `given`, or else asks for the passphrase (the entry's tries)
// when there is no key file.
luks2ext::Status OpenCrypttabEntry(const luks2ext::CrypttabEntry& entry,
                                   const std::string& device_path,
                                   const std::optional<luks2ext::Secret>& given);

}  // namespace zcryptsetup
