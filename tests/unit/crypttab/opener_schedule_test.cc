// RunOpeners, the schedule of `crypttab open --all`, over a scripted process table: the memory
// budget, and the error paths fork() and wait4() can take (a start that fails, EINTR, ECHILD).
// The CLI runs it with forked openers in src/crypttab_scheduler.cc.
#include <gtest/gtest.h>

#include <cerrno>
#include <deque>
#include <map>
#include <vector>

#include "luks2ext/opener_schedule.h"

namespace luks2ext {
namespace {

// Openers that end in the order they started, with the exit code the script gives each job.
// Start fails (EAGAIN) for job `fail_start_at`; WaitAny first returns the errors queued in
// `wait_errors`, one per call, and ECHILD once nothing it started is left.
class ScriptedOpeners : public OpenerProcesses {
 public:
  ScriptedOpeners(std::vector<uint64_t> memory, std::vector<int> exit_codes)
      : memory_(std::move(memory)), exit_codes_(std::move(exit_codes)) {}

  int Start(size_t index) override {
    ++start_calls;
    if (index == fail_start_at) {
      errno = EAGAIN;
      return -1;
    }
    const int pid = 1000 + static_cast<int>(index);
    running_.push_back(pid);
    reserved_ += memory_[index];
    most_at_once = std::max(most_at_once, reserved_);
    started.push_back(index);
    return pid;
  }

  int WaitAny(int* exit_code, long* peak_kib) override {
    ++wait_calls;
    if (!wait_errors.empty()) {
      errno = wait_errors.front();
      wait_errors.pop_front();
      return -1;
    }
    if (running_.empty()) {
      errno = ECHILD;
      return -1;
    }
    const int pid = running_.front();
    running_.pop_front();
    const size_t index = static_cast<size_t>(pid - 1000);
    reserved_ -= memory_[index];
    *exit_code = exit_codes_[index];
    *peak_kib = 100 + static_cast<long>(index);
    return pid;
  }

  size_t still_running() const { return running_.size(); }

  size_t fail_start_at = SIZE_MAX;
  std::deque<int> wait_errors;
  std::vector<size_t> started;
  uint64_t most_at_once = 0;
  int start_calls = 0;
  int wait_calls = 0;

 private:
  std::vector<uint64_t> memory_;
  std::vector<int> exit_codes_;
  std::deque<int> running_;
  uint64_t reserved_ = 0;
};

struct Ended {
  std::vector<size_t> order;
  std::map<size_t, OpenerOutcome> outcome;
};

OpenerRun RunScripted(ScriptedOpeners& openers, const std::vector<uint64_t>& memory,
                      uint64_t budget, Ended* ended) {
  return RunOpeners(memory, budget, openers, [&](size_t index, const OpenerResult& result) {
    ended->order.push_back(index);
    ended->outcome[index] = result.outcome;
  });
}

size_t Count(const OpenerRun& run, OpenerOutcome outcome) {
  size_t n = 0;
  for (const OpenerResult& r : run.results) n += r.outcome == outcome;
  return n;
}

TEST(CrypttabOpenAll, EveryOpenerEndsAndTheBudgetBoundsThoseAtOnce) {
  const std::vector<uint64_t> memory = {3, 3, 3, 3, 10, 1};
  ScriptedOpeners openers(memory, {0, 2, 0, 0, 1, 0});
  Ended ended;
  const OpenerRun run = RunScripted(openers, memory, 7, &ended);
  EXPECT_TRUE(run.status.ok());
  ASSERT_EQ(run.results.size(), 6u);
  EXPECT_EQ(Count(run, OpenerOutcome::kOpened), 4u);
  EXPECT_EQ(Count(run, OpenerOutcome::kFailed), 2u);
  EXPECT_EQ(run.results[1].exit_code, 2);
  EXPECT_EQ(run.results[4].outcome, OpenerOutcome::kFailed);
  EXPECT_EQ(run.results[3].peak_kib, 103);
  EXPECT_EQ(ended.order.size(), 6u);
  EXPECT_EQ(openers.still_running(), 0u);
  // Two of 3 fit in 7; the job of 10 runs alone, over the budget.
  EXPECT_EQ(openers.most_at_once, 10u);
  EXPECT_EQ(run.most_reserved, 10u);
}

TEST(CrypttabOpenAll, NoBudgetOverflowWithHugeJobs) {
  const std::vector<uint64_t> memory = {UINT64_MAX, UINT64_MAX, 5};
  ScriptedOpeners openers(memory, {0, 0, 0});
  Ended ended;
  const OpenerRun run = RunScripted(openers, memory, UINT64_MAX - 1, &ended);
  EXPECT_TRUE(run.status.ok());
  EXPECT_EQ(Count(run, OpenerOutcome::kOpened), 3u);
  EXPECT_EQ(openers.most_at_once, UINT64_MAX);  // each alone, never summed past 2^64
}

TEST(CrypttabOpenAll, AFailedStartStartsNoMoreButWaitsForTheRunningOnes) {
  const std::vector<uint64_t> memory = {1, 1, 1, 1};
  ScriptedOpeners openers(memory, {0, 1, 0, 0});
  openers.fail_start_at = 2;
  Ended ended;
  const OpenerRun run = RunScripted(openers, memory, 100, &ended);
  ASSERT_FALSE(run.status.ok());
  EXPECT_EQ(run.status.error().code(), ExitCode::kOutOfMemory);
  EXPECT_NE(run.status.error().message().find("opener"), std::string::npos);
  EXPECT_EQ(openers.start_calls, 3);       // nothing after the failure
  EXPECT_EQ(openers.still_running(), 0u);  // both started ones waited for
  EXPECT_EQ(run.results[0].outcome, OpenerOutcome::kOpened);
  EXPECT_EQ(run.results[1].outcome, OpenerOutcome::kFailed);
  EXPECT_EQ(run.results[2].outcome, OpenerOutcome::kNotStarted);
  EXPECT_EQ(run.results[3].outcome, OpenerOutcome::kNotStarted);
  EXPECT_EQ(ended.order, (std::vector<size_t>{0, 1}));
}

TEST(CrypttabOpenAll, AFailedFirstStartReturnsAtOnce) {
  const std::vector<uint64_t> memory = {1, 1};
  ScriptedOpeners openers(memory, {0, 0});
  openers.fail_start_at = 0;
  Ended ended;
  const OpenerRun run = RunScripted(openers, memory, 100, &ended);
  ASSERT_FALSE(run.status.ok());
  EXPECT_EQ(openers.wait_calls, 0);
  EXPECT_EQ(Count(run, OpenerOutcome::kNotStarted), 2u);
  EXPECT_TRUE(ended.order.empty());
}

TEST(CrypttabOpenAll, AnInterruptedWaitIsRetried) {
  const std::vector<uint64_t> memory = {1, 1, 1};
  ScriptedOpeners openers(memory, {0, 0, 3});
  openers.wait_errors = {EINTR, EINTR, EINTR};
  Ended ended;
  const OpenerRun run = RunScripted(openers, memory, 100, &ended);
  EXPECT_TRUE(run.status.ok());
  EXPECT_EQ(Count(run, OpenerOutcome::kOpened), 2u);
  EXPECT_EQ(run.results[2].outcome, OpenerOutcome::kFailed);
  EXPECT_EQ(openers.still_running(), 0u);
  EXPECT_EQ(openers.wait_calls, 6);
}

TEST(CrypttabOpenAll, OpenersReapedBehindItsBackAreLostNotOpened) {
  // Budget 2: jobs 0 and 1 run, 2 waits. Job 0 is seen to end, then wait4() says ECHILD.
  const std::vector<uint64_t> memory = {1, 1, 1, 1};
  ScriptedOpeners openers(memory, {0, 0, 0, 0});
  Ended ended;
  struct EchildAfterFirst : OpenerProcesses {
    ScriptedOpeners* inner;
    int waits = 0;
    int Start(size_t index) override { return inner->Start(index); }
    int WaitAny(int* exit_code, long* peak_kib) override {
      if (waits++ == 0) return inner->WaitAny(exit_code, peak_kib);
      errno = ECHILD;
      return -1;
    }
  } processes;
  processes.inner = &openers;
  const OpenerRun run = RunOpeners(memory, 2, processes, [&](size_t index, const OpenerResult&) {
    ended.order.push_back(index);
  });
  ASSERT_FALSE(run.status.ok());
  EXPECT_NE(run.status.error().message().find("wait"), std::string::npos);
  EXPECT_EQ(run.results[0].outcome, OpenerOutcome::kOpened);  // seen to end with 0
  EXPECT_EQ(run.results[1].outcome, OpenerOutcome::kLost);
  EXPECT_EQ(run.results[2].outcome, OpenerOutcome::kLost);  // started after job 0 ended
  EXPECT_EQ(run.results[3].outcome, OpenerOutcome::kNotStarted);
  EXPECT_EQ(ended.order, (std::vector<size_t>{0}));
  EXPECT_EQ(Count(run, OpenerOutcome::kOpened), 1u);
}

TEST(CrypttabOpenAll, AnUnknownProcessIsIgnored) {
  const std::vector<uint64_t> memory = {1};
  ScriptedOpeners openers(memory, {0});
  struct StrayFirst : OpenerProcesses {
    ScriptedOpeners* inner;
    bool stray_sent = false;
    int Start(size_t index) override { return inner->Start(index); }
    int WaitAny(int* exit_code, long* peak_kib) override {
      if (!stray_sent) {
        stray_sent = true;
        *exit_code = 0;
        return 4242;
      }
      return inner->WaitAny(exit_code, peak_kib);
    }
  } processes;
  processes.inner = &openers;
  const OpenerRun run = RunOpeners(memory, 10, processes, nullptr);
  EXPECT_TRUE(run.status.ok());
  EXPECT_EQ(run.results[0].outcome, OpenerOutcome::kOpened);
  EXPECT_EQ(openers.still_running(), 0u);
}

TEST(CrypttabOpenAll, NoJobs) {
  ScriptedOpeners openers({}, {});
  const OpenerRun run = RunOpeners({}, 10, openers, nullptr);
  EXPECT_TRUE(run.status.ok());
  EXPECT_TRUE(run.results.empty());
  EXPECT_EQ(openers.wait_calls, 0);
}

}  // namespace
}  // namespace luks2ext
