// luksHeaderRestore and what it checks first. (luksHeaderBackup is Volume::BackupHeader: it
// needs a volume to read.)
#pragma once

#include <optional>
#include <string>

#include "luks2ext/block_device.h"
#include "luks2ext/error.h"

namespace luks2ext {

// luksHeaderRestore: checks `backup_path` (a LUKS2 metadata image of exactly its declared
// size, made by zcryptsetup or stock cryptsetup, whose data segment fits this drive's layout)
// before anything is reset, then writes it as every copy with a seqid above every copy on the
// drive, so that recovery never prefers the header it replaced. The drive need not hold a
// valid header. Returns the UUID of the restored header.
// With `detached_data` (cryptsetup --header), `device` is a detached header
// (CheckDetachedHeaderDevice) and the backup's data segment must fit that data drive instead.
Result<std::string> RestoreHeader(BlockDevice& device, const std::string& backup_path,
                                  BlockDevice* detached_data = nullptr);

// What RestoreHeader would replace: the UUID on the drive now (nullopt when there is no valid
// LUKS2 header), so the CLI can ask before replacing a different volume's header.
Result<std::optional<std::string>> CurrentUuid(BlockDevice& device);
// The UUID a backup file holds, after the same checks RestoreHeader makes on it.
Result<std::string> BackupUuid(BlockDevice& device, const std::string& backup_path,
                               BlockDevice* detached_data = nullptr);

}  // namespace luks2ext
