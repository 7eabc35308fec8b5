// Detached headers (cryptsetup --header): the header on a regular file, written in place by
// libcryptsetup; the data on another drive, zoned here (the emulator), from offset 0 or a zone
// boundary. Nothing of a format or an update may touch the data drive, and a detached header
// must never be mapped as if its own device held the data.
#include <gtest/gtest.h>
#include <libcryptsetup.h>

#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <vector>
#include <cstdio>

#include "cryptsetup/crypt_device.h"
#include "luks2ext/block_device.h"
#include "luks2ext/format_volume.h"
#include "luks2ext/header_backup.h"
#include "luks2ext/layout.h"
#include "luks2ext/volume.h"
#include "support/temp_file.h"
#include "support/volume_fixture.h"

namespace luks2ext {
namespace {

using testing::FastOptions;
using testing::HostManaged;
using testing::kPassphrase;
using testing::MakeDevice;
using testing::TempFile;

constexpr uint64_t kZone = 64ull << 20;  // the fixture drives' zone size

Geometry ZonedGeometry(uint64_t zones) {
  Geometry geometry;
  geometry.model = ZoneModel::kHostManaged;
  geometry.size = zones * kZone;
  geometry.logical_block_size = geometry.physical_block_size = 4096;
  geometry.zone_size = kZone;
  geometry.nr_zones = static_cast<uint32_t>(zones);
  return geometry;
}

TEST(PlanDetachedLayoutTest, TheWholeDriveIsDataFromOffsetZero) {
  Geometry plain;
  plain.size = 1ull << 30;
  for (const Geometry& data : {plain, ZonedGeometry(8)}) {
    auto layout = PlanDetachedLayout(data, LayoutRequest{});
    ASSERT_TRUE(layout.ok()) << layout.error().message();
    EXPECT_EQ(layout->placement, Placement::kStandard);
    EXPECT_EQ(layout->data_offset, 0u);
    EXPECT_EQ(layout->image_size(), 16ull << 20);
    EXPECT_FALSE(layout->journal_offset);
  }
}

TEST(PlanDetachedLayoutTest, AZonedDriveTakesAnOffsetAtAZoneBoundaryOnly) {
  LayoutRequest request;
  request.data_offset = kZone;
  auto layout = PlanDetachedLayout(ZonedGeometry(8), request);
  ASSERT_TRUE(layout.ok()) << layout.error().message();
  EXPECT_EQ(layout->data_offset, kZone);

  request.data_offset = 1ull << 20;
  layout = PlanDetachedLayout(ZonedGeometry(8), request);
  ASSERT_FALSE(layout.ok());
  EXPECT_EQ(layout.error().code(), ExitCode::kWrongParameters);
  EXPECT_NE(layout.error().message().find("zone size"), std::string::npos);

  // libcryptsetup's floor for a given offset: past both binary headers; the keyslots area
  // shrinks to what lies between them and the offset.
  Geometry plain;
  plain.size = 1ull << 30;
  request.data_offset = 16384;
  layout = PlanDetachedLayout(plain, request);
  ASSERT_FALSE(layout.ok());
  EXPECT_EQ(layout.error().code(), ExitCode::kWrongParameters);
  request.data_offset = 1ull << 20;
  layout = PlanDetachedLayout(plain, request);
  ASSERT_TRUE(layout.ok()) << layout.error().message();
  EXPECT_EQ(layout->keyslots_size, (1ull << 20) - 2 * kDefaultHeaderSize);

  // A drive of one zone has no zone left past an offset of one zone.
  request.data_offset = kZone;
  layout = PlanDetachedLayout(ZonedGeometry(1), request);
  ASSERT_FALSE(layout.ok());
  EXPECT_EQ(layout.error().code(), ExitCode::kWrongDevice);
}

// A header file and an emulated host-managed data drive, formatted detached.
struct DetachedVolume {
  TempFile header{4096};
  std::unique_ptr<BlockDevice> header_device;
  std::unique_ptr<MemoryZonedDevice> data;
  Status formatted = Status::Ok();

  explicit DetachedVolume(bool force_inline = false) {
    data = MakeDevice(HostManaged(4096));
    auto opened = OpenBlockDevice(header.path(), true);
    if (!data || !opened.ok()) {
      formatted = Error::WrongDevice("setup failed");
      return;
    }
    header_device = std::move(opened).value();
    const FormatOptions options = FastOptions(force_inline);
    auto layout = PlanFormat(*header_device, options, data.get());
    if (!layout.ok()) {
      formatted = layout.error();
      return;
    }
    auto uuid = FormatVolume(*header_device, *layout, options, Secret(kPassphrase), data.get());
    if (!uuid.ok()) {
      formatted = uuid.error();
      return;
    }
    // libcryptsetup grew the file: what reads it next opens it again, as the next command would.
    auto reopened = OpenBlockDevice(header.path(), true);
    if (reopened.ok()) header_device = std::move(reopened).value();
  }
};

TEST(DetachedHeaderTest, FormatWritesTheHeaderFileAndNothingToTheDataDrive) {
  DetachedVolume volume;
  ASSERT_TRUE(volume.formatted.ok()) << volume.formatted.error().message();
  EXPECT_EQ(volume.data->mutating_ops(), 0u) << "the zoned data drive was written";
  // What stock cryptsetup reads from the header file: data from offset 0 of the data drive.
  auto cd = CryptDevice::InitDetached(volume.header.path(), volume.data->path());
  ASSERT_TRUE(cd.ok());
  ASSERT_TRUE(cd->LoadLuks2(volume.header.path()).ok());
  EXPECT_EQ(crypt_get_data_offset(cd->get()), 0u);
  EXPECT_EQ(crypt_get_sector_size(cd->get()), 4096);  // the data drive's block size
  EXPECT_EQ(crypt_activate_by_passphrase(cd->get(), nullptr, CRYPT_ANY_SLOT, kPassphrase,
                                         std::strlen(kPassphrase), 0),
            0);
}

TEST(DetachedHeaderTest, FormatPersistsForceInlineInTheHeaderFileItGrew) {
  DetachedVolume volume(/*force_inline=*/true);
  ASSERT_TRUE(volume.formatted.ok()) << volume.formatted.error().message();
  auto v = Volume::Open(*volume.header_device, Volume::ReadScope::kEverything, volume.data.get());
  ASSERT_TRUE(v.ok()) << v.error().message();
  EXPECT_TRUE((*v)->force_inline());
  EXPECT_TRUE(testing::HasAll((*v)->config_flags(), testing::kInlineFlags));
  EXPECT_EQ(volume.data->mutating_ops(), 0u);
}

TEST(DetachedHeaderTest, OpenWithTheDataDriveUnlocksAndUpdatesStayInTheHeader) {
  DetachedVolume volume;
  ASSERT_TRUE(volume.formatted.ok()) << volume.formatted.error().message();
  auto opened = Volume::Open(*volume.header_device, Volume::ReadScope::kForOpen,
                             volume.data.get());
  ASSERT_TRUE(opened.ok()) << opened.error().message();
  std::unique_ptr<Volume> v = std::move(opened).value();
  EXPECT_TRUE(v->detached_header());
  EXPECT_EQ(v->data_device().path(), volume.data->path());
  EXPECT_TRUE(testing::CheckPassphrase(*v, kPassphrase).ok());
  auto added = v->AddKey(Secret(kPassphrase), Secret("second"), -1, FastOptions().pbkdf);
  ASSERT_TRUE(added.ok()) << added.error().message();
  EXPECT_EQ(volume.data->mutating_ops(), 0u) << "a key update wrote to the data drive";
  auto again = Volume::Open(*volume.header_device, Volume::ReadScope::kEverything,
                            volume.data.get());
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(testing::CheckPassphrase(**again, "second").ok());
}

TEST(DetachedHeaderTest, TheHeaderAloneIsNeverMappedAsItsOwnData) {
  DetachedVolume volume;
  ASSERT_TRUE(volume.formatted.ok()) << volume.formatted.error().message();
  auto opened = Volume::Open(*volume.header_device, Volume::ReadScope::kForOpen);
  ASSERT_TRUE(opened.ok()) << opened.error().message();
  ActivationRequest request;
  request.name = "zc-never-mapped";
  const Status status = (*opened)->Activate(request, Secret(kPassphrase));
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().code(), ExitCode::kWrongParameters);
  EXPECT_NE(status.error().message().find("detached"), std::string::npos);
}

TEST(DetachedHeaderTest, AZonedHeaderDeviceIsRefused) {
  auto zoned = MakeDevice(HostManaged(4096));
  auto data = MakeDevice(HostManaged(4096));
  ASSERT_TRUE(zoned && data);
  auto layout = PlanFormat(*zoned, FastOptions(), data.get());
  ASSERT_FALSE(layout.ok());
  EXPECT_EQ(layout.error().code(), ExitCode::kWrongDevice);
  EXPECT_EQ(zoned->mutating_ops(), 0u);
}

TEST(DetachedHeaderTest, TheDataDeviceCannotBeItsOwnDetachedHeader) {
  TempFile file(64ull << 20);
  auto as_header = OpenBlockDevice(file.path(), true);
  auto as_data = OpenBlockDevice(file.path(), false);
  ASSERT_TRUE(as_header.ok() && as_data.ok());
  auto layout = PlanFormat(**as_header, FastOptions(), as_data->get());
  ASSERT_FALSE(layout.ok());
  EXPECT_EQ(layout.error().code(), ExitCode::kWrongParameters);
  EXPECT_NE(layout.error().message().find("data device itself"), std::string::npos);
}

TEST(DetachedHeaderTest, AnOffsetOffTheDataDrivesZonesIsRefusedAtOpen) {
  // A header made for an ordinary disk with data at 1 MiB, then named for a zoned drive.
  TempFile header(4096);
  TempFile plain_data(64ull << 20);
  auto header_device = OpenBlockDevice(header.path(), true);
  auto plain = OpenBlockDevice(plain_data.path(), false);
  ASSERT_TRUE(header_device.ok() && plain.ok());
  FormatOptions options = FastOptions();
  options.layout.data_offset = 1ull << 20;
  auto layout = PlanFormat(**header_device, options, plain->get());
  ASSERT_TRUE(layout.ok()) << layout.error().message();
  const auto uuid =
      FormatVolume(**header_device, *layout, options, Secret(kPassphrase), plain->get());
  ASSERT_TRUE(uuid.ok()) << uuid.error().message();
  header_device = OpenBlockDevice(header.path(), true);
  ASSERT_TRUE(header_device.ok());
  auto zoned = MakeDevice(HostManaged(4096));
  ASSERT_TRUE(zoned);
  auto opened = Volume::Open(**header_device, Volume::ReadScope::kForOpen, zoned.get());
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.error().code(), ExitCode::kWrongDevice);
  EXPECT_NE(opened.error().message().find("zone size"), std::string::npos);
}

TEST(DetachedHeaderTest, ABackupRestoresIntoAHeaderAndNeverOntoTheDataDrive) {
  DetachedVolume volume;
  ASSERT_TRUE(volume.formatted.ok()) << volume.formatted.error().message();
  const std::string backup = volume.header.path() + ".backup";
  {
    auto v = Volume::Open(*volume.header_device);
    ASSERT_TRUE(v.ok());
    ASSERT_TRUE((*v)->BackupHeader(backup).ok());
  }
  // Onto a plain drive as its own header: the data segment at 0 would overlap it.
  TempFile other(64ull << 20);
  auto other_device = OpenBlockDevice(other.path(), true);
  ASSERT_TRUE(other_device.ok());
  auto refused = RestoreHeader(**other_device, backup);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code(), ExitCode::kWrongParameters);
  // Into a header file too small for it: refused, nothing written.
  TempFile small(4096);
  auto small_device = OpenBlockDevice(small.path(), true);
  ASSERT_TRUE(small_device.ok());
  refused = RestoreHeader(**small_device, backup, volume.data.get());
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code(), ExitCode::kWrongDevice);
  std::vector<uint8_t> bytes(4096);
  ASSERT_TRUE((*small_device)->Read(0, bytes).ok());
  EXPECT_EQ(bytes, std::vector<uint8_t>(4096, 0));
  // Back into the header it came from, after a key change: the old keyslots are back.
  {
    auto v = Volume::Open(*volume.header_device, Volume::ReadScope::kForOpen, volume.data.get());
    ASSERT_TRUE(v.ok());
    ASSERT_TRUE(
        (*v)->ChangeKey(Secret(kPassphrase), Secret("changed"), -1, FastOptions().pbkdf).ok());
  }
  auto restored = RestoreHeader(*volume.header_device, backup, volume.data.get());
  ASSERT_TRUE(restored.ok()) << restored.error().message();
  auto v = Volume::Open(*volume.header_device, Volume::ReadScope::kForOpen, volume.data.get());
  ASSERT_TRUE(v.ok()) << v.error().message();
  EXPECT_TRUE(testing::CheckPassphrase(**v, kPassphrase).ok());
  EXPECT_FALSE(testing::CheckPassphrase(**v, "changed").ok());
  EXPECT_EQ(volume.data->mutating_ops(), 0u);
  std::remove(backup.c_str());
}

}  // namespace
}  // namespace luks2ext
