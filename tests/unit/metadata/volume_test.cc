// The public volume API on the strict zoned-drive emulator: luksFormat writes only what the
// zone rules allow, in the order the update protocol needs; Volume::Open finds and chooses the
// copies; a torn home, a power cut at any op of an update, and a foreign in-place rewrite are
// all survived without rolling back to an older seqid.
#include "luks2ext/format_volume.h"
#include "luks2ext/volume.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "luks2/image.h"
#include "support/crash_harness.h"
#include "support/volume_fixture.h"
#include "testing/memory_device.h"

namespace luks2ext {
namespace {

using testing::AddCrashRun;
using testing::CheckPassphrase;
using testing::Config;
using testing::Cut;
using testing::DescribeCalls;
using testing::DescribeOps;
using testing::DriveKind;
using testing::DriveKindName;
using testing::DriveKinds;
using testing::DryRun;
using testing::ExpectMetadataOps;
using testing::FastOptions;
using testing::FormatNew;
using testing::Formatted;
using testing::HasAll;
using testing::HasAny;
using testing::HostAware;
using testing::HostManaged;
using testing::HostManagedConventional;
using testing::kInlineFlags;
using testing::kPassphrase;
using testing::MakeDevice;
using testing::MirrorIntoStandIn;
using testing::MustOpen;
using testing::NotZoned;
using testing::Op;
using testing::RecordDryRun;
using testing::RunCuts;
using testing::Torn;
using testing::ZnsLike;

// No zone holds an open/active resource, and a workload can then open max_active data zones
// (4 when the drive sets no limit). Works on a clone, so `device` stays as it is.
void ExpectDataZonesWritable(const MemoryZonedDevice& device, const Layout& layout) {
  const Geometry& g = device.geometry();
  if (!g.is_zoned()) return;
  for (uint64_t offset = 0; offset < g.size; offset += g.zone_size) {
    const ZoneCondition c = device.ZoneAt(offset).condition;
    EXPECT_TRUE(c != ZoneCondition::kImplicitOpen && c != ZoneCondition::kExplicitOpen &&
                c != ZoneCondition::kClosed)
        << "zone at " << offset << " holds a resource: " << ZoneConditionName(c);
  }
  auto clone = device.Clone();
  const uint32_t zones = g.max_active_zones ? g.max_active_zones : 4;
  ASSERT_LE(layout.data_offset + uint64_t{zones} * g.zone_size, g.size);
  const std::vector<std::uint8_t> block(g.logical_block_size, std::uint8_t{0x5a});
  for (uint32_t i = 0; i < zones; ++i) {
    const Status s = clone->Write(layout.data_offset + i * g.zone_size, block);
    EXPECT_TRUE(s.ok()) << "data zone " << i << ": " << s.error().message();
  }
}

void ExpectLayoutEq(const Layout& got, const Layout& want) {
  EXPECT_EQ(got.placement, want.placement);
  EXPECT_EQ(got.header_size, want.header_size);
  EXPECT_EQ(got.keyslots_size, want.keyslots_size);
  EXPECT_EQ(got.home_offset, want.home_offset);
  EXPECT_EQ(got.journal_offset, want.journal_offset);
  EXPECT_EQ(got.data_offset, want.data_offset);
  EXPECT_EQ(got.zone_size, want.zone_size);
  EXPECT_EQ(got.zone_capacity, want.zone_capacity);
  EXPECT_EQ(got.metadata_zones, want.metadata_zones);
}

// ---------------------------------------------------------------------------------------------
// Format, then open

struct DriveCase {
  const char* name;
  Config config;
  bool force_inline;
  Placement placement;
};

const DriveCase kDrives[] = {
    {"host-managed 64MiB zones, 4KiB blocks", HostManaged(4096), false,
     Placement::kSequentialZones},
    {"host-managed 64MiB zones, 512B blocks", HostManaged(512), true,
     Placement::kSequentialZones},
    {"host-managed, 4 conventional zones", HostManagedConventional(), true,
     Placement::kConventionalZones},
    {"zns-like: capacity 48MiB, max open/active 4", ZnsLike(), false,
     Placement::kSequentialZones},
    {"host-aware", HostAware(), true, Placement::kSequentialZones},
    {"not zoned", NotZoned(), true, Placement::kStandard},
};

class VolumeFormatTest : public ::testing::TestWithParam<DriveCase> {};

TEST_P(VolumeFormatTest, FormatWritesOnlyLegalOpsInProtocolOrder) {
  const DriveCase& c = GetParam();
  Formatted f = FormatNew(c.config, FastOptions(c.force_inline));
  ASSERT_NE(f.device, nullptr);
  EXPECT_EQ(f.layout.placement, c.placement);
  ExpectMetadataOps(*f.device, f.layout, 0);
  if (c.placement == Placement::kStandard) {
    // In place: the new header's keyslots first (ExpectMetadataOps checks the whole order).
    const auto& log = f.device->op_log();
    ASSERT_FALSE(log.empty());
    EXPECT_GE(log.front().offset, 2 * f.layout.header_size);
  }
  ExpectDataZonesWritable(*f.device, f.layout);
}

TEST_P(VolumeFormatTest, OpenFindsBothCopiesAndThePlannedLayout) {
  const DriveCase& c = GetParam();
  Formatted f = FormatNew(c.config, FastOptions(c.force_inline));
  ASSERT_NE(f.device, nullptr);
  const size_t ops_after_format = f.device->mutating_ops();
  auto volume = MustOpen(*f.device);
  ASSERT_NE(volume, nullptr);
  EXPECT_EQ(f.device->mutating_ops(), ops_after_format) << "Open wrote to the drive";

  EXPECT_EQ(volume->uuid(), f.uuid);
  ExpectLayoutEq(volume->layout(), f.layout);
  EXPECT_TRUE(volume->warnings().empty()) << volume->warnings().front();

  const auto& copies = volume->copies();
  if (f.layout.is_zoned()) {
    ASSERT_EQ(copies.size(), 2u);
    EXPECT_EQ(copies[0].name, "home");
    EXPECT_EQ(copies[0].offset, 0u);
    EXPECT_EQ(copies[1].name, "journal");
    EXPECT_EQ(copies[1].offset, f.layout.journal_offset);
    for (const CopySummary& copy : copies) {
      SCOPED_TRACE(copy.name);
      EXPECT_TRUE(copy.headers_valid) << copy.problem;
      EXPECT_TRUE(copy.image_present) << copy.problem;
      EXPECT_TRUE(copy.has_record) << copy.problem;
      EXPECT_TRUE(copy.problem.empty()) << copy.problem;
    }
    EXPECT_EQ(copies[0].seqid, copies[1].seqid);
    EXPECT_TRUE(copies[0].chosen);  // home wins a tie
    EXPECT_FALSE(copies[1].chosen);
  } else {
    ASSERT_EQ(copies.size(), 1u);
    EXPECT_EQ(copies[0].name, "home");
    EXPECT_TRUE(copies[0].headers_valid) << copies[0].problem;
    EXPECT_FALSE(copies[0].has_record);
    EXPECT_TRUE(copies[0].chosen);
  }

  const std::vector<std::string> flags = volume->config_flags();
  EXPECT_EQ(volume->force_inline(), c.force_inline);
  if (c.force_inline) {
    EXPECT_TRUE(HasAll(flags, kInlineFlags)) << ::testing::PrintToString(flags);
  } else {
    EXPECT_FALSE(HasAny(flags, kInlineFlags)) << ::testing::PrintToString(flags);
  }
}

TEST_P(VolumeFormatTest, ActivateWithoutNameOnlyChecksThePassphrase) {
  const DriveCase& c = GetParam();
  Formatted f = FormatNew(c.config, FastOptions(c.force_inline));
  ASSERT_NE(f.device, nullptr);
  if (c.placement == Placement::kStandard) {
    // On an ordinary disk libcryptsetup reads the header from device.path() itself, as
    // cryptsetup does. The emulator's path is only an empty stand-in, so copy the metadata the
    // emulator holds into it, as a real disk would show it.
    ASSERT_NO_FATAL_FAILURE(MirrorIntoStandIn(*f.device, f.layout.data_offset));
  }
  const size_t ops_after_format = f.device->mutating_ops();
  auto volume = MustOpen(*f.device);
  ASSERT_NE(volume, nullptr);

  const Status right = CheckPassphrase(*volume, kPassphrase);
  EXPECT_TRUE(right.ok()) << right.error().message();
  const Status wrong = CheckPassphrase(*volume, "not the passphrase");
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.error().code(), ExitCode::kNoPermission) << wrong.error().message();
  EXPECT_EQ(f.device->mutating_ops(), ops_after_format) << "a passphrase check wrote";
}

INSTANTIATE_TEST_SUITE_P(Drives, VolumeFormatTest, ::testing::ValuesIn(kDrives),
                         [](const ::testing::TestParamInfo<DriveCase>& param_info) {
                           std::string name = param_info.param.name;
                           for (char& ch : name)
                             if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
                           return name;
                         });

// ---------------------------------------------------------------------------------------------
// A torn home: only its first block came back after a reset

TEST(VolumeRecoveryTest, TornHomeOpensFromTheJournalWithAWarning) {
  for (const Config& config : {HostManaged(4096), HostManaged(512), ZnsLike(), HostAware()}) {
    SCOPED_TRACE(std::string(ZoneModelName(config.model)) + " block " +
                 std::to_string(config.logical_block_size) + " capacity " +
                 std::to_string(config.zone_capacity));
    Formatted f = FormatNew(config, FastOptions());
    ASSERT_NE(f.device, nullptr);
    const std::vector<std::uint8_t> first_block = f.device->Contents(0, 4096);
    // Home stopped after its first block: zone 0's write pointer is at 4096.
    ASSERT_TRUE(f.device->ResetZone(0).ok());
    ASSERT_TRUE(f.device->Write(0, first_block).ok());
    ASSERT_EQ(f.device->ZoneAt(0).written(), 4096u);

    const size_t ops_before_open = f.device->mutating_ops();
    auto volume = MustOpen(*f.device);
    ASSERT_NE(volume, nullptr);
    EXPECT_EQ(f.device->mutating_ops(), ops_before_open) << "open must not write (no repair)";
    ASSERT_EQ(volume->copies().size(), 2u);
    EXPECT_FALSE(volume->copies()[0].chosen);
    EXPECT_FALSE(volume->copies()[0].headers_valid && volume->copies()[0].image_present);
    EXPECT_TRUE(volume->copies()[1].chosen);
    EXPECT_TRUE(volume->copies()[1].has_record);
    EXPECT_FALSE(volume->warnings().empty());
    EXPECT_EQ(volume->uuid(), f.uuid);
    ExpectLayoutEq(volume->layout(), f.layout);
    const Status right = CheckPassphrase(*volume, kPassphrase);
    EXPECT_TRUE(right.ok()) << right.error().message();
    const Status wrong = CheckPassphrase(*volume, "nope");
    ASSERT_FALSE(wrong.ok());
    EXPECT_EQ(wrong.error().code(), ExitCode::kNoPermission);
  }
}

// In-place copies (conventional zones) have no write pointer to prove them complete: only the
// commit record does. Home written in place, headers first, and cut after its headers: new
// headers over an unfinished keyslots area, and no record for this seqid. The journal, written
// first, is complete with the same seqid. The complete copy must win the tie (and in-place
// writes now go keyslots first, headers last, as libcryptsetup orders them).
TEST(VolumeRecoveryTest, IncompleteInPlaceHomeLosesSeqidTieToCompleteJournal) {
  Formatted f = FormatNew(HostManagedConventional(), FastOptions());
  ASSERT_NE(f.device, nullptr);
  ASSERT_EQ(f.layout.placement, Placement::kConventionalZones);
  const std::vector<std::uint8_t> raw = f.device->Contents(0, 2 * f.layout.header_size);
  std::vector<uint8_t> leading(raw.size());
  std::transform(raw.begin(), raw.end(), leading.begin(),
                 [](std::uint8_t b) { return b; });
  auto headers = Luks2Image::ParseHeaders(leading);
  ASSERT_TRUE(headers.ok()) << headers.error().message();
  ASSERT_FALSE(headers->keyslot_areas().empty());
  const KeyslotArea area = headers->keyslot_areas().front();
  // What the unfinished in-place write left: keyslot bytes that are not this image's, and no
  // record for this seqid behind the image.
  f.device->Poke(area.offset, std::vector<std::uint8_t>(area.size, std::uint8_t{0xa5}));
  f.device->Poke(f.layout.image_size(), std::vector<std::uint8_t>(kCommitRecordSize));

  auto volume = MustOpen(*f.device);
  ASSERT_NE(volume, nullptr);
  ASSERT_EQ(volume->copies().size(), 2u);
  EXPECT_FALSE(volume->copies()[0].has_record);
  EXPECT_TRUE(volume->copies()[1].has_record);
  EXPECT_EQ(volume->copies()[0].seqid, volume->copies()[1].seqid);
  EXPECT_TRUE(volume->copies()[1].chosen) << "chose the home copy that no record proves complete";
  const Status pass = CheckPassphrase(*volume, kPassphrase);
  EXPECT_TRUE(pass.ok()) << pass.error().message();
}

// ---------------------------------------------------------------------------------------------
// A power cut at every op of an update (docs/design.md#update-protocol), on every drive kind
// of the crash harness (support/crash_harness.h)

struct Snapshot {
  uint64_t seqid = 0;
  std::vector<std::string> flags;
  size_t chosen = 0;
};

Snapshot Observe(Volume& volume) {
  Snapshot s;
  s.flags = volume.config_flags();
  for (size_t i = 0; i < volume.copies().size(); ++i)
    if (volume.copies()[i].chosen) {
      s.chosen = i;
      s.seqid = volume.copies()[i].seqid;
    }
  return s;
}

// The update under test: the inline flags on, nothing else.
Status SetInlineFlags(BlockDevice& device) {
  auto volume = Volume::Open(device);
  if (!volume.ok()) return volume.error();
  return (*volume)->SetPersistentFlags(true, std::nullopt);
}

class VolumeCrashTest : public ::testing::TestWithParam<DriveKind> {};

TEST_P(VolumeCrashTest, PowerCutAtEveryOpOfAFlagUpdateKeepsOldOrNewFlags) {
  FormatOptions options = FastOptions(false);
  // A 4 MiB keyslots area keeps each copy at a few write ops, so every op can be cut quickly.
  options.layout.keyslots_size = 4 * MiB;
  Formatted f = FormatNew(GetParam().config, options);
  ASSERT_NE(f.device, nullptr);
  const bool two_copies = f.layout.journal_offset.has_value();

  Snapshot before;
  {
    auto volume = MustOpen(*f.device);
    ASSERT_NE(volume, nullptr);
    before = Observe(*volume);
  }
  ASSERT_FALSE(HasAny(before.flags, kInlineFlags));

  // The uncut update: what reaches the drive, and the new state.
  const DryRun dry = RecordDryRun(*f.device, SetInlineFlags);
  ASSERT_TRUE(dry.status.ok()) << dry.status.error().message();
  ExpectMetadataOps(*dry.device, f.layout, dry.first);
  ExpectDataZonesWritable(*dry.device, f.layout);
  Snapshot after;
  {
    auto reopened = MustOpen(*dry.device);
    ASSERT_NE(reopened, nullptr);
    after = Observe(*reopened);
    EXPECT_TRUE(reopened->warnings().empty());
  }
  ASSERT_EQ(after.seqid, before.seqid + 1);
  ASSERT_TRUE(HasAll(after.flags, kInlineFlags));
  // Two copies of at least three ops each; one copy in place (an ordinary disk): both
  // headers and nothing else, since a flag changes no keyslot (what stock cryptsetup writes).
  if (two_copies)
    ASSERT_GE(dry.ops(), 6u) << DescribeCalls(dry.calls);
  else
    ASSERT_EQ(dry.ops(), 2u) << DescribeCalls(dry.calls);

  // Every op of the update, cut before anything of it persists; and every write again torn
  // (support/crash_harness.h). The next update starts from whatever a cut left and completes.
  int old_state = 0, new_state = 0, journal_newer_than_home = 0;
  std::optional<uint64_t> last_old, first_new;  // of the whole-op cuts, as in update_crash_test
  const uint64_t points = RunCuts(
      *f.device, dry, Torn::kYes, "the flag update", SetInlineFlags,
      [&](const Cut& cut, MemoryZonedDevice& device) {
        const uint64_t ops_after_crash = device.mutating_ops();
        auto volume = MustOpen(device);
        ASSERT_NE(volume, nullptr);
        EXPECT_EQ(device.mutating_ops(), ops_after_crash);
        const Snapshot now = Observe(*volume);
        const bool is_old = now.seqid == before.seqid && now.flags == before.flags;
        const bool is_new = now.seqid == after.seqid && now.flags == after.flags;
        EXPECT_TRUE(is_old || is_new)
            << "seqid " << now.seqid << " flags " << ::testing::PrintToString(now.flags);
        old_state += is_old;
        new_state += is_new;
        if (cut.torn_blocks == 0 && is_old) last_old = std::max(last_old.value_or(0), cut.op);
        if (cut.torn_blocks == 0 && is_new && (!first_new || cut.op < *first_new))
          first_new = cut.op;
        if (volume->copies().size() == 2 && volume->copies()[1].chosen &&
            volume->copies()[0].seqid < volume->copies()[1].seqid)
          ++journal_newer_than_home;
        if (now.chosen != 0) {
          EXPECT_FALSE(volume->warnings().empty());
        }
        // On an ordinary disk libcryptsetup unlocks from device.path(), the emulator's stand-in.
        if (f.layout.placement == Placement::kStandard) {
          ASSERT_NO_FATAL_FAILURE(MirrorIntoStandIn(device, f.layout.data_offset));
        }
        const Status pass = CheckPassphrase(*volume, kPassphrase);
        EXPECT_TRUE(pass.ok()) << pass.error().message();

        const Status retry = volume->SetPersistentFlags(true, std::nullopt);
        ASSERT_TRUE(retry.ok()) << retry.error().message();
        auto healed = MustOpen(device);
        ASSERT_NE(healed, nullptr);
        const Snapshot final_state = Observe(*healed);
        EXPECT_TRUE(HasAll(final_state.flags, kInlineFlags));
        EXPECT_GT(final_state.seqid, now.seqid);
        EXPECT_TRUE(healed->warnings().empty()) << healed->warnings().front();
      });
  std::cout << "[ crash    ] " << GetParam().name << ": " << points << " power-cut points in a "
            << dry.ops() << "-op flag update (" << DescribeCalls(dry.calls) << "): " << old_state
            << " old, " << new_state << " new (" << journal_newer_than_home
            << " with home older than the journal)\n";
  // Every cut is classified above, and RunCuts checked the cuts against the recorded ops.
  if (testing::EveryCutRuns()) {
    EXPECT_GT(old_state, 0);
    EXPECT_GT(new_state, 0);
  }
  if (last_old && first_new) {
    EXPECT_LT(*last_old, *first_new) << "the old state came back after a cut had left the new";
  }
  if (two_copies && testing::EveryCutRuns()) {
    EXPECT_GT(journal_newer_than_home, 0) << "no cut left home older than the journal";
  }
  AddCrashRun("VolumeCrashTest", points);
}

INSTANTIATE_TEST_SUITE_P(Drives, VolumeCrashTest, ::testing::ValuesIn(DriveKinds()),
                         DriveKindName);

// ---------------------------------------------------------------------------------------------
// Stock cryptsetup rewrote home in place on a host-aware drive (no commit record)

TEST(VolumeRecoveryTest, NewerForeignHomeWithoutRecordBeatsOlderJournal) {
  Formatted f = FormatNew(HostAware(), FastOptions());
  ASSERT_NE(f.device, nullptr);
  ASSERT_TRUE(f.layout.journal_offset);

  // The home image as on the drive, changed the way cryptsetup's own header write would:
  // JSON edited, seqid + 1, both headers rewritten; nothing after the headers changes, so the
  // old commit record (for the old seqid) stays behind the image.
  const std::vector<std::uint8_t> raw = f.device->Contents(0, f.layout.image_size());
  std::vector<uint8_t> bytes(raw.size());
  std::transform(raw.begin(), raw.end(), bytes.begin(),
                 [](std::uint8_t b) { return b; });
  auto image = Luks2Image::Parse(std::move(bytes));
  ASSERT_TRUE(image.ok()) << image.error().message();
  const uint64_t old_seqid = image->seqid();
  ASSERT_TRUE(image->AddConfigFlag("allow-discards").ok());
  ASSERT_EQ(image->seqid(), old_seqid + 1);
  // The emulator refuses writes to a FULL zone even when it is sequential-write-preferred,
  // so the foreign in-place write of the two header areas goes in directly.
  const auto headers = image->bytes().first(2 * image->hdr_size());
  f.device->Poke(0, headers);

  auto volume = MustOpen(*f.device);
  ASSERT_NE(volume, nullptr);
  ASSERT_EQ(volume->copies().size(), 2u);
  const CopySummary& home = volume->copies()[0];
  const CopySummary& journal = volume->copies()[1];
  EXPECT_EQ(home.seqid, old_seqid + 1);
  EXPECT_FALSE(home.has_record);
  EXPECT_EQ(journal.seqid, old_seqid);
  EXPECT_TRUE(journal.has_record);
  EXPECT_TRUE(home.chosen) << "rolled back to the older journal";
  EXPECT_FALSE(journal.chosen);
  const std::vector<std::string> flags = volume->config_flags();
  EXPECT_NE(std::find(flags.begin(), flags.end(), "allow-discards"), flags.end());
  const Status pass = CheckPassphrase(*volume, kPassphrase);
  EXPECT_TRUE(pass.ok()) << pass.error().message();

  // The next update builds on the foreign change, not on the journal.
  const Status s = volume->SetPersistentFlags(true, std::nullopt);
  ASSERT_TRUE(s.ok()) << s.error().message();
  auto reopened = MustOpen(*f.device);
  ASSERT_NE(reopened, nullptr);
  EXPECT_EQ(reopened->copies()[0].seqid, old_seqid + 2);
  EXPECT_EQ(reopened->copies()[1].seqid, old_seqid + 2);
  EXPECT_TRUE(reopened->copies()[0].has_record);
  const std::vector<std::string> merged = reopened->config_flags();
  EXPECT_NE(std::find(merged.begin(), merged.end(), "allow-discards"), merged.end());
  EXPECT_TRUE(HasAll(merged, kInlineFlags));
}

// ---------------------------------------------------------------------------------------------
// Bad input: refused by PlanFormat before a single byte is written

TEST(VolumePlanFormatTest, BadInputIsRefusedWithoutWriting) {
  struct Case {
    const char* name;
    Config config;
    std::optional<uint64_t> offset;
    ExitCode code;
  };
  Config too_small = HostManaged(4096);
  too_small.size = 2 * too_small.zone_size;  // home + journal, no data zone
  Config too_small_standard = NotZoned();
  too_small_standard.size = 16 * MiB;
  Config read_only = HostManaged(4096);
  read_only.read_only = true;
  Config read_only_standard = NotZoned();
  read_only_standard.read_only = true;
  const Case cases[] = {
      {"zone-unaligned offset", HostManaged(4096), 65 * MiB, ExitCode::kWrongParameters},
      {"offset inside the metadata zones", HostManaged(4096), 64 * MiB,
       ExitCode::kWrongParameters},
      {"device too small", too_small, std::nullopt, ExitCode::kWrongDevice},
      {"ordinary device too small", too_small_standard, std::nullopt, ExitCode::kWrongDevice},
      {"read-only drive", read_only, std::nullopt, ExitCode::kWrongDevice},
      {"read-only ordinary device", read_only_standard, std::nullopt, ExitCode::kWrongDevice},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    auto device = MakeDevice(c.config);
    ASSERT_NE(device, nullptr);
    FormatOptions options = FastOptions();
    options.layout.data_offset = c.offset;
    auto layout = PlanFormat(*device, options);
    ASSERT_FALSE(layout.ok());
    EXPECT_EQ(layout.error().code(), c.code) << layout.error().message();
    EXPECT_TRUE(device->op_log().empty()) << DescribeOps(*device, 0);
    EXPECT_EQ(device->allocated_bytes(), 0u);
  }
}

// ---------------------------------------------------------------------------------------------
// Zone resources: an update needs one active zone for the metadata zone it rewrites

// With every active zone held by data zones (a ZNS drive allows only a few), resetting a
// metadata zone would be followed by a write the drive refuses: one copy lost, and a bare I/O
// error. The update must be refused before any reset, with nothing changed; once a data zone
// is finished, it goes through. (Found on null_blk zone_max_active=4 in the VM.)
TEST(VolumeZoneResourcesTest, UpdateWithEveryActiveZoneHeldIsRefusedBeforeAnyReset) {
  Formatted f = FormatNew(ZnsLike(), FastOptions());
  ASSERT_NE(f.device, nullptr);
  MemoryZonedDevice& device = *f.device;
  const uint32_t max_active = device.geometry().max_active_zones;
  ASSERT_GT(max_active, 0u);
  const uint64_t zone = device.geometry().zone_size;
  const std::vector<std::uint8_t> block(device.geometry().logical_block_size, std::uint8_t{0x5a});
  for (uint32_t i = 0; i < max_active; ++i) {
    const Status s = device.Write(f.layout.data_offset + i * zone, block);
    ASSERT_TRUE(s.ok()) << "data zone " << i << ": " << s.error().message();
  }
  const uint64_t ops = device.mutating_ops();

  auto volume = MustOpen(device);
  ASSERT_NE(volume, nullptr);
  auto added = volume->AddKey(Secret(kPassphrase), Secret("second passphrase"), -1, FastOptions().pbkdf);
  ASSERT_FALSE(added.ok());
  EXPECT_EQ(added.error().code(), ExitCode::kDeviceBusy) << added.error().message();
  EXPECT_NE(added.error().message().find("active zones"), std::string::npos)
      << added.error().message();
  EXPECT_EQ(device.mutating_ops(), ops) << "an op reached the drive: " << DescribeOps(device, ops);
  auto after = MustOpen(device);
  ASSERT_NE(after, nullptr);
  ASSERT_EQ(after->copies().size(), 2u);
  EXPECT_TRUE(after->copies()[0].has_record && after->copies()[1].has_record);
  EXPECT_EQ(after->copies()[0].seqid, after->copies()[1].seqid);

  ASSERT_TRUE(device.FinishZone(f.layout.data_offset).ok());
  auto volume2 = MustOpen(device);
  ASSERT_NE(volume2, nullptr);
  auto retried =
      volume2->AddKey(Secret(kPassphrase), Secret("second passphrase"), -1, FastOptions().pbkdf);
  ASSERT_TRUE(retried.ok()) << retried.error().message();
  auto reopened = MustOpen(device);
  ASSERT_NE(reopened, nullptr);
  EXPECT_TRUE(CheckPassphrase(*reopened, "second passphrase").ok());
}

}  // namespace
}  // namespace luks2ext
