// Formatted volumes on the zoned-drive emulator, for the volume and update tests: drive
// configurations, a fast luksFormat, opening, passphrase checks and op-log checks.
//
// Every volume uses PBKDF2 with 1000 iterations and no benchmark, so a keyslot costs
// milliseconds and a test can afford hundreds of unlocks.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "luks2ext/format_volume.h"
#include "luks2ext/volume.h"
#include "testing/memory_device.h"

namespace luks2ext::testing {

using Config = MemoryZonedDevice::Config;
using Op = MemoryZonedDevice::Op;

inline constexpr char kPassphrase[] = "zcryptsetup volume test passphrase";
// The flags --perf-force_inline stores in config.flags.
extern const std::vector<std::string> kInlineFlags;

FormatOptions FastOptions(bool force_inline = false);

// Fails the current test (and returns null) when the emulator refuses the configuration.
std::unique_ptr<MemoryZonedDevice> MakeDevice(const Config& config);

// Drives: 64 MiB zones, 8 of them, unless said otherwise.
Config HostManaged(uint32_t logical_block_size);
Config HostManagedConventional();  // 12 zones, the first 4 conventional
Config ZnsLike();                  // zone capacity 48 MiB, max open = max active = 4
Config HostAware();
Config NotZoned();  // 256 MiB, 4 KiB blocks

struct Formatted {
  std::unique_ptr<MemoryZonedDevice> device;
  Layout layout;
  std::string uuid;
};

// Plans and formats a fresh emulated drive with kPassphrase. On failure `device` is null (and
// the test failed).
Formatted FormatNew(const Config& config, const FormatOptions& options);

// Volume::Open that fails the current test (and returns null) when the drive does not open.
std::unique_ptr<Volume> MustOpen(BlockDevice& device);

// Volume::Activate with an empty name: the passphrase is checked, nothing is mapped.
Status CheckPassphrase(Volume& volume, const char* passphrase);

// Writes the emulator's bytes [0, length) into the stand-in file behind device.path(). On an
// ordinary disk libcryptsetup reads the header from the path itself, as cryptsetup does; the
// emulator's path is only an empty stand-in, so tests copy in what a real disk would show.
void MirrorIntoStandIn(MemoryZonedDevice& device, uint64_t length);

const char* OpName(Op::Kind kind);
// "i:write@offset+length ..." for the ops from `first` on, for failure messages.
std::string DescribeOps(const MemoryZonedDevice& device, size_t first);

// Checks the ops from `first` on: all accepted, none at or past the data offset, each
// sequential metadata zone reset first, written in order to exactly image + record, finished
// last (FULL afterwards); in-place copies written whole in libcryptsetup's order; the journal
// completely written before home is touched.
void ExpectMetadataOps(const MemoryZonedDevice& device, const Layout& layout, size_t first);

bool HasAll(const std::vector<std::string>& flags, const std::vector<std::string>& wanted);
bool HasAny(const std::vector<std::string>& flags, const std::vector<std::string>& wanted);

}  // namespace luks2ext::testing
