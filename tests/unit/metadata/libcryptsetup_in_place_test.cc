// An ordinary disk (here a regular file through PlainDevice, as the CLI opens one) is formatted
// and updated by libcryptsetup in place, as stock cryptsetup does it (issue 12): the result is
// what libcryptsetup itself reads back, the data area is never touched, and zcryptsetup's own
// flag still goes into the header. The emulator cannot stand in here: its path() is only a
// stand-in file, so these tests use a real file.
#include <gtest/gtest.h>
#include <libcryptsetup.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "cryptsetup/crypt_device.h"
#include "luks2/image.h"
#include "luks2ext/block_device.h"
#include "support/temp_file.h"
#include "luks2ext/format_volume.h"
#include "luks2ext/secret.h"
#include "luks2ext/volume.h"
#include "support/volume_fixture.h"

namespace luks2ext {
namespace {

using testing::FastOptions;
using testing::kPassphrase;

constexpr char kSecond[] = "the second passphrase";
constexpr uint64_t kFileSize = 64ull << 20;
constexpr uint64_t kDataProbe = 40ull << 20;  // inside the data segment

using testing::TempFile;

Secret SecretOf(const char* text) { return Secret(text); }

// What stock cryptsetup would see: libcryptsetup's own load of the file and a passphrase check
// (crypt_activate_by_passphrase without a name activates nothing).
int Unlocks(const std::string& path, const char* passphrase) {
  auto cd = CryptDevice::Init(path);
  if (!cd.ok()) return -ENODEV;
  if (!cd->LoadLuks2(path).ok()) return -EINVAL;
  return crypt_activate_by_passphrase(cd->get(), nullptr, CRYPT_ANY_SLOT, passphrase,
                                      std::strlen(passphrase), 0);
}

std::vector<uint8_t> Pattern() {
  std::vector<uint8_t> bytes(1 << 20);
  for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<uint8_t>(i * 31 + 7);
  return bytes;
}

// Formats `file` (with a data pattern already at kDataProbe); returns the open device.
std::unique_ptr<BlockDevice> Format(const TempFile& file, const FormatOptions& options) {
  auto device = OpenBlockDevice(file.path(), true);
  EXPECT_TRUE(device.ok()) << device.error().message();
  if (!device.ok()) return nullptr;
  EXPECT_TRUE((*device)->editable_in_place_at_path());
  EXPECT_TRUE((*device)->Write(kDataProbe, Pattern()).ok());
  auto layout = PlanFormat(**device, options);
  EXPECT_TRUE(layout.ok()) << layout.error().message();
  if (!layout.ok()) return nullptr;
  auto uuid = FormatVolume(**device, *layout, options, SecretOf(kPassphrase));
  EXPECT_TRUE(uuid.ok()) << uuid.error().message();
  if (!uuid.ok()) return nullptr;
  EXPECT_EQ(uuid->size(), 36u);
  return std::move(device).value();
}

void ExpectDataUntouched(BlockDevice& device) {
  std::vector<uint8_t> read(1 << 20);
  ASSERT_TRUE(device.Read(kDataProbe, read).ok());
  EXPECT_EQ(read, Pattern());
}

TEST(LibcryptsetupInPlaceTest, FormatThenKeyChangesAreWhatLibcryptsetupReads) {
  TempFile file(kFileSize);
  auto device = Format(file, FastOptions());
  ASSERT_NE(device, nullptr);
  EXPECT_GE(Unlocks(file.path(), kPassphrase), 0);
  EXPECT_EQ(Unlocks(file.path(), kSecond), -EPERM);

  {
    auto volume = Volume::Open(*device, Volume::ReadScope::kForOpen);
    ASSERT_TRUE(volume.ok()) << volume.error().message();
    auto added = (*volume)->AddKey(SecretOf(kPassphrase), SecretOf(kSecond), 3,
                                   FastOptions().pbkdf);
    ASSERT_TRUE(added.ok()) << added.error().message();
    EXPECT_EQ(*added, 3);
  }
  EXPECT_GE(Unlocks(file.path(), kPassphrase), 0);
  EXPECT_EQ(Unlocks(file.path(), kSecond), 3);

  {
    auto volume = Volume::Open(*device, Volume::ReadScope::kForOpen);
    ASSERT_TRUE(volume.ok()) << volume.error().message();
    auto removed = (*volume)->RemoveKey(SecretOf(kPassphrase), /*allow_last=*/false);
    ASSERT_TRUE(removed.ok()) << removed.error().message();
    EXPECT_EQ(*removed, 0);
  }
  EXPECT_EQ(Unlocks(file.path(), kPassphrase), -EPERM);
  EXPECT_EQ(Unlocks(file.path(), kSecond), 3);
  ExpectDataUntouched(*device);
}

TEST(LibcryptsetupInPlaceTest, WrongPassphraseChangesNothing) {
  TempFile file(kFileSize);
  auto device = Format(file, FastOptions());
  ASSERT_NE(device, nullptr);
  std::vector<uint8_t> before(16 << 20), after(16 << 20);
  ASSERT_TRUE(device->Read(0, before).ok());
  {
    auto volume = Volume::Open(*device, Volume::ReadScope::kForOpen);
    ASSERT_TRUE(volume.ok()) << volume.error().message();
    auto added = (*volume)->AddKey(SecretOf("not the passphrase"), SecretOf(kSecond), -1,
                                   FastOptions().pbkdf);
    ASSERT_FALSE(added.ok());
    EXPECT_EQ(added.error().code(), ExitCode::kNoPermission);
  }
  ASSERT_TRUE(device->Read(0, after).ok());
  EXPECT_TRUE(before == after) << "a refused update wrote to the metadata";
}

// libcryptsetup bumps the seqid with a plain ++: at 2^64-1 the update is refused before it
// starts, as on every other path (update_protocol.cc, ApplyChange).
TEST(LibcryptsetupInPlaceTest, ASeqidThatCannotGrowChangesNothing) {
  TempFile file(kFileSize);
  auto device = Format(file, FastOptions());
  ASSERT_NE(device, nullptr);
  std::vector<uint8_t> leading(2 * kDefaultHeaderSize);
  ASSERT_TRUE(device->Read(0, leading).ok());
  auto headers = Luks2Image::ParseHeaders(leading);
  ASSERT_TRUE(headers.ok()) << headers.error().message();
  ASSERT_TRUE(headers->SetSeqid(std::numeric_limits<uint64_t>::max()).ok());
  ASSERT_TRUE(device->Write(0, headers->bytes()).ok());
  ASSERT_GE(Unlocks(file.path(), kPassphrase), 0);  // libcryptsetup still loads it

  std::vector<uint8_t> before(16 << 20), after(16 << 20);
  ASSERT_TRUE(device->Read(0, before).ok());
  {
    auto volume = Volume::Open(*device, Volume::ReadScope::kForOpen);
    ASSERT_TRUE(volume.ok()) << volume.error().message();
    auto added = (*volume)->AddKey(SecretOf(kPassphrase), SecretOf(kSecond), -1,
                                   FastOptions().pbkdf);
    ASSERT_FALSE(added.ok());
    EXPECT_EQ(added.error().code(), ExitCode::kWrongDevice);
    EXPECT_NE(added.error().message().find("cannot grow"), std::string::npos)
        << added.error().message();
  }
  ASSERT_TRUE(device->Read(0, after).ok());
  EXPECT_TRUE(before == after) << "a refused update wrote to the metadata";
}

TEST(LibcryptsetupInPlaceTest, ForceInlineStoresTheUpstreamFlagsAndOurs) {
  TempFile file(kFileSize);
  auto device = Format(file, FastOptions(/*force_inline=*/true));
  ASSERT_NE(device, nullptr);
  auto volume = Volume::Open(*device, Volume::ReadScope::kForOpen);
  ASSERT_TRUE(volume.ok()) << volume.error().message();
  EXPECT_TRUE((*volume)->force_inline());
  EXPECT_TRUE(testing::HasAll((*volume)->config_flags(), testing::kInlineFlags));

  auto cd = CryptDevice::Init(file.path());
  ASSERT_TRUE(cd.ok());
  ASSERT_TRUE(cd->LoadLuks2(file.path()).ok());
  uint32_t flags = 0;
  ASSERT_EQ(crypt_persistent_flags_get(cd->get(), CRYPT_FLAGS_ACTIVATION, &flags), 0);
  EXPECT_TRUE(flags & CRYPT_ACTIVATE_NO_READ_WORKQUEUE);
  EXPECT_TRUE(flags & CRYPT_ACTIVATE_NO_WRITE_WORKQUEUE);
  EXPECT_GE(Unlocks(file.path(), kPassphrase), 0);
  ExpectDataUntouched(*device);
}

}  // namespace
}  // namespace luks2ext
