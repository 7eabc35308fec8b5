// What blkid sees on a device before luksFormat overwrites it.
#pragma once

#include <optional>
#include <string>

#include "luks2ext/error.h"

namespace luks2ext {

// The filesystem/RAID/crypto signature blkid finds on the device ("ext4", "crypto_LUKS"...),
// or nullopt when there is none.
Result<std::optional<std::string>> ProbeSignature(const std::string& path);

}  // namespace luks2ext
