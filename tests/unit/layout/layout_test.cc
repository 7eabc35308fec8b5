// PlanLayout over drive geometries: where home, the journal and the data segment go, and what
// is refused. Pure functions, so every geometry is planned on the host without a device.
#include "luks2ext/layout.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "luks2/format.h"
#include "support/zone_geometry.h"

namespace luks2ext {
namespace {

using testing::Drive;
using testing::DriveSpec;
using testing::MakeDrive;
using testing::MakeStandardDrive;

constexpr uint64_t kCopyOverhead = 2 * kDefaultHeaderSize + kCommitRecordSize;
// The smallest keyslots area the planner may shrink to: 8 keyslots of a 512-bit key.
const uint64_t kMinKeyslots512 = KeyslotsAreaFor(kMinKeyslots, 64);

std::string Describe(const Layout& l) {
  std::string s = std::string(PlacementName(l.placement)) +
                  " hdr=" + SizeText(l.header_size) + " keyslots=" + SizeText(l.keyslots_size) +
                  " journal=" + (l.journal_offset ? SizeText(*l.journal_offset) : "none") +
                  " data=" + SizeText(l.data_offset) + " zone=" + SizeText(l.zone_size);
  return s;
}

bool IsLegalHeaderSize(uint64_t size) {
  for (uint64_t s = 16 * KiB; s <= 4 * MiB; s *= 2)
    if (s == size) return true;
  return false;
}

// Bytes of conventional zones from LBA 0, as a drive reports them.
// Checks that a copy of `copy_size` bytes at `offset` can be written on this drive: wholly in
// writable conventional zones, or at the start of one writable sequential zone and within its
// capacity (and its length).
void ExpectCopyFits(const Drive& drive, uint64_t offset, uint64_t copy_size, const char* what,
                    const std::string& context) {
  const uint64_t zone_size = drive.geometry.zone_size;
  const uint64_t index = offset / zone_size;
  ASSERT_LT(index, drive.zones.size()) << what << " lies past the reported zones; " << context;
  const Zone& first = drive.zones[index];
  if (!first.is_sequential()) {
    const uint64_t end = offset + copy_size;
    for (const Zone& zone : drive.zones) {
      if (zone.start + zone.length <= offset || zone.start >= end) continue;
      EXPECT_FALSE(zone.is_sequential())
          << what << " runs from conventional into sequential zone at " << zone.start << "; "
          << context;
      EXPECT_NE(zone.condition, ZoneCondition::kReadOnly) << what << "; " << context;
      EXPECT_NE(zone.condition, ZoneCondition::kOffline) << what << "; " << context;
    }
    EXPECT_LE(end, ConventionalBytes(drive.zones)) << what << "; " << context;
    return;
  }
  EXPECT_EQ(offset % zone_size, 0u) << what << " not at a zone start; " << context;
  EXPECT_LE(copy_size, std::min(first.capacity, first.length))
      << what << " (image + commit record) exceeds the zone capacity; " << context;
  EXPECT_NE(first.condition, ZoneCondition::kReadOnly) << what << "; " << context;
  EXPECT_NE(first.condition, ZoneCondition::kOffline) << what << "; " << context;
}

// The invariants of every successful plan (docs/design.md#on-disk-placement).
void ExpectInvariants(const Drive& drive, const LayoutRequest& request, const Layout& layout) {
  const std::string context = Describe(layout);
  EXPECT_EQ(layout.home_offset, 0u) << context;
  EXPECT_TRUE(IsLegalHeaderSize(layout.header_size)) << context;
  EXPECT_EQ(layout.keyslots_size % (4 * KiB), 0u) << context;
  EXPECT_LE(layout.keyslots_size, kMaxKeyslotsSize) << context;
  if (request.keyslots_size) {
    EXPECT_EQ(layout.keyslots_size, request.keyslots_size) << context;
  } else {
    // Shrunk to fit a zone, but never below kMinKeyslots keyslots (a user's size is taken as is).
    EXPECT_GE(layout.keyslots_size, KeyslotsAreaFor(kMinKeyslots, request.volume_key_bytes))
        << context;
  }
  if (request.header_size) {
    EXPECT_EQ(layout.header_size, request.header_size) << context;
  }
  if (request.data_offset) {
    EXPECT_EQ(layout.data_offset, *request.data_offset) << context;
  }

  if (!drive.geometry.is_zoned()) {
    EXPECT_EQ(layout.placement, Placement::kStandard) << context;
    EXPECT_FALSE(layout.journal_offset) << context;
    EXPECT_FALSE(layout.has_commit_record()) << context;
    EXPECT_GE(layout.data_offset, layout.image_size()) << context;
    EXPECT_LT(layout.data_offset, drive.geometry.size) << context;
    EXPECT_EQ(layout.data_offset % 512, 0u) << context;
    return;
  }

  const uint64_t zone_size = drive.geometry.zone_size;
  ASSERT_GT(zone_size, 0u);
  EXPECT_TRUE(layout.is_zoned()) << context;
  EXPECT_TRUE(layout.has_commit_record()) << context;
  EXPECT_EQ(layout.zone_size, zone_size) << context;
  EXPECT_EQ(layout.zone_capacity, drive.zones.front().capacity) << context;
  EXPECT_EQ(layout.placement, drive.zones.front().is_sequential() ? Placement::kSequentialZones
                                                                  : Placement::kConventionalZones)
      << context;
  EXPECT_EQ(layout.data_offset % zone_size, 0u) << context;
  EXPECT_EQ(layout.metadata_zones, layout.data_offset / zone_size) << context;

  const uint64_t copy_size = layout.image_size() + kCommitRecordSize;
  ExpectCopyFits(drive, layout.home_offset, copy_size, "home", context);
  uint64_t end = layout.home_offset + copy_size;
  EXPECT_EQ(layout.journal_offset.has_value(), request.zone_journal) << context;
  if (layout.journal_offset) {
    const uint64_t journal = *layout.journal_offset;
    EXPECT_EQ(journal % zone_size, 0u) << "journal not on a zone boundary; " << context;
    EXPECT_GE(journal, end) << "journal overlaps home; " << context;
    ExpectCopyFits(drive, journal, copy_size, "journal", context);
    end = journal + copy_size;
  }
  EXPECT_GE(layout.data_offset, end) << "data overlaps the metadata; " << context;
  EXPECT_LE(layout.data_offset + zone_size, drive.geometry.size)
      << "no data zone left; " << context;
}

// ---------------------------------------------------------------------------------------------
// Plans that succeed

struct PlanCase {
  const char* name;
  DriveSpec spec;
  LayoutRequest request;
  Placement placement;
  std::optional<uint64_t> journal;        // expected journal offset; nullopt: no journal
  uint64_t data_offset;
  std::optional<uint64_t> keyslots_size;  // nullopt: not pinned by this case
  void (*tweak)(Drive&) = nullptr;        // edits the reported zones after MakeDrive
};

LayoutRequest NoJournal() {
  LayoutRequest r;
  r.zone_journal = false;
  return r;
}
LayoutRequest WithOffset(uint64_t offset) {
  LayoutRequest r;
  r.data_offset = offset;
  return r;
}
LayoutRequest WithSizes(uint64_t header_size, uint64_t keyslots_size) {
  LayoutRequest r;
  r.header_size = header_size;
  r.keyslots_size = keyslots_size;
  return r;
}
LayoutRequest WithKeyBytes(uint32_t bytes) {
  LayoutRequest r;
  r.volume_key_bytes = bytes;
  return r;
}

DriveSpec HM(uint64_t zone_size, uint32_t nr_zones, uint32_t conventional = 0,
             uint64_t capacity = 0) {
  DriveSpec s;
  s.model = ZoneModel::kHostManaged;
  s.zone_size = zone_size;
  s.nr_zones = nr_zones;
  s.conventional_zones = conventional;
  s.zone_capacity = capacity;
  return s;
}
DriveSpec HA(uint64_t zone_size, uint32_t nr_zones) {
  DriveSpec s = HM(zone_size, nr_zones);
  s.model = ZoneModel::kHostAware;
  return s;
}

// 16 MiB zones: the default keyslots area (16 MiB - 32 KiB) plus the record does not fit, so
// it shrinks to what zone 0 holds after two headers and the record.
constexpr uint64_t kShrunkIn16MiB = 16 * MiB - kCopyOverhead;
// A zone capacity that holds exactly two default headers, 8 keyslots of a 512-bit key and the
// record: 2052 KiB.
const uint64_t kExactMinimumCapacity = kCopyOverhead + KeyslotsAreaFor(kMinKeyslots, 64);

const PlanCase kPlanCases[] = {
    {"hm 16MiB zones shrink keyslots", HM(16 * MiB, 16), {}, Placement::kSequentialZones,
     16 * MiB, 32 * MiB, kShrunkIn16MiB},
    {"hm 32MiB zones", HM(32 * MiB, 16), {}, Placement::kSequentialZones, 32 * MiB, 64 * MiB,
     kDefaultKeyslotsSize},
    {"hm 64MiB zones", HM(64 * MiB, 16), {}, Placement::kSequentialZones, 64 * MiB, 128 * MiB,
     kDefaultKeyslotsSize},
    {"hm 256MiB zones", HM(256 * MiB, 16), {}, Placement::kSequentialZones, 256 * MiB,
     512 * MiB, kDefaultKeyslotsSize},
    {"hm 1GiB zones", HM(1 * GiB, 8), {}, Placement::kSequentialZones, 1 * GiB, 2 * GiB,
     kDefaultKeyslotsSize},
    {"hm 2GiB zones", HM(2 * GiB, 8), {}, Placement::kSequentialZones, 2 * GiB, 4 * GiB,
     kDefaultKeyslotsSize},
    {"hm many zones, only 64 reported", HM(256 * MiB, 50000), {}, Placement::kSequentialZones,
     256 * MiB, 512 * MiB, kDefaultKeyslotsSize},
    {"hm 64MiB zones, exactly 3 zones", HM(64 * MiB, 3), {}, Placement::kSequentialZones,
     64 * MiB, 128 * MiB, kDefaultKeyslotsSize},
    {"zns 64MiB zones 48MiB capacity", HM(64 * MiB, 16, 0, 48 * MiB),
     {}, Placement::kSequentialZones, 64 * MiB, 128 * MiB, kDefaultKeyslotsSize},
    {"zns 64MiB zones 16MiB capacity shrink keyslots", HM(64 * MiB, 16, 0, 16 * MiB),
     {}, Placement::kSequentialZones, 64 * MiB, 128 * MiB, kShrunkIn16MiB},
    {"zns capacity exactly the minimum", HM(64 * MiB, 16, 0, kExactMinimumCapacity),
     {}, Placement::kSequentialZones, 64 * MiB, 128 * MiB, kMinKeyslots512},
    {"journal zone smaller capacity than home shrinks both", HM(64 * MiB, 16), {},
     Placement::kSequentialZones, 64 * MiB, 128 * MiB, kShrunkIn16MiB,
     [](Drive& d) { d.zones[1].capacity = 16 * MiB; }},
    {"1 conventional zone: journal in first sequential zone", HM(64 * MiB, 16, 1), {},
     Placement::kConventionalZones, 64 * MiB, 128 * MiB, kDefaultKeyslotsSize},
    {"1 conventional 16MiB zone shrinks home", HM(16 * MiB, 16, 1), {},
     Placement::kConventionalZones, 16 * MiB, 32 * MiB, kShrunkIn16MiB},
    {"4 conventional zones", HM(64 * MiB, 16, 4), {}, Placement::kConventionalZones, 64 * MiB,
     128 * MiB, kDefaultKeyslotsSize},
    {"4 conventional 16MiB zones: home spans two", HM(16 * MiB, 16, 4), {},
     Placement::kConventionalZones, 32 * MiB, 64 * MiB, kDefaultKeyslotsSize},
    {"100 conventional zones (64 reported)", HM(256 * MiB, 200, 100), {},
     Placement::kConventionalZones, 256 * MiB, 512 * MiB, kDefaultKeyslotsSize},
    {"host-aware 256MiB zones", HA(256 * MiB, 16), {}, Placement::kSequentialZones, 256 * MiB,
     512 * MiB, kDefaultKeyslotsSize},
    {"host-aware 16MiB zones", HA(16 * MiB, 16), {}, Placement::kSequentialZones, 16 * MiB,
     32 * MiB, kShrunkIn16MiB},
    {"no journal", HM(64 * MiB, 16), NoJournal(), Placement::kSequentialZones, std::nullopt,
     64 * MiB, kDefaultKeyslotsSize},
    {"no journal, 2 zones", HM(64 * MiB, 2), NoJournal(), Placement::kSequentialZones,
     std::nullopt, 64 * MiB, kDefaultKeyslotsSize},
    {"user offset at a later zone", HM(64 * MiB, 16), WithOffset(512 * MiB),
     Placement::kSequentialZones, 64 * MiB, 512 * MiB, kDefaultKeyslotsSize},
    {"user offset equal to the minimum", HM(64 * MiB, 16), WithOffset(128 * MiB),
     Placement::kSequentialZones, 64 * MiB, 128 * MiB, kDefaultKeyslotsSize},
    {"user header and keyslots sizes", HM(16 * MiB, 16), WithSizes(64 * KiB, 1 * MiB),
     Placement::kSequentialZones, 16 * MiB, 32 * MiB, 1 * MiB},
    {"user 4MiB headers in 16MiB zones", HM(16 * MiB, 16), WithSizes(4 * MiB, 0),
     Placement::kSequentialZones, 16 * MiB, 32 * MiB, 8 * MiB - 4 * KiB},
    {"user keyslots that just fit a 16MiB zone", HM(16 * MiB, 16),
     WithSizes(0, kShrunkIn16MiB), Placement::kSequentialZones, 16 * MiB, 32 * MiB,
     kShrunkIn16MiB},
    {"256-bit key in 16MiB zones", HM(16 * MiB, 16), WithKeyBytes(32),
     Placement::kSequentialZones, 16 * MiB, 32 * MiB, kShrunkIn16MiB},
};

TEST(PlanLayoutTest, ZonedGeometriesGiveTheExpectedLayoutAndKeepTheInvariants) {
  for (const PlanCase& c : kPlanCases) {
    SCOPED_TRACE(c.name);
    Drive drive = MakeDrive(c.spec);
    if (c.tweak) c.tweak(drive);
    auto layout = PlanLayout(drive.geometry, drive.zones, c.request);
    ASSERT_TRUE(layout.ok()) << layout.error().message();
    EXPECT_EQ(layout->placement, c.placement) << Describe(*layout);
    EXPECT_EQ(layout->journal_offset, c.journal) << Describe(*layout);
    EXPECT_EQ(layout->data_offset, c.data_offset) << Describe(*layout);
    if (c.keyslots_size) {
      EXPECT_EQ(layout->keyslots_size, *c.keyslots_size) << Describe(*layout);
    }
    ExpectInvariants(drive, c.request, *layout);
  }
}

TEST(PlanLayoutTest, SixteenMiBZonesStillHoldEightKeyslotsOfA512BitKey) {
  const Drive drive = MakeDrive(HM(16 * MiB, 16));
  auto layout = PlanLayout(drive.geometry, drive.zones, {});
  ASSERT_TRUE(layout.ok()) << layout.error().message();
  EXPECT_LT(layout->keyslots_size, kDefaultKeyslotsSize);
  // 4000 stripes x 64 bytes = 256000 bytes, in 63 blocks of 4 KiB per keyslot.
  EXPECT_GE(layout->keyslots_size, 8 * 63 * 4 * KiB);
  EXPECT_LE(layout->image_size() + kCommitRecordSize, 16 * MiB);
}

TEST(PlanLayoutTest, ConventionalPlacementWhateverTheConventionalZoneCount) {
  // The journal may straddle the end of the conventional space only by moving to the first
  // sequential zone; whatever the count, the invariants hold.
  for (uint64_t zone_size : {16 * MiB, 32 * MiB, 64 * MiB}) {
    for (uint32_t conventional = 0; conventional <= 8; ++conventional) {
      SCOPED_TRACE(SizeText(zone_size) + " zones, " + std::to_string(conventional) +
                   " conventional");
      const Drive drive = MakeDrive(HM(zone_size, 16, conventional));
      auto layout = PlanLayout(drive.geometry, drive.zones, {});
      ASSERT_TRUE(layout.ok()) << layout.error().message();
      ExpectInvariants(drive, {}, *layout);
      EXPECT_EQ(layout->placement,
                conventional ? Placement::kConventionalZones : Placement::kSequentialZones);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Non-zoned devices: cryptsetup's standard layout

TEST(PlanLayoutTest, StandardDeviceUsesCryptsetupDefaults) {
  const Drive drive = MakeStandardDrive(1 * GiB);
  auto layout = PlanLayout(drive.geometry, drive.zones, {});
  ASSERT_TRUE(layout.ok()) << layout.error().message();
  EXPECT_EQ(layout->placement, Placement::kStandard);
  EXPECT_EQ(layout->header_size, kDefaultHeaderSize);
  EXPECT_EQ(layout->keyslots_size, kDefaultKeyslotsSize);
  EXPECT_EQ(layout->data_offset, 16 * MiB);
  EXPECT_FALSE(layout->journal_offset);
  EXPECT_EQ(layout->zone_size, 0u);
  ExpectInvariants(drive, {}, *layout);
}

TEST(PlanLayoutTest, StandardDeviceHonoursOffsetAndSizes) {
  struct Case {
    const char* name;
    LayoutRequest request;
    uint64_t data_offset;
    uint64_t keyslots_size;
  };
  const Case cases[] = {
      {"offset 32 MiB", WithOffset(32 * MiB), 32 * MiB, kDefaultKeyslotsSize},
      {"offset exactly the image", WithOffset(16 * MiB), 16 * MiB, kDefaultKeyslotsSize},
      {"offset not MiB aligned but 512", WithOffset(16 * MiB + 512), 16 * MiB + 512,
       kDefaultKeyslotsSize},
      {"4 MiB headers", WithSizes(4 * MiB, 0), 16 * MiB, 8 * MiB},
      {"small keyslots area, rounded to 1 MiB", WithSizes(16 * KiB, 1 * MiB), 2 * MiB, 1 * MiB},
  };
  const Drive drive = MakeStandardDrive(1 * GiB);
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    auto layout = PlanLayout(drive.geometry, drive.zones, c.request);
    ASSERT_TRUE(layout.ok()) << layout.error().message();
    EXPECT_EQ(layout->data_offset, c.data_offset);
    EXPECT_EQ(layout->keyslots_size, c.keyslots_size);
    ExpectInvariants(drive, c.request, *layout);
  }
}

// ---------------------------------------------------------------------------------------------
// Refusals

struct RefusalCase {
  const char* name;
  Drive drive;
  LayoutRequest request;
  ExitCode code;
  std::vector<std::string> message_mentions;  // substrings the message must contain
};

Drive Tweaked(Drive drive, void (*tweak)(Drive&)) {
  tweak(drive);
  return drive;
}
LayoutRequest WithOffsetNoJournal(uint64_t offset) {
  LayoutRequest r = NoJournal();
  r.data_offset = offset;
  return r;
}

std::vector<RefusalCase> RefusalCases() {
  return {
      // ZNS capacity below the minimum metadata: names the capacity and what is needed.
      {"zns capacity 1MiB", MakeDrive(HM(64 * MiB, 16, 0, 1 * MiB)), {}, ExitCode::kWrongDevice,
       {"1 MiB", SizeText(kExactMinimumCapacity)}},
      {"zns capacity one block below the minimum",
       MakeDrive(HM(64 * MiB, 16, 0, kExactMinimumCapacity - 4 * KiB)), {},
       ExitCode::kWrongDevice, {SizeText(kExactMinimumCapacity - 4 * KiB)}},
      {"zoned offset not a zone multiple", MakeDrive(HM(64 * MiB, 16)), WithOffset(65 * MiB),
       ExitCode::kWrongParameters, {"65 MiB", "64 MiB"}},
      {"zoned offset 1MiB on 256MiB zones", MakeDrive(HM(256 * MiB, 16)), WithOffset(1 * MiB),
       ExitCode::kWrongParameters, {"1 MiB", "256 MiB"}},
      {"zoned offset in the journal zone", MakeDrive(HM(64 * MiB, 16)), WithOffset(64 * MiB),
       ExitCode::kWrongParameters, {"64 MiB", "128 MiB"}},
      {"zoned offset 0", MakeDrive(HM(64 * MiB, 16)), WithOffset(0), ExitCode::kWrongParameters,
       {}},
      {"zoned offset 0 without journal", MakeDrive(HM(64 * MiB, 16)), WithOffsetNoJournal(0),
       ExitCode::kWrongParameters, {}},
      {"zoned offset past the device", MakeDrive(HM(64 * MiB, 4)), WithOffset(4 * 64 * MiB),
       ExitCode::kWrongDevice, {}},
      {"keyslots too large for a 16MiB zone", MakeDrive(HM(16 * MiB, 16)),
       WithSizes(0, 16 * MiB), ExitCode::kWrongParameters, {"16 MiB"}},
      {"keyslots one block too large for a 16MiB zone", MakeDrive(HM(16 * MiB, 16)),
       WithSizes(0, kShrunkIn16MiB + 4 * KiB), ExitCode::kWrongParameters, {"16 MiB"}},
      {"keyslots too large for 48MiB capacity", MakeDrive(HM(64 * MiB, 16, 0, 48 * MiB)),
       WithSizes(0, 64 * MiB), ExitCode::kWrongParameters, {"48 MiB"}},
      {"tiny: 2 zones, journal leaves no data zone", MakeDrive(HM(64 * MiB, 2)), {},
       ExitCode::kWrongDevice, {"128 MiB"}},
      {"tiny: 1 zone only", MakeDrive(HM(64 * MiB, 1)), {}, ExitCode::kWrongDevice, {}},
      {"tiny: 1 zone only, no journal", MakeDrive(HM(64 * MiB, 1)), NoJournal(),
       ExitCode::kWrongDevice, {"64 MiB"}},
      {"tiny: 1 conventional zone only", MakeDrive(HM(64 * MiB, 1, 1)), {},
       ExitCode::kWrongDevice, {}},
      {"capacity zero",
       Tweaked(MakeDrive(HM(64 * MiB, 16)),
               [](Drive& d) {
                 for (Zone& z : d.zones) z.capacity = 0;
               }),
       {}, ExitCode::kWrongDevice, {"0 bytes"}},
      {"home zone read-only",
       Tweaked(MakeDrive(HM(64 * MiB, 16)),
               [](Drive& d) { d.zones[0].condition = ZoneCondition::kReadOnly; }),
       {}, ExitCode::kWrongDevice, {}},
      {"home zone offline",
       Tweaked(MakeDrive(HM(64 * MiB, 16)),
               [](Drive& d) { d.zones[0].condition = ZoneCondition::kOffline; }),
       {}, ExitCode::kWrongDevice, {}},
      {"journal zone read-only",
       Tweaked(MakeDrive(HM(64 * MiB, 16)),
               [](Drive& d) { d.zones[1].condition = ZoneCondition::kReadOnly; }),
       {}, ExitCode::kWrongDevice, {}},
      {"journal zone offline, host-aware",
       Tweaked(MakeDrive(HA(64 * MiB, 16)),
               [](Drive& d) { d.zones[1].condition = ZoneCondition::kOffline; }),
       {}, ExitCode::kWrongDevice, {}},
      {"journal zone capacity zero",
       Tweaked(MakeDrive(HM(64 * MiB, 16)), [](Drive& d) { d.zones[1].capacity = 0; }), {},
       ExitCode::kWrongDevice, {}},
      {"header size not a power of two", MakeDrive(HM(64 * MiB, 16)), WithSizes(20 * KiB, 0),
       ExitCode::kWrongParameters, {"20 KiB"}},
      {"header size 8 MiB", MakeDrive(HM(64 * MiB, 16)), WithSizes(8 * MiB, 0),
       ExitCode::kWrongParameters, {"8 MiB"}},
      {"header size 8 KiB", MakeDrive(HM(64 * MiB, 16)), WithSizes(8 * KiB, 0),
       ExitCode::kWrongParameters, {"8 KiB"}},
      {"header size invalid on a standard disk", MakeStandardDrive(1 * GiB),
       WithSizes(48 * KiB, 0), ExitCode::kWrongParameters, {"48 KiB"}},
      {"keyslots size not 4KiB aligned", MakeDrive(HM(64 * MiB, 16)),
       WithSizes(0, 1 * MiB + 512), ExitCode::kWrongParameters, {"1049088 bytes"}},
      {"keyslots size above 128MiB", MakeDrive(HM(1 * GiB, 16)), WithSizes(0, 256 * MiB),
       ExitCode::kWrongParameters, {"256 MiB"}},
      {"standard offset inside the metadata", MakeStandardDrive(1 * GiB), WithOffset(8 * MiB),
       ExitCode::kWrongParameters, {"8 MiB"}},
      {"standard offset 0", MakeStandardDrive(1 * GiB), WithOffset(0),
       ExitCode::kWrongParameters, {}},
      {"standard offset not 512-aligned", MakeStandardDrive(1 * GiB), WithOffset(16 * MiB + 1),
       ExitCode::kWrongParameters, {}},
      {"standard device too small", MakeStandardDrive(16 * MiB), {}, ExitCode::kWrongDevice,
       {"16 MiB"}},
      {"standard device smaller than the offset", MakeStandardDrive(1 * GiB),
       WithOffset(2 * GiB), ExitCode::kWrongDevice, {"1 GiB", "2 GiB"}},
      {"zoned model without zones",
       Tweaked(MakeDrive(HM(64 * MiB, 16)), [](Drive& d) { d.zones.clear(); }), {},
       ExitCode::kWrongDevice, {}},
      {"zoned model with zone size 0",
       Tweaked(MakeDrive(HM(64 * MiB, 16)), [](Drive& d) { d.geometry.zone_size = 0; }), {},
       ExitCode::kWrongDevice, {}},
  };
}

TEST(PlanLayoutTest, RefusesWhatCannotBeMetWithTheRightCodeAndSizes) {
  for (const RefusalCase& c : RefusalCases()) {
    SCOPED_TRACE(c.name);
    auto layout = PlanLayout(c.drive.geometry, c.drive.zones, c.request);
    ASSERT_FALSE(layout.ok()) << "planned " << Describe(*layout);
    EXPECT_EQ(layout.error().code(), c.code) << layout.error().message();
    EXPECT_FALSE(layout.error().message().empty());
    for (const std::string& text : c.message_mentions)
      EXPECT_NE(layout.error().message().find(text), std::string::npos)
          << "message lacks \"" << text << "\": " << layout.error().message();
  }
}

// ---------------------------------------------------------------------------------------------
// Absurd geometries: never a crash and never a layout that breaks the invariants; either a
// sane layout or a clean error.

TEST(PlanLayoutTest, AbsurdGeometriesGiveASaneLayoutOrACleanError) {
  struct Case {
    const char* name;
    Drive drive;
  };
  auto spec = [](uint64_t zone_size, uint32_t nr_zones, uint32_t conventional = 0) {
    return MakeDrive(HM(zone_size, nr_zones, conventional));
  };
  const Case cases[] = {
      {"zone size 96 MiB (not a power of two)", spec(96 * MiB, 16)},
      {"zone size 20 MiB (not a power of two)", spec(20 * MiB, 16)},
      {"zone size 64 MiB + 512 bytes", spec(64 * MiB + 512, 16)},
      {"zone size 1000 bytes", spec(1000, 1 << 20)},
      {"zone size 4 KiB", spec(4 * KiB, 1 << 20)},
      {"zone size 1 MiB", spec(1 * MiB, 1024)},
      {"one zone only", spec(64 * MiB, 1)},
      {"one conventional zone only", spec(64 * MiB, 1, 1)},
      {"8 conventional zones listed on a 3-zone device",
       Tweaked(spec(64 * MiB, 8, 8),
               [](Drive& d) {
                 d.geometry.nr_zones = 3;
                 d.geometry.size = 3 * 64 * MiB;
               })},
      {"8 conventional zones listed on a 2-zone device",
       Tweaked(spec(64 * MiB, 8, 8),
               [](Drive& d) {
                 d.geometry.nr_zones = 2;
                 d.geometry.size = 2 * 64 * MiB;
               })},
      {"device size 0", Tweaked(spec(64 * MiB, 16), [](Drive& d) { d.geometry.size = 0; })},
      {"device size not a zone multiple",
       Tweaked(spec(64 * MiB, 3), [](Drive& d) { d.geometry.size = 3 * 64 * MiB - 4096; })},
      {"capacity above the zone length",
       Tweaked(spec(16 * MiB, 16),
               [](Drive& d) {
                 for (Zone& z : d.zones) z.capacity = 64 * MiB;
               })},
      {"capacity zero everywhere",
       Tweaked(spec(64 * MiB, 16),
               [](Drive& d) {
                 for (Zone& z : d.zones) z.capacity = 0;
               })},
      {"conventional zone 0 offline",
       Tweaked(spec(64 * MiB, 16, 4),
               [](Drive& d) { d.zones[0].condition = ZoneCondition::kOffline; })},
      {"conventional zone 1 read-only",
       Tweaked(spec(64 * MiB, 16, 4),
               [](Drive& d) { d.zones[1].condition = ZoneCondition::kReadOnly; })},
      {"home zone full", Tweaked(spec(64 * MiB, 16), [](Drive& d) {
         d.zones[0].condition = ZoneCondition::kFull;
         d.zones[0].write_pointer = d.zones[0].start + d.zones[0].length;
       })},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    auto layout = PlanLayout(c.drive.geometry, c.drive.zones, {});
    if (!layout.ok()) {
      EXPECT_TRUE(layout.error().code() == ExitCode::kWrongDevice ||
                  layout.error().code() == ExitCode::kWrongParameters)
          << layout.error().message();
      EXPECT_FALSE(layout.error().message().empty());
      continue;
    }
    ExpectInvariants(c.drive, {}, *layout);
  }
}

// A metadata zone that cannot be written must be refused, conventional or not: planning a copy
// into it would only fail halfway through luksFormat.
TEST(PlanLayoutTest, RefusesUnwritableConventionalMetadataZones) {
  for (ZoneCondition condition : {ZoneCondition::kReadOnly, ZoneCondition::kOffline}) {
    for (int index : {0, 1}) {
      SCOPED_TRACE(std::string(ZoneConditionName(condition)) + " conventional zone " +
                   std::to_string(index));
      Drive drive = MakeDrive(HM(64 * MiB, 16, 4));
      drive.zones[index].condition = condition;
      auto layout = PlanLayout(drive.geometry, drive.zones, {});
      ASSERT_FALSE(layout.ok()) << "planned " << Describe(*layout);
      EXPECT_EQ(layout.error().code(), ExitCode::kWrongDevice) << layout.error().message();
    }
  }
}

TEST(PlanLayoutTest, SizeTextIsExact) {
  EXPECT_EQ(SizeText(0), "0 bytes");
  EXPECT_EQ(SizeText(512), "512 bytes");
  EXPECT_EQ(SizeText(4 * KiB), "4 KiB");
  EXPECT_EQ(SizeText(16 * MiB - 32 * KiB), "16352 KiB");
  EXPECT_EQ(SizeText(64 * MiB), "64 MiB");
  EXPECT_EQ(SizeText(2 * GiB), "2 GiB");
  EXPECT_EQ(SizeText(GiB + 1), "1073741825 bytes");
}

TEST(PlanLayoutTest, KeyslotsAreaForRoundsEachKeyslotTo4KiB) {
  // 4000 stripes of 64 bytes = 256000 bytes, 63 blocks of 4 KiB = 258048 bytes per keyslot;
  // of 32 bytes = 128000 bytes, 32 blocks = 131072 bytes.
  EXPECT_EQ(KeyslotsAreaFor(1, 64), 258048u);
  EXPECT_EQ(KeyslotsAreaFor(8, 64), 8 * 258048u);
  EXPECT_EQ(KeyslotsAreaFor(8, 32), 8 * 131072u);
}

}  // namespace
}  // namespace luks2ext
