#include "luks2ext/opener_schedule.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>

#include "base/i18n.h"
#include "luks2ext/fd_io.h"

namespace luks2ext {

OpenerRun RunOpeners(const std::vector<uint64_t>& memory, uint64_t budget,
                     OpenerProcesses& processes,
                     const std::function<void(size_t, const OpenerResult&)>& on_end) {
  OpenerRun run;
  run.results.resize(memory.size());
  std::map<int, size_t> running;  // process id -> job
  uint64_t in_use = 0;
  size_t next = 0;
  bool may_start = true;
  while (true) {
    // Start what fits; a job larger than the whole budget runs alone.
    while (may_start && next < memory.size() &&
           (running.empty() || memory[next] <= budget - std::min(in_use, budget))) {
      const int id = processes.Start(next);
      if (id <= 0) {
        // Resources are short (EAGAIN, ENOMEM): start nothing more, but wait for those
        // running; the rest stay kNotStarted.
        run.status = Error::OutOfMemory(
            FormatMsg(_("Cannot start an opener process: {}."), std::strerror(errno)));
        may_start = false;
        break;
      }
      running.emplace(id, next);
      in_use += memory[next];
      run.most_reserved = std::max(run.most_reserved, in_use);
      ++next;
    }
    if (running.empty()) break;

    int exit_code = 0;
    long peak_kib = 0;
    // A signal interrupting the wait changes nothing: wait again.
    const int id = RetryOnEintr([&] { return processes.WaitAny(&exit_code, &peak_kib); });
    if (id < 0) {
      // ECHILD: the openers were reaped behind our back (SIGCHLD ignored), so how they ended
      // is unknown. None of them may count as opened.
      const int err = errno;
      for (const auto& [pid, job] : running) run.results[job].outcome = OpenerOutcome::kLost;
      if (run.status.ok())
        run.status = Error::WrongParameters(
            FormatMsg(_("Cannot wait for the opener processes: {}."), std::strerror(err)));
      break;
    }
    const auto it = running.find(id);
    if (it == running.end()) continue;  // not one of ours
    const size_t job = it->second;
    running.erase(it);
    in_use -= memory[job];
    OpenerResult& result = run.results[job];
    result.outcome = exit_code == 0 ? OpenerOutcome::kOpened : OpenerOutcome::kFailed;
    result.exit_code = exit_code;
    result.peak_kib = peak_kib;
    if (on_end) on_end(job, result);
  }
  return run;
}

}  // namespace luks2ext
