// Tokens (volume_tokens.cc) on every kind of drive, zoned and not: import, export, replace,
// keyring add and remove, each checked by what Volume reads back and by stock libcryptsetup
// loading the header the drive holds; refused input writes nothing; a power cut at any op of
// a token import leaves the old or the new token set, complete, never a token without its
// keyslot, before and after repair.
#include <gtest/gtest.h>
#include <libcryptsetup.h>

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "luks2/format.h"
#include "luks2ext/volume.h"
#include "support/crash_harness.h"
#include "support/update_scene.h"
#include "support/volume_fixture.h"
#include "testing/memory_device.h"

namespace luks2ext {
namespace {

using testing::AsStatus;
using testing::DriveKind;
using testing::DriveKindName;
using testing::DriveKinds;
using testing::DryRun;
using testing::MakeScene;
using testing::Scene;
using testing::ScratchDir;
using testing::WithVolume;

constexpr char kTokenJson[] = R"({"type":"zc-test","keyslots":["0"],"note":"a/b"})";
constexpr char kOtherJson[] = R"({"type":"zc-other","keyslots":[]})";

std::vector<TokenSummary> TokensOf(BlockDevice& device) {
  auto volume = Volume::Open(device);
  EXPECT_TRUE(volume.ok()) << volume.error().message();
  if (!volume.ok()) return {};
  return (*volume)->tokens();
}

Result<std::string> Export(BlockDevice& device, int token) {
  ASSIGN_OR_RETURN(auto volume, Volume::Open(device));
  return volume->ExportToken(token);
}

// What stock libcryptsetup reads as token `token` from the header the drive holds (its newest
// complete copy, backed up to a file that libcryptsetup loads on its own): nullopt when the
// token is not there. Fails the test when libcryptsetup does not load the header.
std::optional<std::string> StockTokenJson(BlockDevice& device, int token) {
  ScratchDir scratch;
  const std::string path = scratch.File("header.img");
  const Status backed_up = WithVolume(device, [&](Volume& v) { return v.BackupHeader(path); });
  EXPECT_TRUE(backed_up.ok()) << backed_up.error().message();
  crypt_device* cd = nullptr;
  if (crypt_init(&cd, path.c_str()) < 0) {
    ADD_FAILURE() << "crypt_init";
    return std::nullopt;
  }
  std::optional<std::string> json;
  const char* text = nullptr;
  if (crypt_load(cd, CRYPT_LUKS2, nullptr) < 0)
    ADD_FAILURE() << "libcryptsetup does not load the header";
  else if (crypt_token_json_get(cd, token, &text) >= 0 && text)
    json = text;
  crypt_free(cd);
  return json;
}

bool SameTokens(const std::vector<TokenSummary>& a, const std::vector<TokenSummary>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (a[i].id != b[i].id || a[i].type != b[i].type || a[i].keyslots != b[i].keyslots)
      return false;
  return true;
}

std::string Describe(const std::vector<TokenSummary>& tokens) {
  std::string text = "[";
  for (const TokenSummary& t : tokens)
    text += " " + std::to_string(t.id) + ":" + t.type + ::testing::PrintToString(t.keyslots);
  return text + " ]";
}

// The bytes of every metadata copy (home, journal, their records) and the op count.
struct Snapshot {
  std::vector<std::uint8_t> bytes;
  uint64_t ops = 0;
};

Snapshot Take(const MemoryZonedDevice& device, const Layout& layout) {
  Snapshot s;
  const uint64_t copy = layout.image_size() + kCommitRecordSize;
  s.bytes = device.Contents(layout.home_offset, copy);
  if (layout.journal_offset) {
    const auto journal = device.Contents(*layout.journal_offset, copy);
    s.bytes.insert(s.bytes.end(), journal.begin(), journal.end());
  }
  s.ops = device.mutating_ops();
  return s;
}

class VolumeTokensTest : public ::testing::TestWithParam<DriveKind> {};

TEST_P(VolumeTokensTest, ImportExportReplaceAddRemove) {
  auto scene = MakeScene(GetParam().config);
  ASSERT_NE(scene, nullptr);
  MemoryZonedDevice& d = *scene->device;
  EXPECT_TRUE(TokensOf(d).empty());

  auto imported = WithVolume(d, [](Volume& v) {
    auto id = v.ImportToken(kTokenJson, -1, -1, false);
    if (id.ok() && *id != 0) return Status(Error::WrongParameters("not token 0"));
    return AsStatus(id);
  });
  ASSERT_TRUE(imported.ok()) << imported.error().message();
  EXPECT_TRUE(SameTokens(TokensOf(d), {{0, "zc-test", {0}}})) << Describe(TokensOf(d));
  auto exported = Export(d, 0);
  ASSERT_TRUE(exported.ok()) << exported.error().message();
  EXPECT_EQ(*exported, kTokenJson);
  EXPECT_EQ(StockTokenJson(d, 0), std::optional<std::string>(kTokenJson));

  // Replaced, and assigned to keyslot 0 by --key-slot in the same update.
  ASSERT_TRUE(WithVolume(d, [](Volume& v) {
                return AsStatus(v.ImportToken(kOtherJson, 0, 0, /*replace=*/true));
              }).ok());
  EXPECT_TRUE(SameTokens(TokensOf(d), {{0, "zc-other", {0}}})) << Describe(TokensOf(d));
  EXPECT_EQ(StockTokenJson(d, 0),
            std::optional<std::string>(R"({"type":"zc-other","keyslots":["0"]})"));

  // The builtin keyring token, to every active keyslot by default.
  auto added = WithVolume(d, [](Volume& v) {
    auto id = v.AddKeyringToken("zc:test-key", -1, -1, false);
    if (id.ok() && *id != 1) return Status(Error::WrongParameters("not token 1"));
    return AsStatus(id);
  });
  ASSERT_TRUE(added.ok()) << added.error().message();
  EXPECT_TRUE(SameTokens(TokensOf(d), {{0, "zc-other", {0}}, {1, "luks2-keyring", {0}}}))
      << Describe(TokensOf(d));
  EXPECT_EQ(StockTokenJson(d, 1),
            std::optional<std::string>(
                R"({"type":"luks2-keyring","keyslots":["0"],"key_description":"zc:test-key"})"));

  ASSERT_TRUE(WithVolume(d, [](Volume& v) { return v.RemoveToken(0); }).ok());
  EXPECT_TRUE(SameTokens(TokensOf(d), {{1, "luks2-keyring", {0}}})) << Describe(TokensOf(d));
  EXPECT_FALSE(StockTokenJson(d, 0).has_value());
  auto gone = Export(d, 0);
  ASSERT_FALSE(gone.ok());
  EXPECT_EQ(gone.error().code(), ExitCode::kWrongParameters) << gone.error().message();

  // The volume still opens with its passphrase.
  if (scene->layout.placement == Placement::kStandard)
    testing::MirrorIntoStandIn(d, scene->layout.data_offset);
  auto volume = testing::MustOpen(d);
  ASSERT_NE(volume, nullptr);
  EXPECT_TRUE(testing::CheckPassphrase(*volume, testing::kPassphrase).ok());
}

TEST_P(VolumeTokensTest, RefusedInputWritesNothing) {
  auto scene = MakeScene(GetParam().config);
  ASSERT_NE(scene, nullptr);
  ASSERT_TRUE(WithVolume(*scene->device, [](Volume& v) {
                return AsStatus(v.ImportToken(kTokenJson, 0, -1, false));
              }).ok());
  const std::string huge =
      R"({"type":"zc-big","keyslots":[],"pad":")" + std::string(kMaxTokenJsonBytes, 'x') + "\"}";
  // Fits the 4 MiB bound, not this volume's 16 KiB JSON area: libcryptsetup refuses it.
  const std::string large =
      R"({"type":"zc-big","keyslots":[],"pad":")" + std::string(64 * 1024, 'x') + "\"}";
  using Import = std::pair<const char*, std::string>;
  struct Case {
    std::string name;
    std::function<Status(Volume&)> action;
  };
  std::vector<Case> cases;
  for (const auto& [name, json] :
       {Import{"not JSON", "{type"}, Import{"an array", R"(["type"])"},
        Import{"trailing bytes", std::string(kOtherJson) + "x"},
        Import{"no type", R"({"keyslots":[]})"},
        Import{"a numeric type", R"({"type":1,"keyslots":[]})"},
        Import{"no keyslots", R"({"type":"zc"})"},
        Import{"keyslots an object", R"({"type":"zc","keyslots":{}})"},
        Import{"a numeric keyslot", R"({"type":"zc","keyslots":[0]})"},
        Import{"a missing keyslot", R"({"type":"zc","keyslots":["3"]})"},
        Import{"keyslot 32", R"({"type":"zc","keyslots":["32"]})"},
        Import{"a keyring token without its description",
               R"({"type":"luks2-keyring","keyslots":[]})"},
        Import{"larger than any JSON area", huge}, Import{"larger than this JSON area", large},
        Import{"a NUL byte", std::string(R"({"type":"zc","keyslots":[]})") + '\0'}}) {
    // [text = json], not [json]: clang before 16 cannot capture a structured binding.
    cases.push_back({std::string("import: ") + name, [text = json](Volume& v) {
                       return AsStatus(v.ImportToken(text, -1, -1, false));
                     }});
  }
  cases.push_back({"import to a token id in use",
                   [](Volume& v) { return AsStatus(v.ImportToken(kOtherJson, 0, -1, false)); }});
  cases.push_back({"import to token 32",
                   [](Volume& v) { return AsStatus(v.ImportToken(kOtherJson, 32, -1, false)); }});
  cases.push_back({"import assigned to an inactive keyslot",
                   [](Volume& v) { return AsStatus(v.ImportToken(kOtherJson, -1, 5, false)); }});
  cases.push_back({"add without a description",
                   [](Volume& v) { return AsStatus(v.AddKeyringToken("", -1, -1, false)); }});
  cases.push_back({"add to a token id in use",
                   [](Volume& v) { return AsStatus(v.AddKeyringToken("zc:k", 0, -1, false)); }});
  cases.push_back({"add assigned to an inactive keyslot",
                   [](Volume& v) { return AsStatus(v.AddKeyringToken("zc:k", -1, 7, false)); }});
  cases.push_back({"remove a free token", [](Volume& v) { return v.RemoveToken(4); }});
  cases.push_back({"remove without an id", [](Volume& v) { return v.RemoveToken(-1); }});
  cases.push_back({"remove token 32", [](Volume& v) { return v.RemoveToken(32); }});

  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    auto device = scene->device->Clone();
    const Snapshot before = Take(*device, scene->layout);
    const Status s = WithVolume(*device, c.action);
    ASSERT_FALSE(s.ok()) << "accepted";
    EXPECT_EQ(s.error().code(), ExitCode::kWrongParameters) << s.error().message();
    EXPECT_NE(s.error().message(), "");
    if (c.name == "import: a missing keyslot") {
      EXPECT_NE(s.error().message().find("keyslot 3, which does not exist"), std::string::npos)
          << "our own check did not say which keyslot: " << s.error().message();
    }
    const Snapshot after = Take(*device, scene->layout);
    EXPECT_EQ(after.ops, before.ops) << testing::DescribeOps(*device, before.ops);
    EXPECT_TRUE(after.bytes == before.bytes) << "the metadata changed";
    EXPECT_TRUE(SameTokens(TokensOf(*device), {{0, "zc-test", {0}}}))
        << Describe(TokensOf(*device));
  }
}

// A cut at every op (whole and torn) of a token import, then a repair: the drive holds the old
// token set or the new one; libcryptsetup sees the token whole or not at all; a keyslot given
// with --key-slot is never missing from the token.
void RunImportCuts(const DriveKind& drive, const std::optional<std::string>& old_json) {
  auto scene = MakeScene(drive.config);
  ASSERT_NE(scene, nullptr);
  if (old_json) {
    ASSERT_TRUE(WithVolume(*scene->device, [&](Volume& v) {
                  return AsStatus(v.ImportToken(*old_json, 0, -1, false));
                }).ok());
  }
  const std::vector<TokenSummary> old_set = TokensOf(*scene->device);
  const std::vector<TokenSummary> new_set = {{0, "zc-other", {0}}};
  const std::string new_json = R"({"type":"zc-other","keyslots":["0"]})";
  const testing::Action import = [](BlockDevice& d) {
    return WithVolume(d, [](Volume& v) {
      return AsStatus(v.ImportToken(kOtherJson, 0, /*keyslot=*/0, /*replace=*/true));
    });
  };
  const DryRun dry = testing::RecordDryRun(*scene->device, import);
  ASSERT_TRUE(dry.status.ok()) << dry.status.error().message();
  ASSERT_TRUE(SameTokens(TokensOf(*dry.device), new_set));
  size_t old_states = 0, new_states = 0;
  const auto expect_one_of_both = [&](MemoryZonedDevice& device, bool count) {
    const std::vector<TokenSummary> now = TokensOf(device);
    const bool is_old = SameTokens(now, old_set), is_new = SameTokens(now, new_set);
    EXPECT_TRUE(is_old || is_new) << "neither token set: " << Describe(now);
    old_states += count && is_old;
    new_states += count && is_new;
    const std::optional<std::string> stock = StockTokenJson(device, 0);
    EXPECT_TRUE(stock == (is_new ? std::optional<std::string>(new_json) : old_json))
        << "libcryptsetup sees " << stock.value_or("no token");
  };
  const uint64_t points = testing::RunCuts(
      *scene->device, dry, testing::Torn::kYes, std::string("ImportToken on ") + drive.name, import,
      [&](const testing::Cut&, MemoryZonedDevice& device) {
        expect_one_of_both(device, true);
        const Status repaired = WithVolume(device, [](Volume& v) { return AsStatus(v.Repair()); });
        EXPECT_TRUE(repaired.ok()) << repaired.error().message();
        expect_one_of_both(device, false);
      });
  EXPECT_GT(points, 0u);
  if (testing::EveryCutRuns()) {
    EXPECT_GT(old_states, 0u);
    EXPECT_GT(new_states, 0u);
  }
  testing::AddCrashRun("VolumeTokensTest", points);
}

TEST_P(VolumeTokensTest, PowerCutDuringImportIntoNoTokens) {
  RunImportCuts(GetParam(), std::nullopt);
}

TEST_P(VolumeTokensTest, PowerCutDuringReplace) {
  RunImportCuts(GetParam(), std::string(kTokenJson));
}

INSTANTIATE_TEST_SUITE_P(Drives, VolumeTokensTest, ::testing::ValuesIn(DriveKinds()),
                         DriveKindName);

}  // namespace
}  // namespace luks2ext
