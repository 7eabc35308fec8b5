// Power cuts during every metadata update verb (design section 4's invariant), on every kind of
// drive: after a cut at any op, whole or torn, the drive opens with exactly the old or exactly
// the new state (key set, label, flags), never neither; the data segment is never touched; a
// repair interrupted by a second cut keeps that state; a key removed by an update that
// returned never opens again. And bad input is refused without writing a byte.
#include <fcntl.h>
#include <gtest/gtest.h>

#include "luks2/image.h"
#include <libcryptsetup.h>
#include <malloc.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <iterator>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "luks2ext/header_backup.h"
#include "luks2ext/volume.h"
#include "support/volume_fixture.h"
#include "testing/memory_device.h"

namespace luks2ext {
namespace {

using testing::CheckPassphrase;
using testing::Config;
using testing::DescribeOps;
using testing::ExpectMetadataOps;
using testing::FastOptions;
using testing::FormatNew;
using testing::HasAll;
using testing::HasAny;
using testing::HostManaged;
using testing::HostManagedConventional;
using testing::kInlineFlags;
using testing::kPassphrase;
using testing::MirrorIntoStandIn;
using testing::NotZoned;
using testing::Op;
using testing::ZnsLike;

// kPassphrase (slot 0 after format) is "A" below.
constexpr char kSecond[] = "second passphrase of the update test";  // "B"
constexpr char kThird[] = "third passphrase of the update test";    // "C"
constexpr char kWrong[] = "not a passphrase of this volume";
constexpr char kNewLabel[] = "after-update";
constexpr char kFollowUpLabel[] = "follow-up";
// What the test writes at the data offset after format: it must never change.
constexpr uint64_t kPatternBytes = 256 * KiB;

PbkdfOptions FastPbkdf() { return FastOptions().pbkdf; }

// A 1 MiB keyslots area (room for 4 keyslots of a 512-bit key; the verbs use 2) keeps a copy
// at two chunk writes plus the record, so every op of every verb can be cut on every drive,
// and a repair cut at every op after each of those cuts, in seconds.
FormatOptions CrashOptions() {
  FormatOptions options = FastOptions();
  options.layout.keyslots_size = 1 * MiB;
  return options;
}

// Every run allocates, fills and frees several MiB-sized buffers (images, memfd reads, zone
// chunks). glibc hands buffers that large out as fresh mmaps, so each run faulted every page in
// again, which dominated the test's time; keep freed memory in the heap instead.
const bool kKeepFreedMemory = [] {
  mallopt(M_MMAP_THRESHOLD, 32 * 1024 * 1024);
  mallopt(M_TRIM_THRESHOLD, 512 * 1024 * 1024);
  return true;
}();

template <typename T>
Status AsStatus(const Result<T>& result) {
  if (result.ok()) return Status::Ok();
  return result.error();
}

// Opens the drive and runs `verb` on the volume.
Status WithVolume(BlockDevice& device, const std::function<Status(Volume&)>& verb) {
  auto volume = Volume::Open(device);
  if (!volume.ok()) return volume.error();
  return verb(**volume);
}

class ScratchDir {
 public:
  ScratchDir() {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "zcryptsetup-update-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) {
      ADD_FAILURE() << "mkdtemp: " << std::strerror(errno);
      return;
    }
    path_ = pattern;
  }
  ~ScratchDir() {
    std::error_code ignored;
    if (!path_.empty()) std::filesystem::remove_all(path_, ignored);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  std::string File(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

std::vector<uint8_t> ReadWholeFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), {});
}
void WriteWholeFile(const std::string& path, const std::vector<uint8_t>& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()),
            static_cast<std::streamsize>(bytes.size()));
  ASSERT_TRUE(out.good()) << path;
}

// ---------------------------------------------------------------------------------------------
// A formatted drive with a data pattern: the start of every run

struct DriveKind {
  const char* name;
  Config config;
};

const DriveKind kDriveKinds[] = {
    {"host_managed", HostManaged(4096)},
    {"host_managed_512", HostManaged(512)},
    {"conventional_zones", HostManagedConventional()},
    {"zns_like", ZnsLike()},
    {"not_zoned", NotZoned()},
};

std::string DriveName(const ::testing::TestParamInfo<DriveKind>& info) { return info.param.name; }

struct Scene {
  std::unique_ptr<MemoryZonedDevice> device;  // every run starts from a Clone() of it
  Layout layout;
  std::string uuid;
  std::vector<std::byte> pattern;  // at layout.data_offset
  ScratchDir scratch;
  std::string backup_path;  // set by setups that take a header backup
};

std::vector<std::byte> Pattern(uint64_t length) {
  std::vector<std::byte> bytes(length);
  for (uint64_t i = 0; i < length; ++i) bytes[i] = std::byte((i * 131 + 7 + i / 4096) & 0xff);
  return bytes;
}

// Formats the drive with kPassphrase and writes the pattern into the first data zone (left
// open, as a file system would leave it). Null (and a failed test) on error.
std::unique_ptr<Scene> MakeScene(const Config& config) {
  auto f = FormatNew(config, CrashOptions());
  if (!f.device) return nullptr;
  auto scene = std::make_unique<Scene>();
  scene->device = std::move(f.device);
  scene->layout = f.layout;
  scene->uuid = f.uuid;
  scene->pattern = Pattern(kPatternBytes);
  if (Status s = scene->device->Write(scene->layout.data_offset, scene->pattern); !s.ok()) {
    ADD_FAILURE() << "data pattern: " << s.error().message();
    return nullptr;
  }
  return scene;
}

// Nothing at or past the data offset was touched: no op of the log from `first` on reaches it
// (an op that was refused or cut counts too), and the pattern reads back as written.
void ExpectDataUntouched(const MemoryZonedDevice& device, const Scene& scene, size_t first) {
  const auto& log = device.op_log();
  for (size_t i = first; i < log.size(); ++i)
    EXPECT_LE(log[i].offset + log[i].length, scene.layout.data_offset)
        << "op " << i << " reaches the data segment; " << DescribeOps(device, first);
  EXPECT_TRUE(device.Contents(scene.layout.data_offset, scene.pattern.size()) == scene.pattern)
      << "the data segment changed";
  if (scene.layout.is_zoned() && device.ZoneAt(scene.layout.data_offset).is_sequential()) {
    EXPECT_EQ(device.ZoneAt(scene.layout.data_offset).written(), scene.pattern.size());
  }
}

// ---------------------------------------------------------------------------------------------
// What a drive opens as

struct KeyCase {
  const char* passphrase;
  bool before;  // opens before the verb
  bool after;   // opens after it
  bool removed() const { return before && !after; }
};

struct Observed {
  uint64_t seqid = 0;
  size_t copies = 0;
  size_t chosen = 0;
  std::string label;
  std::vector<std::string> flags;
  std::vector<int> keyslots;
  std::string json;                      // the chosen copy's JSON area
  std::vector<std::byte> keyslots_area;  // the chosen copy's used keyslot areas, as on the drive
  std::vector<bool> opens;               // per KeyCase; empty when not unlocked
  std::vector<std::string> warnings;
};

std::string Describe(const Observed& o) {
  std::string s = "seqid " + std::to_string(o.seqid) + " (copy " + std::to_string(o.chosen) +
                  ") label '" + o.label + "' flags " + ::testing::PrintToString(o.flags) +
                  " keyslots " + ::testing::PrintToString(o.keyslots) + " opens [";
  for (bool b : o.opens) s += b ? " yes" : " no";
  return s + " ]";
}

// The metadata a state is told by: the chosen copy's seqid, label, flags and keyslots.
bool SameMetadata(const Observed& a, const Observed& b) {
  return a.seqid == b.seqid && a.label == b.label && a.flags == b.flags && a.keyslots == b.keyslots;
}
// The same header and the same keyslot bytes: exactly the same passphrases open it (an
// unlock reads nothing else), so this stands in for unlocking where a test cuts hundreds of
// times (each unlock costs libcryptsetup's anti-forensic merge, about 10 ms).
bool SameBytes(const Observed& a, const Observed& b) {
  return SameMetadata(a, b) && a.json == b.json && a.keyslots_area == b.keyslots_area;
}

enum class Unlock { kEveryKey, kNone };

// Opens the drive (which must succeed) and, with kEveryKey, checks every passphrase with
// Activate(empty name).
std::optional<Observed> Observe(MemoryZonedDevice& device, const Layout& layout,
                                const std::vector<KeyCase>& keys,
                                Unlock unlock = Unlock::kEveryKey) {
  auto volume = Volume::Open(device);
  if (!volume.ok()) {
    ADD_FAILURE() << "Volume::Open: " << volume.error().message();
    return std::nullopt;
  }
  Observed o;
  o.copies = (*volume)->copies().size();
  for (size_t i = 0; i < (*volume)->copies().size(); ++i)
    if ((*volume)->copies()[i].chosen) {
      o.chosen = i;
      o.seqid = (*volume)->copies()[i].seqid;
    }
  o.label = (*volume)->label();
  o.flags = (*volume)->config_flags();
  std::sort(o.flags.begin(), o.flags.end());
  o.keyslots = (*volume)->active_keyslots();
  o.json = (*volume)->json_text(false);
  o.warnings = (*volume)->warnings();
  const uint64_t copy = (*volume)->copies()[o.chosen].offset;
  const Layout& chosen = (*volume)->layout();
  // The key material the chosen header uses: its keyslot areas, in keyslot order. Bytes of the
  // keyslots area no keyslot refers to (a dropped keyslot not yet wiped) are not state.
  {
    const std::vector<std::byte> raw = device.Contents(copy, 2 * chosen.header_size);
    std::vector<uint8_t> leading(raw.size());
    for (size_t i = 0; i < raw.size(); ++i) leading[i] = static_cast<uint8_t>(raw[i]);
    auto headers = Luks2Image::ParseHeaders(leading);
    if (!headers.ok()) {
      ADD_FAILURE() << "the chosen copy's headers: " << headers.error().message();
      return std::nullopt;
    }
    for (const KeyslotArea& area : headers->keyslot_areas()) {
      const std::vector<std::byte> bytes = device.Contents(copy + area.offset, area.size);
      o.keyslots_area.insert(o.keyslots_area.end(), bytes.begin(), bytes.end());
    }
  }
  if (unlock == Unlock::kNone) return o;
  // On an ordinary disk libcryptsetup unlocks from device.path(), the emulator's stand-in.
  if (layout.placement == Placement::kStandard) MirrorIntoStandIn(device, layout.data_offset);
  for (const KeyCase& key : keys) {
    const Status s = CheckPassphrase(**volume, key.passphrase);
    if (!s.ok() && s.error().code() != ExitCode::kNoPermission)
      ADD_FAILURE() << "checking '" << key.passphrase << "': " << s.error().message();
    o.opens.push_back(s.ok());
  }
  return o;
}

std::vector<bool> Expected(const std::vector<KeyCase>& keys, bool after) {
  std::vector<bool> v;
  for (const KeyCase& key : keys) v.push_back(after ? key.after : key.before);
  return v;
}

// ---------------------------------------------------------------------------------------------
// Where to cut

struct Cut {
  uint64_t op;
  uint64_t torn_blocks;
};

// Every op from `first` on with nothing of it persisted; and every write again with its first
// block persisted, and with all but its last block persisted (each distinct prefix once).
std::vector<Cut> CutsFor(const MemoryZonedDevice& dry, size_t first, bool torn) {
  const uint32_t block = dry.geometry().logical_block_size;
  const auto& log = dry.op_log();
  std::vector<Cut> cuts;
  for (size_t i = first; i < log.size(); ++i) cuts.push_back({i, 0});
  if (!torn) return cuts;
  for (size_t i = first; i < log.size(); ++i) {
    if (log[i].kind != Op::Kind::kWrite) continue;
    const uint64_t blocks = log[i].length / block;
    cuts.push_back({i, 1});
    if (blocks >= 3) cuts.push_back({i, blocks - 1});
  }
  return cuts;
}

std::string CutName(const Cut& cut, size_t first) {
  return "power cut at op " + std::to_string(cut.op) + " (op " + std::to_string(cut.op - first) +
         " of the update), " + std::to_string(cut.torn_blocks) + " block(s) of it persisted";
}

// The cut run reached the op the dry run had there, doing the same thing.
void ExpectSameOp(const MemoryZonedDevice& run, const MemoryZonedDevice& dry, uint64_t op) {
  ASSERT_GT(run.op_log().size(), op) << "the run never reached the op to cut";
  const Op& a = run.op_log()[op];
  const Op& b = dry.op_log()[op];
  EXPECT_TRUE(a.kind == b.kind && a.offset == b.offset && a.length == b.length)
      << "the cut run diverged from the dry run at op " << op;
}

// ---------------------------------------------------------------------------------------------
// The verbs

struct Verb {
  const char* name;
  // From the freshly formatted drive (kPassphrase in keyslot 0) to the verb's starting state.
  std::function<Status(Scene&)> setup;
  std::function<Status(const Scene&, MemoryZonedDevice&)> run;
  std::vector<KeyCase> keys;
  // A key the verb removes may already fail while the old header is still the newest. Only on
  // an ordinary disk, whose single copy is rewritten in place keyslots area first (as
  // cryptsetup does it); with two copies the old state is a complete old copy.
  // Checks the dry run's before and after states beyond the key set.
  std::function<void(const Observed& before, const Observed& after)> expect;
  bool protocol_order = true;  // its ops follow ExpectMetadataOps (every copy rewritten)
};

Status AddSecondKey(Scene& scene) {
  return WithVolume(*scene.device, [](Volume& v) {
    auto slot = v.AddKey(Secret(kPassphrase), Secret(kSecond), -1, FastPbkdf());
    if (slot.ok() && *slot != 1) return Status(Error::WrongParameters("B not in keyslot 1"));
    return AsStatus(slot);
  });
}

Verb AddKeyVerb() {
  Verb verb;
  verb.name = "AddKey";
  verb.run = [](const Scene&, MemoryZonedDevice& d) {
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
  verb.run = [](const Scene&, MemoryZonedDevice& d) {
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

Verb RemoveKeyVerb() {
  Verb verb;
  verb.name = "RemoveKey";
  verb.setup = AddSecondKey;
  verb.run = [](const Scene&, MemoryZonedDevice& d) {
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
  verb.run = [](const Scene&, MemoryZonedDevice& d) {
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
  verb.run = [](const Scene&, MemoryZonedDevice& d) {
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

Verb FlagsOnVerb() {
  Verb verb;
  verb.name = "SetPersistentFlagsOn";
  verb.run = [](const Scene&, MemoryZonedDevice& d) {
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
  verb.run = [](const Scene&, MemoryZonedDevice& d) {
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
  verb.run = [](const Scene& scene, MemoryZonedDevice& d) -> Status {
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

// Home torn: on a sequential zone 0 reset and only its first 4 KiB rewritten; in conventional
// zones everything of home past its first 4 KiB zeroed. An ordinary disk has no second copy,
// so there the primary header's JSON area is lost and the secondary header is what is left.
Verb RepairVerb() {
  Verb verb;
  verb.name = "Repair";
  verb.setup = [](Scene& scene) -> Status {
    MemoryZonedDevice& d = *scene.device;
    const Layout& l = scene.layout;
    const std::vector<std::byte> first_block = d.Contents(0, 4096);
    if (l.placement == Placement::kSequentialZones) {
      RETURN_IF_ERROR(d.ResetZone(0));
      return d.Write(0, first_block);
    }
    const uint64_t end =
        l.placement == Placement::kStandard ? l.header_size : l.image_size() + kCommitRecordSize;
    return d.Write(4096, std::vector<std::byte>(end - 4096));
  };
  verb.run = [](const Scene&, MemoryZonedDevice& d) {
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

struct Totals {
  uint64_t points = 0;
  uint64_t repair_points = 0;
  uint64_t follow_up_points = 0;
  uint64_t runs = 0;
};

Totals totals;

// The grand total, once every test has run.
class PrintTotals : public ::testing::Environment {
 public:
  void TearDown() override {
    if (totals.runs == 0) return;
    std::cout << "[ crash    ] total: " << totals.points << " points in " << totals.runs
              << " verb/drive runs (+ " << totals.repair_points << " repair-crash points, "
              << totals.follow_up_points << " follow-up points; "
              << totals.points + totals.repair_points + totals.follow_up_points << " in all)\n";
  }
};
[[maybe_unused]] ::testing::Environment* const kPrintTotals =
    ::testing::AddGlobalTestEnvironment(new PrintTotals);

class UpdateCrashTest : public ::testing::TestWithParam<DriveKind> {
 protected:
  void RunCrashMatrix(const Verb& verb);
};

// The crashed drive, repaired: it opens in `state`, with no warning left. With `cut_repair`,
// also repaired again from the crashed state with a power cut at each of the repair's ops: it
// still opens in `state`. Returns how many cuts were made.
uint64_t RepairUnderPowerCuts(const MemoryZonedDevice& crashed, const Scene& scene,
                              const Observed& state, const std::vector<KeyCase>& keys,
                              bool cut_repair) {
  const uint64_t first = crashed.mutating_ops();
  auto dry = crashed.Clone();
  {
    SCOPED_TRACE("uncut repair after the crash");
    const Status s = WithVolume(*dry, [](Volume& v) { return AsStatus(v.Repair()); });
    EXPECT_TRUE(s.ok()) << s.error().message();
    ExpectDataUntouched(*dry, scene, first);
    auto repaired = Observe(*dry, scene.layout, keys, Unlock::kNone);
    if (!repaired) return 0;
    EXPECT_TRUE(SameBytes(*repaired, state))
        << "before repair: " << Describe(state) << "\nafter: " << Describe(*repaired);
    EXPECT_TRUE(repaired->warnings.empty()) << repaired->warnings.front();
  }
  if (!cut_repair) return 0;
  const std::vector<Cut> cuts = CutsFor(*dry, first, /*torn=*/false);
  for (const Cut& cut : cuts) {
    SCOPED_TRACE("repair: " + CutName(cut, first));
    auto device = crashed.Clone();
    device->CutPowerAt(cut.op, cut.torn_blocks);
    const Status s = WithVolume(*device, [](Volume& v) { return AsStatus(v.Repair()); });
    EXPECT_FALSE(s.ok()) << "the repair survived a power cut at one of its own ops";
    ExpectSameOp(*device, *dry, cut.op);
    device->PowerOn();
    ExpectDataUntouched(*device, scene, first);
    auto now = Observe(*device, scene.layout, keys, Unlock::kNone);
    if (!now) continue;
    EXPECT_TRUE(SameBytes(*now, state))
        << "before repair: " << Describe(state) << "\nafter: " << Describe(*now);
  }
  return cuts.size();
}

// After the verb returned, a following SetLabel is cut at every op: the keys the verb removed
// stay dead, the others open. Returns how many cuts were made.
uint64_t FollowUpUnderPowerCuts(const Scene& scene, const Verb& verb, const Observed& after) {
  auto done = scene.device->Clone();
  {
    const Status status = verb.run(scene, *done);
    EXPECT_TRUE(status.ok()) << status.error().message();
  }
  const uint64_t first = done->mutating_ops();
  auto dry = done->Clone();
  const Status s =
      WithVolume(*dry, [](Volume& v) { return v.SetLabel(kFollowUpLabel, std::nullopt); });
  EXPECT_TRUE(s.ok()) << s.error().message();
  const std::vector<Cut> cuts = CutsFor(*dry, first, /*torn=*/false);
  for (const Cut& cut : cuts) {
    SCOPED_TRACE("follow-up SetLabel: " + CutName(cut, first));
    auto device = done->Clone();
    device->CutPowerAt(cut.op, cut.torn_blocks);
    const Status cut_status =
        WithVolume(*device, [](Volume& v) { return v.SetLabel(kFollowUpLabel, std::nullopt); });
    EXPECT_FALSE(cut_status.ok());
    ExpectSameOp(*device, *dry, cut.op);
    device->PowerOn();
    auto now = Observe(*device, scene.layout, verb.keys);
    if (!now) continue;
    EXPECT_EQ(now->opens, Expected(verb.keys, /*after=*/true)) << Describe(*now);
    for (size_t k = 0; k < verb.keys.size(); ++k) {
      if (verb.keys[k].removed()) {
        EXPECT_FALSE(now->opens[k])
            << "removed key '" << verb.keys[k].passphrase << "' opens again; " << Describe(*now);
      }
    }
    EXPECT_TRUE(now->label == after.label || now->label == kFollowUpLabel) << Describe(*now);
    EXPECT_EQ(now->keyslots, after.keyslots);
  }
  return cuts.size();
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
  const uint64_t first = base.mutating_ops();

  auto before = Observe(base, scene->layout, verb.keys);
  ASSERT_TRUE(before.has_value());
  ASSERT_EQ(before->opens, Expected(verb.keys, false)) << Describe(*before);

  // The uncut run: how many ops, and the new state.
  auto dry = base.Clone();
  {
    const Status s = verb.run(*scene, *dry);
    ASSERT_TRUE(s.ok()) << s.error().message();
  }
  const uint64_t ops = dry->mutating_ops() - first;
  ASSERT_GT(ops, 0u);
  if (verb.protocol_order) ExpectMetadataOps(*dry, scene->layout, first);
  ExpectDataUntouched(*dry, *scene, first);
  auto after = Observe(*dry, scene->layout, verb.keys);
  ASSERT_TRUE(after.has_value());
  ASSERT_EQ(after->opens, Expected(verb.keys, true)) << Describe(*after);
  EXPECT_TRUE(after->warnings.empty()) << after->warnings.front();
  verb.expect(*before, *after);
  if (verb.protocol_order) {
    ASSERT_FALSE(SameMetadata(*before, *after)) << "the verb changed nothing";
  }

  const std::vector<Cut> cuts = CutsFor(*dry, first, /*torn=*/true);
  uint64_t torn_variants = 0;
  for (uint64_t i = first; i < dry->mutating_ops(); ++i) {
    const Op& op = dry->op_log()[i];
    if (op.kind != Op::Kind::kWrite) continue;
    const uint64_t blocks = op.length / dry->geometry().logical_block_size;
    torn_variants += blocks >= 3 ? 2 : 1;
  }

  uint64_t points = 0, repair_points = 0, old_states = 0, new_states = 0;
  for (const Cut& cut : cuts) {
    SCOPED_TRACE(std::string(verb.name) + " on " + drive.name + ": " + CutName(cut, first));
    auto device = base.Clone();
    device->CutPowerAt(cut.op, cut.torn_blocks);
    const Status s = verb.run(*scene, *device);
    EXPECT_FALSE(s.ok()) << "the verb survived a power cut at one of its own ops";
    EXPECT_FALSE(device->powered()) << "the cut never fired";
    ExpectSameOp(*device, *dry, cut.op);
    device->PowerOn();
    ExpectDataUntouched(*device, *scene, first);

    auto now = Observe(*device, scene->layout, verb.keys);
    if (!now) continue;
    const bool is_old = SameMetadata(*now, *before) && now->json == before->json;
    const bool is_new = SameMetadata(*now, *after);
    EXPECT_TRUE(is_old || is_new) << "neither the old nor the new header: " << Describe(*now)
                                  << "\nold: " << Describe(*before)
                                  << "\nnew: " << Describe(*after);
    old_states += is_old;
    new_states += is_new && !is_old;
    EXPECT_TRUE(std::find(now->opens.begin(), now->opens.end(), true) != now->opens.end())
        << "no passphrase opens the volume: " << Describe(*now);
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
    repair_points += RepairUnderPowerCuts(*device, *scene, *now, verb.keys, cut.torn_blocks == 0);
    ++points;
  }

  uint64_t follow_up_points = 0;
  if (std::any_of(verb.keys.begin(), verb.keys.end(), [](const KeyCase& k) { return k.removed(); }))
    follow_up_points = FollowUpUnderPowerCuts(*scene, verb, *after);

  std::cout << "[ crash    ] " << verb.name << " " << drive.name << ": " << points << " points ("
            << ops << " ops); " << old_states << " old, " << new_states << " new";
  std::cout << "; repair cut after each whole-op cut: " << repair_points << " points";
  if (follow_up_points) std::cout << "; follow-up SetLabel: " << follow_up_points << " points";
  std::cout << "\n";
  EXPECT_EQ(points, ops + torn_variants) << "not every op of " << verb.name << " was cut";
  EXPECT_EQ(cuts.size(), ops + torn_variants);
  if (verb.protocol_order) {
    EXPECT_GT(old_states, 0u);
    EXPECT_GT(new_states, 0u);
  }
  totals.points += points;
  totals.repair_points += repair_points;
  totals.follow_up_points += follow_up_points;
  ++totals.runs;
}

TEST_P(UpdateCrashTest, AddKey) { RunCrashMatrix(AddKeyVerb()); }
TEST_P(UpdateCrashTest, RemoveKey) { RunCrashMatrix(RemoveKeyVerb()); }
TEST_P(UpdateCrashTest, KillSlot) { RunCrashMatrix(KillSlotVerb()); }
TEST_P(UpdateCrashTest, SetLabel) { RunCrashMatrix(SetLabelVerb()); }
TEST_P(UpdateCrashTest, SetPersistentFlagsOn) { RunCrashMatrix(FlagsOnVerb()); }
TEST_P(UpdateCrashTest, SetPersistentFlagsOff) { RunCrashMatrix(FlagsOffVerb()); }
TEST_P(UpdateCrashTest, RestoreHeader) { RunCrashMatrix(RestoreHeaderVerb()); }
TEST_P(UpdateCrashTest, Repair) { RunCrashMatrix(RepairVerb()); }

INSTANTIATE_TEST_SUITE_P(Drives, UpdateCrashTest, ::testing::ValuesIn(kDriveKinds), DriveName);

class ChangeKeyCrashTest : public UpdateCrashTest {};
TEST_P(ChangeKeyCrashTest, ChangeKey) { RunCrashMatrix(ChangeKeyVerb()); }
INSTANTIATE_TEST_SUITE_P(Drives, ChangeKeyCrashTest, ::testing::ValuesIn(kDriveKinds), DriveName);

// ---------------------------------------------------------------------------------------------
// Bad input: refused, and not a byte written

// What the metadata zones hold: the bytes of every copy (home, journal), each metadata zone's
// condition and write pointer (reads past it return zeros), and the emulator's allocated
// storage (a write anywhere else would allocate); on an ordinary disk, everything before the
// data. With an unchanged op log nothing can differ; this checks it anyway.
struct MetadataSnapshot {
  std::vector<std::byte> bytes;
  std::vector<std::pair<ZoneCondition, uint64_t>> zones;
  uint64_t allocated = 0;
  uint64_t ops = 0;
};

MetadataSnapshot Snapshot(const MemoryZonedDevice& device, const Layout& layout) {
  MetadataSnapshot s;
  if (!layout.is_zoned()) {
    s.bytes = device.Contents(0, layout.data_offset);
  } else {
    const uint64_t copy = layout.image_size() + kCommitRecordSize;
    s.bytes = device.Contents(layout.home_offset, copy);
    if (layout.journal_offset) {
      const std::vector<std::byte> journal = device.Contents(*layout.journal_offset, copy);
      s.bytes.insert(s.bytes.end(), journal.begin(), journal.end());
    }
    for (uint64_t offset = 0; offset < layout.data_offset; offset += layout.zone_size)
      s.zones.emplace_back(device.ZoneAt(offset).condition, device.ZoneAt(offset).written());
  }
  s.allocated = device.allocated_bytes();
  s.ops = device.mutating_ops();
  return s;
}

void ExpectUnchanged(const MemoryZonedDevice& device, const Layout& layout,
                     const MetadataSnapshot& before) {
  EXPECT_EQ(device.mutating_ops(), before.ops)
      << "refused input wrote: " << DescribeOps(device, before.ops);
  const MetadataSnapshot now = Snapshot(device, layout);
  EXPECT_TRUE(now.bytes == before.bytes) << "the metadata changed";
  EXPECT_TRUE(now.zones == before.zones) << "a metadata zone's condition or write pointer moved";
  EXPECT_EQ(now.allocated, before.allocated) << "something was stored";
}

class UpdateBadInputTest : public ::testing::TestWithParam<DriveKind> {};

TEST_P(UpdateBadInputTest, RefusedKeyChangesWriteNothing) {
  auto one_key = MakeScene(GetParam().config);
  ASSERT_NE(one_key, nullptr);
  auto two_keys = MakeScene(GetParam().config);
  ASSERT_NE(two_keys, nullptr);
  ASSERT_TRUE(AddSecondKey(*two_keys).ok());

  struct Case {
    const char* name;
    Scene* scene;
    std::function<Status(Volume&)> action;
    ExitCode code;
  };
  const Case cases[] = {
      {"AddKey, wrong passphrase", one_key.get(),
       [](Volume& v) {
         return AsStatus(v.AddKey(Secret(kWrong), Secret(kThird), -1, FastPbkdf()));
       },
       ExitCode::kNoPermission},
      {"AddKey, wrong passphrase, two keys", two_keys.get(),
       [](Volume& v) { return AsStatus(v.AddKey(Secret(kWrong), Secret(kThird), 5, FastPbkdf())); },
       ExitCode::kNoPermission},
      {"ChangeKey, wrong passphrase", two_keys.get(),
       [](Volume& v) {
         return AsStatus(v.ChangeKey(Secret(kWrong), Secret(kThird), -1, FastPbkdf()));
       },
       ExitCode::kNoPermission},
      {"RemoveKey, wrong passphrase", two_keys.get(),
       [](Volume& v) { return AsStatus(v.RemoveKey(Secret(kWrong), false)); },
       ExitCode::kNoPermission},
      {"KillSlot, wrong verifying passphrase", two_keys.get(),
       [](Volume& v) {
         const Secret verify(kWrong);
         return v.KillSlot(1, &verify, false);
       },
       ExitCode::kNoPermission},
      {"KillSlot of an inactive keyslot", two_keys.get(),
       [](Volume& v) {
         const Secret verify(kPassphrase);
         return v.KillSlot(5, &verify, false);
       },
       ExitCode::kWrongParameters},
      {"KillSlot of an inactive keyslot, unverified, allow_last", one_key.get(),
       [](Volume& v) { return v.KillSlot(1, nullptr, true); }, ExitCode::kWrongParameters},
      {"RemoveKey of the last keyslot", one_key.get(),
       [](Volume& v) { return AsStatus(v.RemoveKey(Secret(kPassphrase), false)); },
       ExitCode::kWrongParameters},
      {"KillSlot of the last keyslot", one_key.get(),
       [](Volume& v) { return v.KillSlot(0, nullptr, false); }, ExitCode::kWrongParameters},
      {"KillSlot of the last keyslot, verified", one_key.get(),
       [](Volume& v) {
         const Secret verify(kPassphrase);
         return v.KillSlot(0, &verify, false);
       },
       ExitCode::kWrongParameters},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    auto device = c.scene->device->Clone();
    const MetadataSnapshot before = Snapshot(*device, c.scene->layout);
    const Status s = WithVolume(*device, c.action);
    ASSERT_FALSE(s.ok()) << "accepted";
    EXPECT_EQ(s.error().code(), c.code) << s.error().message();
    ExpectUnchanged(*device, c.scene->layout, before);
    ExpectDataUntouched(*device, *c.scene, before.ops);
  }

  // Refused, but still usable: the right passphrases open and the volume is as it was.
  for (Scene* scene : {one_key.get(), two_keys.get()}) {
    if (scene->layout.placement == Placement::kStandard)
      MirrorIntoStandIn(*scene->device, scene->layout.data_offset);
    auto volume = testing::MustOpen(*scene->device);
    ASSERT_NE(volume, nullptr);
    EXPECT_TRUE(CheckPassphrase(*volume, kPassphrase).ok());
  }
}

// A LUKS1 header made by libcryptsetup in a file of `size` bytes (over a scratch data file).
void MakeLuks1File(const ScratchDir& scratch, const std::string& path, uint64_t size) {
  { std::ofstream create(path, std::ios::binary); }
  std::filesystem::resize_file(path, size);
  const std::string data = scratch.File("luks1-data");
  { std::ofstream create(data, std::ios::binary); }
  std::filesystem::resize_file(data, 16 * MiB);
  crypt_device* cd = nullptr;
  ASSERT_EQ(crypt_init_data_device(&cd, path.c_str(), data.c_str()), 0);
  // Before crypt_format, so the volume-key digest is not benchmarked either.
  crypt_pbkdf_type pbkdf{};
  pbkdf.type = CRYPT_KDF_PBKDF2;
  pbkdf.hash = "sha256";
  pbkdf.iterations = 1000;
  pbkdf.flags = CRYPT_PBKDF_NO_BENCHMARK;
  int r = crypt_set_pbkdf_type(cd, &pbkdf);
  crypt_params_luks1 params{};
  params.hash = "sha256";
  if (r == 0)
    r = crypt_format(cd, CRYPT_LUKS1, "aes", "xts-plain64", nullptr, nullptr, 64, &params);
  if (r == 0)
    r = crypt_keyslot_add_by_volume_key(cd, CRYPT_ANY_SLOT, nullptr, 0, kPassphrase,
                                        std::strlen(kPassphrase));
  crypt_free(cd);
  ASSERT_GE(r, 0) << "libcryptsetup could not make a LUKS1 header";
  const std::vector<uint8_t> bytes = ReadWholeFile(path);
  ASSERT_GE(bytes.size(), 8u);
  ASSERT_EQ(std::memcmp(bytes.data(), "LUKS\xba\xbe\0\1", 8), 0) << "not a LUKS1 header";
}

TEST_P(UpdateBadInputTest, RestoreHeaderRefusesBadFilesBeforeAnyReset) {
  auto scene = MakeScene(GetParam().config);
  ASSERT_NE(scene, nullptr);
  const std::string good = scene->scratch.File("good.img");
  ASSERT_TRUE(WithVolume(*scene->device, [&](Volume& v) { return v.BackupHeader(good); }).ok());
  const std::vector<uint8_t> image = ReadWholeFile(good);
  ASSERT_EQ(image.size(), scene->layout.image_size());

  std::vector<std::pair<std::string, std::string>> files;  // what, path
  {
    std::vector<uint8_t> longer = image;
    longer.resize(image.size() + 4096);
    files.emplace_back("one block too long", scene->scratch.File("longer.img"));
    WriteWholeFile(files.back().second, longer);
    std::vector<uint8_t> shorter(image.begin(), image.end() - 4096);
    files.emplace_back("one block too short", scene->scratch.File("shorter.img"));
    WriteWholeFile(files.back().second, shorter);
    files.emplace_back("empty", scene->scratch.File("empty.img"));
    WriteWholeFile(files.back().second, {});
    std::vector<uint8_t> not_luks(image.size());
    for (size_t i = 0; i < not_luks.size(); ++i) not_luks[i] = static_cast<uint8_t>(i * 7 + 1);
    files.emplace_back("not LUKS, the right size", scene->scratch.File("not-luks.img"));
    WriteWholeFile(files.back().second, not_luks);
    std::vector<uint8_t> zeros(image.size());
    files.emplace_back("zeros, the right size", scene->scratch.File("zeros.img"));
    WriteWholeFile(files.back().second, zeros);
    files.emplace_back("LUKS1, the right size", scene->scratch.File("luks1.img"));
    ASSERT_NO_FATAL_FAILURE(MakeLuks1File(scene->scratch, files.back().second, image.size()));
    files.emplace_back("missing", scene->scratch.File("missing.img"));
  }
  for (const auto& [what, path] : files) {
    SCOPED_TRACE(what);
    auto device = scene->device->Clone();
    const MetadataSnapshot before = Snapshot(*device, scene->layout);
    auto uuid = RestoreHeader(*device, path);
    ASSERT_FALSE(uuid.ok()) << "restored " << what;
    EXPECT_NE(uuid.error().message(), "");
    ExpectUnchanged(*device, scene->layout, before);
    ExpectDataUntouched(*device, *scene, before.ops);
    auto backup_uuid = BackupUuid(*device, path);
    EXPECT_FALSE(backup_uuid.ok()) << "BackupUuid accepted " << what;
  }
  // The good backup is accepted by the same checks.
  auto uuid = BackupUuid(*scene->device, good);
  ASSERT_TRUE(uuid.ok()) << uuid.error().message();
  EXPECT_EQ(*uuid, scene->uuid);
}

TEST_P(UpdateBadInputTest, BackupHeaderToAnExistingFileIsBusy) {
  auto scene = MakeScene(GetParam().config);
  ASSERT_NE(scene, nullptr);
  const std::string path = scene->scratch.File("existing");
  const std::vector<uint8_t> contents = {'k', 'e', 'e', 'p'};
  WriteWholeFile(path, contents);
  const MetadataSnapshot before = Snapshot(*scene->device, scene->layout);
  const Status s = WithVolume(*scene->device, [&](Volume& v) { return v.BackupHeader(path); });
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code(), ExitCode::kDeviceBusy) << s.error().message();
  EXPECT_EQ(ReadWholeFile(path), contents) << "the existing file was overwritten";
  ExpectUnchanged(*scene->device, scene->layout, before);
}

INSTANTIATE_TEST_SUITE_P(Drives, UpdateBadInputTest, ::testing::ValuesIn(kDriveKinds), DriveName);

}  // namespace
}  // namespace luks2ext
