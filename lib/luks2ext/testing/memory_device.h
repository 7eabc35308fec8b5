// MemoryZonedDevice: an in-memory drive for tests, strict where the kernel is strict.
//
// It enforces what Linux enforces on zoned block devices (null_blk, scsi_debug, NVMe ZNS), so
// that code passing against it does not fail on a real drive:
//   - reads and writes aligned to the logical block size, never past the device end;
//   - sequential-write-required zones: writes only at the write pointer, within the zone
//     capacity, never crossing the zone end; a FULL zone refuses writes;
//   - conventional zones: writes anywhere, but a write may not run on into a sequential zone;
//   - host-aware (sequential-write-preferred) zones: writes anywhere inside one zone; the write
//     pointer becomes max(write pointer, end of write);
//   - reads past a zone's write pointer (or capacity) return zeros;
//   - reset: EMPTY, write pointer at the start, data gone; finish: FULL; both refused on
//     conventional zones and on a read-only device;
//   - open/active zone resources as null_blk counts them: writing an EMPTY or CLOSED zone opens
//     it implicitly; when max_open would be exceeded an implicitly open zone is closed to make
//     room, and failing that the write is refused; an EMPTY zone that would exceed max_active is
//     refused; FULL and EMPTY zones hold no resources. Host-aware drives manage resources
//     themselves (ZBC), so sequential-preferred zones make room the same way but are never
//     refused.
// A write that crosses a boundary between two sequential zones is refused even though the block
// layer might split it: being stricter than the drive is safe, being more lenient is not.
//
// Fault injection: every mutating call (Write, ResetZone, FinishZone) gets the next op index
// 0, 1, 2, ... whether it succeeds or not, and is recorded in op_log(). CutPowerAt(i, torn)
// makes op i persist nothing (a Write: only its first `torn` logical blocks) and switches the
// device off: that call and every later call fail with an I/O error until PowerOn(). PowerOn()
// also closes the zones that were open, as a drive does after a power cycle.
//
// Storage is sparse (ChunkStore: 64 KiB chunks allocated on first write), so a large device
// costs memory only for what was written. Not thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "luks2ext/block_device.h"
#include "luks2ext/error.h"
#include "luks2ext/unique_fd.h"
#include "testing/chunk_store.h"

namespace luks2ext {

class MemoryZonedDevice : public BlockDevice {
 public:
  struct Config {
    ZoneModel model = ZoneModel::kHostManaged;
    uint64_t size = 256ULL << 20;        // bytes; a multiple of zone_size when zoned
    uint64_t zone_size = 64ULL << 20;    // a power of two, as the kernel requires; unused if kNone
    uint64_t zone_capacity = 0;          // 0: zone_size; else <= zone_size (NVMe ZNS)
    uint32_t nr_conventional_zones = 0;  // conventional zones at LBA 0
    uint32_t logical_block_size = 4096;  // 512 or 4096
    uint32_t physical_block_size = 0;    // 0: same as logical_block_size
    uint32_t max_open_zones = 0;         // 0: unlimited
    uint32_t max_active_zones = 0;       // 0: unlimited; max_open is clamped to it (null_blk)
    bool read_only = false;
  };

  struct Op {
    enum class Kind { kWrite, kReset, kFinish };
    Kind kind = Kind::kWrite;
    uint64_t offset = 0;
    uint64_t length = 0;     // bytes asked to write; the zone length for reset and finish
    bool succeeded = false;  // false when refused or cut by a power loss
  };

  // Checks the configuration (WrongParameters when it describes no device the kernel accepts).
  static Result<std::unique_ptr<MemoryZonedDevice>> Create(const Config& config);

  // --- BlockDevice ---
  const Geometry& geometry() const override { return state_.geometry; }
  // A sparse memfd of the device size, created on first call, as `/proc/self/fd/N`: only a
  // stand-in data device for libcryptsetup; it does not mirror the emulator's contents.
  // Returns "" if the memfd cannot be created. Valid while this object lives.
  std::string path() const override;
  Result<std::vector<Zone>> ReportZones(uint64_t offset, uint32_t max_zones) override;
  Status Read(uint64_t offset, std::span<std::uint8_t> out) override;
  Status Write(uint64_t offset, std::span<const std::uint8_t> data) override;
  Status ResetZone(uint64_t zone_start) override;
  Status FinishZone(uint64_t zone_start) override;
  Status Flush() override;

  // --- Fault injection ---
  // Arms a power cut at mutating op `op_index` (absolute, compared with mutating_ops()).
  // For a Write, its first `torn_blocks` logical blocks persist (clamped to the write length
  // and applied only if the write was legal). Replaces any earlier arming.
  void CutPowerAt(uint64_t op_index, uint64_t torn_blocks = 0);
  // Switches the device off now, as if the plug were pulled between two calls.
  void CutPowerNow();
  // Switches the device on again and disarms any pending cut. Open zones become CLOSED.
  void PowerOn();
  bool powered() const { return state_.powered; }

  // --- Inspection for tests (work whether powered or not, ignore alignment) ---
  uint64_t mutating_ops() const { return state_.op_log.size(); }
  const std::vector<Op>& op_log() const { return state_.op_log; }
  uint64_t flush_count() const { return state_.flushes; }
  // What a read of [offset, offset + length) returns on a powered device.
  std::vector<std::uint8_t> Contents(uint64_t offset, uint64_t length) const;
  // Overwrites stored bytes directly, bypassing every rule, the op log and the write pointers
  // (for corruption tests). Bytes past a write pointer stay invisible to reads.
  void Poke(uint64_t offset, std::span<const std::uint8_t> data);
  // The zone containing `offset` (REQUIRES: zoned device, offset < size).
  const Zone& ZoneAt(uint64_t offset) const;
  // Bytes of storage actually allocated.
  uint64_t allocated_bytes() const;

  // A copy of the whole state (data, zones, op log, power state, armed cut), so crash tests
  // can replay from the same start. The copy gets its own memfd on demand; the data costs
  // little until either side writes (ChunkStore is copy-on-write).
  std::unique_ptr<MemoryZonedDevice> Clone() const;

 private:
  struct PowerCut {
    uint64_t op_index = 0;
    uint64_t torn_blocks = 0;
  };

  // Everything but the memfd; copyable so Clone() is a plain copy.
  struct State {
    Config config;
    Geometry geometry;
    std::vector<Zone> zones;                            // empty when not zoned
    ChunkStore chunks;
    std::vector<Op> op_log;
    std::optional<PowerCut> armed_cut;
    uint64_t flushes = 0;
    bool powered = true;
  };

  explicit MemoryZonedDevice(State state) : state_(std::move(state)) {}

  // Records the op and fires an armed power cut at it. When the power goes off during this op,
  // returns how many logical blocks of it still persist.
  std::optional<uint64_t> BeginMutatingOp(Op::Kind kind, uint64_t offset, uint64_t length);
  Status PoweredOff() const;
  Status CheckAlignedRange(uint64_t offset, uint64_t length) const;
  Status CheckWrite(uint64_t offset, uint64_t length) const;
  // The zone management target: a sequential zone starting exactly at zone_start.
  Result<Zone*> ZoneForManagement(uint64_t zone_start);
  // Applies a write already checked legal (a prefix of it after a power cut).
  void ApplyWrite(uint64_t offset, std::span<const std::uint8_t> data);

  // Resource accounting.
  uint32_t CountOpen() const;
  uint32_t CountActive() const;
  bool HasImplicitlyOpenZone() const;
  Status CheckResourcesToActivate(const Zone& zone) const;
  void MakeRoomToOpen(const Zone& zone);
  static bool IsOpen(const Zone& zone);
  static bool IsActive(const Zone& zone);

  uint32_t ZoneIndex(uint64_t offset) const;
  // The stored bytes, but zeros past each sequential zone's written extent, as reads see it.
  void LoadVisible(uint64_t offset, std::span<std::uint8_t> out) const;

  State state_;
  mutable UniqueFd memfd_;
};

}  // namespace luks2ext
