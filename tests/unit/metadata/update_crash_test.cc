// Power cuts during every metadata update verb (docs/design.md#update-protocol), on every kind
// of drive: after a cut at any op, whole or torn, the drive opens with exactly the old or
// exactly the new state (key set, label, flags), never neither, and a later cut never goes
// back to the old state once an earlier one left the new; the data segment is never touched;
// a repair interrupted by a second cut keeps that state; a key removed by an update that
// returned never opens again. The cuts are made by support/crash_harness.h.
#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "luks2/format.h"
#include "luks2ext/external_edit.h"
#include "luks2ext/header_backup.h"
#include "support/enroll_tool.h"
#include "luks2ext/volume.h"
#include "support/crash_harness.h"
#include "support/update_scene.h"
#include "support/volume_fixture.h"
#include "testing/memory_device.h"

namespace luks2ext {
namespace {

using testing::Action;
using testing::AddCrashRun;
using testing::AddSecondKey;
using testing::AsStatus;
using testing::Cut;
using testing::DescribeCalls;
using testing::Describe;
using testing::DriveKind;
using testing::DriveKindName;
using testing::DriveKinds;
using testing::DryRun;
using testing::ExpectDataUntouched;
using testing::Expected;
using testing::ExpectMetadataOps;
using testing::FastPbkdf;
using testing::HasAll;
using testing::HasAny;
using testing::kInlineFlags;
using testing::KeyCase;
using testing::kPassphrase;
using testing::kSecond;
using testing::kThird;
using testing::MakeScene;
using testing::Observe;
using testing::Observed;
using testing::RecordDryRun;
using testing::RunCuts;
using testing::SameBytes;
using testing::SameMetadata;
using testing::Scene;
using testing::Torn;
using testing::Unlock;
using testing::WithVolume;

constexpr char kNewLabel[] = "after-update";
constexpr char kNewUuid[] = "0badc0de-1234-4abc-8def-00112233aabb";
constexpr char kFollowUpLabel[] = "follow-up";

// ---------------------------------------------------------------------------------------------
// The verbs

struct Verb {
  const char* name;
  // From the freshly formatted drive (kPassphrase in keyslot 0) to the verb's starting state.
  std::function<Status(Scene&)> setup;
  std::function<Status(const Scene&, BlockDevice&)> run;
  std::vector<KeyCase> keys;
  // Checks the dry run's before and after states beyond the key set.
  std::function<void(const Observed& before, const Observed& after)> expect;
  bool protocol_order = true;  // its ops follow ExpectMetadataOps (every copy rewritten)
  bool leaves_no_key = false;  // erase: in its new state no passphrase opens, by design
};

Verb AddKeyVerb() {
  Verb verb;
  verb.name = "AddKey";
  verb.run = [](const Scene&, BlockDevice& d) {
    return WithVolume(d, [](Volume& v) {
      auto slot = v.AddKey(Secret(kPassphrase), Secret(kSecond), -1, FastPbkdf());
      if (slot.ok() && *slot != 1)
        return Status(Error::WrongParameters("AddKey took keyslot " + std::to_string(*slot)));
      return AsStatus(slot);
    });
  };
  verb.keys = {{kPassphrase, true, true}, {kSecond, false, true}};
  verb.expect = [](const Observed& before, const Observed& after) {
    EXPECT_EQ(before.keyslots, std::vector<int>({0}));
    EXPECT_EQ(after.keyslots, std::vector<int>({0, 1}));
  };
  return verb;
}

// A -> B on a volume with A only: the harshest case, a cut that loses both loses the volume.
Verb ChangeKeyVerb() {
  Verb verb;
  verb.name = "ChangeKey";
  verb.run = [](const Scene&, BlockDevice& d) {
    return WithVolume(d, [](Volume& v) {
      return AsStatus(v.ChangeKey(Secret(kPassphrase), Secret(kSecond), -1, FastPbkdf()));
    });
  };
  verb.keys = {{kPassphrase, true, false}, {kSecond, false, true}};
  verb.expect = [](const Observed& before, const Observed& after) {
    EXPECT_EQ(before.keyslots, std::vector<int>({0}));
    EXPECT_EQ(after.keyslots.size(), 1u);
  };
  return verb;
}

// luksConvertKey -S 0: keyslot 0 re-wrapped with argon2id (cheap parameters); the same
// passphrase opens before, after and at every cut. On the ordinary disk this is the case
// libcryptsetup would rewrite in place (-S names the keyslot), where a cut between the key
// material and the headers left no key opening until ChangeKey asked for a free area.
Verb ConvertKeyVerb() {
  Verb verb;
  verb.name = "ConvertKey";
  verb.run = [](const Scene&, BlockDevice& d) {
    return WithVolume(d, [](Volume& v) {
      PbkdfOptions argon2id;
      argon2id.type = "argon2id";
      argon2id.iterations = 4;
      argon2id.memory_kb = 32;
      argon2id.parallel = 1;
      auto slot = v.ConvertKey(Secret(kPassphrase), 0, argon2id);
      if (slot.ok() && *slot != 0)
        return Status(Error::WrongParameters("ConvertKey moved to keyslot " + std::to_string(*slot)));
      return AsStatus(slot);
    });
  };
  verb.keys = {{kPassphrase, true, true}};
  verb.expect = [](const Observed& before, const Observed& after) {
    EXPECT_EQ(after.keyslots, std::vector<int>({0}));
    EXPECT_NE(before.json.find("\"pbkdf2\""), std::string::npos);
    EXPECT_EQ(before.json.find("\"argon2id\""), std::string::npos);
    EXPECT_NE(after.json.find("\"argon2id\""), std::string::npos) << after.json;
  };
  return verb;
}

Verb RemoveKeyVerb() {
  Verb verb;
  verb.name = "RemoveKey";
  verb.setup = AddSecondKey;
  verb.run = [](const Scene&, BlockDevice& d) {
    return WithVolume(d, [](Volume& v) {
      auto slot = v.RemoveKey(Secret(kSecond), /*allow_last=*/false);
      if (slot.ok() && *slot != 1)
        return Status(Error::WrongParameters("RemoveKey removed keyslot " + std::to_string(*slot)));
      return AsStatus(slot);
    });
  };
  verb.keys = {{kPassphrase, true, true}, {kSecond, true, false}};
  verb.expect = [](const Observed& before, const Observed& after) {
    EXPECT_EQ(before.keyslots, std::vector<int>({0, 1}));
    EXPECT_EQ(after.keyslots, std::vector<int>({0}));
  };
  return verb;
}

// Kills keyslot 0 (A), verified with B: the slot tried first goes.
Verb KillSlotVerb() {
  Verb verb;
  verb.name = "KillSlot";
  verb.setup = AddSecondKey;
  verb.run = [](const Scene&, BlockDevice& d) {
    return WithVolume(d, [](Volume& v) {
      const Secret verify(kSecond);
      return v.KillSlot(0, &verify, /*allow_last=*/false);
    });
  };
  verb.keys = {{kPassphrase, true, false}, {kSecond, true, true}};
  verb.expect = [](const Observed& before, const Observed& after) {
    EXPECT_EQ(before.keyslots, std::vector<int>({0, 1}));
    EXPECT_EQ(after.keyslots, std::vector<int>({1}));
  };
  return verb;
}

Verb SetLabelVerb() {
  Verb verb;
  verb.name = "SetLabel";
  verb.run = [](const Scene&, BlockDevice& d) {
    return WithVolume(d, [](Volume& v) { return v.SetLabel(kNewLabel, std::nullopt); });
  };
  verb.keys = {{kPassphrase, true, true}};
  verb.expect = [](const Observed& before, const Observed& after) {
    EXPECT_EQ(before.label, "");
    EXPECT_EQ(after.label, kNewLabel);
    EXPECT_EQ(after.flags, before.flags);
  };
  return verb;
}

// luksUUID --uuid: the UUID lives in both binary headers and the commit record; a cut leaves
// the old UUID or the new one, every key opening either.
Verb SetUuidVerb() {
  Verb verb;
  verb.name = "SetUuid";
  verb.run = [](const Scene&, BlockDevice& d) {
    return WithVolume(d, [](Volume& v) { return v.SetUuid(kNewUuid); });
  };
  verb.keys = {{kPassphrase, true, true}};
  verb.expect = [](const Observed& before, const Observed& after) {
    EXPECT_NE(before.uuid, kNewUuid);
    EXPECT_EQ(after.uuid, kNewUuid);
    EXPECT_EQ(after.label, before.label);
    EXPECT_EQ(after.keyslots, before.keyslots);
  };
  return verb;
}

// config --priority prefer -S 0: the keyslot's priority is in the JSON only; a cut leaves it
// normal or preferred, the key opening either way.
Verb SetPriorityVerb() {
  Verb verb;
  verb.name = "SetPriority";
  verb.run = [](const Scene&, BlockDevice& d) {
    return WithVolume(d, [](Volume& v) {
      return v.SetKeyslotPriority(0, Volume::KeyslotPriority::kPrefer);
    });
  };
  verb.keys = {{kPassphrase, true, true}};
  verb.expect = [](const Observed& before, const Observed& after) {
    EXPECT_EQ(before.json.find("\"priority\":2"), std::string::npos);
    EXPECT_NE(after.json.find("\"priority\":2"), std::string::npos);
    EXPECT_EQ(after.keyslots, before.keyslots);
    EXPECT_EQ(after.uuid, before.uuid);
  };
  return verb;
}

// erase: both keys go in one change; a cut leaves both or neither (never a header naming
// keyslots whose areas are already wiped), and an erased volume stays erased.
Verb EraseVerb() {
  Verb verb;
  verb.name = "Erase";
  verb.setup = AddSecondKey;
  verb.run = [](const Scene&, BlockDevice& d) {
    return WithVolume(d, [](Volume& v) -> Status {
      auto destroyed = v.Erase();
      if (destroyed.ok() && *destroyed != std::vector<int>({0, 1}))
        return Error::WrongParameters("Erase destroyed " + ::testing::PrintToString(*destroyed));
      return AsStatus(destroyed);
    });
  };
  verb.keys = {{kPassphrase, true, false}, {kSecond, true, false}};
  verb.leaves_no_key = true;
  // Its writes run past each copy, to the zone's end (erase_test.cc checks them).
  verb.protocol_order = false;
  verb.expect = [](const Observed& before, const Observed& after) {
    EXPECT_EQ(before.keyslots, std::vector<int>({0, 1}));
    EXPECT_TRUE(after.keyslots.empty()) << Describe(after);
    EXPECT_EQ(after.uuid, before.uuid);
  };
  return verb;
}

Verb FlagsOnVerb() {
  Verb verb;
  verb.name = "SetPersistentFlagsOn";
  verb.run = [](const Scene&, BlockDevice& d) {
    return WithVolume(d, [](Volume& v) { return v.SetPersistentFlags(true, true); });
  };
  verb.keys = {{kPassphrase, true, true}};
  verb.expect = [](const Observed& before, const Observed& after) {
    EXPECT_TRUE(before.flags.empty()) << ::testing::PrintToString(before.flags);
    EXPECT_TRUE(HasAll(after.flags, kInlineFlags)) << ::testing::PrintToString(after.flags);
    EXPECT_TRUE(HasAll(after.flags, {"allow-discards"}));
  };
  return verb;
}

Verb FlagsOffVerb() {
  Verb verb;
  verb.name = "SetPersistentFlagsOff";
  verb.setup = [](Scene& scene) {
    return WithVolume(*scene.device, [](Volume& v) { return v.SetPersistentFlags(true, true); });
  };
  verb.run = [](const Scene&, BlockDevice& d) {
    return WithVolume(d, [](Volume& v) { return v.SetPersistentFlags(false, false); });
  };
  verb.keys = {{kPassphrase, true, true}};
  verb.expect = [](const Observed& before, const Observed& after) {
    EXPECT_TRUE(HasAll(before.flags, kInlineFlags)) << ::testing::PrintToString(before.flags);
    EXPECT_FALSE(HasAny(after.flags, kInlineFlags)) << ::testing::PrintToString(after.flags);
    EXPECT_FALSE(HasAny(after.flags, {"allow-discards"}));
  };
  return verb;
}

// The backup is taken with A only and no label; then C is added and a label set; restoring
// takes both back at once.
Verb RestoreHeaderVerb() {
  Verb verb;
  verb.name = "RestoreHeader";
  verb.setup = [](Scene& scene) {
    scene.backup_path = scene.scratch.File("backup.img");
    return WithVolume(*scene.device, [&](Volume& v) -> Status {
      RETURN_IF_ERROR(v.BackupHeader(scene.backup_path));
      RETURN_IF_ERROR(v.AddKey(Secret(kPassphrase), Secret(kThird), -1, FastPbkdf()));
      return v.SetLabel("after-backup", std::nullopt);
    });
  };
  verb.run = [](const Scene& scene, BlockDevice& d) -> Status {
    auto uuid = RestoreHeader(d, scene.backup_path);
    if (uuid.ok() && *uuid != scene.uuid)
      return Error::WrongParameters("RestoreHeader returned UUID " + *uuid);
    return AsStatus(uuid);
  };
  verb.keys = {{kPassphrase, true, true}, {kThird, true, false}};
  verb.expect = [](const Observed& before, const Observed& after) {
    EXPECT_EQ(before.label, "after-backup");
    EXPECT_EQ(before.keyslots, std::vector<int>({0, 1}));
    EXPECT_EQ(after.label, "");
    EXPECT_EQ(after.keyslots, std::vector<int>({0}));
    EXPECT_GT(after.seqid, before.seqid);
  };
  return verb;
}

// enroll: a tool adds B in a new keyslot and a token naming it, in two header writes of its
// own, as systemd-cryptenroll does. A cut leaves both or neither: never a token alone.
Verb EnrollVerb() {
  Verb verb;
  verb.name = "Enroll";
  verb.run = [](const Scene&, BlockDevice& d) -> Status {
    auto outcome = EditHeaderExternally(d, testing::EnrollScratchDirs(),
                                        [](const std::string& image) {
                                          return testing::EnrollKeyWithToken(image, kPassphrase,
                                                                             kSecond);
                                        });
    if (outcome.ok() && !outcome->changed) return Error::WrongParameters("enroll wrote nothing");
    return AsStatus(outcome);
  };
  verb.keys = {{kPassphrase, true, true}, {kSecond, false, true}};
  verb.expect = [](const Observed& before, const Observed& after) {
    EXPECT_EQ(before.keyslots, std::vector<int>({0}));
    EXPECT_EQ(after.keyslots, std::vector<int>({0, 1}));
    EXPECT_EQ(before.json.find(testing::kEnrollTokenType), std::string::npos);
    EXPECT_NE(after.json.find(testing::kEnrollTokenType), std::string::npos) << after.json;
  };
  return verb;
}

// Home torn: on a sequential zone 0 reset and only its first 4 KiB rewritten; in conventional
// zones everything of home past its first 4 KiB zeroed. An ordinary disk has no second copy,
// so there the primary header's JSON area is lost and the secondary header is what is left.
Verb RepairVerb() {
  Verb verb;
  verb.name = "Repair";
  verb.setup = [](Scene& scene) -> Status {
    MemoryZonedDevice& d = *scene.device;
    const Layout& l = scene.layout;
    const std::vector<std::uint8_t> first_block = d.Contents(0, 4096);
    if (l.placement == Placement::kSequentialZones) {
      RETURN_IF_ERROR(d.ResetZone(0));
      return d.Write(0, first_block);
    }
    const uint64_t end =
        l.placement == Placement::kStandard ? l.header_size : l.image_size() + kCommitRecordSize;
    return d.Write(4096, std::vector<std::uint8_t>(end - 4096));
  };
  verb.run = [](const Scene&, BlockDevice& d) {
    return WithVolume(d, [](Volume& v) { return AsStatus(v.Repair()); });
  };
  verb.keys = {{kPassphrase, true, true}};
  verb.expect = [](const Observed& before, const Observed& after) {
    if (before.copies == 2) {
      EXPECT_EQ(before.chosen, 1u) << "the torn home was chosen";
      EXPECT_FALSE(before.warnings.empty()) << "the torn home went unnoticed";
    }
    EXPECT_EQ(after.chosen, 0u);
    EXPECT_EQ(after.json, before.json);
    EXPECT_EQ(after.seqid, before.seqid);
  };
  verb.protocol_order = false;
  return verb;
}

// ---------------------------------------------------------------------------------------------
// The crash matrix

class UpdateCrashTest : public ::testing::TestWithParam<DriveKind> {
 protected:
  void RunCrashMatrix(const Verb& verb);
};

Action RepairAction() {
  return [](BlockDevice& d) { return WithVolume(d, [](Volume& v) { return AsStatus(v.Repair()); }); };
}

// The crashed drive, repaired: it opens in `state`, with no warning left. With `cut_repair`,
// also repaired again from the crashed state with a power cut at each of the repair's ops: it
// still opens in `state`. Returns how many of those cuts fired.
uint64_t RepairUnderPowerCuts(const MemoryZonedDevice& crashed, const Scene& scene,
                              const Observed& state, const std::vector<KeyCase>& keys,
                              bool cut_repair) {
  const DryRun dry = RecordDryRun(crashed, RepairAction());
  {
    SCOPED_TRACE("uncut repair after the crash");
    EXPECT_TRUE(dry.status.ok()) << dry.status.error().message();
    ExpectDataUntouched(*dry.device, scene, dry.first);
    auto repaired = Observe(*dry.device, scene.layout, keys, Unlock::kNone);
    if (!repaired) return 0;
    EXPECT_TRUE(SameBytes(*repaired, state))
        << "before repair: " << Describe(state) << "\nafter: " << Describe(*repaired);
    EXPECT_TRUE(repaired->warnings.empty()) << repaired->warnings.front();
  }
  if (!cut_repair) return 0;
  return RunCuts(crashed, dry, Torn::kNo, "repair", RepairAction(),
                 [&](const Cut&, MemoryZonedDevice& device) {
                   ExpectDataUntouched(device, scene, dry.first);
                   auto now = Observe(device, scene.layout, keys, Unlock::kNone);
                   if (!now) return;
                   EXPECT_TRUE(SameBytes(*now, state))
                       << "before repair: " << Describe(state) << "\nafter: " << Describe(*now);
                 });
}

// After the verb returned, a following SetLabel is cut at every op: the keys the verb removed
// stay dead, the others open. Returns how many cuts fired.
uint64_t FollowUpUnderPowerCuts(const Scene& scene, const Verb& verb, const Observed& after) {
  auto done = scene.device->Clone();
  {
    const Status status = verb.run(scene, *done);
    EXPECT_TRUE(status.ok()) << status.error().message();
  }
  const Action set_label = [](BlockDevice& d) {
    return WithVolume(d, [](Volume& v) { return v.SetLabel(kFollowUpLabel, std::nullopt); });
  };
  const DryRun dry = RecordDryRun(*done, set_label);
  EXPECT_TRUE(dry.status.ok()) << dry.status.error().message();
  return RunCuts(
      *done, dry, Torn::kNo, "follow-up SetLabel", set_label,
      [&](const Cut&, MemoryZonedDevice& device) {
        auto now = Observe(device, scene.layout, verb.keys);
        if (!now) return;
        EXPECT_EQ(now->opens, Expected(verb.keys, /*after=*/true)) << Describe(*now);
        for (size_t k = 0; k < verb.keys.size(); ++k) {
          if (verb.keys[k].removed()) {
            EXPECT_FALSE(now->opens[k]) << "removed key '" << verb.keys[k].passphrase
                                        << "' opens again; " << Describe(*now);
          }
        }
        EXPECT_TRUE(now->label == after.label || now->label == kFollowUpLabel) << Describe(*now);
        EXPECT_EQ(now->keyslots, after.keyslots);
      });
}

void UpdateCrashTest::RunCrashMatrix(const Verb& verb) {
  const DriveKind& drive = GetParam();
  auto scene = MakeScene(drive.config);
  ASSERT_NE(scene, nullptr);
  if (verb.setup) {
    const Status s = verb.setup(*scene);
    ASSERT_TRUE(s.ok()) << "setup: " << s.error().message();
  }
  MemoryZonedDevice& base = *scene->device;

  auto before = Observe(base, scene->layout, verb.keys);
  ASSERT_TRUE(before.has_value());
  ASSERT_EQ(before->opens, Expected(verb.keys, false)) << Describe(*before);

  // The uncut run: what reaches the drive, and the new state.
  const Action run = [&](BlockDevice& d) { return verb.run(*scene, d); };
  const DryRun dry = RecordDryRun(base, run);
  ASSERT_TRUE(dry.status.ok()) << dry.status.error().message();
  const uint64_t first = dry.first;
  ASSERT_GT(dry.calls.size(), 0u);
  if (verb.protocol_order) ExpectMetadataOps(*dry.device, scene->layout, first);
  ExpectDataUntouched(*dry.device, *scene, first);
  auto after = Observe(*dry.device, scene->layout, verb.keys);
  ASSERT_TRUE(after.has_value());
  ASSERT_EQ(after->opens, Expected(verb.keys, true)) << Describe(*after);
  EXPECT_TRUE(after->warnings.empty()) << after->warnings.front();
  verb.expect(*before, *after);
  if (verb.protocol_order) {
    ASSERT_FALSE(SameMetadata(*before, *after)) << "the verb changed nothing";
  }

  uint64_t repair_points = 0, old_states = 0, new_states = 0;
  // Of the whole-op cuts: the last op a cut at which left the old state, the first that left
  // the new one. More of the update persists at each later op, so old must end before new.
  std::optional<uint64_t> last_old, first_new;
  const std::string what = std::string(verb.name) + " on " + drive.name;
  const uint64_t points = RunCuts(base, dry, Torn::kYes, what, run, [&](const Cut& cut,
                                                                        MemoryZonedDevice& device) {
    ExpectDataUntouched(device, *scene, first);
    auto now = Observe(device, scene->layout, verb.keys);
    if (!now) return;
    const bool is_old = SameMetadata(*now, *before) && now->json == before->json;
    const bool is_new = SameMetadata(*now, *after);
    EXPECT_TRUE(is_old || is_new) << "neither the old nor the new header: " << Describe(*now)
                                  << "\nold: " << Describe(*before)
                                  << "\nnew: " << Describe(*after);
    old_states += is_old;
    new_states += is_new && !is_old;
    if (cut.torn_blocks == 0 && is_old) last_old = std::max(last_old.value_or(0), cut.op);
    if (cut.torn_blocks == 0 && is_new && !is_old && (!first_new || cut.op < *first_new))
      first_new = cut.op;
    if (!(verb.leaves_no_key && is_new && !is_old)) {
      EXPECT_TRUE(std::find(now->opens.begin(), now->opens.end(), true) != now->opens.end())
          << "no passphrase opens the volume: " << Describe(*now);
    }
    if (is_old || is_new) {
      const std::vector<bool> want = Expected(verb.keys, /*after=*/!is_old);
      for (size_t k = 0; k < verb.keys.size(); ++k) {
        if (now->opens[k] == want[k]) continue;
        ADD_FAILURE() << "passphrase '" << verb.keys[k].passphrase << "' "
                      << (now->opens[k] ? "opens" : "fails") << " in the "
                      << (is_old ? "old" : "new") << " state: " << Describe(*now);
      }
    }
    if (!is_old) {
      for (size_t k = 0; k < verb.keys.size(); ++k) {
        if (verb.keys[k].removed()) {
          EXPECT_FALSE(now->opens[k]) << "the new header, and the removed key opens";
        }
      }
    }
    if (now->chosen != 0) {
      EXPECT_FALSE(now->warnings.empty()) << "the journal was chosen without a warning";
    }

    // A second cut, during the repair of what a whole-op cut left (a torn cut's state is
    // repaired uncut: the same repair paths, at a prefix a block or so longer).
    repair_points += RepairUnderPowerCuts(device, *scene, *now, verb.keys, cut.torn_blocks == 0);
  });

  uint64_t follow_up_points = 0;
  if (std::any_of(verb.keys.begin(), verb.keys.end(), [](const KeyCase& k) { return k.removed(); }))
    follow_up_points = FollowUpUnderPowerCuts(*scene, verb, *after);

  std::cout << "[ crash    ] " << verb.name << " " << drive.name << ": " << points << " points ("
            << dry.ops() << " ops: " << DescribeCalls(dry.calls) << "); " << old_states
            << " old, " << new_states << " new";
  std::cout << "; repair cut after each whole-op cut: " << repair_points << " points";
  if (follow_up_points) std::cout << "; follow-up SetLabel: " << follow_up_points << " points";
  std::cout << "\n";
  if (verb.protocol_order && testing::EveryCutRuns()) {
    EXPECT_GT(old_states, 0u);
    EXPECT_GT(new_states, 0u);
  }
  if (last_old && first_new) {
    EXPECT_LT(*last_old, *first_new)
        << "a cut at op " << *last_old << " left the old state, after a cut at op " << *first_new
        << " had left the new one";
  }
  AddCrashRun("UpdateCrashTest", points, repair_points, follow_up_points);
}

TEST_P(UpdateCrashTest, AddKey) { RunCrashMatrix(AddKeyVerb()); }
TEST_P(UpdateCrashTest, RemoveKey) { RunCrashMatrix(RemoveKeyVerb()); }
TEST_P(UpdateCrashTest, KillSlot) { RunCrashMatrix(KillSlotVerb()); }
TEST_P(UpdateCrashTest, SetLabel) { RunCrashMatrix(SetLabelVerb()); }
TEST_P(UpdateCrashTest, ConvertKey) { RunCrashMatrix(ConvertKeyVerb()); }
TEST_P(UpdateCrashTest, Erase) { RunCrashMatrix(EraseVerb()); }
TEST_P(UpdateCrashTest, SetUuid) { RunCrashMatrix(SetUuidVerb()); }
TEST_P(UpdateCrashTest, SetPriority) { RunCrashMatrix(SetPriorityVerb()); }
TEST_P(UpdateCrashTest, SetPersistentFlagsOn) { RunCrashMatrix(FlagsOnVerb()); }
TEST_P(UpdateCrashTest, SetPersistentFlagsOff) { RunCrashMatrix(FlagsOffVerb()); }
TEST_P(UpdateCrashTest, RestoreHeader) { RunCrashMatrix(RestoreHeaderVerb()); }
TEST_P(UpdateCrashTest, Repair) { RunCrashMatrix(RepairVerb()); }
TEST_P(UpdateCrashTest, Enroll) { RunCrashMatrix(EnrollVerb()); }

INSTANTIATE_TEST_SUITE_P(Drives, UpdateCrashTest, ::testing::ValuesIn(DriveKinds()),
                         DriveKindName);

class ChangeKeyCrashTest : public UpdateCrashTest {};
TEST_P(ChangeKeyCrashTest, ChangeKey) { RunCrashMatrix(ChangeKeyVerb()); }
INSTANTIATE_TEST_SUITE_P(Drives, ChangeKeyCrashTest, ::testing::ValuesIn(DriveKinds()),
                         DriveKindName);

}  // namespace
}  // namespace luks2ext
