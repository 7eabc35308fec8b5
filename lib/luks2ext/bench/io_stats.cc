// The pure half of the benchmark: statistics, the verdict, option checks. No I/O.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <sstream>

#include "base/i18n.h"
#include "luks2ext/benchmark.h"

namespace luks2ext {

std::string IoWorkload::Label() const {
  return fmt::format("rand{}-qd{}", write ? "write" : "read", queue_depth);
}

std::optional<CpuTicks> ParseProcStat(const std::string& text) {
  std::istringstream in(text);
  std::string label;
  if (!(in >> label) || label != "cpu") return std::nullopt;
  // user nice system idle iowait irq softirq steal (guest and guest_nice are inside user).
  uint64_t field[8] = {};
  int read = 0;
  while (read < 8 && (in >> field[read])) ++read;
  if (read < 4) return std::nullopt;
  CpuTicks ticks;
  const uint64_t idle = field[3] + field[4];
  ticks.busy = field[0] + field[1] + field[2] + field[5] + field[6] + field[7];
  ticks.total = ticks.busy + idle;
  return ticks;
}

void IoRun::Merge(IoRun&& other) {
  ios += other.ios;
  elapsed_s += other.elapsed_s;
  cpu_busy_s += other.cpu_busy_s;
  latencies_ns.insert(latencies_ns.end(), other.latencies_ns.begin(), other.latencies_ns.end());
}

uint64_t Percentile(std::vector<uint64_t>& values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  // Nearest rank: the smallest value with at least p% of the values at or below it.
  const double rank = std::ceil(p / 100.0 * static_cast<double>(values.size()));
  const size_t index = rank < 1 ? 0 : static_cast<size_t>(rank) - 1;
  return values[std::min(index, values.size() - 1)];
}

IoStats Summarize(IoRun run) {
  IoStats stats;
  stats.ios = run.ios;
  if (run.elapsed_s > 0) stats.iops = static_cast<double>(run.ios) / run.elapsed_s;
  if (!run.latencies_ns.empty()) {
    const long double sum = std::accumulate(run.latencies_ns.begin(), run.latencies_ns.end(), 0.0L);
    stats.mean_us = static_cast<double>(sum / run.latencies_ns.size() / 1000.0L);
    stats.p99_us = static_cast<double>(Percentile(run.latencies_ns, 99)) / 1000.0;
  }
  if (run.ios > 0) stats.cpu_us_per_io = run.cpu_busy_s * 1e6 / static_cast<double>(run.ios);
  return stats;
}

const char* BenchModeName(BenchMode mode) {
  switch (mode) {
    case BenchMode::kWorkqueue:
      return "workqueue";
    case BenchMode::kInline:
      return "inline";
    case BenchMode::kNative:
      return "native";
  }
  return "?";
}

Result<ModeSelection> ParseBenchModes(const std::string& text) {
  if (text.empty() || text == "auto")
    return ModeSelection{{BenchMode::kWorkqueue, BenchMode::kInline}, true};
  ModeSelection selection;
  std::istringstream in(text);
  std::string name;
  while (std::getline(in, name, ',')) {
    std::optional<BenchMode> mode;
    for (BenchMode m : {BenchMode::kWorkqueue, BenchMode::kInline, BenchMode::kNative})
      if (name == BenchModeName(m)) mode = m;
    if (!mode || std::count(selection.modes.begin(), selection.modes.end(), *mode) > 0)
      return Error::WrongParameters(FormatMsg(
          _("Invalid --benchmark-modes '{}': a comma-separated list of workqueue, inline and "
            "native, each at most once, or auto."),
          text));
    selection.modes.push_back(*mode);
  }
  if (selection.modes.empty() || text.back() == ',')
    return Error::WrongParameters(
        FormatMsg(_("Invalid --benchmark-modes '{}': the list is empty."), text));
  return selection;
}

std::optional<std::pair<std::string, std::string>> SplitCipherSpec(const std::string& spec) {
  const size_t dash = spec.find('-');
  if (dash == std::string::npos || dash == 0 || dash + 1 >= spec.size()) return std::nullopt;
  std::string mode = spec.substr(dash + 1);
  if (const size_t iv = mode.find('-'); iv != std::string::npos) mode.resize(iv);
  if (mode.empty()) return std::nullopt;
  return std::make_pair(spec.substr(0, dash), mode);
}

Status CheckInlineBenchOptions(const InlineBenchOptions& options) {
  if (options.seconds < 1 || options.seconds > 3600)
    return Error::WrongParameters(_("--benchmark-seconds must be from 1 to 3600."));
  if (options.rounds < 1 || options.rounds > 100)
    return Error::WrongParameters(_("--rounds must be from 1 to 100."));
  if (!SplitCipherSpec(options.cipher))
    return Error::WrongParameters(FormatMsg(
        _("Invalid cipher '{}': use cipher-mode-iv, e.g. aes-xts-plain64."), options.cipher));
  if (options.key_bits == 0 || options.key_bits % 8 != 0 || options.key_bits > 1024)
    return Error::WrongParameters(_("--key-size must be a multiple of 8, at most 1024."));
  return Status::Ok();
}

namespace {

std::string WorkloadPhrase(const IoWorkload& w) {
  return fmt::format("random {} QD{}", w.write ? "writes" : "reads", w.queue_depth);
}

}  // namespace

double RelativeSpreadPct(const std::vector<double>& values) {
  if (values.size() < 2) return 0;
  const auto [low, high] = std::minmax_element(values.begin(), values.end());
  const double mean = std::accumulate(values.begin(), values.end(), 0.0) / values.size();
  return mean > 0 ? (*high - *low) / mean * 100 : 0;
}

std::string Verdict(const std::string& name, const ModeResult& baseline,
                    const ModeResult& candidate, double threshold_pct) {
  // Differences beyond the noise (the threshold and the rounds' spread) are the finding; the
  // rest are listed apart, "within noise".
  std::vector<std::string> clear, unclear;
  bool gains = false, losses = false;
  double within = threshold_pct;
  for (const WorkloadResult& c : candidate.workloads) {
    for (const WorkloadResult& b : baseline.workloads) {
      if (b.workload.Label() != c.workload.Label() || b.stats.iops <= 0) continue;
      const double delta = (c.stats.iops / b.stats.iops - 1) * 100;
      const double noise = std::max({threshold_pct, b.round_spread_pct, c.round_spread_pct});
      within = std::max(within, noise);
      gains = gains || delta >= noise;
      losses = losses || delta <= -noise;
      (std::abs(delta) >= noise ? clear : unclear)
          .push_back(fmt::format("{} {:+.0f}%", WorkloadPhrase(c.workload), delta));
    }
  }
  auto join = [](const std::vector<std::string>& items, const char* first_suffix) {
    std::string text;
    for (const std::string& item : items) text += text.empty() ? item + first_suffix : ", " + item;
    return text;
  };
  if (clear.empty() && unclear.empty()) return fmt::format("{}: nothing to compare", name);
  if (clear.empty())
    return fmt::format("{}: no clear difference (within {:.0f}%): {}", name, within,
                       join(unclear, " IOPS"));
  const char* finding = !losses ? "helps" : !gains ? "hurts" : "mixed";
  std::string text = fmt::format("{} {}: {}", name, finding, join(clear, " IOPS"));
  if (!unclear.empty()) text += fmt::format(" (within noise: {})", join(unclear, ""));
  return text;
}

}  // namespace luks2ext
