// Keeping the passphrases and keys of this process out of swap and core dumps.
#pragma once

#include "options.h"

namespace zcryptsetup {

// Keeps this process's secrets out of swap and core dumps: mlockall(MCL_CURRENT | MCL_FUTURE)
// and PR_SET_DUMPABLE 0. A memory lock that cannot be had is only a warning (with --verbose),
// as in cryptsetup. Memory locks are not inherited across fork(2): a child that handles keys
// calls this again.
void ProtectSecrets(const Options& options);

}  // namespace zcryptsetup
