#include "support/crash_harness.h"

#include <malloc.h>

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

  std::map<uint64_t, std::set<uint64_t>> fired;
  uint64_t fired_count = 0;
  for (const Cut& cut : CutsFor(*dry.device, dry.first, torn)) {
    SCOPED_TRACE(what + ": " + CutName(cut, dry.first));
    auto device = base.Clone();
    device->CutPowerAt(cut.op, cut.torn_blocks);
    const Status s = action(*device);
    EXPECT_FALSE(s.ok()) << what << " survived a power cut at one of its own ops";
    EXPECT_FALSE(device->powered()) << "the cut never fired";
    const bool same = SameOp(*device, *dry.device, cut.op);
    EXPECT_TRUE(same) << "the cut run diverged from the uncut run before op " << cut.op << "; "
                      << DescribeOps(*device, dry.first);
    if (!s.ok() && !device->powered() && same) {
      fired[cut.op].insert(cut.torn_blocks);
      ++fired_count;
    }
    device->PowerOn();
    after(cut, *device);
  }

  EXPECT_EQ(fired_count, wanted_count)
      << what << ": the uncut run made " << DescribeCalls(dry.calls) << ", which ask for "
      << wanted_count << " cuts; " << fired_count << " fired";
  for (const auto& [op, prefixes] : wanted) {
    EXPECT_EQ(fired[op], prefixes)
        << what << ": op " << op << " (" << OpName(dry.calls[op - dry.first].kind)
        << ") cut with other prefixes (in blocks) than asked for";
  }
  for (const auto& [op, prefixes] : fired)
    EXPECT_TRUE(wanted.count(op)) << what << ": a cut fired at op " << op << ", no recorded call";
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
