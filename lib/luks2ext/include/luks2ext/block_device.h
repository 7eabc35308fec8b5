// The one I/O interface of the library. Everything that touches a drive goes through a
// BlockDevice, so tests can swap the drive for the in-memory emulator (which enforces the
// kernel's zoned-write rules and can cut the power at any write).
//
// All offsets and lengths are in bytes. Writes and reads must be aligned to the logical block
// size, as with O_DIRECT on a real block device.
#pragma once

#include <cstddef>
#include <algorithm>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "luks2ext/error.h"

namespace luks2ext {

enum class ZoneModel {
  kNone,         // ordinary disk or regular file: writes anywhere
  kHostAware,    // sequential-write-preferred zones: random writes allowed, but slow
  kHostManaged,  // sequential-write-required zones (SMR ZBC/ZAC host-managed, NVMe ZNS)
};

enum class ZoneType {
  kConventional,         // random writes allowed, no write pointer
  kSequentialRequired,   // writes only at the write pointer
  kSequentialPreferred,  // host-aware: write pointer kept, random writes tolerated
};

enum class ZoneCondition {
  kNotWritePointer,  // conventional zone
  kEmpty,
  kImplicitOpen,
  kExplicitOpen,
  kClosed,
  kFull,
  kReadOnly,
  kOffline,
};

struct Zone {
  uint64_t start = 0;          // first byte of the zone
  uint64_t length = 0;         // zone size
  uint64_t capacity = 0;       // writable bytes from start (ZNS may have capacity < length)
  uint64_t write_pointer = 0;  // absolute; meaningless for conventional zones
  ZoneType type = ZoneType::kConventional;
  ZoneCondition condition = ZoneCondition::kNotWritePointer;

  bool is_sequential() const { return type != ZoneType::kConventional; }
  // Bytes already written from the zone start, as far as the write pointer tells; never more
  // than the capacity, never negative, whatever the report says.
  uint64_t written() const {
    if (!is_sequential() || condition == ZoneCondition::kFull) return capacity;
    if (write_pointer < start) return 0;
    return std::min(write_pointer - start, capacity);
  }
};

struct Geometry {
  ZoneModel model = ZoneModel::kNone;
  uint64_t size = 0;                  // device size in bytes
  uint32_t logical_block_size = 512;  // smallest write unit
  uint32_t physical_block_size = 512;
  uint64_t zone_size = 0;             // 0 when not zoned
  uint32_t nr_zones = 0;              // 0 when not zoned
  uint32_t max_open_zones = 0;        // 0: no limit
  uint32_t max_active_zones = 0;      // 0: no limit
  bool read_only = false;

  bool is_zoned() const { return model != ZoneModel::kNone; }
};

class BlockDevice {
 public:
  virtual ~BlockDevice() = default;

  virtual const Geometry& geometry() const = 0;

  // A path libcryptsetup can open as the *data* device (the drive itself, or for the emulator
  // a sparse stand-in of the same size). libcryptsetup never gets it as a header device.
  virtual std::string path() const = 0;

  // Up to max_zones zones starting with the zone containing `offset`. Empty for a non-zoned
  // device. Callers ask only for the few zones they need: cost must not grow with drive size.
  virtual Result<std::vector<Zone>> ReportZones(uint64_t offset, uint32_t max_zones) = 0;

  // Reads data.size() bytes at offset. Reading past a zone's write pointer returns zeros on
  // the kernel's zoned devices, and so does the emulator.
  virtual Status Read(uint64_t offset, std::span<std::uint8_t> out) = 0;

  // Writes at offset. In a sequential-write-required zone offset must equal the write pointer
  // and the write must not cross the zone capacity; the device refuses it otherwise.
  virtual Status Write(uint64_t offset, std::span<const std::uint8_t> data) = 0;

  // Zone management, for the zone that starts at zone_start. No-ops on conventional zones
  // would hide bugs, so they are errors there, as with the kernel's ioctls.
  virtual Status ResetZone(uint64_t zone_start) = 0;
  virtual Status FinishZone(uint64_t zone_start) = 0;

  // Makes completed writes durable (fsync / cache flush).
  virtual Status Flush() = 0;
  // True when path() is this very drive and it takes writes anywhere (an ordinary disk or a
  // regular file): libcryptsetup may then change the metadata there itself, in place, as stock
  // cryptsetup does. False for zoned drives and for the emulator, whose path() is a stand-in.
  virtual bool editable_in_place_at_path() const { return false; }
};

// Whether a block device is opened with O_EXCL: the kernel then refuses it while it is mounted,
// mapped by device-mapper (dm-crypt, LVM...) or opened exclusively by anyone else, as
// cryptsetup refuses to format or restore over a device in use. Regular files have no such
// notion and are opened as usual.
enum class Exclusive { kNo, kYes };

// Opens a drive by path: libzbd backend when the kernel reports it zoned, plain backend
// (regular file or ordinary block device) otherwise. `writable` false opens read-only. With
// Exclusive::kYes a block device in use is Error::Busy ("... in use (already mapped or
// mounted)"), and it stays exclusively held while the returned device lives.
Result<std::unique_ptr<BlockDevice>> OpenBlockDevice(const std::string& path, bool writable,
                                                     Exclusive exclusive = Exclusive::kNo);

// The block device at `path` as device-mapper names a table's device: "major:minor". Not a
// block device: Error::WrongDevice.
Result<std::string> BlockDeviceNumber(const std::string& path);

// Checks a zone report against the geometry before anything is placed or read by it: the
// zones are consecutive from `first_start`, each of the drive's zone size (the last may be
// shorter), with a capacity of at least one logical block and at most the zone length, and a
// write pointer inside [start, start + capacity] for sequential zones that are not FULL.
// Also checks the geometry itself: a logical block size Linux can have (512..4096, a power of
// two) and a zone size that is a multiple of it. A drive (or a bug) that reports anything
// else is Error::WrongDevice, so no reader computes offsets from nonsense.
Status CheckZoneReport(const Geometry& geometry, uint64_t first_start,
                       const std::vector<Zone>& zones);

const char* ZoneModelName(ZoneModel model);  // "host-managed", "host-aware", "none"
const char* ZoneTypeName(ZoneType type);
const char* ZoneConditionName(ZoneCondition condition);

}  // namespace luks2ext
