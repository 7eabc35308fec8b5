// The header backup file's own I/O (metadata/backup_file.h); what a backup must hold is
// restore_test.cc's.
#include "metadata/backup_file.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "luks2/image.h"

namespace luks2ext {
namespace {

class BackupFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/backup_file_test.XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    dir_ = pattern;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string Path(const char* name) const { return dir_ + "/" + name; }

  std::string dir_;
};

TEST_F(BackupFileTest, WritesAnOwnerOnlyFileAndReadsItBack) {
  const std::vector<uint8_t> bytes(8192, 0x5a);
  const std::string path = Path("backup");
  ASSERT_TRUE(WriteBackupFile(path, bytes).ok());
  struct stat st {};
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, S_IRUSR);
  auto read = ReadBackupFile(path);
  ASSERT_TRUE(read.ok()) << read.error().message();
  EXPECT_EQ(*read, bytes);
}

TEST_F(BackupFileTest, NeverReplacesAnExistingFile) {
  const std::string path = Path("existing");
  std::ofstream(path) << "keep me";
  const Status status = WriteBackupFile(path, std::vector<uint8_t>(16, 1));
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().code(), ExitCode::kDeviceBusy);
  EXPECT_EQ(std::filesystem::file_size(path), 7u);
}

TEST_F(BackupFileTest, RefusesWhatNoLuks2ImageCouldBe) {
  const std::string large = Path("large");
  std::ofstream(large).close();
  std::filesystem::resize_file(large, kMaxImageSize + 1);  // sparse: costs no disk
  auto too_large = ReadBackupFile(large);
  ASSERT_FALSE(too_large.ok());
  EXPECT_EQ(too_large.error().code(), ExitCode::kWrongParameters);
  EXPECT_NE(too_large.error().message().find("larger than any LUKS2 header"), std::string::npos);

  auto directory = ReadBackupFile(dir_);
  ASSERT_FALSE(directory.ok());
  EXPECT_NE(directory.error().message().find("not a regular file"), std::string::npos);

  auto missing = ReadBackupFile(Path("missing"));
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code(), ExitCode::kWrongParameters);
}

}  // namespace
}  // namespace luks2ext
