// The inline benchmark: the same device mapped in each mode in turn, round after round, the
// same workloads through each, and the comparison.
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/random.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>

#include "activation/activate.h"
#include "base/i18n.h"
#include "bench/bench_mapping.h"
#include "luks2ext/unique_fd.h"

namespace luks2ext {
namespace {

constexpr uint64_t kScratchMib = 256;

Result<Secret> RandomKey(size_t bytes) {
  Secret key = Secret::Zeroed(bytes);
  if (getrandom(key.data(), bytes, 0) != static_cast<ssize_t>(bytes))
    return Error::OutOfMemory(_("Cannot get random bytes for the benchmark key."));
  return key;
}

std::vector<IoWorkload> Workloads(bool writes, double seconds) {
  std::vector<IoWorkload> list;
  for (bool write : {false, true}) {
    if (write && !writes) continue;
    for (uint32_t depth : {1u, 32u}) list.push_back({write, depth, 4096, seconds});
  }
  return list;
}

// Whether this kernel runs `mode`: the flags need dm-crypt 1.22; native needs the patched
// module, which only creating a mapping shows (then removed at once). Rejected: the reason.
Result<std::optional<std::string>> Unsupported(const MappingSpec& spec, BenchMode mode) {
  if (mode == BenchMode::kInline) {
    const Status s = CheckInlineSupport(spec.dm_crypt, InlineMode::kWorkqueueFlags);
    if (!s.ok()) return std::optional<std::string>(s.error().message());
  }
  if (mode != BenchMode::kNative) return std::optional<std::string>();
  Result<BenchMapping> probe = BenchMapping::Create(spec, mode);
  if (probe.ok()) return std::optional<std::string>();
  if (probe.error().code() == ExitCode::kWrongParameters)
    return std::optional<std::string>(_("not supported by this kernel"));
  return probe.error();
}

struct Measurement {
  std::map<std::string, IoRun> runs;  // by workload label
  std::map<std::string, std::vector<double>> round_iops;
};

Status MeasureMode(const MappingSpec& spec, BenchMode mode, const std::vector<IoWorkload>& list,
                   uint32_t round, uint32_t rounds, const volatile sig_atomic_t* stop,
                   const std::function<void(const BenchProgress&)>& progress, Measurement& into) {
  ASSIGN_OR_RETURN(BenchMapping mapping, BenchMapping::Create(spec, mode));
  UniqueFd fd(
      open(mapping.path().c_str(), (spec.read_only ? O_RDONLY : O_RDWR) | O_DIRECT | O_CLOEXEC));
  if (!fd.valid())
    return Error::WrongDevice(
        FormatMsg(_("Cannot open {}: {}."), mapping.path(), std::strerror(errno)));
  for (const IoWorkload& w : list) {
    auto report = [&](double fraction) {
      if (progress) progress({mode, w.Label(), round, rounds, fraction});
    };
    report(0);
    ASSIGN_OR_RETURN(IoRun run, RunIoWorkload(fd.get(), spec.device_bytes, w, stop, report));
    if (run.elapsed_s > 0)
      into.round_iops[w.Label()].push_back(static_cast<double>(run.ios) / run.elapsed_s);
    into.runs[w.Label()].Merge(std::move(run));
  }
  return Status::Ok();
}

// The modes to measure, each with whether this kernel runs it.
Result<std::vector<ModeResult>> ResolveModes(const InlineBenchOptions& options,
                                             const MappingSpec& spec) {
  std::vector<BenchMode> wanted = options.modes.modes;
  if (options.modes.native_if_supported &&
      std::find(wanted.begin(), wanted.end(), BenchMode::kNative) == wanted.end())
    wanted.push_back(BenchMode::kNative);
  std::vector<ModeResult> modes;
  for (BenchMode mode : wanted) {
    // A kernel that does not run a mode is a finding, not an error: "not supported".
    ASSIGN_OR_RETURN(std::optional<std::string> why, Unsupported(spec, mode));
    modes.push_back({mode, !why, why.value_or(""), {}});
  }
  return modes;
}

std::string BuildVerdict(const std::vector<ModeResult>& modes) {
  const ModeResult* base = nullptr;
  for (const ModeResult& m : modes)
    if (m.mode == BenchMode::kWorkqueue && m.supported) base = &m;
  if (!base) return _("no verdict: workqueue mode was not measured");
  std::string verdict;
  for (const ModeResult& m : modes) {
    if (m.mode == BenchMode::kWorkqueue || !m.supported) continue;
    verdict += (verdict.empty() ? "" : "; ") + Verdict(BenchModeName(m.mode), *base, m);
  }
  return verdict.empty() ? _("no verdict: nothing to compare with workqueue mode") : verdict;
}

}  // namespace

Result<InlineBenchReport> RunInlineBenchmark(
    const InlineBenchOptions& options, const volatile sig_atomic_t* stop,
    const std::function<void(const BenchProgress&)>& progress) {
  RETURN_IF_ERROR(CheckInlineBenchOptions(options));
  InlineBenchReport report{options.device,   options.device.empty(), options.cipher,
                           options.key_bits, options.seconds,        options.rounds};
  if (!report.scratch) RETURN_IF_ERROR(BlockDeviceBytes(report.device));  // before any module
  ASSIGN_OR_RETURN(CryptTargetVersion dm_crypt, QueryCryptTarget());
  std::optional<ScratchRamDisk> scratch;
  if (report.scratch) {
    ASSIGN_OR_RETURN(ScratchRamDisk disk, ScratchRamDisk::Create(kScratchMib));
    scratch.emplace(std::move(disk));
    report.device = scratch->path();
  }
  ASSIGN_OR_RETURN(Secret key, RandomKey(options.key_bits / 8));
  MappingSpec spec{fmt::format("zcryptsetup-bench-{}", getpid()),
                   report.device,
                   0,
                   options.cipher,
                   &key,
                   !report.scratch,
                   dm_crypt};
  ASSIGN_OR_RETURN(spec.device_bytes, BlockDeviceBytes(report.device));
  ASSIGN_OR_RETURN(report.modes, ResolveModes(options, spec));
  // Writes only on our own scratch disk: a user's device is mapped and opened read-only.
  const std::vector<IoWorkload> list = Workloads(report.scratch, options.seconds);
  std::map<BenchMode, Measurement> measured;
  for (uint32_t round = 1; round <= options.rounds; ++round) {
    std::vector<ModeResult*> order;
    for (ModeResult& m : report.modes)
      if (m.supported) order.push_back(&m);
    // Alternate which mode goes first, so that drift during a round hits them alike.
    if (round % 2 == 0) std::reverse(order.begin(), order.end());
    for (ModeResult* m : order)
      RETURN_IF_ERROR(MeasureMode(spec, m->mode, list, round, options.rounds, stop, progress,
                                  measured[m->mode]));
  }
  for (ModeResult& m : report.modes) {
    if (!m.supported) continue;
    Measurement& done = measured[m.mode];
    for (const IoWorkload& w : list)
      m.workloads.push_back({w, Summarize(std::move(done.runs[w.Label()])),
                             RelativeSpreadPct(done.round_iops[w.Label()])});
  }
  report.verdict = BuildVerdict(report.modes);
  return report;
}

}  // namespace luks2ext
