#include "metadata/copy_reader.h"

#include <algorithm>

#include "base/i18n.h"
#include "luks2ext/format_volume.h"
#include "metadata/header_edit.h"

namespace luks2ext {
namespace {

// How many zone starts after zone 0 are searched for the journal when home is unreadable.
constexpr uint32_t kJournalSearchZones = 4;

std::optional<Zone> ZoneAt(const std::vector<Zone>& zones, uint64_t offset) {
  for (const Zone& zone : zones)
    if (offset >= zone.start && offset < zone.start + zone.length) return zone;
  return std::nullopt;
}

// Bytes a copy at `offset` inside `zone` can use: to the capacity of a sequential zone; to the
// end of the conventional zones at LBA 0 (written in place across their boundaries); just this
// zone for a conventional zone further on, which the leading run does not include.
uint64_t RoomAt(const Zone& zone, uint64_t offset, uint64_t conventional) {
  if (zone.is_sequential())
    return offset - zone.start < zone.capacity ? zone.capacity - (offset - zone.start) : 0;
  if (offset < conventional) return conventional - offset;
  return zone.start + zone.length - offset;
}

bool HoldsLuks1Header(BlockDevice& device) {
  if (device.geometry().size < kBinaryHeaderSize) return false;
  std::vector<uint8_t> first(kBinaryHeaderSize);
  if (!device.Read(0, std::span<std::uint8_t>(first)).ok()) return false;
  return IsLuks1Header(first);
}

// A copy our codec reads is still not usable until libcryptsetup's own load accepts its
// headers: otherwise isLuks says yes to metadata that open then refuses, and a newer copy
// with JSON libcryptsetup rejects would hide an older copy that opens. No device I/O: the
// headers are already in memory.
// The loaded context is kept for what follows the read (an activation, a dump), so that it is
// not built and loaded a second time.
void JudgeWithLibcryptsetup(CopyState& copy) {
  if (!copy.headers || !copy.image_present) return;
  auto loaded = LoadInLibcryptsetup(*copy.headers);
  if (!loaded.ok()) {
    copy.refused_by_libcryptsetup = true;
    copy.problem =
        FormatMsg(_("libcryptsetup refuses its metadata ({})"), loaded.error().message());
    return;
  }
  copy.loaded = std::move(loaded).value();
}

CopySummary Summarize(const CopyState& state) {
  CopySummary summary;
  summary.name = CopyRoleName(state.slot.role);
  summary.offset = state.slot.offset;
  summary.headers_valid = state.headers.has_value();
  summary.image_present = state.image_present;
  summary.has_record = state.record.has_value();
  summary.seqid = state.seqid();
  summary.problem = state.problem;
  return summary;
}

}  // namespace

CopySlot SlotAt(CopyRole role, uint64_t offset, const std::vector<Zone>& zones, bool zoned) {
  const std::optional<Zone> zone = ZoneAt(zones, offset);
  return CopySlot{role, offset, zone && zone->is_sequential(), zoned};
}

namespace {

Result<std::unique_ptr<VolumeState>> NewState(BlockDevice& device) {
  auto state = std::make_unique<VolumeState>();
  state->device = &device;
  state->geometry = device.geometry();
  if (state->geometry.is_zoned()) {
    ASSIGN_OR_RETURN(state->zones, device.ReportZones(0, kZonesToReport));
    if (state->zones.empty())
      return Error::WrongDevice(_("The drive reports a zoned model but no zones."));
  }
  RETURN_IF_ERROR(CheckZoneReport(state->geometry, 0, state->zones));
  return state;
}

// Whether two copies' headers differ only in their salts and checksums, every header copy of
// both valid: what a journal written from home is. libcryptsetup's verdict on them is then
// the same, and a second load (the most expensive part of reading a copy) would learn nothing.
bool SameHeadersButSalts(const Luks2Image& a, const Luks2Image& b) {
  if (!a.both_copies_valid() || !b.both_copies_valid() || a.hdr_size() != b.hdr_size())
    return false;
  const uint64_t area = 2 * a.hdr_size();
  if (a.bytes().size() < area || b.bytes().size() < area) return false;
  for (uint64_t copy_start : {uint64_t{0}, a.hdr_size()}) {
    const uint64_t salt = copy_start + kSaltOffset, csum = copy_start + kCsumOffset;
    auto same = [&](uint64_t begin, uint64_t end) {
      return std::equal(a.bytes().begin() + begin, a.bytes().begin() + end,
                        b.bytes().begin() + begin);
    };
    if (!same(copy_start, salt) || !same(salt + kSaltSize, csum) ||
        !same(csum + kCsumSize, copy_start + a.hdr_size()))
      return false;
  }
  return true;
}

// `judged`: a copy libcryptsetup already accepted; one whose headers are the same but for
// salts inherits its verdict instead of a load of its own.
Result<CopyState> InspectJudged(const VolumeState& state, CopyRole role, uint64_t offset,
                                InspectDepth depth, const CopyState* judged = nullptr,
                                LibcryptsetupJudge judge = LibcryptsetupJudge::kAlways) {
  const CopySlot slot = SlotAt(role, offset, state.zones, state.geometry.is_zoned());
  ASSIGN_OR_RETURN(CopyState copy,
                   InspectCopy(*state.device, slot, ZoneAt(state.zones, offset), depth));
  const bool inherits = judged && judged->usable() && copy.headers && copy.image_present &&
                        SameHeadersButSalts(*judged->headers, *copy.headers);
  const bool wanted = judge == LibcryptsetupJudge::kAlways || state.geometry.is_zoned();
  if (!inherits && wanted) JudgeWithLibcryptsetup(copy);
  return copy;
}

// Where the journal may be: where home's size puts it (unless the volume was formatted without
// one, and its data segment starts there); or, when home's headers are unreadable, each of the
// first zone boundaries.
std::vector<uint64_t> JournalCandidates(const VolumeState& state, const CopyState& home) {
  const uint64_t zone_size = state.geometry.zone_size;
  std::vector<uint64_t> candidates;
  if (home.headers) {
    const uint64_t journal =
        JournalOffsetFor(home.headers->image_size(), zone_size, ConventionalBytes(state.zones));
    auto data_offset = home.headers->data_segment_offset();
    if (data_offset.ok() && *data_offset > journal) candidates.push_back(journal);
  } else {
    for (uint32_t i = 1; i <= kJournalSearchZones && i < state.zones.size(); ++i)
      candidates.push_back(i * zone_size);
  }
  return candidates;
}

// For an open (kCheap) with a usable home: whether the journal at `offset` can matter. Only a
// journal newer than home does (a crash between the two writes of an update), and its seqid
// is in its first 4 KiB; an empty sequential zone holds none.
Result<bool> JournalMayBeNewer(const VolumeState& state, const CopyState& home, uint64_t offset) {
  const std::optional<Zone> zone = ZoneAt(state.zones, offset);
  std::optional<uint64_t> seqid;
  if (!zone || !zone->is_sequential() || zone->written() > 0) {
    ASSIGN_OR_RETURN(seqid, PeekSeqid(*state.device, offset));
  }
  // Home is proven complete by its record, or by a sequential zone's write pointer.
  const std::optional<Zone> home_zone = ZoneAt(state.zones, 0);
  const bool home_proven = home.record.has_value() || (home_zone && home_zone->is_sequential());
  return seqid && (*seqid > home.seqid() || (*seqid == home.seqid() && !home_proven));
}

Status AddJournal(VolumeState& state, InspectDepth depth) {
  const CopyState& home = state.copies[0];
  std::vector<uint64_t> candidates = JournalCandidates(state, home);
  if (depth == InspectDepth::kCheap && home.usable() && candidates.size() == 1) {
    state.journal_offset = candidates[0];
    ASSIGN_OR_RETURN(const bool may_be_newer, JournalMayBeNewer(state, home, candidates[0]));
    if (!may_be_newer) return Status::Ok();
  }
  for (uint64_t offset : candidates) {
    ASSIGN_OR_RETURN(CopyState journal,
                     InspectJudged(state, CopyRole::kJournal, offset, depth, &home));
    if (!journal.headers && !home.headers) continue;  // searching: not here
    state.copies.push_back(std::move(journal));
    break;
  }
  return Status::Ok();
}

// docs/design.md#choosing-a-copy: among usable copies the highest seqid wins, never an older
// one, even when the newer lacks our record (stock cryptsetup rewrites headers in place where
// it can). On a tie, a copy whose commit record matches beats one without (an in-place rewrite
// cut after its headers); then home.
std::optional<size_t> ChooseCopy(const std::vector<CopyState>& copies) {
  std::optional<size_t> best;
  for (size_t i = 0; i < copies.size(); ++i) {
    const CopyState& copy = copies[i];
    if (!copy.usable()) continue;
    if (!best) {
      best = i;
      continue;
    }
    const CopyState& current = copies[*best];
    if (copy.seqid() > current.seqid() ||
        (copy.seqid() == current.seqid() && copy.record && !current.record))
      best = i;
  }
  return best;
}

Error NoUsableCopy(BlockDevice& device, const CopyState& home) {
  if (HoldsLuks1Header(device))
    return Error::WrongDevice(FormatMsg(
        _("Device {} holds a LUKS1 header; zcryptsetup handles LUKS2 only (stock cryptsetup "
          "opens it, and 'cryptsetup convert --type luks2' converts it)."),
        device.path()));
  if (home.problem.empty())
    return Error::WrongDevice(FormatMsg(_("Device {} is not a valid LUKS2 device."), device.path()));
  return Error::WrongDevice(FormatMsg(_("Device {} is not a valid LUKS2 device ({})."),
                                      device.path(), home.problem));
}

// What a user should know about the copies not chosen.
std::optional<std::string> CopiesWarning(const VolumeState& state) {
  const CopyState& home = state.copies[0];
  if (state.chosen != 0) {
    const uint64_t journal_seqid = state.chosen_copy().seqid();
    if (home.usable())
      return FormatMsg(_("The home metadata copy at offset 0 is older (seqid {}); using the "
                         "journal copy (seqid {}). Stock cryptsetup cannot open this drive until "
                         "'zcryptsetup repair' rewrites home."),
                       home.seqid(), journal_seqid);
    if (home.problem.empty())
      return FormatMsg(_("The home metadata copy at offset 0 is invalid; using the journal copy "
                         "(seqid {}). Stock cryptsetup cannot open this drive until 'zcryptsetup "
                         "repair' rewrites home."),
                       journal_seqid);
    // The problem is a complete phrase of its own ("torn: 4096 of 16793600 bytes written").
    return FormatMsg(_("The home metadata copy at offset 0 is unusable ({}); using the journal "
                       "copy (seqid {}). Stock cryptsetup cannot open this drive until "
                       "'zcryptsetup repair' rewrites home."),
                     home.problem, journal_seqid);
  }
  if (state.copies.size() < 2) return std::nullopt;
  const CopyState& journal = state.copies[1];
  if (!journal.usable())
    return FormatMsg(_("The journal copy is unusable ({})."), journal.problem);
  if (journal.seqid() != home.seqid())
    return FormatMsg(_("The journal copy is older (seqid {}) than home ({})."), journal.seqid(),
                     home.seqid());
  return std::nullopt;
}

// The layout, as far as the chosen copy describes it.
Status DescribeLayout(VolumeState& state) {
  const bool zoned = state.geometry.is_zoned();
  const uint64_t zone_size = state.geometry.zone_size;
  const Luks2Image& headers = state.headers();
  Layout& layout = state.layout;
  layout.placement = PlacementFor(state.geometry, state.zones);
  layout.header_size = headers.hdr_size();
  layout.keyslots_size = headers.keyslots_size();
  layout.zone_size = zone_size;
  layout.zone_capacity = zoned ? state.zones[0].capacity : 0;
  layout.journal_offset = state.journal_offset;
  for (const CopyState& copy : state.copies)
    if (copy.slot.role == CopyRole::kJournal) layout.journal_offset = copy.slot.offset;
  ASSIGN_OR_RETURN(layout.data_offset, headers.data_segment_offset());
  layout.metadata_zones = zoned ? static_cast<uint32_t>(layout.data_offset / zone_size) : 0;
  return Status::Ok();
}

}  // namespace

Result<std::unique_ptr<VolumeState>> ReadCopies(BlockDevice& device, InspectDepth depth,
                                                LibcryptsetupJudge judge) {
  ASSIGN_OR_RETURN(std::unique_ptr<VolumeState> state, NewState(device));
  // Room for home and the journal up front: growing would move a copy once more, code that
  // runs (and, under emulation, is translated) in every open for nothing.
  state->copies.reserve(2);
  state->summaries.reserve(2);
  ASSIGN_OR_RETURN(CopyState home,
                   InspectJudged(*state, CopyRole::kHome, 0, depth, nullptr, judge));
  state->copies.push_back(std::move(home));
  if (state->geometry.is_zoned()) RETURN_IF_ERROR(AddJournal(*state, depth));

  const std::optional<size_t> chosen = ChooseCopy(state->copies);
  if (!chosen) return NoUsableCopy(device, state->copies[0]);
  state->chosen = *chosen;
  for (const CopyState& copy : state->copies) state->summaries.push_back(Summarize(copy));
  state->summaries[state->chosen].chosen = true;
  if (std::optional<std::string> warning = CopiesWarning(*state))
    state->warnings.push_back(std::move(*warning));
  RETURN_IF_ERROR(DescribeLayout(*state));
  return state;
}

Status CheckDetachedData(const BlockDevice& data, uint64_t offset) {
  const Geometry& geometry = data.geometry();
  if (geometry.is_zoned() && (geometry.zone_size == 0 || offset % geometry.zone_size != 0))
    return Error::WrongDevice(FormatMsg(
        _("The header's data offset {} is not a multiple of the zone size {} of {}."), offset,
        geometry.zone_size, data.path()));
  if (offset >= geometry.size)
    return Error::WrongDevice(FormatMsg(_("Device {} ({}) is too small for data from offset {}."),
                                        data.path(), SizeText(geometry.size), SizeText(offset)));
  return Status::Ok();
}

Result<std::unique_ptr<VolumeState>> StateForImage(BlockDevice& device, const Luks2Image& image,
                                                   BlockDevice* detached_data) {
  auto state = std::make_unique<VolumeState>();
  state->device = &device;
  state->geometry = device.geometry();
  const bool zoned = state->geometry.is_zoned();
  Layout& layout = state->layout;
  layout.header_size = image.hdr_size();
  layout.keyslots_size = image.keyslots_size();
  ASSIGN_OR_RETURN(layout.data_offset, image.data_segment_offset());
  if (detached_data) {
    // The header alone goes to `device`, in place; the data stays where it is.
    RETURN_IF_ERROR(CheckDetachedHeaderDevice(device, *detached_data));
    if (state->geometry.size < image.image_size())
      return Error::WrongDevice(FormatMsg(
          _("Device {} ({}) is too small for the backup's metadata ({})."), device.path(),
          SizeText(state->geometry.size), SizeText(image.image_size())));
    RETURN_IF_ERROR(CheckDetachedData(*detached_data, layout.data_offset));
    state->detached_data = detached_data;
    layout.placement = Placement::kStandard;
    return state;
  }
  if (layout.data_offset < image.image_size() || layout.data_offset >= state->geometry.size)
    return Error::WrongParameters(FormatMsg(
        _("The header's data offset {} does not fit this device ({} bytes, metadata {})."),
        layout.data_offset, state->geometry.size, image.image_size()));
  if (!zoned) {
    layout.placement = Placement::kStandard;
    return state;
  }
  ASSIGN_OR_RETURN(state->zones, device.ReportZones(0, kZonesToReport));
  RETURN_IF_ERROR(CheckZoneReport(state->geometry, 0, state->zones));
  const uint64_t zone_size = state->geometry.zone_size;
  const uint64_t conventional = ConventionalBytes(state->zones);
  layout.zone_size = zone_size;
  layout.zone_capacity = state->zones.empty() ? 0 : state->zones[0].capacity;
  layout.placement = PlacementFor(state->geometry, state->zones);
  if (layout.data_offset % zone_size != 0)
    return Error::WrongParameters(FormatMsg(
        _("The header's data offset {} is not a multiple of the zone size {}."),
        layout.data_offset, zone_size));
  const uint64_t copy_size = image.image_size() + kCommitRecordSize;
  const uint64_t journal = JournalOffsetFor(image.image_size(), zone_size, conventional);
  if (layout.data_offset >= journal + copy_size) layout.journal_offset = journal;
  for (uint64_t offset : {uint64_t{0}, layout.journal_offset.value_or(0)}) {
    const std::optional<Zone> zone = ZoneAt(state->zones, offset);
    const uint64_t room = !zone ? 0 : RoomAt(*zone, offset, conventional);
    if (copy_size > room || offset + copy_size > layout.data_offset)
      return Error::WrongParameters(FormatMsg(
          _("A metadata copy of {} bytes does not fit at offset {} before the data at {}."),
          copy_size, offset, layout.data_offset));
  }
  layout.metadata_zones = static_cast<uint32_t>(layout.data_offset / zone_size);
  return state;
}

}  // namespace luks2ext
