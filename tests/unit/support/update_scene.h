// The start and the end of an update test: a formatted drive with a data pattern behind the
// metadata (a Scene), the passphrases the update tests use, and what a drive opens as after
// an update, cut or not (Observe).
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "luks2ext/volume.h"
#include "support/volume_fixture.h"
#include "testing/memory_device.h"

namespace luks2ext::testing {

// kPassphrase (keyslot 0 after format) is "A".
inline constexpr char kSecond[] = "second passphrase of the update test";  // "B"
inline constexpr char kThird[] = "third passphrase of the update test";    // "C"
inline constexpr char kWrong[] = "not a passphrase of this volume";

PbkdfOptions FastPbkdf();

template <typename T>
Status AsStatus(const Result<T>& result) {
  if (result.ok()) return Status::Ok();
  return result.error();
}

// Opens the drive and runs `verb` on the volume.
Status WithVolume(BlockDevice& device, const std::function<Status(Volume&)>& verb);

// A scratch directory, removed with everything in it.
class ScratchDir {
 public:
  ScratchDir();
  ~ScratchDir();
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  std::string File(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

std::vector<uint8_t> ReadWholeFile(const std::string& path);
void WriteWholeFile(const std::string& path, const std::vector<uint8_t>& bytes);

// ---------------------------------------------------------------------------------------------
// A formatted drive with a data pattern: the start of every run

// What the tests write at the data offset after format: it must never change.
inline constexpr uint64_t kPatternBytes = 256 * KiB;

// A 1 MiB keyslots area (room for 4 keyslots of a 512-bit key; the verbs use 2) keeps a copy
// at two chunk writes plus the record, so every op of every verb can be cut on every drive,
// and a repair cut at every op after each of those cuts, in seconds.
FormatOptions CrashOptions();

struct Scene {
  std::unique_ptr<MemoryZonedDevice> device;  // every run starts from a Clone() of it
  Layout layout;
  std::string uuid;
  std::vector<std::uint8_t> pattern;  // at layout.data_offset
  ScratchDir scratch;
  std::string backup_path;  // set by setups that take a header backup
};

// Formats the drive with kPassphrase (CrashOptions) and writes the pattern into the first
// data zone (left open, as a file system would leave it). Null (and a failed test) on error.
std::unique_ptr<Scene> MakeScene(const Config& config);

// Adds kSecond with kPassphrase; it must land in keyslot 1.
Status AddSecondKey(Scene& scene);

// Nothing at or past the data offset was touched: no op of the log from `first` on reaches it
// (an op that was refused or cut counts too), and the pattern reads back as written.
void ExpectDataUntouched(const MemoryZonedDevice& device, const Scene& scene, uint64_t first);

// ---------------------------------------------------------------------------------------------
// What a drive opens as

struct KeyCase {
  const char* passphrase;
  bool before;  // opens before the verb
  bool after;   // opens after it
  bool removed() const { return before && !after; }
};

struct Observed {
  uint64_t seqid = 0;
  size_t copies = 0;
  size_t chosen = 0;
  std::string label;
  std::string uuid;
  std::vector<std::string> flags;
  std::vector<int> keyslots;
  std::string json;                      // the chosen copy's JSON area
  std::vector<std::uint8_t> keyslots_area;  // the chosen copy's used keyslot areas, as on the drive
  std::vector<bool> opens;               // per KeyCase; empty when not unlocked
  std::vector<std::string> warnings;
};

std::string Describe(const Observed& o);

// The metadata a state is told by: the chosen copy's seqid, UUID, label, flags and keyslots.
bool SameMetadata(const Observed& a, const Observed& b);
// The same header and the same keyslot bytes: exactly the same passphrases open it (an
// unlock reads nothing else), so this stands in for unlocking where a test cuts hundreds of
// times (each unlock costs libcryptsetup's anti-forensic merge, about 10 ms).
bool SameBytes(const Observed& a, const Observed& b);

enum class Unlock { kEveryKey, kNone };

// Opens the drive (which must succeed) and, with kEveryKey, checks every passphrase with
// Activate(empty name).
std::optional<Observed> Observe(MemoryZonedDevice& device, const Layout& layout,
                                const std::vector<KeyCase>& keys,
                                Unlock unlock = Unlock::kEveryKey);

// Which of `keys` open before (after = false) or after the verb.
std::vector<bool> Expected(const std::vector<KeyCase>& keys, bool after);

}  // namespace luks2ext::testing
