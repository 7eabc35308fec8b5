// Where the LUKS2 metadata, its journal copy and the data segment go on a drive. Pure
// functions of the drive geometry and the user's options: no I/O, so every geometry can be
// tested on the host (docs/format.md describes the result on disk).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include "luks2ext/block_device.h"
#include "luks2ext/error.h"
#include "luks2ext/units.h"

namespace luks2ext {

// The planner's choices; the limits of the format itself are in luks2/format.h.
// LUKS2 defaults, as cryptsetup picks them: one header copy (binary header + JSON area) is
// 16 KiB, and the keyslots area fills the rest of the first 16 MiB.
inline constexpr uint64_t kDefaultHeaderSize = 16 * KiB;
inline constexpr uint64_t kDefaultKeyslotsSize = 16 * MiB - 2 * kDefaultHeaderSize;
// A smaller keyslots area is chosen for small zones only while it still holds this many keyslots.
inline constexpr uint32_t kMinKeyslots = 8;

// How metadata is written.
enum class Placement {
  kStandard,           // ordinary disk: in place, exactly like cryptsetup
  kConventionalZones,  // conventional zones at LBA 0: in place, data at a zone boundary
  kSequentialZones,    // sequential zones: reset, write in order, finish; journal zone
};
const char* PlacementName(Placement placement);

struct LayoutRequest {
  uint64_t header_size = 0;              // --luks2-metadata-size; 0 = default
  uint64_t keyslots_size = 0;            // --luks2-keyslots-size; 0 = default (fit to zone)
  std::optional<uint64_t> data_offset;   // --offset, in bytes
  bool zone_journal = true;              // --no-zone-journal clears it
  uint32_t volume_key_bytes = 64;        // sizes the minimum keyslots area
};

struct Layout {
  Placement placement = Placement::kStandard;
  uint64_t header_size = kDefaultHeaderSize;    // one copy, binary header + JSON area
  uint64_t keyslots_size = kDefaultKeyslotsSize;
  uint64_t home_offset = 0;                     // LUKS2 needs its primary header at 0
  std::optional<uint64_t> journal_offset;       // journal copy (zoned placements only)
  uint64_t data_offset = 0;                     // start of the LUKS2 data segment
  uint64_t zone_size = 0;                       // 0 when not zoned
  uint64_t zone_capacity = 0;                   // capacity of the metadata zones
  uint32_t metadata_zones = 0;                  // zones before the data segment

  // Bytes [0, image_size) of the home (and journal) zone hold the LUKS2 image.
  uint64_t image_size() const { return 2 * header_size + keyslots_size; }
  // Offset of the commit record, relative to the start of a copy.
  uint64_t record_offset() const { return image_size(); }
  bool has_commit_record() const { return placement != Placement::kStandard; }
  bool is_zoned() const { return placement != Placement::kStandard; }
};

// Sizes for people and messages: "64 MiB", "16352 KiB", "12345 bytes" (exact, never rounded).
std::string SizeText(uint64_t bytes);

// The smallest keyslots area that holds `keyslots` keyslots of a volume key of this size.
uint64_t KeyslotsAreaFor(uint32_t keyslots, uint32_t volume_key_bytes);

// Bytes of the conventional zones at LBA 0 (the run before the first sequential zone), by zone
// type only: a type never changes, so the planner and every later reader agree on it even
// when a zone's condition does (a read-only or offline zone is refused where a copy would go).
uint64_t ConventionalBytes(std::span<const Zone> zones);

// How metadata is written on a drive with this geometry and these leading zones: standard on
// an ordinary disk, in place when there are conventional zones at LBA 0, else sequentially.
// The planner and every reader of an existing volume decide it here.
Placement PlacementFor(const Geometry& geometry, std::span<const Zone> leading_zones);

// Where the journal copy of an image of `image_size` bytes starts: the first zone boundary at
// or after home's image and record, moved to the first zone past the conventional ones when a
// copy there would straddle their end. The planner places it here and readers look for it
// here, so this is the one statement of the rule.
uint64_t JournalOffsetFor(uint64_t image_size, uint64_t zone_size, uint64_t conventional_bytes);

// How many zones from LBA 0 the planner needs to see: enough to count the conventional
// zones at the front and to check the metadata zones, never the whole drive.
inline constexpr uint32_t kZonesToReport = 64;

// Plans the layout. `leading_zones` are the first zones of the drive in order (from
// ReportZones(0, kZonesToReport)); empty for a non-zoned device. Refuses, with
// Error::WrongParameters or Error::WrongDevice and a message naming the sizes, any request
// that cannot be met: unaligned offset, metadata that fits no zone, a drive too small for the
// metadata plus one data zone.
Result<Layout> PlanLayout(const Geometry& geometry, std::span<const Zone> leading_zones,
                          const LayoutRequest& request);

// Plans a detached header (cryptsetup --header): the metadata on a device of its own, written
// in place there (Placement::kStandard, one image from offset 0 of that device), and the data
// segment on the drive of geometry `data` from request.data_offset, 0 by default: the whole
// drive is data. On a zoned data drive the offset must be a zone boundary (dm-crypt maps whole
// zones), and at least one zone (one encryption sector elsewhere) must follow it.
// request.zone_journal does not apply: nothing of the metadata is on the zoned drive.
Result<Layout> PlanDetachedLayout(const Geometry& data, const LayoutRequest& request);

}  // namespace luks2ext
