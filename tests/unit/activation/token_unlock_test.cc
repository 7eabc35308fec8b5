// Unlocking with a LUKS2 token: which tokens and keyslots an unlock may use (pure JSON), and a
// real unlock through libcryptsetup's built-in luks2-keyring token on an emulated zoned drive,
// which must read the keyslot areas of the tokens tried and no other.
#include "activation/token_unlock.h"

#include <gtest/gtest.h>
#include <json-c/json.h>
#include <libcryptsetup.h>
#include <linux/keyctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstring>
#include <string>
#include <vector>

#include "luks2/json.h"
#include "metadata/header_edit.h"
#include "metadata/update_protocol.h"
#include "support/forwarding_device.h"
#include "support/update_scene.h"
#include "support/volume_fixture.h"

namespace luks2ext::testing {
namespace {

JsonPtr Parse(const char* text) {
  auto parsed = ParseJsonText(text);
  EXPECT_TRUE(parsed.has_value()) << text;
  return parsed ? std::move(*parsed) : JsonPtr(json_object_new_object());
}

constexpr char kTokens[] = R"({"tokens":{
  "0":{"type":"systemd-tpm2","keyslots":["1"]},
  "2":{"type":"luks2-keyring","keyslots":["3","0"],"key_description":"d"},
  "5":{"type":"systemd-tpm2","keyslots":["x","31","32",4]}}})";

TEST(MatchingTokensTest, SelectsByIdAndTypeInIdOrder) {
  JsonPtr root = Parse(kTokens);
  EXPECT_EQ(MatchingTokens(root.get(), {}), (std::vector<int>{0, 2, 5}));
  EXPECT_EQ(MatchingTokens(root.get(), {2, "", nullptr}), (std::vector<int>{2}));
  EXPECT_EQ(MatchingTokens(root.get(), {1, "", nullptr}), (std::vector<int>{}));
  EXPECT_EQ(MatchingTokens(root.get(), {-1, "systemd-tpm2", nullptr}), (std::vector<int>{0, 5}));
  EXPECT_EQ(MatchingTokens(root.get(), {2, "systemd-tpm2", nullptr}), (std::vector<int>{}));
  EXPECT_EQ(MatchingTokens(root.get(), {-1, "systemd-fido2", nullptr}), (std::vector<int>{}));
  JsonPtr none = Parse(R"({"tokens":{}})");
  EXPECT_TRUE(MatchingTokens(none.get(), {}).empty());
  JsonPtr missing = Parse(R"({})");
  EXPECT_TRUE(MatchingTokens(missing.get(), {}).empty());
}

TEST(TokenKeyslotsTest, ReadsTheKeyslotsArraySkippingBadEntries) {
  JsonPtr root = Parse(kTokens);
  EXPECT_EQ(TokenKeyslots(root.get(), 0), (std::vector<int>{1}));
  EXPECT_EQ(TokenKeyslots(root.get(), 2), (std::vector<int>{3, 0}));
  EXPECT_EQ(TokenKeyslots(root.get(), 5), (std::vector<int>{31}));  // "x", "32", 4 skipped
  EXPECT_TRUE(TokenKeyslots(root.get(), 7).empty());
}

// Records which bytes of the drive were read.
class ReadRecordingDevice : public ForwardingDevice {
 public:
  using ForwardingDevice::ForwardingDevice;
  Status Read(uint64_t offset, std::span<std::uint8_t> out) override {
    reads.push_back({offset, out.size()});
    return inner().Read(offset, out);
  }
  bool ReadAny(uint64_t offset, uint64_t size) const {
    for (const auto& [o, n] : reads)
      if (o < offset + size && offset < o + n) return true;
    return false;
  }
  std::vector<std::pair<uint64_t, uint64_t>> reads;
};

struct Area {
  uint64_t offset = 0, size = 0;
};

Area KeyslotAreaOf(const Volume& volume, int keyslot) {
  JsonPtr root = Parse(volume.json_text(false).c_str());
  json_object* area = JsonMember(
      JsonMember(JsonMember(root.get(), "keyslots"), std::to_string(keyslot).c_str()), "area");
  uint64_t copy = 0;
  for (const CopySummary& c : volume.copies())
    if (c.chosen) copy = c.offset;
  return {copy + JsonDecimalMember(area, "offset").value_or(0),
          JsonDecimalMember(area, "size").value_or(0)};
}

// A zoned volume with kPassphrase in keyslot 0, kSecond in keyslot 1, and a luks2-keyring token
// (id 0) for keyslot 1 that looks for a user key named `description`.
class TokenUnlockTest : public ::testing::Test {
 protected:
  void SetUp() override {
    description_ = "zcryptsetup-token-test-" + std::to_string(getpid());
    formatted_ = FormatNew(HostManaged(4096), FastOptions());
    ASSERT_NE(formatted_.device, nullptr);
    auto volume = MustOpen(*formatted_.device);
    ASSERT_NE(volume, nullptr);
    auto added = volume->AddKey(Secret(kPassphrase), Secret(kSecond), 1, FastPbkdf());
    ASSERT_TRUE(added.ok()) << added.error().message();
    const std::string data_path = formatted_.device->path();
    const Status token =
        UpdateMetadata(*formatted_.device, [&](Luks2Image& image, const VolumeState&) -> Status {
          return EditWithLibcryptsetup(image, data_path, [&](crypt_device* cd) -> Status {
            const crypt_token_params_luks2_keyring params{description_.c_str()};
            const int id = crypt_token_luks2_keyring_set(cd, CRYPT_ANY_TOKEN, &params);
            if (id < 0) return Error::WrongParameters("crypt_token_luks2_keyring_set failed");
            if (crypt_token_assign_keyslot(cd, id, 1) < 0)
              return Error::WrongParameters("crypt_token_assign_keyslot failed");
            return Status::Ok();
          });
        });
    ASSERT_TRUE(token.ok()) << token.error().message();
  }
  void TearDown() override {
    if (key_ >= 0) (void)syscall(SYS_keyctl, KEYCTL_UNLINK, key_, KEY_SPEC_THREAD_KEYRING);
  }
  // The passphrase the token hands libcryptsetup, in this thread's keyring.
  bool PutKey(const char* passphrase) {
    key_ = static_cast<int32_t>(syscall(SYS_add_key, "user", description_.c_str(), passphrase,
                                        std::strlen(passphrase), KEY_SPEC_THREAD_KEYRING));
    return key_ >= 0;
  }

  std::string description_;
  Formatted formatted_;
  int32_t key_ = -1;
};

TEST_F(TokenUnlockTest, KeyringTokenUnlocksReadingOnlyItsKeyslotArea) {
  if (!PutKey(kSecond)) GTEST_SKIP() << "no kernel keyring here";
  ReadRecordingDevice device(*formatted_.device);
  auto volume = MustOpen(device);
  ASSERT_NE(volume, nullptr);
  EXPECT_TRUE(volume->HasToken({}));
  EXPECT_TRUE(volume->HasToken({-1, "luks2-keyring", nullptr}));
  EXPECT_FALSE(volume->HasToken({-1, "systemd-tpm2", nullptr}));
  const Area slot0 = KeyslotAreaOf(*volume, 0), slot1 = KeyslotAreaOf(*volume, 1);
  ASSERT_GT(slot0.size, 0u);
  ASSERT_GT(slot1.size, 0u);
  device.reads.clear();
  TokenFailure why = TokenFailure::kInvalid;
  const Status unlocked = volume->ActivateByToken(ActivationRequest{}, {}, &why);
  ASSERT_TRUE(unlocked.ok()) << unlocked.error().message();
  EXPECT_EQ(why, TokenFailure::kNone);
  EXPECT_TRUE(device.ReadAny(slot1.offset, slot1.size)) << "the token's keyslot was not read";
  EXPECT_FALSE(device.ReadAny(slot0.offset, slot0.size)) << "a keyslot no token names was read";
}

TEST_F(TokenUnlockTest, WrongSecretInTheKeyringIsKeyslotRefusedThenAPassphraseStillWorks) {
  if (!PutKey(kWrong)) GTEST_SKIP() << "no kernel keyring here";
  auto volume = MustOpen(*formatted_.device);
  ASSERT_NE(volume, nullptr);
  TokenFailure why = TokenFailure::kNone;
  const Status refused = volume->ActivateByToken(ActivationRequest{}, {0, "", nullptr}, &why);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(why, TokenFailure::kKeyslotRefused);
  EXPECT_EQ(refused.error().code(), ExitCode::kNoPermission) << refused.error().message();
  // The fallback open's passphrase path takes next, on the same Volume.
  EXPECT_TRUE(CheckPassphrase(*volume, kPassphrase).ok());
}

TEST_F(TokenUnlockTest, NoMatchingTokenReadsNoKeyslotArea) {
  ReadRecordingDevice device(*formatted_.device);
  auto volume = MustOpen(device);
  ASSERT_NE(volume, nullptr);
  const Area slot1 = KeyslotAreaOf(*volume, 1);
  device.reads.clear();
  for (const TokenRequest& token :
       {TokenRequest{-1, "systemd-tpm2", nullptr}, TokenRequest{3, "", nullptr}}) {
    TokenFailure why = TokenFailure::kNone;
    const Status none = volume->ActivateByToken(ActivationRequest{}, token, &why);
    ASSERT_FALSE(none.ok());
    EXPECT_EQ(why, TokenFailure::kNoUsableToken);
    EXPECT_EQ(none.error().code(), ExitCode::kWrongParameters);
    EXPECT_NE(none.error().message().find("No usable token"), std::string::npos)
        << none.error().message();
  }
  EXPECT_TRUE(device.reads.empty()) << "read the drive for a token that is not there";
  EXPECT_FALSE(device.ReadAny(slot1.offset, slot1.size));
}

TEST_F(TokenUnlockTest, NativeInlineWithATokenIsRefusedBeforeAnything) {
  auto volume = MustOpen(*formatted_.device);
  ASSERT_NE(volume, nullptr);
  ActivationRequest request;
  request.name = "zcryptsetup-token-test-never-mapped";
  request.inline_mode = InlineMode::kNative;
  TokenFailure why = TokenFailure::kPinRequired;
  const Status refused = volume->ActivateByToken(request, {}, &why);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code(), ExitCode::kWrongParameters);
  EXPECT_EQ(why, TokenFailure::kNone);
  EXPECT_NE(refused.error().message().find("Nothing was activated"), std::string::npos);
}

}  // namespace
}  // namespace luks2ext::testing
