// The schedule of `crypttab open --all`: one opener process per drive, as many at once as
// their PBKDF memory allows. The CLI (src/crypttab_scheduler.cc) prepares the jobs, forks the
// openers and reports; this is the part with the error paths worth a table of tests.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <vector>

#include "luks2ext/error.h"

namespace luks2ext {

// How many openers run at once is bounded by the PBKDF memory their unlocks may take. The
// schedule is kept apart from fork() and wait4() (OpenerProcesses) so that its error paths, a
// start that fails and a wait that is interrupted or finds no child, are tested with a script.

class OpenerProcesses {
 public:
  virtual ~OpenerProcesses() = default;
  // Starts the opener of job `index`: its process id (> 0), or -1 with errno set.
  virtual int Start(size_t index) = 0;
  // Waits for any started opener to end: its id, with *exit_code (0: opened; killed by a
  // signal counts as a failure) and *peak_kib (its peak resident memory); or -1 with errno.
  virtual int WaitAny(int* exit_code, long* peak_kib) = 0;
};

enum class OpenerOutcome {
  kNotStarted,  // never run: a start failed first, or waiting failed first
  kOpened,      // ended with exit code 0
  kFailed,      // ended with another exit code
  kLost,        // started, but its end could not be waited for (ECHILD): not opened
};

struct OpenerResult {
  OpenerOutcome outcome = OpenerOutcome::kNotStarted;
  int exit_code = 0;
  long peak_kib = 0;
};

struct OpenerRun {
  std::vector<OpenerResult> results;  // one per job, in job order
  uint64_t most_reserved = 0;         // the largest memory sum of openers running at once
  // Ok, or why some jobs are kNotStarted or kLost: a start or a wait that failed.
  Status status;
};

// Runs one opener per job; job i's unlock may take memory[i] bytes. Jobs start in order while
// the memory of the running ones stays within `budget` (a job larger than the budget runs
// alone). A wait interrupted by a signal (EINTR) is retried. When a start fails, no further
// job starts, but every running opener is still waited for; when waiting fails otherwise,
// the running openers are kLost. So it returns only when every job is accounted for, and no
// job is kOpened unless its opener was seen to exit with 0. on_end(i, result) is called as
// each opener ends, in the order they end.
OpenerRun RunOpeners(const std::vector<uint64_t>& memory, uint64_t budget,
                     OpenerProcesses& processes,
                     const std::function<void(size_t, const OpenerResult&)>& on_end);

}  // namespace luks2ext
