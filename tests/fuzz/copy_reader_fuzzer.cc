// Finding and choosing a drive's metadata copies (metadata/copy_reader.h: ReadCopies, then
// StateForImage on the chosen headers) on a drive whose geometry, zone report and contents
// all come from the input; and the luksFormat layout for that drive (PlanLayoutFor).
//
// Input (integers little-endian; fuzz_device.h has the exact format): a 16-byte geometry
// (zone model, logical block size 512 .. 64 KiB, zone size, device size, flags; bytes 5..7 a
// layout request: header size, keyslots area size, journal and data offset), then up to 255
// zone records of 33 bytes, then the device's bytes from offset 0 (zeros past the input).
// A zone record is either "sane" (at its zone's start, capacity and write pointer clamped into
// the zone, as a kernel would report) or "wild" (start, length, capacity and write pointer as
// given: capacity 0, a write pointer outside the zone, zero length, any condition).
//
// Oracles: no crash or sanitizer report; every read is inside the device (the device aborts
// otherwise); nothing is ever written, reset or finished; the chosen copy is usable and no
// other usable copy has a higher seqid (docs/design.md#choosing-a-copy); the layout describes
// the chosen copy. A planned layout (for a zone report the libzbd backend would pass on,
// CheckZoneReport) keeps docs/design.md#on-disk-placement: each copy and its record inside its
// zone's capacity (or the conventional zones), home and journal apart, the data zone-aligned
// after them, inside the drive.
#include <algorithm>

#include "fuzz_check.h"
#include "fuzz_device.h"
#include "luks2/binary_header.h"
#include "luks2/format.h"
#include "luks2ext/format_volume.h"
#include "luks2ext/volume.h"
#include "metadata/copy_reader.h"

using namespace luks2ext;

namespace {

void CheckState(const VolumeState& state, const FuzzDevice& device) {
  FUZZ_CHECK(!state.copies.empty() && state.chosen < state.copies.size());
  FUZZ_CHECK(state.summaries.size() == state.copies.size());
  FUZZ_CHECK(state.summaries[state.chosen].chosen);
  const CopyState& chosen = state.chosen_copy();
  FUZZ_CHECK(chosen.usable());
  for (const CopyState& copy : state.copies) {
    if (copy.usable()) FUZZ_CHECK(copy.seqid() <= chosen.seqid());
  }
  FUZZ_CHECK(state.layout.header_size == state.headers().hdr_size());
  FUZZ_CHECK(state.layout.keyslots_size == state.headers().keyslots_size());
  if (device.geometry().is_zoned()) {
    FUZZ_CHECK(state.layout.zone_size == device.geometry().zone_size);
    FUZZ_CHECK(!state.zones.empty() && state.zones.size() <= kZonesToReport);
  } else {
    FUZZ_CHECK(state.layout.placement == Placement::kStandard && state.zones.empty());
  }
}

FormatOptions RequestFrom(std::span<const uint8_t> input) {
  FormatOptions options;
  const uint64_t header = fuzz::LoadLe(input, 5, 1) % 10;
  const uint64_t keyslots = fuzz::LoadLe(input, 6, 1);
  const uint64_t flags = fuzz::LoadLe(input, 7, 1);
  options.layout.header_size = header == 0 ? 0 : (16 * KiB) << (header - 1);
  options.layout.keyslots_size = keyslots * 32 * KiB;
  options.layout.zone_journal = (flags & 1) == 0;
  if (flags & 2) options.layout.data_offset = (flags >> 2) * 64 * KiB;
  options.key_bits = flags & 0x80 ? 256 : 512;
  return options;
}

// The room a copy at `offset` has, as docs/design.md#on-disk-placement wants it: inside the conventional
// zones at LBA 0, or inside one sequential zone's capacity.
uint64_t RoomAt(const std::vector<Zone>& zones, uint64_t offset) {
  uint64_t conventional = 0;
  for (const Zone& zone : zones) {
    if (zone.is_sequential() || zone.condition == ZoneCondition::kReadOnly ||
        zone.condition == ZoneCondition::kOffline)
      break;
    conventional += zone.length;
  }
  if (offset < conventional) return conventional - offset;
  for (const Zone& zone : zones)
    if (zone.start == offset) return std::min(zone.capacity, zone.length);
  return 0;
}

void CheckPlannedLayout(FuzzDevice& device, std::span<const uint8_t> input) {
  const Geometry& g = device.geometry();
  std::vector<Zone> zones;
  if (g.is_zoned()) {
    auto report = device.ReportZones(0, kZonesToReport);
    if (!report.ok() || !CheckZoneReport(g, 0, *report).ok()) return;
    zones = std::move(report).value();
  }
  auto planned = PlanLayoutFor(device, RequestFrom(input));
  if (!planned.ok()) return;
  const Layout& layout = *planned;
  FUZZ_CHECK(IsValidHdrSize(layout.header_size));
  FUZZ_CHECK(layout.keyslots_size % 4096 == 0 && layout.keyslots_size <= kMaxKeyslotsSize);
  FUZZ_CHECK(layout.data_offset >= layout.image_size() && layout.data_offset < g.size);
  if (!g.is_zoned()) {
    FUZZ_CHECK(layout.placement == Placement::kStandard && !layout.journal_offset);
    return;
  }
  const uint64_t copy = layout.image_size() + kCommitRecordSize;
  FUZZ_CHECK(layout.data_offset % g.zone_size == 0);
  FUZZ_CHECK(layout.data_offset + g.zone_size <= g.size);  // at least one data zone
  FUZZ_CHECK(layout.metadata_zones == layout.data_offset / g.zone_size);
  FUZZ_CHECK(copy <= RoomAt(zones, 0) && copy <= layout.data_offset);
  if (layout.journal_offset) {
    const uint64_t journal = *layout.journal_offset;
    FUZZ_CHECK(journal % g.zone_size == 0 && journal >= copy);
    FUZZ_CHECK(copy <= RoomAt(zones, journal) && journal + copy <= layout.data_offset);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzDevice device(fuzz::Bytes(data, size));
  CheckPlannedLayout(device, fuzz::Bytes(data, size));
  for (InspectDepth depth : {InspectDepth::kCheap, InspectDepth::kFull}) {
    auto state = ReadCopies(device, depth);
    if (!state.ok()) continue;
    CheckState(**state, device);
    // Where this image's copies would go on this drive (luksHeaderRestore's check).
    auto placed = StateForImage(device, (*state)->headers());
    if (placed.ok()) {
      FUZZ_CHECK((*placed)->copies.empty());
      const Layout& layout = (*placed)->layout;
      FUZZ_CHECK(layout.data_offset >= layout.image_size());
      FUZZ_CHECK(layout.data_offset < device.geometry().size);
    }
  }
  return 0;
}
