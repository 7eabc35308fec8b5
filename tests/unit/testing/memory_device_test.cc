// The emulator must refuse what the kernel refuses; each rule has a test here.
#include "testing/memory_device.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstddef>
#include <ostream>
#include <string>
#include <vector>

namespace luks2ext {
namespace {

constexpr uint64_t kKiB = 1024;
constexpr uint64_t kMiB = 1024 * kKiB;

using Config = MemoryZonedDevice::Config;

std::unique_ptr<MemoryZonedDevice> Make(const Config& config) {
  auto device = MemoryZonedDevice::Create(config);
  EXPECT_TRUE(device.ok()) << device.error().message();
  return std::move(device).value();
}

// 4 zones of 1 MiB, host-managed, 4 KiB blocks unless changed.
Config SmallConfig() {
  Config config;
  config.size = 4 * kMiB;
  config.zone_size = 1 * kMiB;
  return config;
}

std::vector<std::uint8_t> Bytes(uint64_t length, uint8_t fill) {
  return std::vector<std::uint8_t>(length, std::uint8_t{fill});
}

Status WriteFill(MemoryZonedDevice& device, uint64_t offset, uint64_t length, uint8_t fill) {
  const std::vector<std::uint8_t> data = Bytes(length, fill);
  return device.Write(offset, data);
}

ExitCode CodeOf(const Status& status) {
  return status.ok() ? ExitCode::kOk : status.error().code();
}

// ---------------------------------------------------------------------------------------------
// Configuration

TEST(MemoryZonedDeviceConfig, RejectsWhatTheKernelWouldNotExpose) {
  struct Case {
    const char* name;
    void (*change)(Config&);
  };
  const Case cases[] = {
      {"block size 1024", [](Config& c) { c.logical_block_size = 1024; }},
      {"zone size not a power of two", [](Config& c) { c.zone_size = 3 * kMiB; }},
      {"size not a multiple of zone size", [](Config& c) { c.size = 4 * kMiB + 4096; }},
      {"capacity above zone size", [](Config& c) { c.zone_capacity = 2 * kMiB; }},
      {"capacity unaligned", [](Config& c) { c.zone_capacity = 1000; }},
      {"too many conventional zones", [](Config& c) { c.nr_conventional_zones = 5; }},
      {"size zero", [](Config& c) { c.size = 0; }},
  };
  for (const Case& c : cases) {
    Config config = SmallConfig();
    c.change(config);
    auto device = MemoryZonedDevice::Create(config);
    ASSERT_FALSE(device.ok()) << c.name;
    EXPECT_EQ(device.error().code(), ExitCode::kWrongParameters) << c.name;
  }
}

TEST(MemoryZonedDeviceConfig, GeometryAndZoneReport) {
  Config config = SmallConfig();
  config.nr_conventional_zones = 1;
  config.zone_capacity = 768 * kKiB;
  config.max_open_zones = 5;
  config.max_active_zones = 2;  // open is clamped to active, as null_blk does
  auto device = Make(config);
  const Geometry& g = device->geometry();
  EXPECT_EQ(g.model, ZoneModel::kHostManaged);
  EXPECT_EQ(g.size, 4 * kMiB);
  EXPECT_EQ(g.nr_zones, 4u);
  EXPECT_EQ(g.zone_size, kMiB);
  EXPECT_EQ(g.logical_block_size, 4096u);
  EXPECT_EQ(g.max_open_zones, 2u);
  EXPECT_EQ(g.max_active_zones, 2u);

  auto zones = device->ReportZones(kMiB + 4096, 10);  // from the zone containing the offset
  ASSERT_TRUE(zones.ok());
  ASSERT_EQ(zones->size(), 3u);
  EXPECT_EQ((*zones)[0].start, kMiB);
  EXPECT_EQ((*zones)[0].capacity, 768 * kKiB);
  EXPECT_EQ((*zones)[0].condition, ZoneCondition::kEmpty);
  EXPECT_EQ((*zones)[0].type, ZoneType::kSequentialRequired);

  auto first = device->ReportZones(0, 1);
  ASSERT_TRUE(first.ok());
  ASSERT_EQ(first->size(), 1u);
  EXPECT_EQ((*first)[0].type, ZoneType::kConventional);
  EXPECT_EQ((*first)[0].condition, ZoneCondition::kNotWritePointer);

  EXPECT_FALSE(device->ReportZones(4 * kMiB, 1).ok());
}

TEST(MemoryZonedDeviceConfig, NotZonedReportsNoZones) {
  Config config = SmallConfig();
  config.model = ZoneModel::kNone;
  auto device = Make(config);
  EXPECT_FALSE(device->geometry().is_zoned());
  auto zones = device->ReportZones(0, 4);
  ASSERT_TRUE(zones.ok());
  EXPECT_TRUE(zones->empty());
  EXPECT_TRUE(WriteFill(*device, 2 * kMiB, 4096, 1).ok());
  EXPECT_TRUE(WriteFill(*device, 0, 4096, 2).ok());
  EXPECT_EQ(CodeOf(device->ResetZone(0)), ExitCode::kWrongParameters);
}

// ---------------------------------------------------------------------------------------------
// Writes on a host-managed drive: a table of legal and illegal writes.

struct WriteCase {
  const char* name;
  uint32_t block_size;
  uint64_t prefill;  // bytes already written at the start of zone 1
  uint64_t offset;
  uint64_t length;
  ExitCode expected;
};

void PrintTo(const WriteCase& c, std::ostream* os) { *os << c.name; }

class MemoryZonedDeviceWrite : public ::testing::TestWithParam<WriteCase> {};

TEST_P(MemoryZonedDeviceWrite, FollowsTheKernelRules) {
  const WriteCase& c = GetParam();
  Config config = SmallConfig();
  config.logical_block_size = c.block_size;
  config.zone_capacity = 768 * kKiB;
  auto device = Make(config);
  if (c.prefill != 0) {
    ASSERT_TRUE(WriteFill(*device, kMiB, c.prefill, 0x11).ok());
  }
  const Zone before = device->ZoneAt(kMiB);

  EXPECT_EQ(CodeOf(WriteFill(*device, c.offset, c.length, 0x22)), c.expected) << c.name;
  if (c.expected != ExitCode::kOk) {
    // A refused write changes nothing.
    EXPECT_EQ(device->ZoneAt(kMiB).write_pointer, before.write_pointer);
    EXPECT_EQ(device->ZoneAt(kMiB).condition, before.condition);
  }
}

constexpr uint64_t Z1 = kMiB;
INSTANTIATE_TEST_SUITE_P(
    Table, MemoryZonedDeviceWrite,
    ::testing::Values(
        WriteCase{"at wp of empty zone", 4096, 0, Z1, 8192, ExitCode::kOk},
        WriteCase{"at wp after prefill", 4096, 8192, Z1 + 8192, 4096, ExitCode::kOk},
        WriteCase{"behind wp", 4096, 8192, Z1, 4096, ExitCode::kWrongDevice},
        WriteCase{"ahead of wp", 4096, 8192, Z1 + 16384, 4096, ExitCode::kWrongDevice},
        WriteCase{"ahead of wp in empty zone", 4096, 0, Z1 + 4096, 4096, ExitCode::kWrongDevice},
        WriteCase{"up to capacity", 4096, 0, Z1, 768 * kKiB, ExitCode::kOk},
        WriteCase{"past capacity", 4096, 0, Z1, 768 * kKiB + 4096, ExitCode::kWrongDevice},
        WriteCase{"past capacity from wp", 4096, 764 * kKiB, Z1 + 764 * kKiB, 8192,
                  ExitCode::kWrongDevice},
        WriteCase{"crossing into next zone", 4096, 0, Z1, kMiB + 4096, ExitCode::kWrongDevice},
        WriteCase{"unaligned offset 4k", 4096, 0, Z1 + 512, 4096, ExitCode::kWrongParameters},
        WriteCase{"unaligned length 4k", 4096, 0, Z1, 512, ExitCode::kWrongParameters},
        WriteCase{"512 block at wp", 512, 512, Z1 + 512, 512, ExitCode::kOk},
        WriteCase{"512 block ahead", 512, 512, Z1 + 1024, 512, ExitCode::kWrongDevice},
        WriteCase{"unaligned 512", 512, 0, Z1, 100, ExitCode::kWrongParameters},
        WriteCase{"past device end", 4096, 0, 4 * kMiB, 4096, ExitCode::kWrongParameters},
        WriteCase{"straddling device end", 4096, 0, 4 * kMiB - 4096, 8192,
                  ExitCode::kWrongParameters}),
    [](const auto& test_param) {
      std::string name = test_param.param.name;
      for (char& ch : name) {
        if (!isalnum(static_cast<unsigned char>(ch))) ch = '_';
      }
      return name;
    });

TEST(MemoryZonedDevice, WritingToCapacityMakesTheZoneFullAndRefusesMore) {
  Config config = SmallConfig();
  config.zone_capacity = 512 * kKiB;
  auto device = Make(config);
  ASSERT_TRUE(WriteFill(*device, 0, 256 * kKiB, 1).ok());
  EXPECT_EQ(device->ZoneAt(0).condition, ZoneCondition::kImplicitOpen);
  EXPECT_EQ(device->ZoneAt(0).write_pointer, 256 * kKiB);
  ASSERT_TRUE(WriteFill(*device, 256 * kKiB, 256 * kKiB, 2).ok());
  EXPECT_EQ(device->ZoneAt(0).condition, ZoneCondition::kFull);
  EXPECT_EQ(device->ZoneAt(0).written(), 512 * kKiB);
  EXPECT_EQ(CodeOf(WriteFill(*device, 512 * kKiB, 4096, 3)), ExitCode::kWrongDevice);
}

TEST(MemoryZonedDevice, ReadsPastTheWritePointerAndCapacityAreZeros) {
  Config config = SmallConfig();
  config.zone_capacity = 512 * kKiB;
  auto device = Make(config);
  ASSERT_TRUE(WriteFill(*device, 0, 8192, 0xAB).ok());
  // Bytes stored past the write pointer (by a test poke) stay invisible, as on the drive.
  const std::vector<std::uint8_t> junk = Bytes(4096, 0xEE);
  device->Poke(8192, junk);

  std::vector<std::uint8_t> out(2 * kMiB, std::uint8_t{0x55});
  ASSERT_TRUE(device->Read(0, out).ok());  // crosses zones: reads may
  for (uint64_t i = 0; i < out.size(); ++i) {
    ASSERT_EQ(out[i], static_cast<std::uint8_t>(i < 8192 ? 0xAB : 0)) << i;
  }
  EXPECT_EQ(device->Contents(0, 8192), Bytes(8192, 0xAB));
  EXPECT_EQ(CodeOf(device->Read(100, std::span(out).first(4096))), ExitCode::kWrongParameters);
  EXPECT_EQ(CodeOf(device->Read(4 * kMiB - 4096, std::span(out).first(8192))),
            ExitCode::kWrongParameters);
}

// ---------------------------------------------------------------------------------------------
// Zone management

TEST(MemoryZonedDevice, ResetEmptiesTheZoneAndDropsItsData) {
  auto device = Make(SmallConfig());
  ASSERT_TRUE(WriteFill(*device, kMiB, 64 * kKiB, 7).ok());
  ASSERT_TRUE(device->ResetZone(kMiB).ok());
  EXPECT_EQ(device->ZoneAt(kMiB).condition, ZoneCondition::kEmpty);
  EXPECT_EQ(device->ZoneAt(kMiB).write_pointer, kMiB);
  EXPECT_EQ(device->Contents(kMiB, 64 * kKiB), Bytes(64 * kKiB, 0));
  EXPECT_EQ(device->allocated_bytes(), 0u);
  // Writing starts again at the zone start.
  EXPECT_TRUE(WriteFill(*device, kMiB, 4096, 8).ok());
  // Resetting an empty zone is allowed; a non-zone-start offset is not.
  EXPECT_TRUE(device->ResetZone(2 * kMiB).ok());
  EXPECT_EQ(CodeOf(device->ResetZone(kMiB + 4096)), ExitCode::kWrongParameters);
  EXPECT_EQ(CodeOf(device->ResetZone(4 * kMiB)), ExitCode::kWrongParameters);
}

TEST(MemoryZonedDevice, FinishMakesTheZoneFull) {
  auto device = Make(SmallConfig());
  ASSERT_TRUE(WriteFill(*device, 0, 8192, 7).ok());
  ASSERT_TRUE(device->FinishZone(0).ok());
  EXPECT_EQ(device->ZoneAt(0).condition, ZoneCondition::kFull);
  EXPECT_EQ(CodeOf(WriteFill(*device, 8192, 4096, 1)), ExitCode::kWrongDevice);
  EXPECT_EQ(device->Contents(0, 16384), [] {
    auto v = Bytes(16384, 0);
    std::fill(v.begin(), v.begin() + 8192, std::uint8_t{7});
    return v;
  }());
  EXPECT_TRUE(device->FinishZone(0).ok());     // already full: no-op
  ASSERT_TRUE(device->FinishZone(kMiB).ok());  // an empty zone can be finished too
  EXPECT_EQ(device->ZoneAt(kMiB).condition, ZoneCondition::kFull);
  ASSERT_TRUE(device->ResetZone(0).ok());
  EXPECT_EQ(device->ZoneAt(0).condition, ZoneCondition::kEmpty);
}

TEST(MemoryZonedDevice, ConventionalZonesTakeRandomWritesButNoZoneManagement) {
  Config config = SmallConfig();
  config.nr_conventional_zones = 2;
  auto device = Make(config);
  EXPECT_TRUE(WriteFill(*device, 512 * kKiB, 4096, 1).ok());
  EXPECT_TRUE(WriteFill(*device, 0, 4096, 2).ok());
  EXPECT_TRUE(WriteFill(*device, 0, 4096, 3).ok());                // rewrite in place
  EXPECT_TRUE(WriteFill(*device, kMiB - 4096, 8192, 4).ok());      // conv -> conv
  EXPECT_EQ(CodeOf(WriteFill(*device, 2 * kMiB - 4096, 8192, 5)),  // conv -> seq
            ExitCode::kWrongDevice);
  EXPECT_EQ(device->Contents(0, 4096), Bytes(4096, 3));
  EXPECT_EQ(device->Contents(kMiB - 4096, 8192), Bytes(8192, 4));
  EXPECT_EQ(CodeOf(device->ResetZone(0)), ExitCode::kWrongParameters);
  EXPECT_EQ(CodeOf(device->FinishZone(kMiB)), ExitCode::kWrongParameters);
  EXPECT_TRUE(WriteFill(*device, 2 * kMiB, 4096, 6).ok());  // first sequential zone, at wp
}

TEST(MemoryZonedDevice, HostAwareZonesTakeRandomWrites) {
  Config config = SmallConfig();
  config.model = ZoneModel::kHostAware;
  auto device = Make(config);
  EXPECT_EQ(device->ZoneAt(0).type, ZoneType::kSequentialPreferred);
  ASSERT_TRUE(WriteFill(*device, 64 * kKiB, 4096, 1).ok());
  EXPECT_EQ(device->ZoneAt(0).write_pointer, 68 * kKiB);
  ASSERT_TRUE(WriteFill(*device, 0, 4096, 2).ok());  // behind the wp: allowed, wp stays
  EXPECT_EQ(device->ZoneAt(0).write_pointer, 68 * kKiB);
  ASSERT_TRUE(WriteFill(*device, 128 * kKiB, 4096, 3).ok());
  EXPECT_EQ(device->ZoneAt(0).write_pointer, 132 * kKiB);
  EXPECT_EQ(device->Contents(0, 4096), Bytes(4096, 2));
  EXPECT_EQ(device->Contents(64 * kKiB, 4096), Bytes(4096, 1));
  // Still no crossing into the next zone, and a finished zone takes nothing.
  EXPECT_EQ(CodeOf(WriteFill(*device, kMiB - 4096, 8192, 4)), ExitCode::kWrongDevice);
  ASSERT_TRUE(device->FinishZone(0).ok());
  EXPECT_EQ(CodeOf(WriteFill(*device, 0, 4096, 5)), ExitCode::kWrongDevice);
}

// ---------------------------------------------------------------------------------------------
// Open and active zone resources

TEST(MemoryZonedDevice, MaxOpenClosesAnImplicitlyOpenZoneToMakeRoom) {
  Config config = SmallConfig();
  config.max_open_zones = 2;
  auto device = Make(config);
  ASSERT_TRUE(WriteFill(*device, 0, 4096, 1).ok());
  ASSERT_TRUE(WriteFill(*device, kMiB, 4096, 1).ok());
  ASSERT_TRUE(WriteFill(*device, 2 * kMiB, 4096, 1).ok());  // closes zone 0
  EXPECT_EQ(device->ZoneAt(0).condition, ZoneCondition::kClosed);
  EXPECT_EQ(device->ZoneAt(kMiB).condition, ZoneCondition::kImplicitOpen);
  EXPECT_EQ(device->ZoneAt(2 * kMiB).condition, ZoneCondition::kImplicitOpen);
  // Writing the closed zone reopens it, closing another.
  ASSERT_TRUE(WriteFill(*device, 4096, 4096, 1).ok());
  EXPECT_EQ(device->ZoneAt(0).condition, ZoneCondition::kImplicitOpen);
  EXPECT_EQ(device->ZoneAt(kMiB).condition, ZoneCondition::kClosed);
}

TEST(MemoryZonedDevice, MaxActiveRefusesOpeningAnotherEmptyZone) {
  Config config = SmallConfig();
  config.max_active_zones = 2;
  auto device = Make(config);
  ASSERT_TRUE(WriteFill(*device, 0, 4096, 1).ok());
  ASSERT_TRUE(WriteFill(*device, kMiB, 4096, 1).ok());
  EXPECT_EQ(CodeOf(WriteFill(*device, 2 * kMiB, 4096, 1)), ExitCode::kWrongDevice);
  EXPECT_EQ(CodeOf(device->FinishZone(2 * kMiB)), ExitCode::kWrongDevice);  // EMPTY -> needs one
  EXPECT_EQ(device->ZoneAt(2 * kMiB).condition, ZoneCondition::kEmpty);
  // Active zones can still be written, and finishing one releases its resource.
  ASSERT_TRUE(WriteFill(*device, 4096, 4096, 1).ok());
  ASSERT_TRUE(device->FinishZone(0).ok());
  EXPECT_TRUE(WriteFill(*device, 2 * kMiB, 4096, 1).ok());
  // So does a reset.
  EXPECT_EQ(CodeOf(WriteFill(*device, 3 * kMiB, 4096, 1)), ExitCode::kWrongDevice);
  ASSERT_TRUE(device->ResetZone(kMiB).ok());
  EXPECT_TRUE(WriteFill(*device, 3 * kMiB, 4096, 1).ok());
}

TEST(MemoryZonedDevice, FilledZonesReleaseTheirResources) {
  Config config = SmallConfig();
  config.max_active_zones = 1;
  config.zone_capacity = 64 * kKiB;
  auto device = Make(config);
  ASSERT_TRUE(WriteFill(*device, 0, 64 * kKiB, 1).ok());  // FULL at once
  EXPECT_TRUE(WriteFill(*device, kMiB, 4096, 1).ok());
}

TEST(MemoryZonedDevice, OpenAndActiveLimitsTogether) {
  // max_open 1, max_active 2: zone 0 CLOSED, zone 1 open; writing zone 0 closes zone 1.
  Config config = SmallConfig();
  config.max_open_zones = 1;
  config.max_active_zones = 2;
  auto device = Make(config);
  ASSERT_TRUE(WriteFill(*device, 0, 4096, 1).ok());
  ASSERT_TRUE(WriteFill(*device, kMiB, 4096, 1).ok());
  EXPECT_EQ(device->ZoneAt(0).condition, ZoneCondition::kClosed);
  ASSERT_TRUE(WriteFill(*device, 4096, 4096, 1).ok());
  EXPECT_EQ(device->ZoneAt(kMiB).condition, ZoneCondition::kClosed);
  EXPECT_EQ(CodeOf(WriteFill(*device, 2 * kMiB, 4096, 1)), ExitCode::kWrongDevice);  // active
}

// ---------------------------------------------------------------------------------------------
// Read-only

TEST(MemoryZonedDevice, ReadOnlyRefusesEveryChange) {
  Config config = SmallConfig();
  config.read_only = true;
  auto device = Make(config);
  EXPECT_TRUE(device->geometry().read_only);
  EXPECT_EQ(CodeOf(WriteFill(*device, 0, 4096, 1)), ExitCode::kWrongDevice);
  EXPECT_EQ(CodeOf(device->ResetZone(0)), ExitCode::kWrongDevice);
  EXPECT_EQ(CodeOf(device->FinishZone(0)), ExitCode::kWrongDevice);
  std::vector<std::uint8_t> out(4096);
  EXPECT_TRUE(device->Read(0, out).ok());
  EXPECT_EQ(device->ZoneAt(0).condition, ZoneCondition::kEmpty);
}

// ---------------------------------------------------------------------------------------------
// Power cuts

TEST(MemoryZonedDevice, OpsAreCountedAndLogged) {
  auto device = Make(SmallConfig());
  ASSERT_TRUE(WriteFill(*device, 0, 8192, 1).ok());
  EXPECT_FALSE(WriteFill(*device, 0, 4096, 1).ok());  // refused, still an op
  ASSERT_TRUE(device->FinishZone(0).ok());
  ASSERT_TRUE(device->ResetZone(0).ok());
  ASSERT_TRUE(device->Flush().ok());
  std::vector<std::uint8_t> out(4096);
  ASSERT_TRUE(device->Read(0, out).ok());
  ASSERT_TRUE(device->ReportZones(0, 1).ok());
  EXPECT_EQ(device->mutating_ops(), 4u);
  EXPECT_EQ(device->flush_count(), 1u);
  using Kind = MemoryZonedDevice::Op::Kind;
  const auto& log = device->op_log();
  ASSERT_EQ(log.size(), 4u);
  EXPECT_EQ(log[0].kind, Kind::kWrite);
  EXPECT_EQ(log[0].length, 8192u);
  EXPECT_TRUE(log[0].succeeded);
  EXPECT_FALSE(log[1].succeeded);
  EXPECT_EQ(log[2].kind, Kind::kFinish);
  EXPECT_EQ(log[3].kind, Kind::kReset);
  EXPECT_EQ(log[3].offset, 0u);
  EXPECT_EQ(log[3].length, kMiB);
}

struct TornCase {
  uint64_t torn_blocks;
  uint64_t persisted_bytes;
};

class MemoryZonedDevicePowerCut : public ::testing::TestWithParam<TornCase> {};

TEST_P(MemoryZonedDevicePowerCut, InsideAWritePersistsOnlyAPrefix) {
  const TornCase& c = GetParam();
  auto device = Make(SmallConfig());
  ASSERT_TRUE(WriteFill(*device, 0, 4096, 1).ok());  // op 0
  device->CutPowerAt(1, c.torn_blocks);
  EXPECT_EQ(CodeOf(WriteFill(*device, 4096, 4 * 4096, 2)), ExitCode::kWrongDevice);
  EXPECT_FALSE(device->powered());
  EXPECT_EQ(device->ZoneAt(0).write_pointer, 4096 + c.persisted_bytes);

  // Off: everything fails, reads included, and nothing counts as an op.
  std::vector<std::uint8_t> out(4096);
  EXPECT_EQ(CodeOf(device->Read(0, out)), ExitCode::kWrongDevice);
  EXPECT_EQ(CodeOf(WriteFill(*device, 4096 + c.persisted_bytes, 4096, 3)), ExitCode::kWrongDevice);
  EXPECT_FALSE(device->ResetZone(0).ok());
  EXPECT_FALSE(device->FinishZone(0).ok());
  EXPECT_FALSE(device->Flush().ok());
  EXPECT_FALSE(device->ReportZones(0, 1).ok());
  EXPECT_EQ(device->mutating_ops(), 2u);

  device->PowerOn();
  ASSERT_TRUE(device->powered());
  std::vector<std::uint8_t> expected = Bytes(5 * 4096, 0);
  std::fill(expected.begin(), expected.begin() + 4096, std::uint8_t{1});
  std::fill(expected.begin() + 4096, expected.begin() + 4096 + c.persisted_bytes, std::uint8_t{2});
  std::vector<std::uint8_t> all(5 * 4096);
  ASSERT_TRUE(device->Read(0, all).ok());
  EXPECT_EQ(all, expected);
  // The open zone came back closed, and writing resumes at the write pointer.
  EXPECT_EQ(device->ZoneAt(0).condition, ZoneCondition::kClosed);
  EXPECT_TRUE(WriteFill(*device, 4096 + c.persisted_bytes, 4096, 4).ok());
}

INSTANTIATE_TEST_SUITE_P(Table, MemoryZonedDevicePowerCut,
                         ::testing::Values(TornCase{0, 0}, TornCase{1, 4096}, TornCase{3, 3 * 4096},
                                           TornCase{4, 4 * 4096}, TornCase{99, 4 * 4096}));

TEST(MemoryZonedDevice, PowerCutBeforeAWriteAtAnEmptyZoneLeavesItEmpty) {
  auto device = Make(SmallConfig());
  device->CutPowerAt(0);
  EXPECT_FALSE(WriteFill(*device, 0, 4096, 1).ok());
  device->PowerOn();
  EXPECT_EQ(device->ZoneAt(0).condition, ZoneCondition::kEmpty);
  EXPECT_EQ(device->allocated_bytes(), 0u);
}

TEST(MemoryZonedDevice, PowerCutAtResetOrFinishChangesNothing) {
  auto device = Make(SmallConfig());
  ASSERT_TRUE(WriteFill(*device, 0, 8192, 1).ok());
  device->CutPowerAt(1);
  EXPECT_FALSE(device->ResetZone(0).ok());
  device->PowerOn();
  EXPECT_EQ(device->Contents(0, 8192), Bytes(8192, 1));
  EXPECT_EQ(device->ZoneAt(0).write_pointer, 8192u);
  device->CutPowerAt(2);
  EXPECT_FALSE(device->FinishZone(0).ok());
  device->PowerOn();
  EXPECT_EQ(device->ZoneAt(0).condition, ZoneCondition::kClosed);
}

TEST(MemoryZonedDevice, PowerCutAtAnIllegalWritePersistsNothing) {
  auto device = Make(SmallConfig());
  device->CutPowerAt(0, 2);
  EXPECT_FALSE(WriteFill(*device, 4096, 8192, 1).ok());  // ahead of the wp
  EXPECT_FALSE(device->powered());
  device->PowerOn();
  EXPECT_EQ(device->ZoneAt(0).write_pointer, 0u);
}

TEST(MemoryZonedDevice, CloneReplaysFromTheSameStart) {
  auto original = Make(SmallConfig());
  ASSERT_TRUE(WriteFill(*original, 0, 4096, 1).ok());
  auto snapshot = original->Clone();
  // Every cut point of a three-op sequence, each from the same snapshot.
  for (uint64_t cut = 1; cut <= 3; ++cut) {
    auto device = snapshot->Clone();
    device->CutPowerAt(cut, 0);
    const bool ok = WriteFill(*device, 4096, 4096, 2).ok() &&
                    WriteFill(*device, 8192, 4096, 3).ok() && device->FinishZone(0).ok();
    EXPECT_FALSE(ok);
    device->PowerOn();
    EXPECT_EQ(device->ZoneAt(0).write_pointer, 4096 * cut) << cut;
  }
  // The snapshot and the original are untouched.
  EXPECT_EQ(snapshot->ZoneAt(0).write_pointer, 4096u);
  EXPECT_EQ(original->mutating_ops(), 1u);
  EXPECT_EQ(snapshot->Contents(0, 4096), Bytes(4096, 1));
}

TEST(MemoryZonedDevice, CloneAndOriginalNeverSeeEachOthersWrites) {
  // Clones share data chunks until one of them writes (copy on write): every kind of change,
  // on either side, inside a chunk both hold, must stay on its own side.
  Config config = SmallConfig();
  config.zone_size = 16 * kKiB;  // several zones a 64 KiB chunk, so a reset drops part of one
  config.nr_conventional_zones = 2;
  auto original = Make(config);
  ASSERT_TRUE(WriteFill(*original, 0, 4096, 1).ok());             // conventional
  ASSERT_TRUE(WriteFill(*original, 32 * kKiB, 8192, 2).ok());     // sequential, same chunk
  auto clone = original->Clone();
  ASSERT_TRUE(WriteFill(*clone, 0, 4096, 7).ok());                // overwrite in place
  ASSERT_TRUE(clone->ResetZone(32 * kKiB).ok());                  // part of the shared chunk
  ASSERT_TRUE(WriteFill(*original, 4096, 4096, 3).ok());          // the original writes too
  ASSERT_TRUE(WriteFill(*original, 40 * kKiB, 4096, 4).ok());
  EXPECT_EQ(original->Contents(0, 4096), Bytes(4096, 1));
  EXPECT_EQ(original->Contents(4096, 4096), Bytes(4096, 3));
  EXPECT_EQ(original->Contents(32 * kKiB, 8192), Bytes(8192, 2));
  EXPECT_EQ(original->Contents(40 * kKiB, 4096), Bytes(4096, 4));
  EXPECT_EQ(clone->Contents(0, 4096), Bytes(4096, 7));
  EXPECT_EQ(clone->Contents(4096, 4096), Bytes(4096, 0));
  EXPECT_EQ(clone->ZoneAt(32 * kKiB).write_pointer, 32 * kKiB);
  // Written again after its reset, the clone's zone holds only what it wrote since.
  ASSERT_TRUE(WriteFill(*clone, 32 * kKiB, 4096, 5).ok());
  EXPECT_EQ(clone->Contents(32 * kKiB, 8192), []() {
    std::vector<std::uint8_t> v = Bytes(8192, 0);
    std::fill(v.begin(), v.begin() + 4096, std::uint8_t{5});
    return v;
  }());
  // Bytes a reset dropped stay dropped, even past the write pointer (Poke bypasses it).
  std::vector<std::uint8_t> poked = Bytes(4096, 9);
  clone->Poke(36 * kKiB, poked);
  EXPECT_EQ(original->Contents(36 * kKiB, 4096), Bytes(4096, 2));
}

TEST(MemoryZonedDevice, CutPowerNowStopsEverything) {
  auto device = Make(SmallConfig());
  device->CutPowerNow();
  std::vector<std::uint8_t> out(4096);
  EXPECT_FALSE(device->Read(0, out).ok());
  device->PowerOn();
  EXPECT_TRUE(device->Read(0, out).ok());
}

// ---------------------------------------------------------------------------------------------
// Memory and the stand-in path

TEST(MemoryZonedDevice, LargeDeviceCostsMemoryOnlyForWrittenData) {
  Config config;
  config.size = 2048 * kMiB;
  config.zone_size = 64 * kMiB;
  auto device = Make(config);
  EXPECT_EQ(device->geometry().nr_zones, 32u);
  ASSERT_TRUE(WriteFill(*device, 0, kMiB, 1).ok());
  ASSERT_TRUE(WriteFill(*device, 31 * 64 * kMiB, 4096, 2).ok());
  EXPECT_LE(device->allocated_bytes(), kMiB + 64 * kKiB);
  std::vector<std::uint8_t> out(4096);
  ASSERT_TRUE(device->Read(2048 * kMiB - 4096, out).ok());
  EXPECT_EQ(out, Bytes(4096, 0));
  auto clone = device->Clone();
  EXPECT_EQ(clone->allocated_bytes(), device->allocated_bytes());
}

TEST(MemoryZonedDevice, PathIsASparseMemfdOfTheDeviceSize) {
  Config config;
  config.size = 2048 * kMiB;
  config.zone_size = 64 * kMiB;
  auto device = Make(config);
  const std::string path = device->path();
  ASSERT_FALSE(path.empty());
  EXPECT_EQ(path.rfind("/proc/self/fd/", 0), 0u);
  EXPECT_EQ(device->path(), path);  // created once
  struct stat st = {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(static_cast<uint64_t>(st.st_size), 2048 * kMiB);
  EXPECT_EQ(st.st_blocks, 0);
  const int fd = std::stoi(path.substr(std::string("/proc/self/fd/").size()));
  device.reset();
  EXPECT_EQ(::fcntl(fd, F_GETFD), -1);  // closed with the device
}

}  // namespace
}  // namespace luks2ext
