// The one power-cut harness of the unit tests, and the one table of drive kinds every crash
// test runs on (docs/design.md#update-protocol: after a cut at any op, whole or torn, the
// drive holds exactly the old or exactly the new state).
//
// A crash test runs its action once uncut through a RecordingDevice (RecordDryRun): the
// emulator's op log says where to cut, and the recorder independently says which writes,
// resets and finishes reached the drive. RunCuts then replays the action on a fresh clone of
// the starting drive once per cut, and fails unless every recorded call was cut (whole, and
// for a write also torn after its first block and before its last) and every cut fired at the
// op the uncut run had there.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <ostream>
#include <span>
#include <string>
#include <vector>

#include "support/forwarding_device.h"
#include "support/volume_fixture.h"
#include "testing/memory_device.h"

namespace luks2ext::testing {

// ---------------------------------------------------------------------------------------------
// The drive kinds

struct DriveKind {
  const char* name;  // also the test name suffix
  Config config;
};

// host_managed, host_managed_512, conventional_zones, zns_like, host_aware, not_zoned: for
// INSTANTIATE_TEST_SUITE_P(Drives, Suite, ::testing::ValuesIn(DriveKinds()), DriveKindName).
const std::vector<DriveKind>& DriveKinds();

std::string DriveKindName(const ::testing::TestParamInfo<DriveKind>& info);
// gtest prints a parameter in test listings (and so in ctest's names): the kind's name, not
// its bytes.
inline void PrintTo(const DriveKind& kind, std::ostream* out) { *out << kind.name; }

// ---------------------------------------------------------------------------------------------
// What reached the drive

// Forwards every call, and records each mutating one (accepted or not) as the caller made it.
class RecordingDevice : public ForwardingDevice {
 public:
  struct Call {
    Op::Kind kind;
    uint64_t offset;
    uint64_t length;  // bytes written; 0 for a reset or a finish
  };

  using ForwardingDevice::ForwardingDevice;

  Status Write(uint64_t offset, std::span<const std::uint8_t> data) override;
  Status ResetZone(uint64_t zone_start) override;
  Status FinishZone(uint64_t zone_start) override;

  const std::vector<Call>& calls() const { return calls_; }
  uint64_t Count(Op::Kind kind) const;

 private:
  std::vector<Call> calls_;
};

// "3 writes, 2 resets, 2 finishes".
std::string DescribeCalls(const std::vector<RecordingDevice::Call>& calls);

// ---------------------------------------------------------------------------------------------
// Where to cut

struct Cut {
  uint64_t op;           // absolute op index (MemoryZonedDevice::CutPowerAt)
  uint64_t torn_blocks;  // logical blocks of that op's write that persist
};

enum class Torn { kNo, kYes };

// Every op of `dry`'s log from `first` on with nothing of it persisted; with Torn::kYes also
// every write again with its first block persisted, and with all but its last block
// persisted (each distinct prefix once: the second only for writes of 3 blocks or more).
std::vector<Cut> CutsFor(const MemoryZonedDevice& dry, uint64_t first, Torn torn);

std::string CutName(const Cut& cut, uint64_t first);

// The run cut at `op` reached that op, doing what the uncut run did there.
bool SameOp(const MemoryZonedDevice& run, const MemoryZonedDevice& dry, uint64_t op);

// ---------------------------------------------------------------------------------------------
// Running cut

using Action = std::function<Status(BlockDevice&)>;

// The uncut run of an action on a clone of the starting drive.
struct DryRun {
  std::unique_ptr<MemoryZonedDevice> device;  // the drive after the run
  uint64_t first = 0;                         // the starting drive's op count
  std::vector<RecordingDevice::Call> calls;   // what the recorder saw reach the drive
  Status status;

  uint64_t ops() const { return device->mutating_ops() - first; }
};

// Runs `action` once on a clone of `base` through a RecordingDevice. Fails the test when the
// recorded calls and the emulator's op log from `first` on disagree.
DryRun RecordDryRun(const MemoryZonedDevice& base, const Action& action);

// Called once per cut with the drive powered on again after it.
using AfterCut = std::function<void(const Cut& cut, MemoryZonedDevice& device)>;

// For each cut of CutsFor(*dry.device, dry.first, torn): a clone of `base`, the power cut
// armed, `action` run on it (it must fail, at the planned op, with the power off), the power
// back on, `after` called. `what` names the action in failure messages. Checks, op by op,
// that the cuts listed are exactly the ones dry.calls asks for and that every cut run fired
// where planned, and returns how many fired. Every cut runs, unless the build or
// ZC_CRASH_CUT_STRIDE=N asks for every N-th (the sanitizer build: crash_harness.cc).
uint64_t RunCuts(const MemoryZonedDevice& base, const DryRun& dry, Torn torn,
                 const std::string& what, const Action& action, const AfterCut& after);

// Whether RunCuts runs every cut. Only then can a test require that its cuts left both the old
// and the new state: a sample may hold only one of them.
bool EveryCutRuns();

// ---------------------------------------------------------------------------------------------
// Totals

// Adds to the totals printed after every test has run ("[ crash    ] total ..."), per
// family of crash tests: `points` cuts of the action itself, `repair_points` cuts of a
// repair after one, `follow_up_points` cuts of a later update.
void AddCrashRun(const std::string& family, uint64_t points, uint64_t repair_points = 0,
                 uint64_t follow_up_points = 0);

}  // namespace luks2ext::testing
