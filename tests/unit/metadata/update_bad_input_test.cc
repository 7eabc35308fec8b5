// Bad input to the update verbs on every kind of drive: refused with the right exit code, and
// not a byte written (the metadata zones, their write pointers and the data segment are as
// they were); the volume still opens afterwards.
#include <gtest/gtest.h>
#include <libcryptsetup.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "luks2/format.h"
#include "luks2ext/header_backup.h"
#include "luks2ext/volume.h"
#include "support/crash_harness.h"
#include "support/update_scene.h"
#include "support/volume_fixture.h"
#include "testing/memory_device.h"

namespace luks2ext {
namespace {

using testing::AddSecondKey;
using testing::AsStatus;
using testing::CheckPassphrase;
using testing::DescribeOps;
using testing::DriveKind;
using testing::DriveKindName;
using testing::DriveKinds;
using testing::ExpectDataUntouched;
using testing::FastPbkdf;
using testing::kPassphrase;
using testing::kThird;
using testing::kWrong;
using testing::MakeScene;
using testing::MirrorIntoStandIn;
using testing::ReadWholeFile;
using testing::Scene;
using testing::ScratchDir;
using testing::WithVolume;
using testing::WriteWholeFile;

// What the metadata zones hold: the bytes of every copy (home, journal), each metadata zone's
// condition and write pointer (reads past it return zeros), and the emulator's allocated
// storage (a write anywhere else would allocate); on an ordinary disk, everything before the
// data. With an unchanged op log nothing can differ; this checks it anyway.
struct MetadataSnapshot {
  std::vector<std::uint8_t> bytes;
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
      const std::vector<std::uint8_t> journal = device.Contents(*layout.journal_offset, copy);
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
      {"ConvertKey, wrong passphrase", two_keys.get(),
       [](Volume& v) { return AsStatus(v.ConvertKey(Secret(kWrong), -1, FastPbkdf())); },
       ExitCode::kNoPermission},
      {"ConvertKey of an inactive keyslot", two_keys.get(),
       [](Volume& v) { return AsStatus(v.ConvertKey(Secret(kPassphrase), 7, FastPbkdf())); },
       ExitCode::kWrongParameters},
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

// luksUUID --uuid: a malformed UUID is refused before the drive is read for the change; the
// volume's own UUID again is no change, and writes nothing either.
TEST_P(UpdateBadInputTest, SetUuidRefusesMalformedUuidsAndWritesNothingForTheSameOne) {
  auto scene = MakeScene(GetParam().config);
  ASSERT_NE(scene, nullptr);
  const char* malformed[] = {
      "",
      "not-a-uuid",
      "0badc0de-1234-4abc-8def-00112233aab",    // one digit short
      "0badc0de-1234-4abc-8def-00112233aabbc",  // one too many
      "0badc0de11234-4abc-8def-00112233aabb",   // a digit where a hyphen goes
      "0badc0de-1234-4abc-8def-00112233aabg",   // not hexadecimal
      "0badc0de-1234-4abc-8def-00112233aa\nb",  // a control character
  };
  for (const char* uuid : malformed) {
    SCOPED_TRACE(std::string("UUID '") + uuid + "'");
    auto device = scene->device->Clone();
    const MetadataSnapshot before = Snapshot(*device, scene->layout);
    const Status s = WithVolume(*device, [&](Volume& v) { return v.SetUuid(uuid); });
    ASSERT_FALSE(s.ok()) << "accepted";
    EXPECT_EQ(s.error().code(), ExitCode::kWrongParameters) << s.error().message();
    ExpectUnchanged(*device, scene->layout, before);
  }
  std::string own_uuid;
  ASSERT_TRUE(WithVolume(*scene->device, [&](Volume& v) {
                own_uuid = v.uuid();
                return Status::Ok();
              }).ok());
  auto device = scene->device->Clone();
  const MetadataSnapshot before = Snapshot(*device, scene->layout);
  const Status same = WithVolume(*device, [&](Volume& v) { return v.SetUuid(own_uuid); });
  ASSERT_TRUE(same.ok()) << same.error().message();
  ExpectUnchanged(*device, scene->layout, before);
}

// config --priority: an inactive keyslot is refused and writes nothing; the priority a
// keyslot already has is no change and writes nothing either.
TEST_P(UpdateBadInputTest, SetKeyslotPriorityRefusesAnInactiveKeyslotAndWritesNothingForNoChange) {
  auto scene = MakeScene(GetParam().config);
  ASSERT_NE(scene, nullptr);
  for (const int keyslot : {7, 31, 32, -1}) {
    SCOPED_TRACE("keyslot " + std::to_string(keyslot));
    auto device = scene->device->Clone();
    const MetadataSnapshot before = Snapshot(*device, scene->layout);
    const Status s = WithVolume(*device, [&](Volume& v) {
      return v.SetKeyslotPriority(keyslot, Volume::KeyslotPriority::kPrefer);
    });
    ASSERT_FALSE(s.ok()) << "accepted";
    EXPECT_EQ(s.error().code(), ExitCode::kWrongParameters) << s.error().message();
    ExpectUnchanged(*device, scene->layout, before);
  }
  auto device = scene->device->Clone();
  const MetadataSnapshot before = Snapshot(*device, scene->layout);
  const Status same = WithVolume(*device, [&](Volume& v) {
    return v.SetKeyslotPriority(0, Volume::KeyslotPriority::kNormal);
  });
  ASSERT_TRUE(same.ok()) << same.error().message();
  ExpectUnchanged(*device, scene->layout, before);
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

INSTANTIATE_TEST_SUITE_P(Drives, UpdateBadInputTest, ::testing::ValuesIn(DriveKinds()),
                         DriveKindName);

}  // namespace
}  // namespace luks2ext
