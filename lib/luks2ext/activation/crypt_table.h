// dm-crypt's table line as the kernel reports it (DM_TABLE_STATUS, STATUSTYPE_TABLE):
//   <cipher> <key> <iv_offset> <device> <offset> [<#opt_params> <opt_param>...]
// The key field is the volume key in hex, "-" for cipher_null, or a kernel keyring reference
// ":<key bytes>:<key type>:<description>". It is parsed where libdevmapper put it and never
// copied: only its length and whether it is a keyring reference are kept.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "luks2ext/error.h"

namespace luks2ext {

struct CryptTable {
  std::string cipher;  // "aes-xts-plain64"
  uint64_t key_bytes = 0;
  bool key_in_keyring = false;
  uint64_t iv_offset = 0;
  std::string device;  // "major:minor" as the kernel reports it
  uint64_t offset_sectors = 0;
  uint32_t sector_size = 512;
  std::vector<std::string> feature_args;  // allow_discards, sector_size:4096, ...
};

// Parses `params` (no copy of the key field is made). A missing or extra field, a number that
// is not plain decimal or does not fit, an argument count that disagrees with the arguments,
// a key field of no known form: Error::WrongDevice.
Result<CryptTable> ParseCryptTable(std::string_view params);

}  // namespace luks2ext
