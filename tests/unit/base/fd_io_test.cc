#include "luks2ext/fd_io.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <pthread.h>
#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <optional>
#include <string>
#include <thread>

#include "luks2ext/unique_fd.h"

namespace luks2ext {
namespace {

struct Pipe {
  Pipe() {
    int fds[2];
    EXPECT_EQ(::pipe2(fds, O_CLOEXEC), 0);
    read_end.Reset(fds[0]);
    write_end.Reset(fds[1]);
  }
  UniqueFd read_end;
  UniqueFd write_end;
};

TEST(FdIoTest, ReadFullContinuesShortReads) {
  Pipe pipe;
  std::thread writer([&] {
    ASSERT_EQ(::write(pipe.write_end.get(), "ab", 2), 2);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    ASSERT_EQ(::write(pipe.write_end.get(), "cd", 2), 2);
  });
  char buffer[4] = {};
  const FdTransfer transfer = ReadFull(pipe.read_end.get(), buffer, sizeof buffer);
  writer.join();
  EXPECT_TRUE(transfer.complete());
  EXPECT_EQ(transfer.done, 4u);
  EXPECT_EQ(std::string(buffer, 4), "abcd");
}

TEST(FdIoTest, ReadFullReportsEndOfFileApartFromErrors) {
  Pipe pipe;
  ASSERT_EQ(::write(pipe.write_end.get(), "ab", 2), 2);
  pipe.write_end.Reset();
  char buffer[4] = {};
  const FdTransfer at_end = ReadFull(pipe.read_end.get(), buffer, sizeof buffer);
  EXPECT_FALSE(at_end.complete());
  EXPECT_TRUE(at_end.end);
  EXPECT_EQ(at_end.error, 0);
  EXPECT_EQ(at_end.done, 2u);

  const FdTransfer failed = ReadFull(-1, buffer, sizeof buffer);
  EXPECT_FALSE(failed.complete());
  EXPECT_FALSE(failed.end);
  EXPECT_EQ(failed.error, EBADF);
  EXPECT_EQ(failed.done, 0u);
}

TEST(FdIoTest, PositionalTransfersUseTheOffset) {
  UniqueFd file(::memfd_create("fd_io_test", MFD_CLOEXEC));
  ASSERT_TRUE(file.valid());
  EXPECT_TRUE(PwriteFull(file.get(), "xyz", 3, 100).complete());
  char buffer[3] = {};
  EXPECT_TRUE(PreadFull(file.get(), buffer, 3, 100).complete());
  EXPECT_EQ(std::string(buffer, 3), "xyz");
  const FdTransfer past_end = PreadFull(file.get(), buffer, 3, 102);
  EXPECT_TRUE(past_end.end);
  EXPECT_EQ(past_end.done, 1u);
}

TEST(FdIoTest, WriteFullReportsTheErrno) {
  UniqueFd full(::open("/dev/full", O_WRONLY | O_CLOEXEC));
  if (!full.valid()) GTEST_SKIP() << "no /dev/full";
  const FdTransfer transfer = WriteFull(full.get(), "x", 1);
  EXPECT_FALSE(transfer.complete());
  EXPECT_EQ(transfer.error, ENOSPC);
  EXPECT_EQ(WriteFull(-1, "x", 1).error, EBADF);
  EXPECT_TRUE(WriteFull(full.get(), "", 0).complete());  // nothing to write: no call at all
}

std::atomic<int> interruptions{0};
void CountInterruption(int) { interruptions.fetch_add(1); }

// A signal whose handler has no SA_RESTART makes a blocked read(2) fail with EINTR.
TEST(FdIoTest, ReadFullRetriesAfterASignal) {
  struct sigaction action {}, saved{};
  action.sa_handler = CountInterruption;
  sigemptyset(&action.sa_mask);
  action.sa_flags = 0;
  ASSERT_EQ(::sigaction(SIGUSR1, &action, &saved), 0);
  Pipe pipe;
  char buffer[2] = {};
  FdTransfer transfer;
  std::atomic<bool> started{false};
  std::thread reader([&] {
    started = true;
    transfer = ReadFull(pipe.read_end.get(), buffer, sizeof buffer);
  });
  while (!started) std::this_thread::yield();
  const int before = interruptions.load();
  for (int i = 0; i < 3; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    ::pthread_kill(reader.native_handle(), SIGUSR1);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  ASSERT_EQ(::write(pipe.write_end.get(), "ok", 2), 2);
  reader.join();
  ::sigaction(SIGUSR1, &saved, nullptr);
  EXPECT_GT(interruptions.load(), before);
  EXPECT_TRUE(transfer.complete()) << std::strerror(transfer.error);
  EXPECT_EQ(std::string(buffer, 2), "ok");
}

TEST(RetryOnEintrTest, RetriesOnlyEintr) {
  int calls = 0;
  const int result = RetryOnEintr([&] {
    ++calls;
    if (calls < 3) {
      errno = EINTR;
      return -1;
    }
    return 7;
  });
  EXPECT_EQ(result, 7);
  EXPECT_EQ(calls, 3);

  calls = 0;
  const int failed = RetryOnEintr([&] {
    ++calls;
    errno = EBADF;
    return -1;
  });
  EXPECT_EQ(failed, -1);
  EXPECT_EQ(errno, EBADF);
  EXPECT_EQ(calls, 1);
}

// /proc files report a size of 0 and arrive in pieces: the whole text comes back, up to the
// limit, and a path that cannot be opened is nullopt, not an empty text.
TEST(ReadKernelTextTest, ReadsAProcFileWholeAndStopsAtTheLimit) {
  const std::optional<std::string> status = ReadKernelText("/proc/self/status");
  ASSERT_TRUE(status.has_value());
  EXPECT_EQ(status->rfind("Name:", 0), 0u);
  EXPECT_NE(status->find("\nPid:"), std::string::npos);

  const std::optional<std::string> head = ReadKernelText("/proc/self/status", 5);
  ASSERT_TRUE(head.has_value());
  EXPECT_EQ(*head, "Name:");

  EXPECT_FALSE(ReadKernelText("/proc/self/no-such-file").has_value());
}

TEST(KernelTextFieldTest, TheRestOfTheFirstLineWithThePrefix) {
  const std::string_view text = "MAJOR=259\nDEVNAME=nvme0n1\nDEVNAME=second\nDEVTYPE=disk";
  EXPECT_EQ(KernelTextField(text, "DEVNAME="), std::optional<std::string_view>("nvme0n1"));
  EXPECT_EQ(KernelTextField(text, "DEVTYPE="), std::optional<std::string_view>("disk"));
  // A prefix matches at a line's start only.
  EXPECT_FALSE(KernelTextField("cancelled_write_bytes: 7\n", "write_bytes: ").has_value());
  EXPECT_FALSE(KernelTextField(text, "DISKSEQ=").has_value());
  EXPECT_FALSE(KernelTextField("", "DEVNAME=").has_value());
}

}  // namespace
}  // namespace luks2ext
