// The one rule for "the conventional zones at LBA 0", shared by the planner and every reader
// (docs/design.md#on-disk-placement): by zone type, never by condition.
#include <gtest/gtest.h>

#include "luks2ext/layout.h"
#include "support/zone_geometry.h"

namespace luks2ext {
namespace {

using testing::DriveSpec;
using testing::MakeDrive;

TEST(ConventionalBytes, CountsTheLeadingConventionalZonesOnly) {
  const auto drive = MakeDrive(DriveSpec{.zone_size = 64 * MiB, .conventional_zones = 3});
  EXPECT_EQ(ConventionalBytes(drive.zones), 3 * 64 * MiB);
  EXPECT_EQ(ConventionalBytes(MakeDrive(DriveSpec{}).zones), 0u);
  EXPECT_EQ(ConventionalBytes({}), 0u);
}

// A zone that went read-only keeps its type: the journal stays where the volume's format put
// it, so a reader still finds it there.
TEST(ConventionalBytes, AReadOnlyConventionalZoneStillCounts) {
  auto drive = MakeDrive(DriveSpec{.zone_size = 64 * MiB, .conventional_zones = 4});
  drive.zones[1].condition = ZoneCondition::kReadOnly;
  EXPECT_EQ(ConventionalBytes(drive.zones), 4 * 64 * MiB);
  EXPECT_EQ(JournalOffsetFor(2 * kDefaultHeaderSize + kDefaultKeyslotsSize, 64 * MiB,
                             ConventionalBytes(drive.zones)),
            64 * MiB);
}

// The planner puts no copy where a conventional zone takes no writes, and says which zone.
TEST(ConventionalBytes, ThePlannerRefusesACopyInAReadOnlyConventionalZone) {
  auto drive = MakeDrive(DriveSpec{.zone_size = 64 * MiB, .conventional_zones = 4});
  drive.zones[1].condition = ZoneCondition::kReadOnly;
  const Result<Layout> layout = PlanLayout(drive.geometry, drive.zones, LayoutRequest{});
  ASSERT_FALSE(layout.ok());
  EXPECT_EQ(layout.error().code(), ExitCode::kWrongDevice);
  EXPECT_NE(layout.error().message().find("Zone 1 is read-only"), std::string::npos)
      << layout.error().message();

  drive.zones[1].condition = ZoneCondition::kNotWritePointer;
  drive.zones[0].condition = ZoneCondition::kOffline;
  const Result<Layout> at_zero = PlanLayout(drive.geometry, drive.zones, LayoutRequest{});
  ASSERT_FALSE(at_zero.ok());
  EXPECT_NE(at_zero.error().message().find("Zone 0 is offline"), std::string::npos)
      << at_zero.error().message();
}

// Without the journal, home fits in the writable run before the read-only zone.
TEST(ConventionalBytes, HomeUsesTheWritableRunBeforeAReadOnlyZone) {
  auto drive = MakeDrive(DriveSpec{.zone_size = 64 * MiB, .conventional_zones = 4});
  drive.zones[1].condition = ZoneCondition::kReadOnly;
  LayoutRequest request;
  request.zone_journal = false;
  const Result<Layout> layout = PlanLayout(drive.geometry, drive.zones, request);
  ASSERT_TRUE(layout.ok()) << layout.error().message();
  EXPECT_EQ(layout->placement, Placement::kConventionalZones);
  EXPECT_EQ(layout->keyslots_size, kDefaultKeyslotsSize);
  EXPECT_FALSE(layout->journal_offset.has_value());
}

}  // namespace
}  // namespace luks2ext
