#include "metadata/update_protocol.h"

#include <algorithm>
#include <limits>
#include <string>

#include "base/i18n.h"
#include "luks2/commit_record.h"
#include "metadata/device_lock.h"

namespace luks2ext {
namespace {

bool IsJournal(const CopySlot& slot) { return slot.role == CopyRole::kJournal; }

// Writes one copy. The journal's headers always get fresh salts, so that home and journal
// never hold identical header sectors (the LUKS2 spec's rule), whichever was the source.
Status WriteOne(BlockDevice& device, const CopySlot& slot, const Luks2Image& image,
                ZoneTail tail) {
  if (!IsJournal(slot)) return WriteCopy(device, slot, image, tail);
  ASSIGN_OR_RETURN(Luks2Image journal, image.Clone());
  RETURN_IF_ERROR(journal.ResealWithFreshSalts());
  return WriteCopy(device, slot, journal, tail);
}

std::vector<CopySlot> LayoutSlots(const Layout& layout, const std::vector<Zone>& zones) {
  std::vector<CopySlot> slots;  // home first, as VolumeState lists copies
  slots.push_back(SlotAt(CopyRole::kHome, layout.home_offset, zones, layout.is_zoned()));
  if (layout.journal_offset)
    slots.push_back(SlotAt(CopyRole::kJournal, *layout.journal_offset, zones, layout.is_zoned()));
  return slots;
}

// Writing a sequential zone takes one of the drive's active-zone resources until the zone is
// finished. With every resource held by data zones (NVMe ZNS allows only a handful), the first
// write after a reset would fail and leave a copy destroyed: refuse before any reset instead.
// The metadata zones themselves do not count: resetting them releases what they hold.
Status CheckActiveZoneBudget(BlockDevice& device, const std::vector<CopySlot>& slots) {
  const Geometry& geometry = device.geometry();
  const bool sequential = std::any_of(slots.begin(), slots.end(),
                                      [](const CopySlot& slot) { return slot.sequential; });
  if (!sequential || geometry.max_active_zones == 0) return Status::Ok();
  ASSIGN_OR_RETURN(const std::vector<Zone> zones, device.ReportZones(0, geometry.nr_zones));
  uint32_t active = 0;
  std::string which;
  for (const Zone& zone : zones) {
    const bool holds = zone.condition == ZoneCondition::kImplicitOpen ||
                       zone.condition == ZoneCondition::kExplicitOpen ||
                       zone.condition == ZoneCondition::kClosed;
    const bool metadata = std::any_of(slots.begin(), slots.end(), [&](const CopySlot& slot) {
      return slot.offset >= zone.start && slot.offset < zone.start + zone.length;
    });
    if (!holds || metadata) continue;
    ++active;
    if (active <= 8) which += FormatMsg("{}{}", which.empty() ? "" : ", ", zone.start / zone.length);
  }
  if (active < geometry.max_active_zones) return Status::Ok();
  return Error::Busy(FormatMsg(
      _("All {} active zones of the drive are held by data zones ({}); writing a metadata zone "
        "needs one. Finish or reset a data zone (or stop writing to the volume) and retry. "
        "Nothing was changed."),
      geometry.max_active_zones, which));
}

}  // namespace

Status WriteCopies(BlockDevice& device, const VolumeState& state, const Luks2Image& image,
                   std::optional<size_t> source, const Luks2Image* before, ZoneTail tail) {
  if (!state.layout.is_zoned()) return WriteInPlaceOrdered(device, 0, image, before);
  std::vector<CopySlot> slots = LayoutSlots(state.layout, state.zones);
  // Journal before home in the normal case; whichever copy the image came from, last.
  std::stable_sort(slots.begin(), slots.end(), [](const CopySlot& a, const CopySlot& b) {
    return IsJournal(a) && !IsJournal(b);
  });
  if (source && *source < state.copies.size()) {
    const uint64_t source_offset = state.copies[*source].slot.offset;
    std::stable_partition(slots.begin(), slots.end(), [source_offset](const CopySlot& slot) {
      return slot.offset != source_offset;
    });
  }
  RETURN_IF_ERROR(CheckActiveZoneBudget(device, slots));
  for (const CopySlot& slot : slots) RETURN_IF_ERROR(WriteOne(device, slot, image, tail));
  return Status::Ok();
}

Status WriteNewCopies(BlockDevice& device, const Layout& layout, const std::vector<Zone>& zones,
                      const Luks2Image& image) {
  if (!layout.is_zoned()) return WriteInPlaceOrdered(device, 0, image, nullptr);
  std::vector<CopySlot> slots = LayoutSlots(layout, zones);
  std::reverse(slots.begin(), slots.end());  // journal, then home
  RETURN_IF_ERROR(CheckActiveZoneBudget(device, slots));
  for (const CopySlot& slot : slots)
    RETURN_IF_ERROR(WriteOne(device, slot, image, ZoneTail::kUntouched));
  return Status::Ok();
}

Result<Luks2Image> ReadChosenImage(BlockDevice& device, const VolumeState& state) {
  const CopyState& chosen = state.chosen_copy();
  ASSIGN_OR_RETURN(Luks2Image image,
                   ReadFullCopy(device, chosen.slot, chosen.headers->image_size()));
  if (chosen.record) {
    if (Status s = VerifyImage(*chosen.record, image.bytes()); !s.ok())
      return s.error().WithContext(FormatMsg(
          _("The {} copy fails its commit record; nothing was changed"), CopyRoleName(chosen.slot.role)));
  }
  return image;
}

namespace {

Error SeqidCannotGrow(uint64_t seqid) {
  return Error::WrongDevice(FormatMsg(
      _("The header's sequence number (seqid {}) cannot grow any further; nothing was "
        "changed. Back the header up and restore it after a fresh luksFormat."),
      seqid));
}

// Step 3: the change, and the seqid rule every change keeps. Every change bumps the seqid;
// none means nothing changed and there is nothing to write (the caller compares).
Status ApplyChange(Luks2Image& image, const VolumeState& state, const MetadataChange& change) {
  const uint64_t before = image.seqid();
  RETURN_IF_ERROR(change(image, state));
  // libcryptsetup bumps the seqid with a plain ++, which wraps at 2^64-1; readers take the
  // highest seqid, so a wrapped update would be ignored in favour of the state it replaced.
  if (image.seqid() < before) return SeqidCannotGrow(before);
  return Status::Ok();
}

// The same rule before libcryptsetup changes an ordinary disk in place, where no image passes
// through our hands: the newest header's seqid, read under the lock, must be able to grow.
// Headers our codec cannot read are left to libcryptsetup, which has just loaded them.
Status CheckSeqidCanGrow(BlockDevice& device) {
  std::vector<uint8_t> first(kBinaryHeaderSize);
  RETURN_IF_ERROR(device.Read(0, first));
  auto needed = Luks2Image::HeaderBytesNeeded(first);
  if (!needed.ok() || *needed > device.geometry().size) return Status::Ok();
  std::vector<uint8_t> leading(*needed);
  RETURN_IF_ERROR(device.Read(0, leading));
  auto headers = Luks2Image::ParseHeaders(leading);
  if (headers.ok() && headers->seqid() == std::numeric_limits<uint64_t>::max())
    return SeqidCannotGrow(headers->seqid());
  return Status::Ok();
}

// An ordinary disk: what stock cryptsetup reads for an update, the headers and the keyslot
// areas in use; the rest of the keyslots area stays zeros in memory. Nothing there matters to
// a change (libcryptsetup puts a new keyslot in an area it then fills), and WriteInPlaceOrdered
// given this image as `before` writes only what the change made differ.
Result<Luks2Image> ReadUsedAreas(BlockDevice& device, const VolumeState& state) {
  const CopyState& chosen = state.chosen_copy();
  const Luks2Image& headers = *chosen.headers;
  std::vector<uint8_t> bytes(headers.image_size());
  // What the read of the headers holds (more than both header copies when it had to look for
  // a secondary): the header copies, as read.
  const uint64_t header_area = 2 * headers.hdr_size();
  const std::span<const uint8_t> read = headers.bytes();
  std::copy_n(read.begin(), std::min<uint64_t>(read.size(), header_area), bytes.begin());
  for (const KeyslotArea& area : headers.keyslot_areas()) {
    if (area.offset < header_area || area.offset + area.size > bytes.size())
      return Error::WrongDevice(FormatMsg(_("Keyslot {} lies outside the keyslots area."),
                                          area.keyslot));
    RETURN_IF_ERROR(device.Read(chosen.slot.offset + area.offset,
                                std::span<uint8_t>(bytes).subspan(area.offset, area.size)));
  }
  return Luks2Image::Parse(std::move(bytes));
}

}  // namespace

Status UpdateMetadata(BlockDevice& device, const MetadataChange& change, ZoneTail tail) {
  ASSIGN_OR_RETURN(DeviceLock lock, DeviceLock::Acquire(device.path(), LockMode::kExclusive));
  ASSIGN_OR_RETURN(auto state, ReadCopies(device, InspectDepth::kFull));
  if (!state->layout.is_zoned()) {
    ASSIGN_OR_RETURN(Luks2Image image, ReadUsedAreas(device, *state));
    ASSIGN_OR_RETURN(const Luks2Image before, image.Clone());
    RETURN_IF_ERROR(ApplyChange(image, *state, change));
    if (image.seqid() == before.seqid()) return Status::Ok();
    return WriteCopies(device, *state, image, state->chosen, &before);
  }
  ASSIGN_OR_RETURN(Luks2Image image, ReadChosenImage(device, *state));
  const uint64_t before = image.seqid();
  RETURN_IF_ERROR(ApplyChange(image, *state, change));
  if (image.seqid() == before) return Status::Ok();
  return WriteCopies(device, *state, image, state->chosen, nullptr, tail);
}

Status UpdateWithLibcryptsetup(BlockDevice& device, const CryptEdit& edit, ZoneTail tail) {
  if (!device.geometry().is_zoned() && device.editable_in_place_at_path()) {
    return EditInPlaceWithLibcryptsetup(device.path(), [&](crypt_device* cd) -> Status {
      RETURN_IF_ERROR(CheckSeqidCanGrow(device));
      return edit(cd);
    });
  }
  const std::string data_path = device.path();
  return UpdateMetadata(
      device,
      [&](Luks2Image& image, const VolumeState&) {
        return EditWithLibcryptsetup(image, data_path, edit);
      },
      tail);
}

}  // namespace luks2ext
