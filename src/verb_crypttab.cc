// crypttab open|close|check|list: drives from /etc/crypttab (crypttab(5)).
//
// `open --all` opens drives in parallel, one child process per drive (libcryptsetup keeps
// process-wide backend state, so processes, not threads). The sum of the PBKDF memory of the
// openers running at once stays under a budget: argon2 may ask for up to 1 GiB per drive, and
// 60 drives at boot must not exhaust memory. Each child's real peak memory comes back through
// wait4(), so the printed peak is measured, not estimated.
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <iostream>

#include "actions.h"
#include "i18n.h"
#include "luks2ext/activation.h"
#include "luks2ext/crypttab.h"
#include "luks2ext/volume.h"

namespace zcryptsetup {

using luks2ext::CrypttabEntry;
using luks2ext::Error;
using luks2ext::Secret;
using luks2ext::Status;

namespace {

// Half of what the kernel calls available: the default budget for PBKDF memory at once.
uint64_t DefaultMemoryBudget() {
  std::ifstream meminfo("/proc/meminfo");
  std::string key;
  uint64_t kib = 0;
  std::string unit;
  while (meminfo >> key >> kib >> unit)
    if (key == "MemAvailable:") return kib * 1024 / 2;
  return 1ULL << 30;
}

std::string Where(const std::string& path, int line) { return FormatMsg("{}:{}", path, line); }

Result<std::vector<CrypttabEntry>> LoadEntries(const std::string& path, bool report_problems) {
  std::vector<luks2ext::CrypttabProblem> problems;
  ASSIGN_OR_RETURN(std::vector<CrypttabEntry> entries,
                   luks2ext::ParseCrypttabFile(path, &problems));
  if (report_problems)
    for (const auto& problem : problems)
      std::cerr << Where(path, problem.line) << ": " << problem.message << '\n';
  return entries;
}

luks2ext::ActivationRequest RequestFor(const CrypttabEntry& entry) {
  luks2ext::ActivationRequest request;
  request.name = entry.name;
  request.read_only = entry.options.read_only;
  request.allow_discards = entry.options.discard;
  if (entry.options.force_inline) request.inline_mode = luks2ext::InlineMode::kWorkqueueFlags;
  request.no_read_workqueue = entry.options.no_read_workqueue;
  request.no_write_workqueue = entry.options.no_write_workqueue;
  return request;
}

// One drive, prepared in the parent: where it is, what its unlock costs, its passphrase when
// it must be asked for.
struct Job {
  const CrypttabEntry* entry = nullptr;
  std::string device;
  uint64_t memory = 0;  // bytes the unlock may take
  std::optional<Secret> passphrase;
};

Status Prepare(const CrypttabEntry& entry, Job& job) {
  job.entry = &entry;
  if (!entry.options.header.empty())
    return Error::WrongParameters(FormatMsg(
        _("{}: header= (a detached header) is not supported by zcryptsetup; let "
          "systemd-cryptsetup open this entry."),
        entry.name));
  ASSIGN_OR_RETURN(job.device, luks2ext::ResolveCrypttabDevice(entry.device));
  ASSIGN_OR_RETURN(auto device, luks2ext::OpenBlockDevice(job.device, false));
  ASSIGN_OR_RETURN(auto volume,
                   luks2ext::Volume::Open(*device, luks2ext::Volume::ReadScope::kForOpen));
  job.memory = std::max<uint64_t>(volume->unlock_memory_kib() * 1024, 1ULL << 20);
  return Status::Ok();
}

// Unlocks and maps one entry; asks for the passphrase (entry's tries) when there is no key file.
Status OpenEntry(const CrypttabEntry& entry, const std::string& device_path,
                 const std::optional<Secret>& given) {
  ASSIGN_OR_RETURN(auto device, luks2ext::OpenBlockDevice(device_path, false));
  ASSIGN_OR_RETURN(auto volume,
                   luks2ext::Volume::Open(*device, luks2ext::Volume::ReadScope::kForOpen));
  PrintWarnings(*volume, entry.name + ": ");
  const luks2ext::ActivationRequest request = RequestFor(entry);
  if (given) return volume->Activate(request, *given);
  PassphraseSource source{entry.key_file, entry.options.keyfile_offset,
                          entry.options.keyfile_size};
  const bool asking = entry.key_file.empty();
  const unsigned tries = asking && InteractiveInput() ? entry.options.tries : 1;
  for (unsigned attempt = 1;; ++attempt) {
    ASSIGN_OR_RETURN(const Secret passphrase,
                     ReadPassphrase(source, FormatMsg(_("Enter passphrase for {} ({}): "),
                                                      entry.name, device_path),
                                    false));
    Status status = volume->Activate(request, passphrase);
    if (status.ok() || status.error().code() != luks2ext::ExitCode::kNoPermission ||
        (tries != 0 && attempt >= tries))
      return status;
    std::cerr << status.error().message() << '\n';
  }
}

// The real OpenerProcesses: a forked child runs OpenEntry for its job and exits with its
// exit code; wait4() gives that code and the child's own peak memory, measured by the kernel.
class ForkedOpeners : public luks2ext::OpenerProcesses {
 public:
  ForkedOpeners(const std::vector<Job>& jobs, const Options& options)
      : jobs_(jobs), options_(options) {}

  int Start(size_t index) override {
    const Job& job = jobs_[index];
    std::cout.flush();
    std::cerr.flush();
    const pid_t pid = fork();
    if (pid == 0) {
      // Memory locks are not inherited across fork(2); the opener unlocks a volume key.
      ProtectSecrets(options_);
      const Status status = OpenEntry(*job.entry, job.device, job.passphrase);
      if (!status.ok()) std::cerr << job.entry->name << ": " << status.error().message() << '\n';
      std::cerr.flush();
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
  const std::vector<Job>& jobs_;
  const Options& options_;
};

// SIGCHLD set to "ignore" (inherited through exec from whoever started us) makes the kernel
// reap the openers itself, and their exit codes are lost. Default handling while they run.
class DefaultSigchld {
 public:
  DefaultSigchld() {
    struct sigaction dfl {};
    dfl.sa_handler = SIG_DFL;
    sigemptyset(&dfl.sa_mask);
    restore_ = sigaction(SIGCHLD, &dfl, &saved_) == 0;
  }
  ~DefaultSigchld() {
    if (restore_) sigaction(SIGCHLD, &saved_, nullptr);
  }
  DefaultSigchld(const DefaultSigchld&) = delete;
  DefaultSigchld& operator=(const DefaultSigchld&) = delete;

 private:
  struct sigaction saved_ {};
  bool restore_ = false;
};

Status OpenAll(const std::vector<CrypttabEntry>& entries, uint64_t budget, const Options& options) {
  const auto started = std::chrono::steady_clock::now();
  std::vector<Job> jobs;
  Status first_failure;
  size_t attempted = 0;  // entries that were to be opened: the summary counts from these
  auto fail = [&](const CrypttabEntry& entry, const Error& error) {
    std::cerr << FormatMsg(_("{}: not opened: {}"), entry.name, error.message()) << '\n';
    if (entry.options.nofail) return;  // nofail: reported, but boot goes on
    if (first_failure.ok()) first_failure = error;
  };
  for (const CrypttabEntry& entry : entries) {
    if (entry.options.noauto) continue;
    if (luks2ext::MappingExists(entry.name)) {
      std::cout << FormatMsg(_("{}: already active"), entry.name) << '\n';
      continue;
    }
    ++attempted;
    Job job;
    if (Status s = Prepare(entry, job); !s.ok()) {
      fail(entry, s.error());
      continue;
    }
    if (entry.key_file.empty()) {
      // Passphrases are asked for here, one drive after the other, before any child runs.
      auto passphrase = ReadPassphrase(
          {}, FormatMsg(_("Enter passphrase for {} ({}): "), entry.name, job.device), false);
      if (!passphrase.ok()) {
        fail(entry, passphrase.error());
        continue;
      }
      job.passphrase.emplace(std::move(passphrase).value());
    }
    jobs.push_back(std::move(job));
  }

  std::vector<uint64_t> memory;
  for (const Job& job : jobs) memory.push_back(job.memory);
  size_t done = 0;
  DefaultSigchld sigchld;
  ForkedOpeners processes(jobs, options);
  const luks2ext::OpenerRun run = luks2ext::RunOpeners(
      memory, budget, processes, [&](size_t index, const luks2ext::OpenerResult& result) {
        Job& job = jobs[index];
        ++done;
        if (job.passphrase) job.passphrase->Wipe();
        if (result.outcome == luks2ext::OpenerOutcome::kOpened) {
          std::cout << FormatMsg(_("[{}/{}] {}: opened ({}{})"), done, jobs.size(), job.entry->name,
                                 job.device, job.entry->options.force_inline ? _(", inline") : "")
                    << std::endl;
          return;
        }
        std::cout << FormatMsg(_("[{}/{}] {}: failed"), done, jobs.size(), job.entry->name)
                  << std::endl;
        fail(*job.entry, Error(static_cast<luks2ext::ExitCode>(result.exit_code),
                               FormatMsg(_("exit code {}"), result.exit_code)));
      });
  // Jobs the run could not start or lost track of: not opened, and said so.
  size_t opened = 0;
  long largest_kib = 0;
  for (size_t i = 0; i < jobs.size(); ++i) {
    const luks2ext::OpenerResult& result = run.results[i];
    largest_kib = std::max(largest_kib, result.peak_kib);
    if (result.outcome == luks2ext::OpenerOutcome::kOpened) ++opened;
    if (result.outcome == luks2ext::OpenerOutcome::kNotStarted ||
        result.outcome == luks2ext::OpenerOutcome::kLost)
      fail(*jobs[i].entry, run.status.ok() ? Error::WrongParameters(_("its opener did not run."))
                                           : run.status.error());
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  std::cout << FormatMsg(_("Opened {} of {} drives in {:.1f} s; PBKDF memory budget {} MiB, "
                           "most reserved at once {} MiB, largest opener {} MiB."),
                         opened, attempted, seconds, budget >> 20, run.most_reserved >> 20,
                         largest_kib >> 10)
            << std::endl;
  return first_failure;
}

}  // namespace

const std::vector<SubVerbHelp>& CrypttabSubVerbs() {
  static const std::vector<SubVerbHelp> sub_verbs = {
      {"open", N_("<name>|--all"), N_("open drives listed in /etc/crypttab")},
      {"close", N_("<name>|--all"), N_("close them")},
      {"check", "", N_("report every bad crypttab line")},
      {"list", "", N_("list the entries and their state")},
  };
  return sub_verbs;
}

Status ActionCrypttab(const Invocation& call) {
  const Options& o = call.options;
  const std::string& verb = call.args[0];
  const std::string path = o.crypttab.empty() ? luks2ext::kDefaultCrypttabPath : o.crypttab;
  const std::string name = call.args.size() > 1 ? call.args[1] : "";
  if ((verb == "open" || verb == "close") && name.empty() == !o.all)
    return Error::WrongParameters(
        FormatMsg(_("Usage: zcryptsetup crypttab {} <name>|--all [--crypttab <file>]"), verb));
  if ((verb == "check" || verb == "list") && (!name.empty() || o.all))
    return Error::WrongParameters(
        FormatMsg(_("Usage: zcryptsetup crypttab {} [--crypttab <file>]"), verb));

  if (verb == "check") {
    std::vector<luks2ext::CrypttabProblem> problems;
    ASSIGN_OR_RETURN(auto entries, luks2ext::ParseCrypttabFile(path, &problems));
    for (const auto& problem : problems)
      std::cout << Where(path, problem.line) << ": " << problem.message << '\n';
    for (const CrypttabEntry& entry : entries)
      for (const std::string& option : entry.options.ignored)
        std::cout << Where(path, entry.line)
                  << FormatMsg(_(": warning: unknown option '{}' is ignored"), option) << '\n';
    std::cout << FormatMsg(_("{}: {} entries, {} bad lines"), path, entries.size(),
                           problems.size())
              << '\n';
    if (!problems.empty())
      return Error::WrongParameters(FormatMsg(_("{} has {} bad lines."), path, problems.size()));
    return Status::Ok();
  }
  ASSIGN_OR_RETURN(const std::vector<CrypttabEntry> entries, LoadEntries(path, verb != "list"));
  if (verb == "list") {
    std::cout << FormatMsg("{:<16} {:<40} {:<8} {}\n", _("NAME"), _("DEVICE"), _("STATE"),
                           _("OPTIONS"));
    for (const CrypttabEntry& entry : entries) {
      std::string options;
      const auto& op = entry.options;
      for (auto [set, word] : {std::pair{op.force_inline, "force-inline"},
                               {op.read_only, "read-only"}, {op.discard, "discard"},
                               {op.noauto, "noauto"}, {op.nofail, "nofail"}})
        if (set) options += (options.empty() ? "" : ",") + std::string(word);
      std::cout << FormatMsg("{:<16} {:<40} {:<8} {}\n", entry.name, entry.device,
                             luks2ext::MappingExists(entry.name) ? _("active") : _("inactive"),
                             options);
    }
    return Status::Ok();
  }
  if (verb == "open") {
    if (o.all)
      return OpenAll(entries, o.memory_budget ? o.memory_budget : DefaultMemoryBudget(), o);
    const CrypttabEntry* entry = luks2ext::FindCrypttabEntry(entries, name);
    if (!entry)
      return Error::WrongParameters(FormatMsg(_("No entry named {} in {}."), name, path));
    Job job;
    RETURN_IF_ERROR(Prepare(*entry, job));
    return OpenEntry(*entry, job.device, std::nullopt);
  }
  if (verb == "close") {
    if (!o.all) {
      if (!luks2ext::FindCrypttabEntry(entries, name))
        return Error::WrongParameters(FormatMsg(_("No entry named {} in {}."), name, path));
      return luks2ext::Deactivate(name);
    }
    Status first_failure;
    for (auto it = entries.rbegin(); it != entries.rend(); ++it) {
      if (!luks2ext::MappingExists(it->name)) continue;
      if (Status s = luks2ext::Deactivate(it->name); !s.ok()) {
        std::cerr << it->name << ": " << s.error().message() << '\n';
        if (first_failure.ok()) first_failure = s;
      } else {
        std::cout << FormatMsg(_("{}: closed"), it->name) << '\n';
      }
    }
    return first_failure;
  }
  return Error::WrongParameters(
      FormatMsg(_("Unknown crypttab action {}: use open, close, check or list."), verb));
}

}  // namespace zcryptsetup
