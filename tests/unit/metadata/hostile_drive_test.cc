// A drive that lies: zone reports and geometries no real drive should give, and devices
// smaller than the metadata they carry. Readers must refuse with a clear error, never read out
// of bounds, never compute room from a wrapped subtraction.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "metadata/copy_reader.h"
#include "support/forwarding_device.h"
#include "support/volume_fixture.h"

namespace luks2ext {
namespace {

using testing::FastOptions;
using testing::FormatNew;
using testing::Formatted;

// Forwards everything to a real (emulated) drive, but reports what the test says: a changed
// geometry and zone reports passed through `edit_zones`.
class LyingDevice : public testing::ForwardingDevice {
 public:
  LyingDevice(BlockDevice& real, Geometry geometry,
              std::function<void(std::vector<Zone>&)> edit_zones)
      : ForwardingDevice(real), geometry_(geometry), edit_zones_(std::move(edit_zones)) {}

  const Geometry& geometry() const override { return geometry_; }
  Result<std::vector<Zone>> ReportZones(uint64_t offset, uint32_t max_zones) override {
    ASSIGN_OR_RETURN(std::vector<Zone> zones, inner().ReportZones(offset, max_zones));
    edit_zones_(zones);
    return zones;
  }
  // Reads are checked against the size this device claims, as the kernel would.
  Status Read(uint64_t offset, std::span<std::uint8_t> out) override {
    EXPECT_LE(offset + out.size(), geometry_.size) << "read past the claimed end";
    EXPECT_EQ(offset % geometry_.logical_block_size, 0u) << "unaligned read";
    if (offset + out.size() > geometry_.size)
      return Error::WrongParameters("read past the claimed end");
    return inner().Read(offset, out);
  }

 private:
  Geometry geometry_;
  std::function<void(std::vector<Zone>&)> edit_zones_;
};

class HostileDriveTest : public ::testing::Test {
 protected:
  void SetUp() override {
    formatted_ = FormatNew(testing::HostManaged(512), FastOptions());
    ASSERT_NE(formatted_.device, nullptr);
    ASSERT_TRUE(ReadCopies(*formatted_.device, InspectDepth::kFull).ok());
  }

  // ReadCopies through a lying view of the formatted drive; expects a WrongDevice refusal
  // whose message holds `words`.
  void ExpectRefused(Geometry geometry, const std::function<void(std::vector<Zone>&)>& edit,
                     const std::string& words) {
    LyingDevice liar(*formatted_.device, geometry, edit);
    for (InspectDepth depth : {InspectDepth::kCheap, InspectDepth::kFull}) {
      auto state = ReadCopies(liar, depth);
      ASSERT_FALSE(state.ok()) << "a lying drive was read as a valid volume";
      EXPECT_EQ(state.error().code(), ExitCode::kWrongDevice) << state.error().message();
      EXPECT_NE(state.error().message().find(words), std::string::npos)
          << state.error().message();
    }
  }

  Geometry real() const { return formatted_.device->geometry(); }
  Formatted formatted_;
};

auto NoEdit = [](std::vector<Zone>&) {};

// Issue 8 item 13: with a zone capacity under 4 KiB, the reader took the first 4096 bytes of a
// shorter buffer (std::span::first past its end).
TEST_F(HostileDriveTest, ZoneCapacityUnderOneHeaderIsTooSmallNotAnOverread) {
  // Home's zone alone: unusable, and the journal copy is used instead.
  LyingDevice liar(*formatted_.device, real(),
                   [](std::vector<Zone>& zones) { zones[0].capacity = 2048; });
  auto state = ReadCopies(liar, InspectDepth::kFull);
  ASSERT_TRUE(state.ok()) << state.error().message();
  EXPECT_EQ((*state)->chosen, 1u);
  EXPECT_EQ((*state)->copies[0].problem, "too small to hold a LUKS2 header");
  // Both metadata zones: no copy left.
  ExpectRefused(real(), [](std::vector<Zone>& zones) {
    zones[0].capacity = 2048;
    zones[1].capacity = 2048;
  }, "too small to hold a LUKS2 header");
}

// Issue 8 item 13: logical blocks over 4 KiB made every 4 KiB read fail as "not aligned"
// (exit 1) deep inside the reader, instead of naming the drive.
TEST_F(HostileDriveTest, LogicalBlockOver4KiBIsRefusedByName) {
  Geometry geometry = real();
  geometry.logical_block_size = 8192;
  ExpectRefused(geometry, NoEdit, "logical block size of 8192");
}

TEST_F(HostileDriveTest, WritePointerBeforeTheZoneIsRefused) {
  ExpectRefused(real(), [](std::vector<Zone>& zones) {
    zones[1].condition = ZoneCondition::kClosed;
    zones[1].write_pointer = zones[1].start - 4096;  // Zone::written() wrapped to ~2^64
  }, "write pointer outside the zone");
}

TEST_F(HostileDriveTest, WritePointerPastTheCapacityIsRefused) {
  ExpectRefused(real(), [](std::vector<Zone>& zones) {
    zones[0].condition = ZoneCondition::kImplicitOpen;
    zones[0].write_pointer = zones[0].start + zones[0].length + 4096;
  }, "write pointer outside the zone");
}

TEST_F(HostileDriveTest, ZeroLengthOrZeroCapacityZonesAreRefused) {
  ExpectRefused(real(), [](std::vector<Zone>& zones) { zones[2].length = 0; }, "wrong length");
  ExpectRefused(real(), [](std::vector<Zone>& zones) { zones[0].capacity = 0; },
                "capacity out of range");
  Geometry geometry = real();
  geometry.zone_size = 0;
  ExpectRefused(geometry, NoEdit, "zone size");
}

TEST_F(HostileDriveTest, ZonesThatDoNotFollowEachOtherAreRefused) {
  ExpectRefused(real(), [](std::vector<Zone>& zones) { zones[1].start += 512; },
                "not where the previous zone ended");
}

// Zone::written() itself stays within [0, capacity] whatever the report says.
TEST(ZoneWrittenTest, NeverWrapsNorExceedsTheCapacity) {
  Zone zone;
  zone.start = 1 << 20;
  zone.length = zone.capacity = 1 << 20;
  zone.type = ZoneType::kSequentialRequired;
  zone.condition = ZoneCondition::kClosed;
  zone.write_pointer = zone.start - 512;
  EXPECT_EQ(zone.written(), 0u);
  zone.write_pointer = zone.start + 2 * zone.length;
  EXPECT_EQ(zone.written(), zone.capacity);
}

// Issue 8 item 14: a device smaller than its own metadata image was read as valid; stock
// cryptsetup refuses it ("Device is too small").
TEST(SmallDeviceTest, DeviceSmallerThanItsMetadataIsRefused) {
  Formatted formatted = FormatNew(testing::NotZoned(), FastOptions());
  ASSERT_NE(formatted.device, nullptr);
  Geometry geometry = formatted.device->geometry();
  geometry.size = formatted.layout.image_size() / 2;
  LyingDevice smaller(*formatted.device, geometry, NoEdit);
  auto state = ReadCopies(smaller, InspectDepth::kFull);
  ASSERT_FALSE(state.ok()) << "a device half the size of its metadata was read as valid";
  EXPECT_EQ(state.error().code(), ExitCode::kWrongDevice);
  EXPECT_NE(state.error().message().find("too small"), std::string::npos)
      << state.error().message();
  EXPECT_NE(state.error().message().find(std::to_string(formatted.layout.image_size())),
            std::string::npos)
      << "the message should name the size the metadata needs: " << state.error().message();
}

}  // namespace
}  // namespace luks2ext
