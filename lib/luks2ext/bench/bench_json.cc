// The inline benchmark's report as one JSON object (json-c), for scripts.
#include <fmt/format.h>
#include <json-c/json.h>

#include <cmath>

#include "luks2/json.h"
#include "luks2ext/benchmark.h"

namespace luks2ext {
namespace {

// Figures rounded to 0.1 (IOPS) or 0.01 (microseconds) keep the JSON readable.
// json_object_new_double_s keeps the text as given ("2470.2", not 2470.1999999999998).
json_object* Number(double value, int decimals) {
  const double v = std::isfinite(value) ? value : 0;
  return json_object_new_double_s(v, fmt::format("{:.{}f}", v, decimals).c_str());
}

json_object* StatsJson(const IoWorkload& w, const IoStats& s, double spread_pct) {
  json_object* o = json_object_new_object();
  json_object_object_add(o, "rw", json_object_new_string(w.write ? "randwrite" : "randread"));
  json_object_object_add(o, "queue_depth", json_object_new_int(static_cast<int>(w.queue_depth)));
  json_object_object_add(o, "block_bytes", json_object_new_int(static_cast<int>(w.block_bytes)));
  json_object_object_add(o, "ios", json_object_new_int64(static_cast<int64_t>(s.ios)));
  json_object_object_add(o, "iops", Number(s.iops, 1));
  json_object_object_add(o, "mean_us", Number(s.mean_us, 2));
  json_object_object_add(o, "p99_us", Number(s.p99_us, 2));
  json_object_object_add(o, "cpu_us_per_io", Number(s.cpu_us_per_io, 2));
  json_object_object_add(o, "round_spread_pct", Number(spread_pct, 1));
  return o;
}

json_object* ModeJson(const ModeResult& m) {
  json_object* o = json_object_new_object();
  json_object_object_add(o, "supported", json_object_new_boolean(m.supported));
  if (!m.note.empty()) json_object_object_add(o, "note", json_object_new_string(m.note.c_str()));
  json_object* workloads = json_object_new_object();
  for (const WorkloadResult& w : m.workloads)
    json_object_object_add(workloads, w.workload.Label().c_str(),
                           StatsJson(w.workload, w.stats, w.round_spread_pct));
  json_object_object_add(o, "workloads", workloads);
  return o;
}

}  // namespace

std::string InlineBenchJson(const InlineBenchReport& report) {
  JsonPtr root(json_object_new_object());
  json_object* o = root.get();
  json_object_object_add(o, "device", json_object_new_string(report.device.c_str()));
  json_object_object_add(o, "scratch", json_object_new_boolean(report.scratch));
  json_object_object_add(o, "read_only", json_object_new_boolean(!report.scratch));
  json_object_object_add(o, "cipher", json_object_new_string(report.cipher.c_str()));
  json_object_object_add(o, "key_bits", json_object_new_int(static_cast<int>(report.key_bits)));
  json_object_object_add(o, "seconds", Number(report.seconds, 1));
  json_object_object_add(o, "rounds", json_object_new_int(static_cast<int>(report.rounds)));
  json_object* modes = json_object_new_object();
  for (const ModeResult& m : report.modes)
    json_object_object_add(modes, BenchModeName(m.mode), ModeJson(m));
  json_object_object_add(o, "modes", modes);
  json_object_object_add(o, "verdict", json_object_new_string(report.verdict.c_str()));
  return json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED);
}

}  // namespace luks2ext
