#include "luks2ext/layout.h"

#include <fmt/format.h>

#include <algorithm>

#include "base/i18n.h"
#include "luks2/format.h"

namespace luks2ext {

namespace {

constexpr uint64_t kStandardDataAlignment = 1 * MiB;

uint64_t RoundUp(uint64_t value, uint64_t unit) { return (value + unit - 1) / unit * unit; }
uint64_t RoundDown(uint64_t value, uint64_t unit) { return value / unit * unit; }

Status CheckRequest(const LayoutRequest& request) {
  if (request.header_size != 0 && !IsValidHdrSize(request.header_size))
    return Error::WrongParameters(FormatMsg(
        _("Unsupported LUKS2 metadata size {}: use a power of two from 16 KiB to 4 MiB."),
        SizeText(request.header_size)));
  if (request.keyslots_size % kLuks2Alignment != 0 ||
      request.keyslots_size > kMaxKeyslotsSize)
    return Error::WrongParameters(FormatMsg(
        _("Unsupported LUKS2 keyslots area size {}: use a multiple of 4 KiB up to 128 MiB."),
        SizeText(request.keyslots_size)));
  if (request.data_offset && *request.data_offset % 512 != 0)
    return Error::WrongParameters(_("The data offset must be a multiple of 512 bytes."));
  return Status::Ok();
}

// cryptsetup's defaults: the keyslots area fills what the headers leave of 16 MiB.
uint64_t DefaultKeyslotsSize(uint64_t header_size) {
  return header_size == kDefaultHeaderSize ? kDefaultKeyslotsSize
                                           : 16 * MiB - 2 * std::min(header_size, kMaxHdrSize);
}

// Where a copy would go, for the messages that refuse it: each kind of place gets whole
// sentences of its own, so that no message is assembled from translated fragments.
struct CopyPlace {
  bool conventional = false;  // in the conventional zones at LBA 0
  uint64_t zone = 0;          // otherwise this zone
};

Error UserKeyslotsDoNotFit(const CopyPlace& place, uint64_t header_size, uint64_t keyslots_size,
                           uint64_t room) {
  const std::string image = SizeText(2 * header_size + keyslots_size);
  if (place.conventional)
    return Error::WrongParameters(FormatMsg(
        _("LUKS2 metadata of {} (headers {} x 2, keyslots area {}) plus the {} commit record "
          "does not fit in the conventional zones at LBA 0, which hold {}."),
        image, SizeText(header_size), SizeText(keyslots_size), SizeText(kCommitRecordSize),
        SizeText(room)));
  return Error::WrongParameters(FormatMsg(
      _("LUKS2 metadata of {} (headers {} x 2, keyslots area {}) plus the {} commit record does "
        "not fit in zone {}, whose capacity is {}."),
      image, SizeText(header_size), SizeText(keyslots_size), SizeText(kCommitRecordSize),
      place.zone, SizeText(room)));
}

Error TooSmallForMinimum(const CopyPlace& place, uint64_t room, uint64_t header_size,
                         uint64_t minimum, uint32_t volume_key_bytes) {
  const uint64_t needed = 2 * header_size + minimum + kCommitRecordSize;
  if (place.conventional)
    return Error::WrongDevice(FormatMsg(
        _("The conventional zones at LBA 0 ({}) cannot hold the LUKS2 metadata: it needs {} "
          "(headers {} x 2, {} keyslots of a {}-bit key in {}, commit record {})."),
        SizeText(room), SizeText(needed), SizeText(header_size), kMinKeyslots,
        volume_key_bytes * 8, SizeText(minimum), SizeText(kCommitRecordSize)));
  return Error::WrongDevice(FormatMsg(
      _("Zone {} (capacity {}) cannot hold the LUKS2 metadata: it needs {} (headers {} x 2, {} "
        "keyslots of a {}-bit key in {}, commit record {})."),
      place.zone, SizeText(room), SizeText(needed), SizeText(header_size), kMinKeyslots,
      volume_key_bytes * 8, SizeText(minimum), SizeText(kCommitRecordSize)));
}

Error JournalDoesNotFit(const CopyPlace& place, uint64_t copy_size, uint64_t room) {
  if (place.conventional)
    return Error::WrongParameters(FormatMsg(
        _("The journal copy ({}) does not fit in the conventional zones at LBA 0: {} are left "
          "at its offset."),
        SizeText(copy_size), SizeText(room)));
  return Error::WrongParameters(
      FormatMsg(_("The journal copy ({}) does not fit in zone {}, whose capacity is {}."),
                SizeText(copy_size), place.zone, SizeText(room)));
}

// Chooses the keyslots area so that image + commit record fit in `room` bytes at `place`: the
// user's size if given (refused when it does not fit), else the default, shrunk to the room
// but never below kMinKeyslots keyslots.
Result<uint64_t> FitKeyslots(const LayoutRequest& request, uint64_t header_size, uint64_t room,
                             const CopyPlace& place) {
  const uint64_t fixed = 2 * header_size + kCommitRecordSize;
  if (request.keyslots_size != 0) {
    if (fixed + request.keyslots_size > room)
      return UserKeyslotsDoNotFit(place, header_size, request.keyslots_size, room);
    return request.keyslots_size;
  }
  const uint64_t wanted = DefaultKeyslotsSize(header_size);
  const uint64_t available = room > fixed ? RoundDown(room - fixed, kLuks2Alignment) : 0;
  const uint64_t minimum = KeyslotsAreaFor(kMinKeyslots, request.volume_key_bytes);
  if (available < minimum)
    return TooSmallForMinimum(place, room, header_size, minimum, request.volume_key_bytes);
  return std::min(wanted, available);
}

Result<Layout> PlanStandard(const Geometry& geometry, const LayoutRequest& request) {
  Layout layout;
  layout.placement = Placement::kStandard;
  layout.header_size = request.header_size ? request.header_size : kDefaultHeaderSize;
  layout.keyslots_size =
      request.keyslots_size ? request.keyslots_size : DefaultKeyslotsSize(layout.header_size);
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

// What the leading zones offer a metadata copy. A copy lies either wholly in the conventional
// zones at LBA 0 (written in place, across their boundaries) or wholly in one zone.
class MetadataRoom {
 public:
  MetadataRoom(std::span<const Zone> zones, uint64_t zone_size)
      : zones_(zones), zone_size_(zone_size), conventional_bytes_(ConventionalBytes(zones)) {}

  uint64_t conventional_bytes() const { return conventional_bytes_; }

  // The bytes a copy starting at `offset` may use; an error when none may start there.
  Result<uint64_t> At(uint64_t offset) const {
    if (offset < conventional_bytes_) return ConventionalRoomAt(offset);
    const uint64_t index = offset / zone_size_;
    if (offset % zone_size_ != 0 || index >= zones_.size())
      return Error::WrongDevice(_("The drive has too few zones for the metadata."));
    const Zone& zone = zones_[index];
    RETURN_IF_ERROR(CheckWritable(zone, index));
    if (zone.capacity == 0)
      return Error::WrongDevice(FormatMsg(_("Zone {} reports a capacity of 0 bytes."), index));
    return std::min(zone.capacity, zone.length);  // a copy never crosses the zone end
  }

  CopyPlace PlaceAt(uint64_t offset) const {
    return CopyPlace{offset < conventional_bytes_, offset / zone_size_};
  }

 private:
  static Status CheckWritable(const Zone& zone, uint64_t index) {
    if (zone.condition == ZoneCondition::kReadOnly || zone.condition == ZoneCondition::kOffline)
      return Error::WrongDevice(FormatMsg(_("Zone {} is {}; it cannot hold LUKS2 metadata."),
                                          index, ZoneConditionName(zone.condition)));
    return Status::Ok();
  }

  // In the conventional run: up to its end, or to the first zone that takes no writes.
  Result<uint64_t> ConventionalRoomAt(uint64_t offset) const {
    uint64_t end = offset;
    for (uint64_t index = offset / zone_size_; end < conventional_bytes_; ++index) {
      const Zone& zone = zones_[index];
      if (zone.condition == ZoneCondition::kReadOnly ||
          zone.condition == ZoneCondition::kOffline) {
        if (end == offset) return CheckWritable(zone, index).error();
        break;
      }
      end = zone.start + zone.length;
    }
    return std::min(end, conventional_bytes_) - offset;
  }

  std::span<const Zone> zones_;
  uint64_t zone_size_;
  uint64_t conventional_bytes_;
};

// Both copies placed with the keyslots area sized to some room.
struct CopyPlan {
  uint64_t keyslots_size = 0;
  uint64_t copy_size = 0;  // image and commit record
  std::optional<uint64_t> journal_offset;
  uint64_t journal_room = 0;
  uint64_t end = 0;  // past the last copy

  bool JournalFits() const { return !journal_offset || copy_size <= journal_room; }
};

Result<CopyPlan> TryPlaceCopies(const LayoutRequest& request, uint64_t header_size,
                                uint64_t room, const MetadataRoom& rooms, uint64_t zone_size) {
  CopyPlan plan;
  ASSIGN_OR_RETURN(plan.keyslots_size, FitKeyslots(request, header_size, room, rooms.PlaceAt(0)));
  const uint64_t image_size = 2 * header_size + plan.keyslots_size;
  plan.copy_size = image_size + kCommitRecordSize;
  plan.end = plan.copy_size;
  if (!request.zone_journal) return plan;
  plan.journal_offset = JournalOffsetFor(image_size, zone_size, rooms.conventional_bytes());
  ASSIGN_OR_RETURN(plan.journal_room, rooms.At(*plan.journal_offset));
  plan.end = *plan.journal_offset + plan.copy_size;
  return plan;
}

// The primary header must sit at offset 0: home is zone 0 (and the conventional zones after
// it). The journal starts at the next zone boundary, so a reader finds it by zone even when
// home is torn. The keyslots area is sized to home's room; when the journal's zone holds less
// (a ZNS zone capacity, the end of the conventional zones), it is sized once more to that,
// unless the user chose its size.
Result<CopyPlan> PlaceCopies(const LayoutRequest& request, uint64_t header_size,
                             const MetadataRoom& rooms, uint64_t zone_size) {
  ASSIGN_OR_RETURN(const uint64_t home_room, rooms.At(0));
  ASSIGN_OR_RETURN(CopyPlan plan,
                   TryPlaceCopies(request, header_size, home_room, rooms, zone_size));
  if (!plan.JournalFits() && request.keyslots_size == 0) {
    ASSIGN_OR_RETURN(plan, TryPlaceCopies(request, header_size,
                                          std::min(home_room, plan.journal_room), rooms,
                                          zone_size));
  }
  if (!plan.JournalFits())
    return JournalDoesNotFit(rooms.PlaceAt(*plan.journal_offset), plan.copy_size,
                             plan.journal_room);
  return plan;
}

// The user's --offset, when given, replaces the first zone boundary past the metadata.
Status ApplyDataOffset(const LayoutRequest& request, Layout& layout) {
  if (!request.data_offset) return Status::Ok();
  if (*request.data_offset % layout.zone_size != 0)
    return Error::WrongParameters(FormatMsg(
        _("Requested data offset {} is not a multiple of the zone size {}."),
        SizeText(*request.data_offset), SizeText(layout.zone_size)));
  if (*request.data_offset < layout.data_offset)
    return Error::WrongParameters(FormatMsg(
        _("Requested data offset {} overlaps the metadata zones; the smallest is {}."),
        SizeText(*request.data_offset), SizeText(layout.data_offset)));
  layout.data_offset = *request.data_offset;
  return Status::Ok();
}

Result<Layout> PlanZoned(const Geometry& geometry, std::span<const Zone> zones,
                         const LayoutRequest& request) {
  const uint64_t zone_size = geometry.zone_size;
  if (zone_size == 0 || zones.empty())
    return Error::WrongDevice(_("The drive reports a zoned model but no zones."));
  if (zone_size % kLuks2Alignment != 0)
    return Error::WrongDevice(FormatMsg(
        _("Zone size {} is not a multiple of 4 KiB; zcryptsetup cannot place LUKS2 metadata."),
        SizeText(zone_size)));

  Layout layout;
  layout.zone_size = zone_size;
  layout.header_size = request.header_size ? request.header_size : kDefaultHeaderSize;
  const MetadataRoom rooms(zones, zone_size);
  ASSIGN_OR_RETURN(const CopyPlan plan,
                   PlaceCopies(request, layout.header_size, rooms, zone_size));
  layout.keyslots_size = plan.keyslots_size;
  layout.journal_offset = plan.journal_offset;
  layout.data_offset = RoundUp(plan.end, zone_size);
  layout.placement = PlacementFor(geometry, zones);
  layout.zone_capacity = zones.front().capacity;  // as Volume::Open reports it
  RETURN_IF_ERROR(ApplyDataOffset(request, layout));
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

uint64_t ConventionalBytes(std::span<const Zone> zones) {
  uint64_t bytes = 0;
  for (const Zone& zone : zones) {
    if (zone.is_sequential()) break;
    bytes += zone.length;
  }
  return bytes;
}

Placement PlacementFor(const Geometry& geometry, std::span<const Zone> leading_zones) {
  if (!geometry.is_zoned()) return Placement::kStandard;
  return ConventionalBytes(leading_zones) > 0 ? Placement::kConventionalZones
                                              : Placement::kSequentialZones;
}

uint64_t JournalOffsetFor(uint64_t image_size, uint64_t zone_size, uint64_t conventional_bytes) {
  const uint64_t copy = image_size + kCommitRecordSize;
  uint64_t journal = RoundUp(copy, zone_size);
  if (journal < conventional_bytes && journal + copy > conventional_bytes)
    journal = RoundUp(conventional_bytes, zone_size);
  return journal;
}

uint64_t KeyslotsAreaFor(uint32_t keyslots, uint32_t volume_key_bytes) {
  return keyslots * RoundUp(uint64_t{volume_key_bytes} * kAfStripes, kLuks2Alignment);
}

Result<Layout> PlanLayout(const Geometry& geometry, std::span<const Zone> leading_zones,
                          const LayoutRequest& request) {
  RETURN_IF_ERROR(CheckRequest(request));
  if (!geometry.is_zoned()) return PlanStandard(geometry, request);
  return PlanZoned(geometry, leading_zones, request);
}

Result<Layout> PlanDetachedLayout(const Geometry& data, const LayoutRequest& request) {
  RETURN_IF_ERROR(CheckRequest(request));
  Layout layout;
  layout.placement = Placement::kStandard;
  layout.header_size = request.header_size ? request.header_size : kDefaultHeaderSize;
  layout.keyslots_size =
      request.keyslots_size ? request.keyslots_size : DefaultKeyslotsSize(layout.header_size);
  layout.data_offset = request.data_offset.value_or(0);
  // libcryptsetup's rule for a data offset given with a detached header: past both binary
  // headers, with the keyslots area shrunk to what lies between them and the offset.
  if (layout.data_offset != 0) {
    if (layout.data_offset < 2 * layout.header_size + kLuks2Alignment)
      return Error::WrongParameters(FormatMsg(
          _("Requested data offset {} is too small: a header of this size needs at least {}."),
          SizeText(layout.data_offset), SizeText(2 * layout.header_size + kLuks2Alignment)));
    layout.keyslots_size =
        std::min(layout.keyslots_size, RoundDown(layout.data_offset - 2 * layout.header_size,
                                                 kLuks2Alignment));
  }
  // What must follow the offset: one zone on a zoned drive, else one 4 KiB encryption sector.
  uint64_t least_data = kLuks2Alignment;
  if (data.is_zoned()) {
    if (data.zone_size == 0)
      return Error::WrongDevice(_("The drive reports a zoned model but no zone size."));
    if (layout.data_offset % data.zone_size != 0)
      return Error::WrongParameters(FormatMsg(
          _("Requested data offset {} is not a multiple of the zone size {}."),
          SizeText(layout.data_offset), SizeText(data.zone_size)));
    least_data = data.zone_size;
  }
  if (data.size < least_data || data.size - least_data < layout.data_offset)
    return Error::WrongDevice(FormatMsg(
        _("Device is too small: {} for data from offset {}."), SizeText(data.size),
        SizeText(layout.data_offset)));
  return layout;
}

}  // namespace luks2ext
