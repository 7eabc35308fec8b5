// How a drive and the placement of a volume on it are shown: one printer for luksDump,
// layout and luksFormat --dry-run, so they always say the same thing the same way.
#pragma once

#include <string>
#include <vector>

#include "luks2ext/layout.h"
#include "luks2ext/format_volume.h"
#include "luks2ext/volume.h"

namespace zcryptsetup {

// One "  Name:         value" line of the printout (luksDump adds rows of its own).
void PrintRow(const std::string& name, const std::string& value);

// `state` is "planned" or "on disk". `copies` (from a volume on disk) adds each copy's
// condition; without them the planned offsets are shown.
void PrintLayout(const std::string& device, const luks2ext::DriveSummary& drive,
                 const luks2ext::Layout& layout, const std::string& state,
                 const std::vector<luks2ext::CopySummary>* copies);

}  // namespace zcryptsetup
