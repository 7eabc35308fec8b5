// The benchmark's pure half: statistics, the verdict, option checks, the JSON shape.
#include <gtest/gtest.h>

#include "luks2/json.h"
#include "luks2ext/benchmark.h"

namespace luks2ext {
namespace {

TEST(PercentileTest, NearestRank) {
  std::vector<uint64_t> values;
  for (uint64_t v = 100; v >= 1; --v) values.push_back(v);  // 1..100, unsorted
  EXPECT_EQ(Percentile(values, 99), 99u);
  EXPECT_EQ(Percentile(values, 100), 100u);
  EXPECT_EQ(Percentile(values, 50), 50u);
  std::vector<uint64_t> one = {7};
  EXPECT_EQ(Percentile(one, 99), 7u);
  std::vector<uint64_t> none;
  EXPECT_EQ(Percentile(none, 99), 0u);
  // 1,000 values: p99 is the 990th smallest.
  std::vector<uint64_t> thousand;
  for (uint64_t v = 1; v <= 1000; ++v) thousand.push_back(v * 1000);
  EXPECT_EQ(Percentile(thousand, 99), 990000u);
}

TEST(SummarizeTest, IopsMeanP99AndCpuPerIo) {
  IoRun run;
  run.ios = 200;
  run.elapsed_s = 2;
  run.cpu_busy_s = 0.01;
  // 197 at 10 us, then 1, 1 and 2 ms: the 198th of 200 (p99, nearest rank) is 1 ms.
  for (int i = 0; i < 197; ++i) run.latencies_ns.push_back(10000);
  run.latencies_ns.push_back(1000000);
  run.latencies_ns.push_back(2000000);
  run.latencies_ns.push_back(1000000);
  const IoStats s = Summarize(run);
  EXPECT_EQ(s.ios, 200u);
  EXPECT_DOUBLE_EQ(s.iops, 100);
  EXPECT_NEAR(s.mean_us, (197 * 10.0 + 1000 + 1000 + 2000) / 200, 1e-9);
  EXPECT_DOUBLE_EQ(s.p99_us, 1000);
  EXPECT_DOUBLE_EQ(s.cpu_us_per_io, 50);
}

TEST(SummarizeTest, EmptyRunIsAllZero) {
  const IoStats s = Summarize(IoRun{});
  EXPECT_EQ(s.iops, 0);
  EXPECT_EQ(s.mean_us, 0);
  EXPECT_EQ(s.p99_us, 0);
  EXPECT_EQ(s.cpu_us_per_io, 0);
}

TEST(IoRunTest, MergeAddsCountsTimesAndLatencies) {
  IoRun a{10, 1.0, 0.5, {1, 2}};
  a.Merge(IoRun{5, 0.5, 0.25, {3}});
  EXPECT_EQ(a.ios, 15u);
  EXPECT_DOUBLE_EQ(a.elapsed_s, 1.5);
  EXPECT_DOUBLE_EQ(a.cpu_busy_s, 0.75);
  EXPECT_EQ(a.latencies_ns, (std::vector<uint64_t>{1, 2, 3}));
}

TEST(ProcStatTest, BusyLeavesOutIdleAndIowait) {
  const auto t = ParseProcStat("cpu  100 5 50 1000 20 3 7 2 0 0\ncpu0 1 2 3 4\n");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->busy, 100u + 5 + 50 + 3 + 7 + 2);
  EXPECT_EQ(t->total, t->busy + 1000 + 20);
  EXPECT_FALSE(ParseProcStat("cpu0 1 2 3 4\n"));
  EXPECT_FALSE(ParseProcStat("cpu 1 2\n"));
  EXPECT_FALSE(ParseProcStat(""));
}

ModeResult Mode(BenchMode mode, double read_qd1, double write_qd1) {
  ModeResult m{mode, true, "", {}};
  m.workloads.push_back({IoWorkload{false, 1}, IoStats{1, read_qd1}});
  m.workloads.push_back({IoWorkload{true, 1}, IoStats{1, write_qd1}});
  return m;
}

TEST(VerdictTest, HelpsHurtsMixedAndNoDifference) {
  const ModeResult base = Mode(BenchMode::kWorkqueue, 1000, 2500);
  EXPECT_EQ(Verdict("inline", base, Mode(BenchMode::kInline, 1040, 3125)),
            "inline helps: random writes QD1 +25% IOPS (within noise: random reads QD1 +4%)");
  EXPECT_EQ(Verdict("inline", base, Mode(BenchMode::kInline, 800, 2500)),
            "inline hurts: random reads QD1 -20% IOPS (within noise: random writes QD1 +0%)");
  EXPECT_EQ(Verdict("native", base, Mode(BenchMode::kNative, 800, 3000)),
            "native mixed: random reads QD1 -20% IOPS, random writes QD1 +20%");
  EXPECT_EQ(Verdict("inline", base, Mode(BenchMode::kInline, 1010, 2450)),
            "inline: no clear difference (within 5%): random reads QD1 +1% IOPS, random "
            "writes QD1 -2%");
  EXPECT_EQ(Verdict("inline", base, Mode(BenchMode::kInline, 1010, 2450), 1),
            "inline mixed: random reads QD1 +1% IOPS, random writes QD1 -2%");
  EXPECT_EQ(Verdict("inline", ModeResult{}, Mode(BenchMode::kInline, 1, 1)),
            "inline: nothing to compare");
}

TEST(VerdictTest, RoundSpreadRaisesTheBar) {
  ModeResult base = Mode(BenchMode::kWorkqueue, 1000, 2500);
  ModeResult noisy = Mode(BenchMode::kInline, 1040, 3125);
  noisy.workloads[1].round_spread_pct = 30;  // writes: +25% inside a 30% spread
  EXPECT_EQ(Verdict("inline", base, noisy),
            "inline: no clear difference (within 30%): random reads QD1 +4% IOPS, random "
            "writes QD1 +25%");
  base.workloads[1].round_spread_pct = 20;  // below the gain: it counts again
  noisy.workloads[1].round_spread_pct = 0;
  EXPECT_EQ(Verdict("inline", base, noisy),
            "inline helps: random writes QD1 +25% IOPS (within noise: random reads QD1 +4%)");
}

TEST(SpreadTest, MaxMinusMinOverMean) {
  EXPECT_DOUBLE_EQ(RelativeSpreadPct({90, 110}), 20);
  EXPECT_DOUBLE_EQ(RelativeSpreadPct({100}), 0);
  EXPECT_DOUBLE_EQ(RelativeSpreadPct({}), 0);
  EXPECT_DOUBLE_EQ(RelativeSpreadPct({0, 0}), 0);
}

TEST(BenchModesTest, ParsesListsAndAuto) {
  auto automatic = ParseBenchModes("auto");
  ASSERT_TRUE(automatic.ok());
  EXPECT_EQ(automatic->modes, (std::vector<BenchMode>{BenchMode::kWorkqueue, BenchMode::kInline}));
  EXPECT_TRUE(automatic->native_if_supported);
  EXPECT_TRUE(ParseBenchModes("")->native_if_supported);
  auto listed = ParseBenchModes("native,workqueue");
  ASSERT_TRUE(listed.ok());
  EXPECT_EQ(listed->modes, (std::vector<BenchMode>{BenchMode::kNative, BenchMode::kWorkqueue}));
  EXPECT_FALSE(listed->native_if_supported);
  for (const char* bad : {"foo", "inline,inline", "inline,", ",inline", "workqueue,,inline",
                          "Inline", "auto,native"}) {
    auto parsed = ParseBenchModes(bad);
    ASSERT_FALSE(parsed.ok()) << bad;
    EXPECT_EQ(parsed.error().code(), ExitCode::kWrongParameters) << bad;
  }
}

TEST(InlineBenchOptionsTest, Bounds) {
  InlineBenchOptions good;
  EXPECT_TRUE(CheckInlineBenchOptions(good).ok());
  auto bad = [](auto change) {
    InlineBenchOptions o;
    change(o);
    const Status s = CheckInlineBenchOptions(o);
    return !s.ok() && s.error().code() == ExitCode::kWrongParameters;
  };
  EXPECT_TRUE(bad([](InlineBenchOptions& o) { o.seconds = 0; }));
  EXPECT_TRUE(bad([](InlineBenchOptions& o) { o.seconds = 3601; }));
  EXPECT_TRUE(bad([](InlineBenchOptions& o) { o.rounds = 0; }));
  EXPECT_TRUE(bad([](InlineBenchOptions& o) { o.rounds = 101; }));
  EXPECT_TRUE(bad([](InlineBenchOptions& o) { o.cipher = "aes"; }));
  EXPECT_TRUE(bad([](InlineBenchOptions& o) { o.cipher = "-xts"; }));
  EXPECT_TRUE(bad([](InlineBenchOptions& o) { o.key_bits = 0; }));
  EXPECT_TRUE(bad([](InlineBenchOptions& o) { o.key_bits = 100; }));
}

TEST(CipherSpecTest, Splits) {
  EXPECT_EQ(SplitCipherSpec("aes-xts-plain64"),
            std::make_pair(std::string("aes"), std::string("xts")));
  EXPECT_EQ(SplitCipherSpec("serpent-cbc"),
            std::make_pair(std::string("serpent"), std::string("cbc")));
  EXPECT_FALSE(SplitCipherSpec("aes"));
  EXPECT_FALSE(SplitCipherSpec("aes-"));
}

TEST(InlineBenchJsonTest, Shape) {
  InlineBenchReport report{"/dev/ram0", true, "aes-xts-plain64", 512, 2, 2, {}, "inline helps"};
  report.modes.push_back(Mode(BenchMode::kWorkqueue, 1000, 2470.2));
  report.modes.push_back({BenchMode::kNative, false, "not supported by this kernel", {}});
  const std::string text = InlineBenchJson(report);
  auto parsed = ParseJsonText(text);
  ASSERT_TRUE(parsed) << text;
  json_object* root = parsed->get();
  json_object *modes, *wq, *workloads, *write, *iops, *native, *supported, *note, *verdict;
  ASSERT_TRUE(json_object_object_get_ex(root, "modes", &modes));
  ASSERT_TRUE(json_object_object_get_ex(modes, "workqueue", &wq));
  ASSERT_TRUE(json_object_object_get_ex(wq, "workloads", &workloads));
  ASSERT_TRUE(json_object_object_get_ex(workloads, "randwrite-qd1", &write));
  ASSERT_TRUE(json_object_object_get_ex(write, "iops", &iops));
  EXPECT_DOUBLE_EQ(json_object_get_double(iops), 2470.2);
  EXPECT_NE(text.find("2470.2"), std::string::npos);
  EXPECT_EQ(text.find("2470.19"), std::string::npos);
  for (const char* key : {"rw", "queue_depth", "block_bytes", "ios", "mean_us", "p99_us",
                          "cpu_us_per_io", "round_spread_pct"})
    EXPECT_TRUE(json_object_object_get_ex(write, key, nullptr)) << key;
  ASSERT_TRUE(json_object_object_get_ex(modes, "native", &native));
  ASSERT_TRUE(json_object_object_get_ex(native, "supported", &supported));
  EXPECT_FALSE(json_object_get_boolean(supported));
  ASSERT_TRUE(json_object_object_get_ex(native, "note", &note));
  EXPECT_STREQ(json_object_get_string(note), "not supported by this kernel");
  ASSERT_TRUE(json_object_object_get_ex(root, "verdict", &verdict));
  EXPECT_STREQ(json_object_get_string(verdict), "inline helps");
  for (const char* key :
       {"device", "scratch", "read_only", "cipher", "key_bits", "seconds", "rounds"})
    EXPECT_TRUE(json_object_object_get_ex(root, key, nullptr)) << key;
}

}  // namespace
}  // namespace luks2ext
