// enroll: an outside tool (systemd-cryptenroll, clevis, cryptsetup itself) changes a volume's
// header on a drive it could not write itself. The tool works on a private copy of the newest
// metadata image; what it leaves is checked to be the same volume and written back through the
// update protocol (docs/design.md#update-protocol), all under cryptsetup's exclusive lock.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "luks2ext/block_device.h"
#include "luks2ext/error.h"

namespace luks2ext {

// What a header holds that an enrollment changes, for the user: keyslot numbers and tokens
// ("0: systemd-tpm2 (keyslot 1)").
struct KeySetSummary {
  std::uint64_t seqid = 0;
  std::vector<int> keyslots;
  std::vector<std::string> tokens;
};

struct ExternalEditOutcome {
  bool changed = false;  // false: the tool left the image as it was, nothing was written
  KeySetSummary before;
  KeySetSummary after;
};

// Runs the tool on the image file at `image_path`; its failure is returned as it is.
using ExternalTool = std::function<Status(const std::string& image_path)>;

// Holds cryptsetup's exclusive lock on `device` for the whole run; exports the newest complete
// metadata image into a new 0600 file in the first of `scratch_dirs` that is in memory (see
// ScratchFile); runs `tool` on it; checks what it left: the same size, the same UUID, data
// segment, volume key digest and requirements, every token's keyslots present, and loaded by
// libcryptsetup; writes it back crash-safely (every other copy first, the source copy last);
// wipes the file on every path. A failing tool or check writes nothing.
Result<ExternalEditOutcome> EditHeaderExternally(BlockDevice& device,
                                                 std::span<const std::string> scratch_dirs,
                                                 const ExternalTool& tool);

}  // namespace luks2ext
