// Which keyslots an unlock tries, in libcryptsetup's order for "any keyslot": priority high (2)
// first, then normal (1), lowest number first within a priority; priority 0 ("ignore") and
// keyslots that cannot unlock (not type "luks2") only when asked for by number. Unlocking
// loads each area just before trying it, so an open reads no more than cryptsetup's does.
#pragma once

#include <vector>

#include "luks2/image.h"

namespace luks2ext {

// `requested` is --key-slot, or -1 for any. A requested slot that does not exist is
// Error::WrongParameters.
Result<std::vector<KeyslotArea>> KeyslotTryOrder(const Luks2Image& headers, int requested);

}  // namespace luks2ext
