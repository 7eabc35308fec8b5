// /etc/crypttab, as crypttab(5) describes it: one volume a line, `name device [keyfile
// [options]]`. The parser is pure (text in, entries and per-line problems out); only
// ParseCrypttabFile reads a file and only ResolveCrypttabDevice looks at the system.
// docs/crypttab.md lists the syntax and the options understood.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
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
  bool same_cpu_crypt = false;          // `same-cpu-crypt`
  bool submit_from_crypt_cpus = false;  // `submit-from-crypt-cpus`
  bool discard = false;
  bool read_only = false;  // `readonly` or `read-only`
  // `header=PATH`, "" when absent; kept as written. Absolute, given once (the parser checks).
  // A detached header: the metadata is read there, and `device` is the data drive.
  std::string header;
  uint64_t keyfile_offset = 0;  // `keyfile-offset=BYTES`
  uint64_t keyfile_size = 0;    // `keyfile-size=BYTES`; 0 reads the whole key file
  unsigned tries = 3;           // `tries=N`; 0 asks without limit, as systemd does
  // `timeout=SPAN`: seconds the passphrase questions of one open may take in all; 0 (the
  // default) waits without limit, as systemd does.
  uint64_t timeout_sec = 0;
  // `keyfile-timeout=SPAN`: seconds to wait for a key file that does not exist yet, then ask
  // for a passphrase instead. Absent: a missing key file is an error.
  std::optional<uint64_t> keyfile_timeout_sec;
  // LUKS2 tokens, as systemd-cryptsetup 252 takes them. Without a key file every token is
  // tried first, whatever the options; `tpm2-device=auto`, `fido2-device=auto` and
  // `pkcs11-uri=auto` add the token type they stand for ("systemd-tpm2", "systemd-fido2",
  // "systemd-pkcs11", in the order given), whose device is waited for up to token-timeout=.
  std::vector<std::string> token_types;
  uint64_t token_timeout_sec = 30;  // `token-timeout=SPAN`; 0: do not wait
  bool headless = false;            // `headless=BOOL`: never ask (PIN or passphrase)
  // Options only systemd-cryptsetup's own code implements, as written (a TPM2 or FIDO2 device
  // path, a PKCS#11 URI, PCR policies, FIDO2 credentials...): CheckZcryptsetupOpens leaves such
  // an entry to systemd-cryptsetup.
  std::vector<std::string> systemd_only;
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
// 127 bytes; extra fields, a bad number, a header= that is empty, not an absolute path or
// given twice, a repeated name) is appended to *problems and left out of the result. Names
// starting with '-' are valid. With problems == nullptr the first bad line is returned as an
// Error::WrongParameters instead. Never fails otherwise.
Result<std::vector<CrypttabEntry>> ParseCrypttab(std::string_view text,
                                                 std::vector<CrypttabProblem>* problems);

// Reads and parses a crypttab file. Fails with WrongParameters (NoPermission for EACCES) when
// it cannot be read; a missing file is an error too, callers that treat it as empty check
// for it first.
Result<std::vector<CrypttabEntry>> ParseCrypttabFile(const std::string& path,
                                                     std::vector<CrypttabProblem>* problems);

// A time span as crypttab's timeout= and keyfile-timeout= take it, in seconds: one or more
// parts, each decimal digits and a unit, "s", "sec", "min" or "h"; a last part without a
// unit is seconds ("30", "90s", "1min", "2min30s", "1h"). nullopt when malformed (blanks,
// other units, fractions, nothing) or when the total does not fit in 64 bits.
std::optional<uint64_t> ParseCrypttabTimeSpan(std::string_view text);

// Whether zcryptsetup opens `entry`: Ok, or the WrongParameters error `crypttab open` gives.
// The generator writes no unit (and no drop-in) for an entry refused here and leaves it to
// systemd-cryptsetup; PrepareCrypttabJob refuses it. Refused: the options in `systemd_only`.
// A detached header (header=) is not refused: zcryptsetup opens it as `open --header` does.
Status CheckZcryptsetupOpens(const CrypttabEntry& entry);

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

}  // namespace luks2ext
