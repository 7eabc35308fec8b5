#include "support/crash_harness.h"

#include <malloc.h>

#include <cstdlib>
#include <functional>
#include <iostream>
#include <map>
#include <set>
#include <utility>

namespace luks2ext::testing {
namespace {

// Every cut run allocates, fills and frees several MiB-sized buffers (images, memfd reads,
// zone chunks). glibc hands buffers that large out as fresh mmaps, so each run faulted every
// page in again, which dominated the crash tests' time; keep freed memory in the heap instead.
const bool kKeepFreedMemory = [] {
  mallopt(M_MMAP_THRESHOLD, 32 * 1024 * 1024);
  mallopt(M_TRIM_THRESHOLD, 512 * 1024 * 1024);
  return true;
}();

}  // namespace

// ---------------------------------------------------------------------------------------------
// The drive kinds

const std::vector<DriveKind>& DriveKinds() {
  static const std::vector<DriveKind> kinds = {
      {"host_managed", HostManaged(4096)},
      {"host_managed_512", HostManaged(512)},
      {"conventional_zones", HostManagedConventional()},
      {"zns_like", ZnsLike()},
      {"host_aware", HostAware()},
      {"not_zoned", NotZoned()},
  };
  return kinds;
}

std::string DriveKindName(const ::testing::TestParamInfo<DriveKind>& info) {
  return info.param.name;
}

// ---------------------------------------------------------------------------------------------
// What reached the drive

Status RecordingDevice::Write(uint64_t offset, std::span<const std::uint8_t> data) {
  calls_.push_back({Op::Kind::kWrite, offset, data.size()});
  return inner().Write(offset, data);
}
Status RecordingDevice::ResetZone(uint64_t zone_start) {
  calls_.push_back({Op::Kind::kReset, zone_start, 0});
  return inner().ResetZone(zone_start);
}
Status RecordingDevice::FinishZone(uint64_t zone_start) {
  calls_.push_back({Op::Kind::kFinish, zone_start, 0});
  return inner().FinishZone(zone_start);
}

uint64_t RecordingDevice::Count(Op::Kind kind) const {
  uint64_t n = 0;
  for (const Call& call : calls_) n += call.kind == kind;
  return n;
}

std::string DescribeCalls(const std::vector<RecordingDevice::Call>& calls) {
  uint64_t writes = 0, resets = 0, finishes = 0;
  for (const RecordingDevice::Call& call : calls) {
    writes += call.kind == Op::Kind::kWrite;
    resets += call.kind == Op::Kind::kReset;
    finishes += call.kind == Op::Kind::kFinish;
  }
  return std::to_string(writes) + " writes, " + std::to_string(resets) + " resets, " +
         std::to_string(finishes) + " finishes";
}

// ---------------------------------------------------------------------------------------------
// Where to cut

std::vector<Cut> CutsFor(const MemoryZonedDevice& dry, uint64_t first, Torn torn) {
  const uint32_t block = dry.geometry().logical_block_size;
  const auto& log = dry.op_log();
  std::vector<Cut> cuts;
  for (uint64_t i = first; i < log.size(); ++i) cuts.push_back({i, 0});
  if (torn == Torn::kNo) return cuts;
  for (uint64_t i = first; i < log.size(); ++i) {
    if (log[i].kind != Op::Kind::kWrite) continue;
    const uint64_t blocks = log[i].length / block;
    cuts.push_back({i, 1});
    if (blocks >= 3) cuts.push_back({i, blocks - 1});
  }
  return cuts;
}

std::string CutName(const Cut& cut, uint64_t first) {
  return "power cut at op " + std::to_string(cut.op) + " (op " + std::to_string(cut.op - first) +
         " of the run), " + std::to_string(cut.torn_blocks) + " block(s) of it persisted";
}

bool SameOp(const MemoryZonedDevice& run, const MemoryZonedDevice& dry, uint64_t op) {
  if (run.op_log().size() <= op || dry.op_log().size() <= op) return false;
  const Op& a = run.op_log()[op];
  const Op& b = dry.op_log()[op];
  return a.kind == b.kind && a.offset == b.offset && a.length == b.length;
}

// ---------------------------------------------------------------------------------------------
// Running cut

DryRun RecordDryRun(const MemoryZonedDevice& base, const Action& action) {
  DryRun dry;
  dry.device = base.Clone();
  dry.first = base.mutating_ops();
  RecordingDevice recorder(*dry.device);
  dry.status = action(recorder);
  dry.calls = recorder.calls();

  // Call for call, the recorder and the emulator's log tell the same run.
  const auto& log = dry.device->op_log();
  const std::string ops = DescribeOps(*dry.device, dry.first);
  EXPECT_EQ(log.size() - dry.first, dry.calls.size())
      << "the emulator logged " << log.size() - dry.first << " ops, the recorder saw "
      << DescribeCalls(dry.calls) << "; " << ops;
  for (uint64_t j = 0; j < dry.calls.size() && dry.first + j < log.size(); ++j) {
    const RecordingDevice::Call& call = dry.calls[j];
    const Op& op = log[dry.first + j];
    EXPECT_TRUE(call.kind == op.kind && call.offset == op.offset &&
                (call.kind != Op::Kind::kWrite || call.length == op.length))
        << "call " << j << " (" << OpName(call.kind) << "@" << call.offset << "+" << call.length
        << ") is not op " << dry.first + j << " of the log; " << ops;
  }
  return dry;
}

namespace {

// Every how many cuts one runs: 1 (all) unless ZC_CRASH_CUT_STRIDE or the build says otherwise.
// The sanitizer build samples (tests/unit/CMakeLists.txt): under ASan a cut run costs about
// seven times what it costs in the plain build, which runs every cut; what ASan adds is a
// check of memory use, and the code a cut run goes through is the same at every cut.
uint64_t CutStride() {
  static const uint64_t stride = [] {
#ifdef ZC_CRASH_CUT_STRIDE_DEFAULT
    uint64_t chosen = ZC_CRASH_CUT_STRIDE_DEFAULT;
#else
    uint64_t chosen = 1;
#endif
    if (const char* text = std::getenv("ZC_CRASH_CUT_STRIDE")) {
      char* end = nullptr;
      const unsigned long long value = std::strtoull(text, &end, 10);
      if (end != text && *end == '\0' && value >= 1 && value <= 1000) chosen = value;
    }
    return chosen;
  }();
  return stride;
}

// Which of `count` cuts this run takes: every stride-th (all of them at stride 1), from an
// offset that differs between tests and between the RunCuts calls of one test (a hash of
// both), so that the sampled cuts of all tests together spread over every position. Never
// none.
std::vector<size_t> SampledCuts(size_t count, uint64_t stride) {
  std::vector<size_t> picked;
  static std::map<std::string, uint64_t> calls_per_test;
  const ::testing::TestInfo* test = ::testing::UnitTest::GetInstance()->current_test_info();
  const std::string name =
      test ? std::string(test->test_suite_name()) + "." + test->name() : std::string();
  const uint64_t call = calls_per_test[name]++;
  const uint64_t offset = (std::hash<std::string>{}(name) + call) % stride;
  for (size_t i = offset; i < count; i += stride) picked.push_back(i);
  if (picked.empty() && count > 0) picked.push_back(offset % count);
  return picked;
}

struct SampleTotals {
  uint64_t listed = 0;
  uint64_t ran = 0;
};
SampleTotals& Sampled() {
  static SampleTotals totals;
  return totals;
}

}  // namespace

bool EveryCutRuns() { return CutStride() == 1; }

uint64_t RunCuts(const MemoryZonedDevice& base, const DryRun& dry, Torn torn,
                 const std::string& what, const Action& action, const AfterCut& after) {
  // What the recorded calls ask for, op by op: the prefixes (in blocks) to leave of each. A
  // whole-op cut leaves none; a torn write its first block and all but its last.
  const uint32_t block = base.geometry().logical_block_size;
  std::map<uint64_t, std::set<uint64_t>> wanted;
  uint64_t wanted_count = 0;
  for (uint64_t j = 0; j < dry.calls.size(); ++j) {
    std::set<uint64_t>& prefixes = wanted[dry.first + j];
    prefixes.insert(0);
    if (torn == Torn::kYes && dry.calls[j].kind == Op::Kind::kWrite) {
      const uint64_t blocks = dry.calls[j].length / block;
      prefixes.insert(1);
      if (blocks > 1) prefixes.insert(blocks - 1);
    }
    wanted_count += prefixes.size();
  }
  // The cut list, from the emulator's log, asks for exactly those: op by op, the same prefixes,
  // each once.
  const std::vector<Cut> cuts = CutsFor(*dry.device, dry.first, torn);
  EXPECT_EQ(cuts.size(), wanted_count)
      << what << ": the uncut run made " << DescribeCalls(dry.calls) << ", which ask for "
      << wanted_count << " cuts; " << cuts.size() << " are listed";
  std::map<uint64_t, std::set<uint64_t>> listed;
  for (const Cut& cut : cuts) listed[cut.op].insert(cut.torn_blocks);
  for (const auto& [op, prefixes] : wanted) {
    EXPECT_EQ(listed[op], prefixes)
        << what << ": op " << op << " (" << OpName(dry.calls[op - dry.first].kind)
        << ") is listed for cuts with other prefixes (in blocks) than its call asks for";
  }
  for (const auto& [op, prefixes] : listed)
    EXPECT_TRUE(wanted.count(op)) << what << ": a cut is listed at op " << op
                                  << ", no recorded call";

  // Each cut run: it fails, at the planned op, with the power off.
  const std::vector<size_t> picked = SampledCuts(cuts.size(), CutStride());
  uint64_t fired_count = 0;
  for (const size_t index : picked) {
    const Cut& cut = cuts[index];
    SCOPED_TRACE(what + ": " + CutName(cut, dry.first));
    auto device = base.Clone();
    device->CutPowerAt(cut.op, cut.torn_blocks);
    const Status s = action(*device);
    EXPECT_FALSE(s.ok()) << what << " survived a power cut at one of its own ops";
    EXPECT_FALSE(device->powered()) << "the cut never fired";
    const bool same = SameOp(*device, *dry.device, cut.op);
    EXPECT_TRUE(same) << "the cut run diverged from the uncut run before op " << cut.op << "; "
                      << DescribeOps(*device, dry.first);
    if (!s.ok() && !device->powered() && same) ++fired_count;
    device->PowerOn();
    after(cut, *device);
  }
  EXPECT_EQ(fired_count, picked.size())
      << what << ": the uncut run made " << DescribeCalls(dry.calls) << "; " << picked.size()
      << " cuts run, " << fired_count << " fired";
  Sampled().listed += cuts.size();
  Sampled().ran += picked.size();
  return fired_count;
}

// ---------------------------------------------------------------------------------------------
// Totals

namespace {

struct Totals {
  uint64_t points = 0;
  uint64_t repair_points = 0;
  uint64_t follow_up_points = 0;
  uint64_t runs = 0;
};

std::map<std::string, Totals>& AllTotals() {
  static std::map<std::string, Totals> totals;
  return totals;
}

// The totals, once every test has run.
class PrintTotals : public ::testing::Environment {
 public:
  void TearDown() override {
    Totals all;
    for (const auto& [family, t] : AllTotals()) {
      std::cout << "[ crash    ] total " << family << ": " << t.points << " points in " << t.runs
                << " runs (+ " << t.repair_points << " repair-crash points, "
                << t.follow_up_points << " follow-up points; "
                << t.points + t.repair_points + t.follow_up_points << " in all)\n";
      all.points += t.points + t.repair_points + t.follow_up_points;
      all.runs += t.runs;
    }
    if (AllTotals().size() > 1)
      std::cout << "[ crash    ] total: " << all.points << " power cuts in " << all.runs
                << " runs\n";
    if (Sampled().ran < Sampled().listed)
      std::cout << "[ crash    ] sampled: " << Sampled().ran << " of " << Sampled().listed
                << " listed cuts run (one in " << CutStride()
                << "; ZC_CRASH_CUT_STRIDE=1 runs them all, as the plain build does)\n";
  }
};
[[maybe_unused]] ::testing::Environment* const kPrintTotals =
    ::testing::AddGlobalTestEnvironment(new PrintTotals);

}  // namespace

void AddCrashRun(const std::string& family, uint64_t points, uint64_t repair_points,
                 uint64_t follow_up_points) {
  Totals& t = AllTotals()[family];
  t.points += points;
  t.repair_points += repair_points;
  t.follow_up_points += follow_up_points;
  ++t.runs;
}

}  // namespace luks2ext::testing
