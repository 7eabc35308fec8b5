// The liburing engine against a regular file: it really performs the I/O. O_DIRECT is tried
// first (a file system that refuses it, such as tmpfs, gets buffered I/O: the engine does not
// care, and the loop, the counts and the latencies are what is tested).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <string>
#include <vector>

#include "luks2ext/benchmark.h"
#include "luks2ext/unique_fd.h"

namespace luks2ext {
namespace {

constexpr uint64_t kFileBytes = 4 * 1024 * 1024;

class IoEngineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // The build directory (the test's working directory) first, then /var/tmp, then /tmp.
    for (std::string dir : {std::string("."), std::string("/var/tmp"), std::string("/tmp")}) {
      path_ = dir + "/zc-bench-XXXXXX";
      std::vector<char> name(path_.begin(), path_.end());
      name.push_back('\0');
      const int fd = mkstemp(name.data());
      if (fd < 0) continue;
      path_ = name.data();
      if (ftruncate(fd, kFileBytes) != 0) {
        close(fd);
        unlink(path_.c_str());
        continue;
      }
      close(fd);
      break;
    }
    fd_.Reset(open(path_.c_str(), O_RDWR | O_DIRECT | O_CLOEXEC));
    if (!fd_.valid()) fd_.Reset(open(path_.c_str(), O_RDWR | O_CLOEXEC));
    ASSERT_TRUE(fd_.valid()) << path_;
  }
  void TearDown() override { unlink(path_.c_str()); }

  std::string path_;
  UniqueFd fd_;
};

TEST_F(IoEngineTest, ReadsAndWritesAtBothDepths) {
  for (bool write : {false, true}) {
    for (uint32_t depth : {1u, 32u}) {
      IoWorkload w{write, depth, 4096, 0.3};
      int calls = 0;
      auto run = RunIoWorkload(fd_.get(), kFileBytes, w, nullptr, [&](double) { ++calls; });
      ASSERT_TRUE(run.ok()) << w.Label() << ": " << run.error().message();
      EXPECT_GT(run->ios, 0u) << w.Label();
      EXPECT_EQ(run->latencies_ns.size(), run->ios);
      EXPECT_GE(run->elapsed_s, 0.3);
      // Stops at its duration rather than running on; the bound is loose because a loaded
      // machine (the sanitizer run beside two guests) stretches the last I/Os' completion.
      EXPECT_LT(run->elapsed_s, 60.0);
      const IoStats s = Summarize(std::move(*run));
      EXPECT_GT(s.iops, 0);
      EXPECT_GE(s.p99_us, 0);
    }
  }
}

TEST_F(IoEngineTest, StopFlagInterrupts) {
  volatile sig_atomic_t stop = 1;
  auto run = RunIoWorkload(fd_.get(), kFileBytes, IoWorkload{false, 4, 4096, 10}, &stop, {});
  ASSERT_FALSE(run.ok());
  EXPECT_EQ(run.error().code(), ExitCode::kWrongParameters);
}

TEST_F(IoEngineTest, ShortReadIsAWrongDevice) {
  // A span larger than the file: reads past its end come back short.
  auto run =
      RunIoWorkload(fd_.get(), kFileBytes * 1024, IoWorkload{false, 1, 4096, 0.5}, nullptr, {});
  ASSERT_FALSE(run.ok());
  EXPECT_EQ(run.error().code(), ExitCode::kWrongDevice);
}

TEST_F(IoEngineTest, RefusesAnEmptySpan) {
  auto run = RunIoWorkload(fd_.get(), 100, IoWorkload{}, nullptr, {});
  ASSERT_FALSE(run.ok());
  EXPECT_EQ(run.error().code(), ExitCode::kWrongParameters);
}

}  // namespace
}  // namespace luks2ext
