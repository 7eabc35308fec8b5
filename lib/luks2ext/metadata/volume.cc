// The volume façade: reading the drive's copies and choosing one (design section 5),
// formatting, activation, and the update protocol (section 4).
#include "luks2ext/volume.h"

#include <json-c/json.h>
#include <libcryptsetup.h>

#include <algorithm>
#include <cstring>
#include <functional>

#include "activation/activate.h"
#include "i18n.h"
#include "metadata/crypt_device.h"
#include "metadata/device_lock.h"
#include "metadata/image_builder.h"
#include "metadata/image_store.h"
#include "metadata/keyslot_order.h"
#include "metadata/memfd.h"

namespace luks2ext {
namespace {

uint64_t RoundUp(uint64_t value, uint64_t unit) { return (value + unit - 1) / unit * unit; }

// How many zone starts after zone 0 are searched for the journal when home is unreadable.
constexpr uint32_t kJournalSearchZones = 4;

std::optional<Zone> ZoneAt(const std::vector<Zone>& zones, uint64_t offset) {
  for (const Zone& zone : zones)
    if (offset >= zone.start && offset < zone.start + zone.length) return zone;
  return std::nullopt;
}

uint64_t ConventionalBytes(const std::vector<Zone>& zones) {
  uint64_t bytes = 0;
  for (const Zone& zone : zones) {
    if (zone.is_sequential()) break;
    bytes += zone.length;
  }
  return bytes;
}

CopySlot SlotAt(const char* name, uint64_t offset, const std::vector<Zone>& zones, bool zoned) {
  const std::optional<Zone> zone = ZoneAt(zones, offset);
  return CopySlot{name, offset, zone && zone->is_sequential(), zoned};
}

// Where the journal of a copy of `image_size` bytes starts: the zone boundary after home (and
// after the conventional zones, if it would straddle them), as PlanLayout puts it.
uint64_t JournalOffsetFor(uint64_t image_size, uint64_t zone_size, uint64_t conventional) {
  const uint64_t copy = image_size + kCommitRecordSize;
  uint64_t journal = RoundUp(copy, zone_size);
  if (journal < conventional && journal + copy > conventional)
    journal = RoundUp(conventional, zone_size);
  return journal;
}

// LUKS1 shares LUKS2's magic and differs in the version field (big-endian u16 at 6).
bool HoldsLuks1Header(BlockDevice& device) {
  if (device.geometry().size < kBinaryHeaderSize) return false;
  std::vector<std::byte> first(kBinaryHeaderSize);
  if (!device.Read(0, first).ok()) return false;
  static constexpr unsigned char kLuksMagic[] = {'L', 'U', 'K', 'S', 0xba, 0xbe};
  return std::memcmp(first.data(), kLuksMagic, sizeof kLuksMagic) == 0 &&
         std::to_integer<int>(first[6]) == 0 && std::to_integer<int>(first[7]) == 1;
}

CopySummary Summarize(const CopyState& state) {
  CopySummary summary;
  summary.name = state.slot.name;
  summary.offset = state.slot.offset;
  summary.headers_valid = state.headers.has_value();
  summary.image_present = state.image_present;
  summary.has_record = state.record.has_value();
  summary.seqid = state.seqid();
  summary.problem = state.problem;
  return summary;
}

}  // namespace

struct VolumeState {
  BlockDevice* device = nullptr;
  Geometry geometry;
  std::vector<Zone> zones;  // the leading zones; empty when not zoned
  Layout layout;
  std::vector<CopyState> copies;  // home first, then the journal when there is one
  size_t chosen = 0;
  std::vector<CopySummary> summaries;
  std::vector<std::string> warnings;
  std::optional<uint64_t> journal_offset;  // known even when a cheap read skipped the journal

  const CopyState& chosen_copy() const { return copies[chosen]; }
  const Luks2Image& headers() const { return *chosen_copy().headers; }
};

// ---------------------------------------------------------------------------------------------
// Reading

namespace {

// Finds and judges the copies of a drive; chooses the newest usable one. kCheap reads what an
// open needs and no more than stock cryptsetup would: home's headers, and of the journal only
// its binary header's seqid, unless home is unusable or the journal is newer.
Result<std::unique_ptr<VolumeState>> ReadCopies(BlockDevice& device, InspectDepth depth) {
  auto state = std::make_unique<VolumeState>();
  state->device = &device;
  state->geometry = device.geometry();
  const bool zoned = state->geometry.is_zoned();
  if (zoned) {
    ASSIGN_OR_RETURN(state->zones, device.ReportZones(0, kZonesToReport));
    if (state->zones.empty())
      return Error::WrongDevice(_("The drive reports a zoned model but no zones."));
  }
  const uint64_t zone_size = state->geometry.zone_size;
  const uint64_t conventional = ConventionalBytes(state->zones);

  const CopySlot home_slot = SlotAt("home", 0, state->zones, zoned);
  ASSIGN_OR_RETURN(CopyState home,
                   InspectCopy(device, home_slot, ZoneAt(state->zones, 0), depth));
  state->copies.push_back(std::move(home));

  if (zoned) {
    const CopyState& home_state = state->copies[0];
    std::vector<uint64_t> candidates;
    if (home_state.headers) {
      const uint64_t journal =
          JournalOffsetFor(home_state.headers->image_size(), zone_size, conventional);
      // A volume formatted without a journal has its data segment there instead.
      auto data_offset = home_state.headers->data_segment_offset();
      if (data_offset.ok() && *data_offset > journal) candidates.push_back(journal);
    } else {
      for (uint32_t i = 1; i <= kJournalSearchZones && i < state->zones.size(); ++i)
        candidates.push_back(i * zone_size);
    }
    if (depth == InspectDepth::kCheap && home_state.usable() && candidates.size() == 1) {
      // Only a journal newer than home matters to an open (a crash between the two writes
      // of an update); its seqid is in the first 4 KiB.
      const std::optional<Zone> zone = ZoneAt(state->zones, candidates[0]);
      std::optional<uint64_t> seqid;
      if (!zone || !zone->is_sequential() || zone->written() > 0) {
        ASSIGN_OR_RETURN(seqid, PeekSeqid(device, candidates[0]));
      }
      state->journal_offset = candidates[0];
      if (!seqid || *seqid <= home_state.seqid()) candidates.clear();
    }
    for (uint64_t offset : candidates) {
      const CopySlot slot = SlotAt("journal", offset, state->zones, zoned);
      ASSIGN_OR_RETURN(CopyState journal,
                       InspectCopy(device, slot, ZoneAt(state->zones, offset), depth));
      if (!journal.headers && !home_state.headers) continue;  // searching: not here
      state->copies.push_back(std::move(journal));
      break;
    }
  }

  // Section 5: among usable copies the highest seqid wins; home wins a tie.
  std::optional<size_t> best;
  for (size_t i = 0; i < state->copies.size(); ++i) {
    const CopyState& copy = state->copies[i];
    if (!copy.usable()) continue;
    if (!best || copy.seqid() > state->copies[*best].seqid()) best = i;
  }
  if (!best) {
    if (HoldsLuks1Header(device))
      return Error::WrongDevice(FormatMsg(
          _("Device {} holds a LUKS1 header; zcryptsetup handles LUKS2 only (stock cryptsetup "
            "opens it, and 'cryptsetup convert --type luks2' converts it)."),
          device.path()));
    const CopyState& home_state = state->copies[0];
    return Error::WrongDevice(FormatMsg(_("Device {} is not a valid LUKS2 device{}."),
                                        device.path(),
                                        home_state.problem.empty()
                                            ? std::string()
                                            : " (" + home_state.problem + ")"));
  }
  state->chosen = *best;

  for (const CopyState& copy : state->copies) {
    state->summaries.push_back(Summarize(copy));
  }
  state->summaries[state->chosen].chosen = true;
  if (state->chosen != 0) {
    state->warnings.push_back(FormatMsg(
        _("The home metadata copy at offset 0 is {}; using the journal copy (seqid {}). "
          "Stock cryptsetup cannot open this drive until 'zcryptsetup repair' rewrites home."),
        state->copies[0].usable()
            ? FormatMsg(_("older (seqid {})"), state->copies[0].seqid())
            : (state->copies[0].problem.empty() ? std::string(_("invalid"))
                                                : state->copies[0].problem),
        state->copies[state->chosen].seqid()));
  } else if (state->copies.size() > 1 && !state->copies[1].usable()) {
    state->warnings.push_back(FormatMsg(_("The journal copy is unusable ({})."),
                                        state->copies[1].problem));
  } else if (state->copies.size() > 1 && state->copies[1].seqid() != state->copies[0].seqid()) {
    state->warnings.push_back(FormatMsg(_("The journal copy is older (seqid {}) than home ({})."),
                                        state->copies[1].seqid(), state->copies[0].seqid()));
  }

  // The layout, as far as the chosen copy describes it.
  const Luks2Image& headers = *state->copies[state->chosen].headers;
  Layout& layout = state->layout;
  layout.placement = !zoned ? Placement::kStandard
                     : conventional > 0 ? Placement::kConventionalZones
                                        : Placement::kSequentialZones;
  layout.header_size = headers.hdr_size();
  layout.keyslots_size = headers.keyslots_size();
  layout.zone_size = zone_size;
  layout.zone_capacity = zoned ? state->zones[0].capacity : 0;
  layout.journal_offset = state->journal_offset;
  for (const CopyState& copy : state->copies)
    if (std::string(copy.slot.name) == "journal") layout.journal_offset = copy.slot.offset;
  ASSIGN_OR_RETURN(layout.data_offset, headers.data_segment_offset());
  layout.metadata_zones = zoned ? static_cast<uint32_t>(layout.data_offset / zone_size) : 0;
  return state;
}

// The chosen copy's headers in a memfd of the image's size; keyslot areas stay holes until an
// unlock tries them.
Result<Memfd> LoadChosenHeaders(const VolumeState& state) {
  ASSIGN_OR_RETURN(Memfd memfd, Memfd::Create("zcryptsetup-luks2", state.headers().image_size()));
  RETURN_IF_ERROR(LoadHeaders(state.headers(), memfd));
  return memfd;
}

}  // namespace

Volume::Volume(std::unique_ptr<VolumeState> state) : state_(std::move(state)) {}
Volume::~Volume() = default;

Result<std::unique_ptr<Volume>> Volume::Open(BlockDevice& device, ReadScope scope) {
  ASSIGN_OR_RETURN(DeviceLock lock, DeviceLock::Acquire(device.path(), LockMode::kShared));
  ASSIGN_OR_RETURN(auto state, ReadCopies(device, scope == ReadScope::kForOpen
                                                      ? InspectDepth::kCheap
                                                      : InspectDepth::kFull));
  return std::unique_ptr<Volume>(new Volume(std::move(state)));
}

const Layout& Volume::layout() const { return state_->layout; }
const Geometry& Volume::geometry() const { return state_->geometry; }
const std::vector<CopySummary>& Volume::copies() const { return state_->summaries; }
const std::vector<std::string>& Volume::warnings() const { return state_->warnings; }
std::string Volume::uuid() const { return state_->headers().uuid(); }
std::string Volume::label() const { return state_->headers().label(); }
std::vector<std::string> Volume::config_flags() const {
  return state_->headers().config_flags();
}
bool Volume::force_inline() const { return state_->headers().HasConfigFlag(kForceInlineFlag); }

std::string Volume::json_text(bool pretty) const {
  if (!pretty) return state_->headers().json_text();
  return json_object_to_json_string_ext(state_->headers().json(),
                                        JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE);
}

Result<std::string> Volume::DumpText() {
  ASSIGN_OR_RETURN(Memfd memfd, LoadChosenHeaders(*state_));
  ASSIGN_OR_RETURN(CryptDevice cd, CryptDevice::InitDetached(memfd.path(), state_->device->path()));
  RETURN_IF_ERROR(cd.LoadLuks2(state_->device->path()));
  std::string text;
  crypt_set_log_callback(
      cd.get(),
      [](int level, const char* message, void* out) {
        if (level == CRYPT_LOG_NORMAL && message) static_cast<std::string*>(out)->append(message);
      },
      &text);
  const int r = crypt_dump(cd.get());
  if (r < 0) return CryptError(r, _("Cannot dump the header"));
  return text;
}

// ---------------------------------------------------------------------------------------------
// Activation

Status Volume::Activate(const OpenRequest& request, const Secret& passphrase) {
  ActivationRequest activation;
  activation.name = request.name;
  activation.read_only = request.read_only;
  activation.allow_discards = request.allow_discards;
  activation.keyslot = request.keyslot;
  activation.inline_mode = request.inline_mode;
  if (!activation.inline_mode && force_inline())
    activation.inline_mode = InlineMode::kWorkqueueFlags;

  BlockDevice& device = *state_->device;
  if (state_->layout.placement == Placement::kStandard) {
    // An ordinary disk: libcryptsetup works on it directly, exactly as cryptsetup does.
    ASSIGN_OR_RETURN(CryptDevice cd, CryptDevice::Init(device.path()));
    RETURN_IF_ERROR(cd.LoadLuks2(device.path()));
    RETURN_IF_ERROR(ActivateByPassphrase(cd.get(), activation, passphrase, device.path(),
                                         state_->geometry.size));
  } else {
    // A zoned drive: libcryptsetup sees the chosen copy in a memfd as a detached header and
    // the drive only as the data device, so it can never write to a sequential zone. Each
    // keyslot area is read just before it is tried, in libcryptsetup's order.
    ASSIGN_OR_RETURN(Memfd memfd, LoadChosenHeaders(*state_));
    ASSIGN_OR_RETURN(CryptDevice cd, CryptDevice::InitDetached(memfd.path(), device.path()));
    RETURN_IF_ERROR(cd.LoadLuks2(device.path()));
    ASSIGN_OR_RETURN(const std::vector<KeyslotArea> order,
                     KeyslotTryOrder(state_->headers(), request.keyslot));
    Status unlocked = Error::NoPermission(_("No key available with this passphrase."));
    for (const KeyslotArea& area : order) {
      RETURN_IF_ERROR(LoadKeyslotArea(device, state_->chosen_copy().slot, area, memfd));
      activation.keyslot = area.keyslot;
      unlocked = ActivateByPassphrase(cd.get(), activation, passphrase, device.path(),
                                      state_->geometry.size);
      if (unlocked.ok() || unlocked.error().code() != ExitCode::kNoPermission) break;
    }
    RETURN_IF_ERROR(unlocked);
  }
  if (!request.persistent || request.name.empty()) return Status::Ok();
  std::optional<bool> inline_flag;
  if (request.inline_mode) inline_flag = true;
  std::optional<bool> discards;
  if (request.allow_discards) discards = true;
  return SetPersistentFlags(inline_flag, discards);
}

// ---------------------------------------------------------------------------------------------
// Writing: format and the update protocol

namespace {

std::vector<CopySlot> SlotsFor(const Layout& layout, const std::vector<Zone>& zones) {
  std::vector<CopySlot> slots;  // in write order: journal, then home
  const bool zoned = layout.is_zoned();
  if (layout.journal_offset)
    slots.push_back(SlotAt("journal", *layout.journal_offset, zones, zoned));
  slots.push_back(SlotAt("home", layout.home_offset, zones, zoned));
  return slots;
}

// Writes `image` to every copy, journal first: at every instant one complete, valid copy
// exists (the old home while the journal is rewritten, the new journal while home is).
Status WriteAllCopies(BlockDevice& device, const Layout& layout, const std::vector<Zone>& zones,
                      const Luks2Image& image) {
  if (!layout.is_zoned()) {
    // Ordinary disk, in place like cryptsetup: the secondary header and keyslots first, then
    // the primary, so one header copy is valid at every instant.
    const std::span<const uint8_t> bytes = image.bytes();
    const uint64_t hdr = image.hdr_size();
    RETURN_IF_ERROR(device.Write(hdr, AsBytes(bytes.subspan(hdr))));
    RETURN_IF_ERROR(device.Flush());
    RETURN_IF_ERROR(device.Write(0, AsBytes(bytes.subspan(0, hdr))));
    return device.Flush();
  }
  for (const CopySlot& slot : SlotsFor(layout, zones)) {
    if (std::string(slot.name) == "journal") {
      // The journal's headers carry fresh salts: no two header sectors on the drive are equal.
      ASSIGN_OR_RETURN(Luks2Image journal, image.Clone());
      RETURN_IF_ERROR(journal.ResealWithFreshSalts());
      RETURN_IF_ERROR(WriteCopy(device, slot, journal));
    } else {
      RETURN_IF_ERROR(WriteCopy(device, slot, image));
    }
  }
  return Status::Ok();
}

// Section 4: under the exclusive lock, re-read, take the newest complete copy in full (its
// record verified when it has one), change it, write journal then home.
Status UpdateMetadata(BlockDevice& device, const std::function<Status(Luks2Image&)>& change) {
  ASSIGN_OR_RETURN(DeviceLock lock, DeviceLock::Acquire(device.path(), LockMode::kExclusive));
  ASSIGN_OR_RETURN(auto state, ReadCopies(device, InspectDepth::kFull));
  const CopyState& chosen = state->chosen_copy();
  ASSIGN_OR_RETURN(Luks2Image image,
                   ReadFullCopy(device, chosen.slot, chosen.headers->image_size()));
  if (chosen.record) {
    if (Status s = VerifyImage(*chosen.record, image.bytes()); !s.ok())
      return s.error().WithContext(FormatMsg(_("The {} copy fails its commit record; nothing "
                                               "was changed"),
                                             chosen.slot.name));
  }
  RETURN_IF_ERROR(change(image));
  return WriteAllCopies(device, state->layout, state->zones, image);
}

}  // namespace

Status Volume::SetPersistentFlags(std::optional<bool> force_inline,
                                  std::optional<bool> allow_discards) {
  return UpdateMetadata(*state_->device, [&](Luks2Image& image) -> Status {
    if (force_inline) RETURN_IF_ERROR(PersistForceInline(image, *force_inline));
    if (allow_discards) {
      if (*allow_discards)
        RETURN_IF_ERROR(image.AddConfigFlag("allow-discards"));
      else
        RETURN_IF_ERROR(image.RemoveConfigFlag("allow-discards"));
    }
    return Status::Ok();
  });
}

Result<Layout> PlanFormat(BlockDevice& device, const FormatOptions& options) {
  const Geometry& geometry = device.geometry();
  if (geometry.read_only)
    return Error::WrongDevice(FormatMsg(
        _("Device {} is read-only; luksFormat needs to write to it."), device.path()));
  std::vector<Zone> zones;
  if (geometry.is_zoned()) {
    ASSIGN_OR_RETURN(zones, device.ReportZones(0, kZonesToReport));
  }
  LayoutRequest request = options.layout;
  request.volume_key_bytes = options.key_bits / 8;
  return PlanLayout(geometry, zones, request);
}

Result<std::string> FormatVolume(BlockDevice& device, const Layout& layout,
                                 const FormatOptions& options, const Secret& passphrase) {
  ASSIGN_OR_RETURN(DeviceLock lock, DeviceLock::Acquire(device.path(), LockMode::kExclusive));
  const Geometry& geometry = device.geometry();
  std::vector<Zone> zones;
  if (geometry.is_zoned()) {
    ASSIGN_OR_RETURN(zones, device.ReportZones(0, kZonesToReport));
  }
  ASSIGN_OR_RETURN(Luks2Image image,
                   BuildImage(layout, options, passphrase, device.path(),
                              geometry.logical_block_size, geometry.physical_block_size));
  RETURN_IF_ERROR(WriteAllCopies(device, layout, zones, image));
  return image.uuid();
}

}  // namespace luks2ext
