// /etc/crypttab, as crypttab(5) describes it: one volume a line, `name device [keyfile
// [options]]`. The parser is pure (text in, entries and per-line problems out); only
// ParseCrypttabFile reads a file and only ResolveCrypttabDevice looks at the system.
// docs/crypttab.md lists the syntax and the options understood.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "luks2ext/error.h"

namespace luks2ext {

inline constexpr const char* kDefaultCrypttabPath = "/etc/crypttab";

// The options zcryptsetup acts on. Flags are false and values empty or zero when absent.
struct CrypttabOptions {
  bool luks = false;
  bool force_inline = false;        // `force-inline`: zcryptsetup, not systemd-cryptsetup, opens it
  bool no_read_workqueue = false;   // `no-read-workqueue`
  bool no_write_workqueue = false;  // `no-write-workqueue`
  bool discard = false;
  bool read_only = false;  // `readonly` or `read-only`
  std::string header;      // `header=PATH`, "" when absent; kept as written
  uint64_t keyfile_offset = 0;  // `keyfile-offset=BYTES`
  uint64_t keyfile_size = 0;    // `keyfile-size=BYTES`; 0 reads the whole key file
  unsigned tries = 3;           // `tries=N`; 0 asks without limit, as systemd does
  bool noauto = false;          // not started by cryptsetup.target
  bool nofail = false;          // cryptsetup.target wants it but does not wait for it
  // Options not understood, as written ("x-initrd.attach", "cipher=aes"): systemd warns about
  // unknown options and ignores them, and so do we.
  std::vector<std::string> ignored;
};

struct CrypttabEntry {
  std::string name;      // the /dev/mapper name
  std::string device;    // as written: a path, or UUID=, PARTUUID=, LABEL=, PARTLABEL=
  std::string key_file;  // "" for none, "-" or an absent field (ask for a passphrase)
  CrypttabOptions options;
  int line = 0;  // 1-based line number in the file
};

// A line that was skipped, and why (a translated message without the line number).
struct CrypttabProblem {
  int line = 0;
  std::string message;
};

// Parses crypttab text. Blank lines and lines whose first non-blank character is `#` are
// skipped; fields are separated by runs of spaces and tabs; one trailing CR is dropped. A bad
// line (a control character anywhere in it, as FindControlCharacter defines them; missing
// device; a name device-mapper refuses: empty, ".", "..", "control", with `/` or longer than
// 127 bytes; extra fields, a bad number, an empty header=, a repeated name) is appended to
// *problems and left out of the result. Names starting with '-' are valid. With
// problems == nullptr the first bad line is returned as an Error::WrongParameters instead.
// Never fails otherwise.
Result<std::vector<CrypttabEntry>> ParseCrypttab(std::string_view text,
                                                 std::vector<CrypttabProblem>* problems);

// Reads and parses a crypttab file. Fails with WrongParameters (NoPermission for EACCES) when
// it cannot be read; a missing file is an error too, callers that treat it as empty check
// for it first.
Result<std::vector<CrypttabEntry>> ParseCrypttabFile(const std::string& path,
                                                     std::vector<CrypttabProblem>* problems);

// The entry called `name`, or nullptr.
const CrypttabEntry* FindCrypttabEntry(const std::vector<CrypttabEntry>& entries,
                                       std::string_view name);

// The device node udev would give a device spec, without looking at the system:
// UUID=x -> /dev/disk/by-uuid/x, PARTUUID=, LABEL=, PARTLABEL= likewise (label characters
// outside udev's safe set are \xNN-encoded as udev does); anything else is returned as
// written. Used to name the device unit a generated unit binds to.
std::string CrypttabDeviceNode(const std::string& spec);

// The device a spec names now. TAG=value (UUID, PARTUUID, LABEL, PARTLABEL) is looked up
// with libblkid; a path is returned as is when it exists. Error::WrongDevice when nothing
// matches.
Result<std::string> ResolveCrypttabDevice(const std::string& spec);

// --- `crypttab open --all`: one opener process per drive ----------------------------------
// How many openers run at once is bounded by the PBKDF memory their unlocks may take. The
// schedule is kept apart from fork() and wait4() (OpenerProcesses) so that its error paths, a
// start that fails and a wait that is interrupted or finds no child, are tested with a script.

class OpenerProcesses {
 public:
  virtual ~OpenerProcesses() = default;
  // Starts the opener of job `index`: its process id (> 0), or -1 with errno set.
  virtual int Start(size_t index) = 0;
  // Waits for any started opener to end: its id, with *exit_code (0: opened; killed by a
  // signal counts as a failure) and *peak_kib (its peak resident memory); or -1 with errno.
  virtual int WaitAny(int* exit_code, long* peak_kib) = 0;
};

enum class OpenerOutcome {
  kNotStarted,  // never run: a start failed first, or waiting failed first
  kOpened,      // ended with exit code 0
  kFailed,      // ended with another exit code
  kLost,        // started, but its end could not be waited for (ECHILD): not opened
};

struct OpenerResult {
  OpenerOutcome outcome = OpenerOutcome::kNotStarted;
  int exit_code = 0;
  long peak_kib = 0;
};

struct OpenerRun {
  std::vector<OpenerResult> results;  // one per job, in job order
  uint64_t most_reserved = 0;         // the largest memory sum of openers running at once
  // Ok, or why some jobs are kNotStarted or kLost: a start or a wait that failed.
  Status status;
};

// Runs one opener per job; job i's unlock may take memory[i] bytes. Jobs start in order while
// the memory of the running ones stays within `budget` (a job larger than the budget runs
// alone). A wait interrupted by a signal (EINTR) is retried. When a start fails, no further
// job starts, but every running opener is still waited for; when waiting fails otherwise,
// the running openers are kLost. So it returns only when every job is accounted for, and no
// job is kOpened unless its opener was seen to exit with 0. on_end(i, result) is called as
// each opener ends, in the order they end.
OpenerRun RunOpeners(const std::vector<uint64_t>& memory, uint64_t budget,
                     OpenerProcesses& processes,
                     const std::function<void(size_t, const OpenerResult&)>& on_end);

}  // namespace luks2ext
