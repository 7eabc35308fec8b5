// FuzzDevice: a read-only BlockDevice whose geometry, zone report and contents are a fuzz
// input, for the copy reader fuzzer; EncodeFuzzDevice writes that input (make_seeds.cc).
//
// Input format (integers little-endian):
//   offset size
//        0    1 zone model: value % 3 -> none, host-aware, host-managed
//        1    1 logical block size: 512 << (value % 8), 512 .. 64 KiB
//        2    1 zone size: 2^(9 + value % 28), at least the logical block size
//        3    1 flags: bit 0 makes ReportZones fail
//        4    1 number of zone records that follow (the report returns at most what is asked)
//        5    3 free for the fuzz target (copy_reader: a luksFormat layout request)
//        8    8 device size: value % 2^44, rounded down to the logical block size (min. one)
//       16 33*n zone records:
//              0  1 bits 0-1 type (0 conventional, 1 seq. required, 2 seq. preferred, 3 seq.
//                   required), bits 2-4 condition (ZoneCondition order), bit 7 wild
//              1  8 a: wild: start;          sane: capacity in blocks (0: the zone length)
//              9  8 b: wild: length;         sane: write pointer in blocks from the start
//             17  8 c: wild: capacity;       sane: unused
//             25  8 d: wild: write pointer;  sane: unused
//     then  rest the device's bytes from offset 0; reads past them return zeros
// A sane record i describes the zone at i * zone_size (cut at the device end; records for zones
// past the end are dropped), its capacity and write pointer clamped into it; a conventional one
// has capacity = length and condition "not write pointer".
#pragma once

#include <algorithm>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "fuzz_check.h"
#include "luks2ext/block_device.h"

namespace luks2ext {

inline constexpr size_t kFuzzDeviceHeaderSize = 16;
inline constexpr size_t kFuzzZoneRecordSize = 33;

class FuzzDevice : public BlockDevice {
 public:
  explicit FuzzDevice(std::span<const uint8_t> input) {
    using fuzz::LoadLe;
    const uint8_t model = static_cast<uint8_t>(LoadLe(input, 0, 1) % 3);
    geometry_.model = model == 0   ? ZoneModel::kNone
                      : model == 1 ? ZoneModel::kHostAware
                                   : ZoneModel::kHostManaged;
    geometry_.logical_block_size = 512u << (LoadLe(input, 1, 1) % 8);
    geometry_.physical_block_size = geometry_.logical_block_size;
    const uint64_t lbs = geometry_.logical_block_size;
    const uint64_t zone_size = std::max<uint64_t>(lbs, uint64_t{1} << (9 + LoadLe(input, 2, 1) % 28));
    report_fails_ = (LoadLe(input, 3, 1) & 1) != 0;
    const size_t records = LoadLe(input, 4, 1);
    geometry_.size = std::max(lbs, LoadLe(input, 8, 8) % (uint64_t{1} << 44) / lbs * lbs);
    if (geometry_.is_zoned()) {
      geometry_.zone_size = zone_size;
      geometry_.nr_zones = static_cast<uint32_t>((geometry_.size + zone_size - 1) / zone_size);
    }

    size_t offset = kFuzzDeviceHeaderSize;
    for (size_t i = 0; i < records; ++i, offset += kFuzzZoneRecordSize) {
      const uint8_t kind = static_cast<uint8_t>(LoadLe(input, offset, 1));
      const uint64_t a = LoadLe(input, offset + 1, 8), b = LoadLe(input, offset + 9, 8);
      const uint64_t c = LoadLe(input, offset + 17, 8), d = LoadLe(input, offset + 25, 8);
      Zone zone;
      zone.type = (kind & 3) == 0   ? ZoneType::kConventional
                  : (kind & 3) == 2 ? ZoneType::kSequentialPreferred
                                    : ZoneType::kSequentialRequired;
      zone.condition = static_cast<ZoneCondition>((kind >> 2) & 7);
      if (kind & 0x80) {
        zone.start = a;
        zone.length = b;
        zone.capacity = c;
        zone.write_pointer = d;
      } else {
        zone.start = i * zone_size;
        if (zone.start >= geometry_.size) continue;
        zone.length = std::min(zone_size, geometry_.size - zone.start);
        zone.capacity = a == 0 ? zone.length : std::min(a * lbs, zone.length);
        zone.write_pointer = zone.start + std::min(b * lbs, zone.capacity);
        if (zone.type == ZoneType::kConventional) {
          zone.capacity = zone.length;
          zone.condition = ZoneCondition::kNotWritePointer;
        }
      }
      zones_.push_back(zone);
    }
    if (offset < input.size()) contents_ = input.subspan(offset);
  }

  const Geometry& geometry() const override { return geometry_; }
  std::string path() const override { return "/fuzz/device"; }

  Result<std::vector<Zone>> ReportZones(uint64_t, uint32_t max_zones) override {
    if (report_fails_) return Error::WrongDevice("zone report failed (fuzzed)");
    if (!geometry_.is_zoned()) return std::vector<Zone>{};
    const size_t count = std::min<size_t>(max_zones, zones_.size());
    return std::vector<Zone>(zones_.begin(), zones_.begin() + count);
  }

  Status Read(uint64_t offset, std::span<std::uint8_t> out) override {
    // The oracle: the library never reads outside the device, whatever the zones claim.
    if (out.size() > geometry_.size || offset > geometry_.size - out.size()) {
      std::fprintf(stderr, "read of %zu bytes at %llu outside the device of %llu bytes\n",
                   out.size(), static_cast<unsigned long long>(offset),
                   static_cast<unsigned long long>(geometry_.size));
      FUZZ_CHECK(!"read outside the device");
    }
    // A misaligned read fails, as O_DIRECT on a block device does (zoned/io_range.h).
    if (offset % geometry_.logical_block_size != 0 || out.size() % geometry_.logical_block_size != 0)
      return Error::WrongParameters("misaligned read (fuzzed device)");
    std::fill(out.begin(), out.end(), std::uint8_t{0});
    if (offset < contents_.size()) {
      const size_t n = std::min<uint64_t>(out.size(), contents_.size() - offset);
      std::copy_n(reinterpret_cast<const std::uint8_t*>(contents_.data() + offset), n, out.begin());
    }
    return Status::Ok();
  }

  // Reading never writes.
  Status Write(uint64_t, std::span<const std::uint8_t>) override { return Forbidden(); }
  Status ResetZone(uint64_t) override { return Forbidden(); }
  Status FinishZone(uint64_t) override { return Forbidden(); }
  Status Flush() override { return Status::Ok(); }

 private:
  static Status Forbidden() {
    FUZZ_CHECK(!"a read-only operation wrote to the device");
    return Status::Ok();
  }

  Geometry geometry_;
  bool report_fails_ = false;
  std::vector<Zone> zones_;
  std::span<const uint8_t> contents_;
};

// The input that makes a FuzzDevice of this geometry, these zones (as sane records when they
// can be, else wild) and these contents. REQUIRES: a geometry FuzzDevice can express.
inline std::vector<uint8_t> EncodeFuzzDevice(const Geometry& g, const std::vector<Zone>& zones,
                                             std::span<const uint8_t> contents) {
  std::vector<uint8_t> out(kFuzzDeviceHeaderSize + zones.size() * kFuzzZoneRecordSize);
  auto log2 = [](uint64_t v) { return static_cast<uint64_t>(63 - __builtin_clzll(v)); };
  out[0] = g.model == ZoneModel::kNone ? 0 : g.model == ZoneModel::kHostAware ? 1 : 2;
  out[1] = static_cast<uint8_t>(log2(g.logical_block_size) - 9);
  out[2] = static_cast<uint8_t>(g.is_zoned() ? log2(g.zone_size) - 9 : 0);
  out[4] = static_cast<uint8_t>(zones.size());
  fuzz::StoreLe(out, 8, 8, g.size);
  const uint64_t lbs = g.logical_block_size;
  for (size_t i = 0; i < zones.size(); ++i) {
    const Zone& z = zones[i];
    const size_t at = kFuzzDeviceHeaderSize + i * kFuzzZoneRecordSize;
    const uint8_t type = z.type == ZoneType::kConventional          ? 0
                         : z.type == ZoneType::kSequentialPreferred ? 2
                                                                    : 1;
    const bool sane = z.start == i * g.zone_size && z.capacity % lbs == 0 &&
                      z.write_pointer >= z.start && (z.write_pointer - z.start) % lbs == 0;
    out[at] = static_cast<uint8_t>(type | static_cast<uint8_t>(z.condition) << 2 | (sane ? 0 : 0x80));
    if (sane) {
      fuzz::StoreLe(out, at + 1, 8, z.capacity == z.length ? 0 : z.capacity / lbs);
      fuzz::StoreLe(out, at + 9, 8, (z.write_pointer - z.start) / lbs);
    } else {
      fuzz::StoreLe(out, at + 1, 8, z.start);
      fuzz::StoreLe(out, at + 9, 8, z.length);
      fuzz::StoreLe(out, at + 17, 8, z.capacity);
      fuzz::StoreLe(out, at + 25, 8, z.write_pointer);
    }
  }
  out.insert(out.end(), contents.begin(), contents.end());
  return out;
}

}  // namespace luks2ext
