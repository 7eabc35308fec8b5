// PlainDevice on temporary regular files (block devices need root and a disk: VM tests).
#include "zoned/plain_device.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "luks2ext/block_device.h"
#include "support/temp_file.h"
#include "base/errno_error.h"

namespace luks2ext {
namespace {

using testing::TempFile;

std::vector<std::uint8_t> Pattern(size_t length, uint8_t seed) {
  std::vector<std::uint8_t> data(length);
  for (size_t i = 0; i < length; ++i) data[i] = static_cast<std::uint8_t>(seed + i * 7);
  return data;
}

TEST(PlainDevice, RegularFileRoundTrip) {
  TempFile file(1 << 20);
  auto opened = PlainDevice::Open(file.path(), /*writable=*/true);
  ASSERT_TRUE(opened.ok()) << opened.error().message();
  PlainDevice& device = **opened;
  const Geometry& g = device.geometry();
  EXPECT_EQ(g.model, ZoneModel::kNone);
  EXPECT_EQ(g.size, 1u << 20);
  EXPECT_EQ(g.logical_block_size, 512u);
  EXPECT_FALSE(g.read_only);
  EXPECT_EQ(device.path(), file.path());

  const std::vector<std::uint8_t> data = Pattern(3 * 4096 + 512, 3);
  ASSERT_TRUE(device.Write(8192 + 512, data).ok());
  ASSERT_TRUE(device.Write(0, Pattern(512, 9)).ok());  // random writes are fine here
  ASSERT_TRUE(device.Flush().ok());
  std::vector<std::uint8_t> out(data.size());
  ASSERT_TRUE(device.Read(8192 + 512, out).ok());
  EXPECT_EQ(out, data);

  auto zones = device.ReportZones(0, 4);
  ASSERT_TRUE(zones.ok());
  EXPECT_TRUE(zones->empty());
  EXPECT_EQ(device.ResetZone(0).error().code(), ExitCode::kWrongParameters);
  EXPECT_EQ(device.FinishZone(0).error().code(), ExitCode::kWrongParameters);
}

TEST(PlainDevice, RefusesUnalignedAndOutOfRangeIo) {
  TempFile file(64 * 1024);
  auto device = PlainDevice::Open(file.path(), true);
  ASSERT_TRUE(device.ok());
  std::vector<std::uint8_t> buffer(4096);
  EXPECT_EQ((*device)->Read(100, buffer).error().code(), ExitCode::kWrongParameters);
  EXPECT_EQ((*device)->Write(0, std::span(buffer).first(100)).error().code(),
            ExitCode::kWrongParameters);
  EXPECT_EQ((*device)->Write(64 * 1024 - 512, buffer).error().code(), ExitCode::kWrongParameters);
  EXPECT_EQ((*device)->Read(64 * 1024, buffer).error().code(), ExitCode::kWrongParameters);
  // The file is never grown.
  struct stat st = {};
  ASSERT_EQ(::stat(file.path().c_str(), &st), 0);
  EXPECT_EQ(st.st_size, 64 * 1024);
}

TEST(PlainDevice, ShortFileEndsTheDevice) {
  TempFile file(1000);  // not a whole number of blocks: the tail is unreachable
  auto device = PlainDevice::Open(file.path(), true);
  ASSERT_TRUE(device.ok());
  EXPECT_EQ((*device)->geometry().size, 1000u);
  std::vector<std::uint8_t> block(512);
  EXPECT_TRUE((*device)->Read(0, block).ok());
  std::vector<std::uint8_t> two_blocks(1024);
  EXPECT_FALSE((*device)->Read(0, two_blocks).ok());
  EXPECT_FALSE((*device)->Write(512, block).ok());

  TempFile empty(0);
  auto empty_device = PlainDevice::Open(empty.path(), true);
  ASSERT_TRUE(empty_device.ok());
  EXPECT_FALSE((*empty_device)->Read(0, block).ok());
}

TEST(PlainDevice, ReadOnlyOpenRefusesWrites) {
  TempFile file(64 * 1024);
  {
    auto writer = PlainDevice::Open(file.path(), true);
    ASSERT_TRUE(writer.ok());
    ASSERT_TRUE((*writer)->Write(0, Pattern(4096, 1)).ok());
  }
  auto device = PlainDevice::Open(file.path(), /*writable=*/false);
  ASSERT_TRUE(device.ok());
  // The file itself is writable (geometry says so, luksFormat may plan on this handle); the
  // handle opened read-only still refuses every write.
  EXPECT_FALSE((*device)->geometry().read_only);
  EXPECT_EQ((*device)->Write(0, Pattern(4096, 2)).error().code(), ExitCode::kWrongDevice);
  std::vector<std::uint8_t> out(4096);
  ASSERT_TRUE((*device)->Read(0, out).ok());
  EXPECT_EQ(out, Pattern(4096, 1));
  EXPECT_TRUE((*device)->Flush().ok());
}

TEST(PlainDevice, FileWithoutWritePermissionIsReadOnly) {
  if (geteuid() == 0) GTEST_SKIP() << "root may write any file";
  TempFile file(64 * 1024);
  ASSERT_EQ(chmod(file.path().c_str(), 0400), 0);
  auto device = PlainDevice::Open(file.path(), /*writable=*/false);
  ASSERT_TRUE(device.ok());
  EXPECT_TRUE((*device)->geometry().read_only);
}

TEST(PlainDevice, MissingPathIsAWrongDevice) {
  auto device = PlainDevice::Open("/nonexistent/zcryptsetup-test", true);
  ASSERT_FALSE(device.ok());
  EXPECT_EQ(device.error().code(), ExitCode::kWrongDevice);
  EXPECT_NE(device.error().message().find("/nonexistent/zcryptsetup-test"), std::string::npos);

  auto opened = OpenBlockDevice("/nonexistent/zcryptsetup-test", false);
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.error().code(), ExitCode::kWrongDevice);
}

TEST(PlainDevice, DirectoryIsNotADevice) {
  auto device = PlainDevice::Open("/tmp", false);
  ASSERT_FALSE(device.ok());
  EXPECT_EQ(device.error().code(), ExitCode::kWrongDevice);
}

TEST(PlainDevice, OpenBlockDevicePicksThePlainBackendForAFile) {
  TempFile file(64 * 1024);
  auto device = OpenBlockDevice(file.path(), true);
  ASSERT_TRUE(device.ok()) << device.error().message();
  EXPECT_FALSE((*device)->geometry().is_zoned());
  EXPECT_TRUE((*device)->Write(4096, Pattern(512, 5)).ok());
}

TEST(PlainDevice, PermissionDeniedIsNoPermission) {
  if (::geteuid() == 0) GTEST_SKIP() << "root bypasses file permissions";
  TempFile file(4096);
  ASSERT_EQ(::chmod(file.path().c_str(), 0400), 0);
  auto device = PlainDevice::Open(file.path(), true);
  ASSERT_FALSE(device.ok());
  EXPECT_EQ(device.error().code(), ExitCode::kNoPermission);
}

TEST(ErrnoError, MapsToCryptsetupExitCodes) {
  const std::string open_x = "Cannot open device /dev/x";
  EXPECT_EQ(ErrnoError(EACCES, open_x, "/dev/x").code(), ExitCode::kNoPermission);
  EXPECT_EQ(ErrnoError(EPERM, open_x, "/dev/x").code(), ExitCode::kNoPermission);
  EXPECT_EQ(ErrnoError(EBUSY, open_x, "/dev/x").code(), ExitCode::kDeviceBusy);
  EXPECT_EQ(ErrnoError(ENOMEM, open_x, "/dev/x").code(), ExitCode::kOutOfMemory);
  const Error io = ErrnoError(EIO, "Cannot write to device /dev/x", "/dev/x");
  EXPECT_EQ(io.code(), ExitCode::kWrongDevice);
  EXPECT_NE(io.message().find("/dev/x"), std::string::npos);
  EXPECT_NE(io.message().find(std::strerror(EIO)), std::string::npos);
}

TEST(ZoneNames, AreTheKernelWords) {
  EXPECT_STREQ(ZoneModelName(ZoneModel::kHostManaged), "host-managed");
  EXPECT_STREQ(ZoneModelName(ZoneModel::kHostAware), "host-aware");
  EXPECT_STREQ(ZoneModelName(ZoneModel::kNone), "none");
  EXPECT_STREQ(ZoneTypeName(ZoneType::kSequentialRequired), "seq-write-required");
  EXPECT_STREQ(ZoneConditionName(ZoneCondition::kFull), "full");
}

}  // namespace
}  // namespace luks2ext
