// `crypttab open --all`: opens drives in parallel, one child process per drive (libcryptsetup
// keeps process-wide backend state, so processes, not threads). The sum of the PBKDF memory of
// the openers running at once stays under a budget: argon2 may ask for up to 1 GiB per drive,
// and 60 drives at boot must not exhaust memory. Each child's real peak memory comes back
// through wait4(), so the printed peak is measured, not estimated.
#pragma once

#include <cstdint>
#include <vector>

#include "luks2ext/crypttab.h"
#include "luks2ext/opener_schedule.h"
#include "luks2ext/error.h"
#include "options.h"

namespace zcryptsetup {

// Half of what the kernel calls available: the default budget for PBKDF memory at once.
uint64_t DefaultMemoryBudget();

// Opens every entry that is neither noauto nor already active, at most `budget` bytes of
// PBKDF memory at once. Passphrases are asked for first, one drive after the other. Each
// drive's end is printed as it comes, then a summary. Fails with the first failure of an
// entry without nofail; every failure is reported on stderr.
luks2ext::Status OpenAll(const std::vector<luks2ext::CrypttabEntry>& entries, uint64_t budget,
                         const Options& options);

}  // namespace zcryptsetup
