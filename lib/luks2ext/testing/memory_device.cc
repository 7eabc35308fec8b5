#include "testing/memory_device.h"

#include <fmt/format.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cassert>
#include <cstring>

#include "base/i18n.h"

namespace luks2ext {
namespace {

bool IsPowerOfTwo(uint64_t v) { return v != 0 && (v & (v - 1)) == 0; }

// True when [offset, offset + length) lies inside [0, size), without overflow.
bool InRange(uint64_t offset, uint64_t length, uint64_t size) {
  return length <= size && offset <= size - length;
}

}  // namespace

namespace {

// Block sizes as the kernel accepts them; the physical block size defaults to the logical one.
Result<Geometry> CheckBlocks(const MemoryZonedDevice::Config& config) {
  const uint32_t lbs = config.logical_block_size;
  if (lbs != 512 && lbs != 4096) {
    return Error::WrongParameters(
        FormatMsg(_("Logical block size {} is not supported (512 or 4096)."), lbs));
  }
  const uint32_t pbs = config.physical_block_size == 0 ? lbs : config.physical_block_size;
  if (pbs < lbs || !IsPowerOfTwo(pbs)) {
    return Error::WrongParameters(FormatMsg(_("Invalid physical block size {}."), pbs));
  }
  if (config.size == 0 || config.size % lbs != 0) {
    return Error::WrongParameters(FormatMsg(
        _("Device size {} is not a multiple of the logical block size {}."), config.size, lbs));
  }
  Geometry g;
  g.model = config.model;
  g.size = config.size;
  g.logical_block_size = lbs;
  g.physical_block_size = pbs;
  g.read_only = config.read_only;
  return g;
}

// Zone size, capacity and counts as null_blk accepts them, added to `g`. Returns the capacity
// of the sequential zones.
Result<uint64_t> CheckZones(const MemoryZonedDevice::Config& config, Geometry& g) {
  // The kernel (6.1) accepts only power-of-two zone sizes; we also want whole zones only.
  if (!IsPowerOfTwo(config.zone_size) || config.zone_size % g.logical_block_size != 0 ||
      config.size % config.zone_size != 0) {
    return Error::WrongParameters(
        FormatMsg(_("Zone size {} must be a power of two, a multiple of the logical block size and "
                    "divide the device size {}."),
                  config.zone_size, config.size));
  }
  const uint64_t capacity = config.zone_capacity == 0 ? config.zone_size : config.zone_capacity;
  if (capacity > config.zone_size || capacity % g.logical_block_size != 0) {
    return Error::WrongParameters(
        FormatMsg(_("Invalid zone capacity {} for zone size {}."), capacity, config.zone_size));
  }
  const uint64_t nr_zones = config.size / config.zone_size;
  if (nr_zones > UINT32_MAX || config.nr_conventional_zones > nr_zones) {
    return Error::WrongParameters(
        FormatMsg(_("Invalid number of conventional zones {} for {} zones."),
                  config.nr_conventional_zones, nr_zones));
  }
  g.zone_size = config.zone_size;
  g.nr_zones = static_cast<uint32_t>(nr_zones);
  g.max_active_zones = config.max_active_zones;
  g.max_open_zones = config.max_open_zones;
  // As null_blk does: more open zones than active ones cannot be used.
  if (g.max_active_zones != 0 && g.max_open_zones > g.max_active_zones) {
    g.max_open_zones = g.max_active_zones;
  }
  return capacity;
}

// Every zone reset: conventional ones first, then empty sequential ones.
std::vector<Zone> FreshZones(const MemoryZonedDevice::Config& config, const Geometry& g,
                             uint64_t capacity) {
  std::vector<Zone> zones;
  zones.reserve(g.nr_zones);
  const ZoneType sequential_type = config.model == ZoneModel::kHostAware
                                       ? ZoneType::kSequentialPreferred
                                       : ZoneType::kSequentialRequired;
  for (uint64_t i = 0; i < g.nr_zones; ++i) {
    Zone zone;
    zone.start = i * g.zone_size;
    zone.length = g.zone_size;
    zone.write_pointer = zone.start;
    const bool conventional = i < config.nr_conventional_zones;
    zone.capacity = conventional ? g.zone_size : capacity;
    zone.type = conventional ? ZoneType::kConventional : sequential_type;
    zone.condition = conventional ? ZoneCondition::kNotWritePointer : ZoneCondition::kEmpty;
    zones.push_back(zone);
  }
  return zones;
}

}  // namespace

Result<std::unique_ptr<MemoryZonedDevice>> MemoryZonedDevice::Create(const Config& config) {
  State state;
  state.config = config;
  ASSIGN_OR_RETURN(state.geometry, CheckBlocks(config));
  if (config.model != ZoneModel::kNone) {
    ASSIGN_OR_RETURN(const uint64_t capacity, CheckZones(config, state.geometry));
    state.zones = FreshZones(config, state.geometry, capacity);
  }
  return std::unique_ptr<MemoryZonedDevice>(new MemoryZonedDevice(std::move(state)));
}

std::unique_ptr<MemoryZonedDevice> MemoryZonedDevice::Clone() const {
  return std::unique_ptr<MemoryZonedDevice>(new MemoryZonedDevice(state_));
}

std::string MemoryZonedDevice::path() const {
  if (!memfd_.valid()) {
    UniqueFd fd(::memfd_create("zcryptsetup-emulated-drive", MFD_CLOEXEC));
    if (!fd.valid()) return {};
    if (::ftruncate(fd.get(), static_cast<off_t>(state_.geometry.size)) != 0) return {};
    memfd_ = std::move(fd);
  }
  return "/proc/self/fd/" + std::to_string(memfd_.get());
}

// ---------------------------------------------------------------------------------------------
// BlockDevice

Result<std::vector<Zone>> MemoryZonedDevice::ReportZones(uint64_t offset, uint32_t max_zones) {
  if (!state_.powered) return PoweredOff().error();
  if (!state_.geometry.is_zoned()) return std::vector<Zone>{};
  if (offset >= state_.geometry.size) {
    return Error::WrongParameters(
        FormatMsg(_("Zone report offset {} is past the device end."), offset));
  }
  const uint32_t first = ZoneIndex(offset);
  const uint32_t count = std::min<uint32_t>(max_zones, state_.geometry.nr_zones - first);
  return std::vector<Zone>(state_.zones.begin() + first, state_.zones.begin() + first + count);
}

Status MemoryZonedDevice::Read(uint64_t offset, std::span<std::uint8_t> out) {
  if (!state_.powered) return PoweredOff();
  RETURN_IF_ERROR(CheckAlignedRange(offset, out.size()));
  LoadVisible(offset, out);
  return Status::Ok();
}

Status MemoryZonedDevice::Write(uint64_t offset, std::span<const std::uint8_t> data) {
  if (!state_.powered) return PoweredOff();
  const std::optional<uint64_t> torn_blocks =
      BeginMutatingOp(Op::Kind::kWrite, offset, data.size());
  const Status legal = CheckWrite(offset, data.size());
  if (torn_blocks) {
    // The drive got the command; only a prefix reached the media before the power went.
    const uint64_t lbs = state_.geometry.logical_block_size;
    const uint64_t torn_bytes = std::min<uint64_t>(*torn_blocks * lbs, data.size());
    if (legal.ok() && torn_bytes > 0) ApplyWrite(offset, data.first(torn_bytes));
    return PoweredOff();
  }
  if (!legal.ok()) return legal;
  ApplyWrite(offset, data);
  state_.op_log.back().succeeded = true;
  return Status::Ok();
}

Status MemoryZonedDevice::ResetZone(uint64_t zone_start) {
  if (!state_.powered) return PoweredOff();
  const bool cut =
      BeginMutatingOp(Op::Kind::kReset, zone_start, state_.geometry.zone_size).has_value();
  Result<Zone*> target = ZoneForManagement(zone_start);
  if (cut) return PoweredOff();
  if (!target.ok()) return target.error();
  Zone& zone = **target;
  state_.chunks.Drop(zone.start, zone.length);
  zone.write_pointer = zone.start;
  zone.condition = ZoneCondition::kEmpty;
  state_.op_log.back().succeeded = true;
  return Status::Ok();
}

Status MemoryZonedDevice::FinishZone(uint64_t zone_start) {
  if (!state_.powered) return PoweredOff();
  const bool cut =
      BeginMutatingOp(Op::Kind::kFinish, zone_start, state_.geometry.zone_size).has_value();
  Result<Zone*> target = ZoneForManagement(zone_start);
  if (cut) return PoweredOff();
  if (!target.ok()) return target.error();
  Zone& zone = **target;
  if (zone.condition == ZoneCondition::kEmpty) {
    // null_blk: finishing an EMPTY zone needs the resources to activate it first.
    RETURN_IF_ERROR(CheckResourcesToActivate(zone));
    MakeRoomToOpen(zone);
  }
  if (zone.condition != ZoneCondition::kFull) {
    zone.condition = ZoneCondition::kFull;
    zone.write_pointer = zone.start + zone.length;  // where null_blk leaves it
  }
  state_.op_log.back().succeeded = true;
  return Status::Ok();
}

Status MemoryZonedDevice::Flush() {
  if (!state_.powered) return PoweredOff();
  ++state_.flushes;
  return Status::Ok();
}

// ---------------------------------------------------------------------------------------------
// Fault injection and inspection

void MemoryZonedDevice::CutPowerAt(uint64_t op_index, uint64_t torn_blocks) {
  state_.armed_cut = PowerCut{op_index, torn_blocks};
}

void MemoryZonedDevice::CutPowerNow() { state_.powered = false; }

void MemoryZonedDevice::PowerOn() {
  state_.powered = true;
  state_.armed_cut.reset();
  // After a power cycle a drive keeps no zone open (ZBC power-on reset, NVMe ZNS).
  for (Zone& zone : state_.zones) {
    if (IsOpen(zone)) {
      zone.condition =
          zone.write_pointer == zone.start ? ZoneCondition::kEmpty : ZoneCondition::kClosed;
    }
  }
}

std::vector<std::uint8_t> MemoryZonedDevice::Contents(uint64_t offset, uint64_t length) const {
  std::vector<std::uint8_t> bytes(length);
  const uint64_t size = state_.geometry.size;
  if (offset < size) {
    const uint64_t in_device = std::min(length, size - offset);
    LoadVisible(offset, std::span<std::uint8_t>(bytes).first(in_device));
  }
  return bytes;
}

void MemoryZonedDevice::Poke(uint64_t offset, std::span<const std::uint8_t> data) {
  assert(InRange(offset, data.size(), state_.geometry.size));
  state_.chunks.Store(offset, data);
}

const Zone& MemoryZonedDevice::ZoneAt(uint64_t offset) const {
  assert(state_.geometry.is_zoned() && offset < state_.geometry.size);
  return state_.zones[ZoneIndex(offset)];
}

uint64_t MemoryZonedDevice::allocated_bytes() const { return state_.chunks.allocated_bytes(); }

// ---------------------------------------------------------------------------------------------
// Rules

std::optional<uint64_t> MemoryZonedDevice::BeginMutatingOp(Op::Kind kind, uint64_t offset,
                                                           uint64_t length) {
  const uint64_t index = state_.op_log.size();
  state_.op_log.push_back(Op{kind, offset, length, false});
  if (!state_.armed_cut || state_.armed_cut->op_index != index) return std::nullopt;
  const uint64_t torn_blocks = state_.armed_cut->torn_blocks;
  state_.armed_cut.reset();
  state_.powered = false;
  return torn_blocks;
}

Status MemoryZonedDevice::PoweredOff() const {
  return Error::WrongDevice(
      FormatMsg(_("Device I/O failed: {} (the emulated drive lost power)."), strerror(EIO)));
}

Status MemoryZonedDevice::CheckAlignedRange(uint64_t offset, uint64_t length) const {
  const uint32_t lbs = state_.geometry.logical_block_size;
  if (offset % lbs != 0 || length % lbs != 0) {
    return Error::WrongParameters(
        FormatMsg(_("I/O at offset {} of {} bytes is not aligned to the logical block size {}."),
                  offset, length, lbs));
  }
  if (!InRange(offset, length, state_.geometry.size)) {
    return Error::WrongParameters(
        FormatMsg(_("I/O at offset {} of {} bytes goes past the device end ({} bytes)."), offset,
                  length, state_.geometry.size));
  }
  return Status::Ok();
}

Status MemoryZonedDevice::CheckWrite(uint64_t offset, uint64_t length) const {
  if (state_.geometry.read_only) {
    return Error::WrongDevice(_("Cannot write to a read-only device."));
  }
  RETURN_IF_ERROR(CheckAlignedRange(offset, length));
  if (length == 0 || !state_.geometry.is_zoned()) return Status::Ok();

  const uint32_t first = ZoneIndex(offset);
  const uint32_t last = ZoneIndex(offset + length - 1);
  const Zone& zone = state_.zones[first];
  if (!zone.is_sequential()) {
    for (uint32_t i = first + 1; i <= last; ++i) {
      if (state_.zones[i].is_sequential()) {
        return Error::WrongDevice(FormatMsg(
            _("Write at offset {} of {} bytes runs from a conventional zone into the sequential "
              "zone at offset {}."),
            offset, length, state_.zones[i].start));
      }
    }
    return Status::Ok();
  }
  if (first != last) {
    return Error::WrongDevice(
        FormatMsg(_("Write at offset {} of {} bytes crosses the end of the zone at offset {}."),
                  offset, length, zone.start));
  }
  if (zone.condition == ZoneCondition::kFull) {
    return Error::WrongDevice(FormatMsg(
        _("Write at offset {} refused: the zone at offset {} is full."), offset, zone.start));
  }
  if (offset + length > zone.start + zone.capacity) {
    return Error::WrongDevice(FormatMsg(
        _("Write at offset {} of {} bytes goes past the capacity ({} bytes) of the zone at "
          "offset {}."),
        offset, length, zone.capacity, zone.start));
  }
  if (zone.type == ZoneType::kSequentialRequired) {
    if (offset != zone.write_pointer) {
      return Error::WrongDevice(FormatMsg(
          _("Write at offset {} refused: the write pointer of the zone at offset {} is at {}."),
          offset, zone.start, zone.write_pointer));
    }
    if (zone.condition == ZoneCondition::kEmpty || zone.condition == ZoneCondition::kClosed) {
      RETURN_IF_ERROR(CheckResourcesToActivate(zone));
    }
  }
  return Status::Ok();
}

Result<Zone*> MemoryZonedDevice::ZoneForManagement(uint64_t zone_start) {
  if (!state_.geometry.is_zoned()) {
    return Error::WrongParameters(_("Zone management on a device that is not zoned."));
  }
  if (zone_start >= state_.geometry.size || zone_start % state_.geometry.zone_size != 0) {
    return Error::WrongParameters(
        FormatMsg(_("Offset {} is not the start of a zone."), zone_start));
  }
  Zone& zone = state_.zones[ZoneIndex(zone_start)];
  if (!zone.is_sequential()) {
    return Error::WrongParameters(FormatMsg(
        _("The zone at offset {} is conventional: it cannot be reset or finished."), zone_start));
  }
  if (state_.geometry.read_only) {
    return Error::WrongDevice(_("Cannot reset or finish a zone of a read-only device."));
  }
  return &zone;
}

void MemoryZonedDevice::ApplyWrite(uint64_t offset, std::span<const std::uint8_t> data) {
  if (data.empty()) return;
  state_.chunks.Store(offset, data);
  if (!state_.geometry.is_zoned()) return;
  Zone& zone = state_.zones[ZoneIndex(offset)];
  if (!zone.is_sequential()) return;
  if (zone.condition == ZoneCondition::kEmpty || zone.condition == ZoneCondition::kClosed) {
    MakeRoomToOpen(zone);
    zone.condition = ZoneCondition::kImplicitOpen;
  }
  const uint64_t end = offset + data.size();
  zone.write_pointer = zone.type == ZoneType::kSequentialRequired
                           ? zone.write_pointer + data.size()
                           : std::max(zone.write_pointer, end);
  if (zone.write_pointer == zone.start + zone.capacity) zone.condition = ZoneCondition::kFull;
}

// ---------------------------------------------------------------------------------------------
// Zone resources, counted as null_blk counts them: open = implicitly or explicitly open;
// active = open or closed. EMPTY and FULL zones hold nothing.

bool MemoryZonedDevice::IsOpen(const Zone& zone) {
  return zone.condition == ZoneCondition::kImplicitOpen ||
         zone.condition == ZoneCondition::kExplicitOpen;
}

bool MemoryZonedDevice::IsActive(const Zone& zone) {
  return IsOpen(zone) || zone.condition == ZoneCondition::kClosed;
}

uint32_t MemoryZonedDevice::CountOpen() const {
  return static_cast<uint32_t>(std::count_if(state_.zones.begin(), state_.zones.end(), IsOpen));
}

uint32_t MemoryZonedDevice::CountActive() const {
  return static_cast<uint32_t>(std::count_if(state_.zones.begin(), state_.zones.end(), IsActive));
}

bool MemoryZonedDevice::HasImplicitlyOpenZone() const {
  return std::any_of(state_.zones.begin(), state_.zones.end(),
                     [](const Zone& z) { return z.condition == ZoneCondition::kImplicitOpen; });
}

Status MemoryZonedDevice::CheckResourcesToActivate(const Zone& zone) const {
  // A host-aware drive manages its resources itself and never refuses for them.
  if (zone.type != ZoneType::kSequentialRequired) return Status::Ok();
  const Geometry& g = state_.geometry;
  if (zone.condition == ZoneCondition::kEmpty && g.max_active_zones != 0 &&
      CountActive() >= g.max_active_zones) {
    return Error::WrongDevice(FormatMsg(
        _("The zone at offset {} cannot be opened: the drive allows only {} active zones."),
        zone.start, g.max_active_zones));
  }
  if (g.max_open_zones != 0 && CountOpen() >= g.max_open_zones && !HasImplicitlyOpenZone()) {
    return Error::WrongDevice(
        FormatMsg(_("The zone at offset {} cannot be opened: the drive allows only {} open zones."),
                  zone.start, g.max_open_zones));
  }
  return Status::Ok();
}

void MemoryZonedDevice::MakeRoomToOpen(const Zone& zone) {
  const uint32_t max_open = state_.geometry.max_open_zones;
  if (max_open == 0 || CountOpen() < max_open) return;
  // The drive closes an implicitly open zone on its own to open another; the lowest one here.
  for (Zone& other : state_.zones) {
    if (&other != &zone && other.condition == ZoneCondition::kImplicitOpen) {
      other.condition =
          other.write_pointer == other.start ? ZoneCondition::kEmpty : ZoneCondition::kClosed;
      return;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Zone geometry and what reads see

uint32_t MemoryZonedDevice::ZoneIndex(uint64_t offset) const {
  return static_cast<uint32_t>(offset / state_.geometry.zone_size);
}

void MemoryZonedDevice::LoadVisible(uint64_t offset, std::span<std::uint8_t> out) const {
  if (!state_.geometry.is_zoned()) return state_.chunks.Load(offset, out);
  while (!out.empty()) {
    const Zone& zone = state_.zones[ZoneIndex(offset)];
    const uint64_t n = std::min<uint64_t>(out.size(), zone.start + zone.length - offset);
    const uint64_t visible_end = zone.start + zone.written();
    const uint64_t visible = offset < visible_end ? std::min(n, visible_end - offset) : 0;
    state_.chunks.Load(offset, out.first(visible));
    std::memset(out.data() + visible, 0, n - visible);
    offset += n;
    out = out.subspan(n);
  }
}

}  // namespace luks2ext
