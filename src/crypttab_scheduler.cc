#include "crypttab_scheduler.h"

#include <fmt/core.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>

#include "actions.h"
#include "crypttab_open.h"
#include "i18n.h"
#include "luks2ext/activation.h"
#include "luks2ext/fd_io.h"
#include "luks2ext/number.h"
#include "passphrase.h"
#include "protect_secrets.h"
#include "scoped_signal.h"

namespace zcryptsetup {

using luks2ext::CrypttabEntry;
using luks2ext::Error;
using luks2ext::OpenerOutcome;
using luks2ext::OpenerResult;
using luks2ext::OpenerRun;
using luks2ext::Status;

namespace {

// The real OpenerProcesses: a forked child runs OpenCrypttabEntry for its job and exits with
// its exit code; wait4() gives that code and the child's own peak memory, measured by the
// kernel.
class ForkedOpeners : public luks2ext::OpenerProcesses {
 public:
  ForkedOpeners(const std::vector<CrypttabJob>& jobs, const Options& options)
      : jobs_(jobs), options_(options) {}

  int Start(size_t index) override {
    const CrypttabJob& job = jobs_[index];
    // Nothing buffered may be printed twice, by the parent and again by the child.
    std::fflush(stdout);
    std::fflush(stderr);
    const pid_t pid = fork();
    if (pid == 0) {
      // Memory locks are not inherited across fork(2); the opener unlocks a volume key.
      ProtectSecrets(options_);
      const Status status =
          OpenCrypttabEntry(*job.entry, job.device, job.passphrase, options_.test_passphrase);
      if (!status.ok()) fmt::print(stderr, "{}: {}\n", job.entry->name, status.error().message());
      std::fflush(stderr);
      _exit(status.ok() ? 0 : static_cast<int>(status.error().code()));
    }
    return pid;
  }

  int WaitAny(int* exit_code, long* peak_kib) override {
    int wstatus = 0;
    rusage usage{};
    const pid_t pid = wait4(-1, &wstatus, 0, &usage);
    if (pid < 0) return -1;
    // Killed by a signal: not opened, reported as the generic failure.
    *exit_code = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : 1;
    *peak_kib = usage.ru_maxrss;
    return pid;
  }

 private:
  const std::vector<CrypttabJob>& jobs_;
  const Options& options_;
};

// Every entry that is not opened is reported when that is known; the run fails with the first
// such entry that has no nofail (nofail: reported, but boot goes on).
class Failures {
 public:
  void Add(const CrypttabEntry& entry, const Error& error) {
    fmt::print(stderr, "{}\n", FormatMsg(_("{}: not opened: {}"), entry.name, error.message()));
    if (entry.options.nofail) return;
    if (first_.ok()) first_ = error;
  }
  const Status& first() const { return first_; }

 private:
  Status first_;
};

// --- Preparation: in the parent, one entry after the other ---------------------------------

struct Preparation {
  std::vector<CrypttabJob> jobs;
  size_t attempted = 0;  // entries that were to be opened: the summary counts from these
};

// Passphrases are asked for here, one drive after the other, before any child runs.
Status AskPassphrase(CrypttabJob& job) {
  ASSIGN_OR_RETURN(
      luks2ext::Secret passphrase,
      ReadPassphrase(
          {}, FormatMsg(_("Enter passphrase for {} ({}): "), job.entry->name, job.device), false));
  job.passphrase.emplace(std::move(passphrase));
  return Status::Ok();
}

Preparation PrepareJobs(const std::vector<CrypttabEntry>& entries, Failures& failures) {
  Preparation prepared;
  for (const CrypttabEntry& entry : entries) {
    if (entry.options.noauto) continue;
    if (luks2ext::MappingExists(entry.name)) {
      fmt::print(stdout, "{}\n", FormatMsg(_("{}: already active"), entry.name));
      continue;
    }
    ++prepared.attempted;
    CrypttabJob job;
    Status status = PrepareCrypttabJob(entry, job);
    // Through the agents each opener asks for itself, in parallel (each question has its id).
    // An entry that tries tokens first, or never asks (headless=), is not asked for up front.
    if (status.ok() && entry.key_file.empty() && !AsksThroughAgent(entry) && !job.tries_tokens &&
        !entry.options.headless)
      status = AskPassphrase(job);
    if (!status.ok()) {
      failures.Add(entry, status.error());
      continue;
    }
    prepared.jobs.push_back(std::move(job));
  }
  return prepared;
}

// --- Scheduling: the openers run, and each end is printed as it comes ----------------------

void ReportEnd(const CrypttabJob& job, const OpenerResult& result, size_t done, size_t total,
               Failures& failures) {
  const CrypttabEntry& entry = *job.entry;
  if (result.outcome == OpenerOutcome::kOpened) {
    fmt::print(
        stdout, "{}\n",
        (entry.options.force_inline
             ? FormatMsg(_("[{}/{}] {}: opened ({}, inline)"), done, total, entry.name, job.device)
             : FormatMsg(_("[{}/{}] {}: opened ({})"), done, total, entry.name, job.device)));
    std::fflush(stdout);
    return;
  }
  fmt::print(stdout, "{}\n", FormatMsg(_("[{}/{}] {}: failed"), done, total, entry.name));
  std::fflush(stdout);
  failures.Add(entry, Error(static_cast<luks2ext::ExitCode>(result.exit_code),
                            FormatMsg(_("exit code {}"), result.exit_code)));
}

OpenerRun RunJobs(std::vector<CrypttabJob>& jobs, uint64_t budget, const Options& options,
                  Failures& failures) {
  std::vector<uint64_t> memory;
  for (const CrypttabJob& job : jobs) memory.push_back(job.memory);
  size_t done = 0;
  ForkedOpeners processes(jobs, options);
  return luks2ext::RunOpeners(memory, budget, processes,
                              [&](size_t index, const OpenerResult& result) {
                                CrypttabJob& job = jobs[index];
                                ++done;
                                if (job.passphrase) job.passphrase->Wipe();
                                ReportEnd(job, result, done, jobs.size(), failures);
                              });
}

// --- Reporting: what did not run, then the summary ------------------------------------------

// Jobs the run could not start or lost track of: not opened, and said so.
void ReportNotRun(const std::vector<CrypttabJob>& jobs, const OpenerRun& run, Failures& failures) {
  for (size_t i = 0; i < jobs.size(); ++i) {
    const OpenerOutcome outcome = run.results[i].outcome;
    if (outcome == OpenerOutcome::kNotStarted || outcome == OpenerOutcome::kLost)
      failures.Add(*jobs[i].entry, run.status.ok()
                                       ? Error::WrongParameters(_("its opener did not run."))
                                       : run.status.error());
  }
}

void PrintSummary(const OpenerRun& run, size_t attempted, uint64_t budget, double seconds) {
  size_t opened = 0;
  long largest_kib = 0;
  for (const OpenerResult& result : run.results) {
    largest_kib = std::max(largest_kib, result.peak_kib);
    if (result.outcome == OpenerOutcome::kOpened) ++opened;
  }
  fmt::print(stdout, "{}\n",
             FormatMsg(_("Opened {} of {} drives in {:.1f} s; PBKDF memory budget {} MiB, most "
                         "reserved at once {} MiB, largest opener {} MiB."),
                       opened, attempted, seconds, budget >> 20, run.most_reserved >> 20,
                       largest_kib >> 10));
  std::fflush(stdout);
}

}  // namespace

// The line is "MemAvailable:   <KiB> kB"; its number goes through the one strict parser, so
// nothing the file says can wrap the budget.
uint64_t DefaultMemoryBudget() {
  constexpr std::string_view kKey = "MemAvailable:";
  // The text outlives the view into it (value_or returns a temporary).
  const std::string meminfo = luks2ext::ReadKernelText("/proc/meminfo").value_or("");
  if (const auto field = luks2ext::KernelTextField(meminfo, kKey)) {
    const size_t begin = field->find_first_not_of(' ');
    if (begin != std::string_view::npos) {
      const std::string_view digits = field->substr(begin, field->find(' ', begin) - begin);
      if (const auto kib = luks2ext::ParseDecimalAtMost(digits, UINT64_MAX / 1024))
        return *kib * 1024 / 2;
    }
  }
  return 1ULL << 30;
}

Status OpenAll(const std::vector<CrypttabEntry>& entries, uint64_t budget, const Options& options) {
  const auto started = std::chrono::steady_clock::now();
  Failures failures;
  Preparation prepared = PrepareJobs(entries, failures);
  DefaultSigchld sigchld;
  const OpenerRun run = RunJobs(prepared.jobs, budget, options, failures);
  ReportNotRun(prepared.jobs, run, failures);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  PrintSummary(run, prepared.attempted, budget, seconds);
  return failures.first();
}

}  // namespace zcryptsetup
