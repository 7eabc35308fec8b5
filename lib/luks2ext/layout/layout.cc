#include "luks2ext/layout.h"

#include <fmt/format.h>

#include <algorithm>

#include "base/i18n.h"

namespace luks2ext {

namespace {

constexpr uint64_t kMetadataAlignment = 4 * KiB;  // LUKS2 areas are 4 KiB aligned
constexpr uint64_t kStandardDataAlignment = 1 * MiB;

uint64_t RoundUp(uint64_t value, uint64_t unit) { return (value + unit - 1) / unit * unit; }
uint64_t RoundDown(uint64_t value, uint64_t unit) { return value / unit * unit; }

bool IsValidHeaderSize(uint64_t size) {
  // LUKS2 allows 16 KiB ... 4 MiB, powers of two (binary header + JSON area).
  for (uint64_t s = 16 * KiB; s <= 4 * MiB; s *= 2)
    if (size == s) return true;
  return false;
}

Status CheckRequest(const LayoutRequest& request) {
  if (request.header_size != 0 && !IsValidHeaderSize(request.header_size))
    return Error::WrongParameters(FormatMsg(
        _("Unsupported LUKS2 metadata size {}: use a power of two from 16 KiB to 4 MiB."),
        SizeText(request.header_size)));
  if (request.keyslots_size % kMetadataAlignment != 0 ||
      request.keyslots_size > kMaxKeyslotsSize)
    return Error::WrongParameters(FormatMsg(
        _("Unsupported LUKS2 keyslots area size {}: use a multiple of 4 KiB up to 128 MiB."),
        SizeText(request.keyslots_size)));
  if (request.data_offset && *request.data_offset % 512 != 0)
    return Error::WrongParameters(_("The data offset must be a multiple of 512 bytes."));
  return Status::Ok();
}

// cryptsetup's defaults: the keyslots area fills what the headers leave of 16 MiB.
uint64_t DefaultKeyslotsSizeText(uint64_t header_size) {
  return header_size == kDefaultHeaderSize ? kDefaultKeyslotsSize
                                           : 16 * MiB - 2 * std::min(header_size, 4 * MiB);
}

// Chooses the keyslots area so that image + commit record fit in `room` bytes: the user's size
// if given (refused when it does not fit), else the default, shrunk to the room but never below
// kMinKeyslots keyslots.
Result<uint64_t> FitKeyslots(const LayoutRequest& request, uint64_t header_size, uint64_t room,
                             const std::string& where) {
  const uint64_t fixed = 2 * header_size + kCommitRecordSize;
  if (request.keyslots_size != 0) {
    if (fixed + request.keyslots_size > room)
      return Error::WrongParameters(FormatMsg(
          _("LUKS2 metadata of {} (headers {} x 2, keyslots area {}) plus the {} commit record "
            "does not fit in {} of {}."),
          SizeText(2 * header_size + request.keyslots_size), SizeText(header_size),
          SizeText(request.keyslots_size), SizeText(kCommitRecordSize), where, SizeText(room)));
    return request.keyslots_size;
  }
  const uint64_t wanted = DefaultKeyslotsSizeText(header_size);
  const uint64_t available = room > fixed ? RoundDown(room - fixed, kMetadataAlignment) : 0;
  const uint64_t minimum = KeyslotsAreaFor(kMinKeyslots, request.volume_key_bytes);
  if (available < minimum)
    return Error::WrongDevice(FormatMsg(
        _("{} of {} cannot hold the LUKS2 metadata: it needs {} (headers {} x 2, {} keyslots "
          "of a {}-bit key in {}, commit record {})."),
        where, SizeText(room), SizeText(fixed + minimum), SizeText(header_size), kMinKeyslots,
        request.volume_key_bytes * 8, SizeText(minimum), SizeText(kCommitRecordSize)));
  return std::min(wanted, available);
}

Result<Layout> PlanStandard(const Geometry& geometry, const LayoutRequest& request) {
  Layout layout;
  layout.placement = Placement::kStandard;
  layout.header_size = request.header_size ? request.header_size : kDefaultHeaderSize;
  layout.keyslots_size =
      request.keyslots_size ? request.keyslots_size : DefaultKeyslotsSizeText(layout.header_size);
  const uint64_t minimum_offset = RoundUp(layout.image_size(), kStandardDataAlignment);
  layout.data_offset = request.data_offset.value_or(minimum_offset);
  if (layout.data_offset < layout.image_size())
    return Error::WrongParameters(FormatMsg(
        _("Requested data offset {} is inside the LUKS2 metadata area ({})."),
        SizeText(layout.data_offset), SizeText(layout.image_size())));
  if (geometry.size <= layout.data_offset)
    return Error::WrongDevice(FormatMsg(
        _("Device is too small: {} for LUKS2 metadata and data offset {}."),
        SizeText(geometry.size), SizeText(layout.data_offset)));
  return layout;
}

Result<Layout> PlanZoned(const Geometry& geometry, std::span<const Zone> zones,
                         const LayoutRequest& request) {
  const uint64_t zone_size = geometry.zone_size;
  if (zone_size == 0 || zones.empty())
    return Error::WrongDevice(_("The drive reports a zoned model but no zones."));
  if (zone_size % kMetadataAlignment != 0)
    return Error::WrongDevice(FormatMsg(
        _("Zone size {} is not a multiple of 4 KiB; zcryptsetup cannot place LUKS2 metadata."),
        SizeText(zone_size)));

  Layout layout;
  layout.zone_size = zone_size;
  layout.header_size = request.header_size ? request.header_size : kDefaultHeaderSize;

  // Conventional zones at LBA 0 take random writes, so a copy there is written in place.
  uint64_t conventional_bytes = 0;
  for (const Zone& zone : zones) {
    if (zone.is_sequential()) break;
    // A read-only or offline zone takes no metadata: the writable space ends before it.
    if (zone.condition == ZoneCondition::kReadOnly || zone.condition == ZoneCondition::kOffline)
      break;
    conventional_bytes += zone.length;
  }
  // A copy lies either wholly in the conventional space or wholly in one sequential zone.
  auto room_at = [&](uint64_t offset) -> Result<uint64_t> {
    if (offset < conventional_bytes) return conventional_bytes - offset;
    const uint64_t index = offset / zone_size;
    if (offset % zone_size != 0 || index >= zones.size())
      return Error::WrongDevice(_("The drive has too few zones for the metadata."));
    const Zone& zone = zones[index];
    if (zone.condition == ZoneCondition::kReadOnly || zone.condition == ZoneCondition::kOffline)
      return Error::WrongDevice(FormatMsg(_("Zone {} is {}; it cannot hold LUKS2 metadata."),
                                          index, ZoneConditionName(zone.condition)));
    if (zone.capacity == 0)
      return Error::WrongDevice(FormatMsg(_("Zone {} reports a capacity of 0 bytes."), index));
    return std::min(zone.capacity, zone.length);  // a copy never crosses the zone end
  };
  auto describe = [&](uint64_t offset) {
    return offset < conventional_bytes ? std::string(_("the conventional zones at LBA 0"))
                                       : FormatMsg(_("zone {} (capacity)"), offset / zone_size);
  };

  // The primary header must sit at offset 0: home is zone 0 (and following conventional
  // zones). The journal starts at the next zone boundary, so a reader finds it by zone even
  // when home is torn; it may be conventional or sequential.
  ASSIGN_OR_RETURN(const uint64_t home_room, room_at(0));
  uint64_t room = home_room;
  for (int attempt = 0; attempt < 2; ++attempt) {
    ASSIGN_OR_RETURN(layout.keyslots_size,
                     FitKeyslots(request, layout.header_size, room, describe(0)));
    const uint64_t copy_size = layout.image_size() + kCommitRecordSize;
    uint64_t end = copy_size;
    layout.journal_offset.reset();
    if (request.zone_journal) {
      const uint64_t journal =
          JournalOffsetFor(layout.image_size(), zone_size, conventional_bytes);
      ASSIGN_OR_RETURN(const uint64_t journal_room, room_at(journal));
      if (copy_size > journal_room) {
        if (request.keyslots_size != 0 || attempt == 1)
          return Error::WrongParameters(FormatMsg(
              _("The journal copy ({}) does not fit in {} of {}."), SizeText(copy_size),
              describe(journal), SizeText(journal_room)));
        room = std::min(room, journal_room);  // shrink the keyslots area for both copies
        continue;
      }
      layout.journal_offset = journal;
      end = journal + copy_size;
    }
    layout.data_offset = RoundUp(end, zone_size);
    break;
  }
  layout.placement =
      conventional_bytes > 0 ? Placement::kConventionalZones : Placement::kSequentialZones;
  layout.zone_capacity = zones.front().capacity;  // as Volume::Open reports it

  if (request.data_offset) {
    if (*request.data_offset % zone_size != 0)
      return Error::WrongParameters(FormatMsg(
          _("Requested data offset {} is not a multiple of the zone size {}."),
          SizeText(*request.data_offset), SizeText(zone_size)));
    if (*request.data_offset < layout.data_offset)
      return Error::WrongParameters(FormatMsg(
          _("Requested data offset {} overlaps the metadata zones; the smallest is {}."),
          SizeText(*request.data_offset), SizeText(layout.data_offset)));
    layout.data_offset = *request.data_offset;
  }
  layout.metadata_zones = static_cast<uint32_t>(layout.data_offset / zone_size);
  if (geometry.size < layout.data_offset + zone_size)
    return Error::WrongDevice(FormatMsg(
        _("Device is too small: {} holds no data zone after {} of metadata zones."),
        SizeText(geometry.size), SizeText(layout.data_offset)));
  return layout;
}

}  // namespace

std::string SizeText(uint64_t bytes) {
  if (bytes != 0 && bytes % GiB == 0) return fmt::format("{} GiB", bytes / GiB);
  if (bytes != 0 && bytes % MiB == 0) return fmt::format("{} MiB", bytes / MiB);
  if (bytes != 0 && bytes % KiB == 0) return fmt::format("{} KiB", bytes / KiB);
  return fmt::format("{} bytes", bytes);
}

const char* PlacementName(Placement placement) {
  switch (placement) {
    case Placement::kStandard: return "standard";
    case Placement::kConventionalZones: return "conventional-zones";
    case Placement::kSequentialZones: return "sequential-zones";
  }
  return "unknown";
}

uint64_t JournalOffsetFor(uint64_t image_size, uint64_t zone_size, uint64_t conventional_bytes) {
  const uint64_t copy = image_size + kCommitRecordSize;
  uint64_t journal = RoundUp(copy, zone_size);
  if (journal < conventional_bytes && journal + copy > conventional_bytes)
    journal = RoundUp(conventional_bytes, zone_size);
  return journal;
}

uint64_t KeyslotsAreaFor(uint32_t keyslots, uint32_t volume_key_bytes) {
  return keyslots * RoundUp(uint64_t{volume_key_bytes} * kAfStripes, kMetadataAlignment);
}

Result<Layout> PlanLayout(const Geometry& geometry, std::span<const Zone> leading_zones,
                          const LayoutRequest& request) {
  RETURN_IF_ERROR(CheckRequest(request));
  if (!geometry.is_zoned()) return PlanStandard(geometry, request);
  return PlanZoned(geometry, leading_zones, request);
}

}  // namespace luks2ext
