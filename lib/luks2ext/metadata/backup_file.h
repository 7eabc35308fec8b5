// The file I/O of luksHeaderBackup and luksHeaderRestore: a header backup file read whole, or
// created and written whole. What the bytes mean is the callers' business (volume_updates.cc).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "luks2ext/error.h"

namespace luks2ext {

// The bytes of the regular file `path`, refused (WrongParameters) when it cannot be opened or
// read, is not a regular file, or is larger than any LUKS2 image can be: a backup file is
// untrusted input and must not make us read without bound.
Result<std::vector<uint8_t>> ReadBackupFile(const std::string& path);

// Creates `path`, exclusively and readable by its owner only (0400, as cryptsetup creates a
// backup: it holds every keyslot), writes `bytes` and syncs them. An existing file is Busy and
// left alone; a file that could not be written whole is removed.
Status WriteBackupFile(const std::string& path, const std::vector<uint8_t>& bytes);

}  // namespace luks2ext
