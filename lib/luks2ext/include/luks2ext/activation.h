// dm-crypt activation: the force_inline flag model, what the running kernel supports, and
// the state of active mappings. Activating a volume goes through volume.h.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "luks2ext/error.h"
#include "luks2ext/secret.h"

namespace luks2ext {

// How "force inline" reaches dm-crypt.
enum class InlineMode {
  // Upstream table flags no_read_workqueue + no_write_workqueue (dm-crypt 1.22.0, Linux 5.9).
  kWorkqueueFlags,
  // The RFC's literal `force_inline` feature argument, for kernels that carry that patch.
  kNative,
};

// What to map and how: cryptsetup open's options.
struct ActivationRequest {
  std::string name;  // empty: only check the passphrase (cryptsetup --test-passphrase)
  bool read_only = false;
  bool allow_discards = false;
  // --perf-force_inline; nullopt: what the header's flags say, nothing more.
  std::optional<InlineMode> inline_mode;
  // dm-crypt's performance flags one by one (cryptsetup --perf-no_read_workqueue and the
  // others; crypttab's no-read-workqueue, same-cpu-crypt...).
  bool no_read_workqueue = false;
  bool no_write_workqueue = false;
  bool same_cpu_crypt = false;
  bool submit_from_crypt_cpus = false;
  int keyslot = -1;  // -1: any keyslot (CRYPT_ANY_SLOT)
  // cryptsetup --disable-keyring: the volume key goes to dm-crypt in the table, not through
  // the kernel keyring.
  bool disable_keyring = false;
  // cryptsetup refresh: load a new table into the live mapping `name` (which must exist and
  // belong to this volume) instead of creating one; the file system on it stays mounted.
  bool refresh = false;
  // cryptsetup luksResume: give the suspended mapping `name` (which must belong to this
  // volume) its key back and let its I/O go on; no table is made, the flags are ignored.
  bool resume = false;
  // cryptsetup resize: the live mapping `name` (of this volume) gets this many 512-byte
  // sectors (0: all the device holds past the data offset). The volume key is loaded into the
  // kernel keyring for libcryptsetup's new table, as cryptsetup does; nothing is mapped anew.
  std::optional<uint64_t> resize_sectors;
};

// A LUKS2 token to unlock with instead of a passphrase (cryptsetup open --token-id,
// --token-type): libcryptsetup runs the token's handler (built in, or an external plugin such
// as systemd's libcryptsetup-token-systemd-tpm2.so), which opens the keyslots the token names.
struct TokenRequest {
  int token_id = -1;       // -1: any token (CRYPT_ANY_TOKEN)
  std::string token_type;  // "": any type
  const Secret* pin = nullptr;  // nullptr: none (a token that needs one says kPinRequired)
};

// Why a token unlock failed, so that a caller can ask for a PIN or fall back to a passphrase.
// The Status carries the message and cryptsetup's exit code for the same libcryptsetup result.
enum class TokenFailure {
  kNone,             // unlocked, or failed for a reason no other key would change
  kPinRequired,      // -ENOANO: a token needs a PIN, none was given or it was wrong (exit 1)
  kNoUsableToken,    // -ENOENT: no token matches, or none has a handler here (exit 1)
  kKeyslotRefused,   // -EPERM: the token's secret opens none of its keyslots (exit 2)
  kMissingResource,  // -EAGAIN: the token's device (TPM, security key) is not there (exit 1)
  kInvalid,          // -EINVAL: the token's metadata is unusable (exit 1)
};

// Stops libcryptsetup from loading external token plugins (cryptsetup
// --disable-external-tokens), for the rest of the process; built-in tokens still work.
void DisableExternalTokens();

struct CryptTargetVersion {
  uint32_t major = 0, minor = 0, patch = 0;

  bool AtLeast(uint32_t ma, uint32_t mi) const {
    return major > ma || (major == ma && minor >= mi);
  }
  bool SupportsWorkqueueFlags() const { return AtLeast(1, 22); }
  // The table's key field may name a kernel keyring key (dm-crypt 1.15.0, Linux 4.10).
  bool SupportsKeyringKeys() const { return AtLeast(1, 15); }
  std::string ToString() const;
};

// What a refresh (ActivationRequest::refresh) can never do, checked before anything is read:
// switch to InlineMode::kNative (Error::WrongParameters).
Status CheckRefreshRequest(const ActivationRequest& request);

// The dm-crypt target version of the running kernel, loading the module (through libkmod, in
// this process) if needed.
Result<CryptTargetVersion> QueryCryptTarget();

// Refuses, with a message naming the kernel's dm-crypt version, a mode it cannot run.
Status CheckInlineSupport(const CryptTargetVersion& version, InlineMode mode);

struct ActiveMapping {
  std::string name;
  std::string type;    // "LUKS2", ... from the dm UUID prefix, "" when not ours or unknown
  std::string uuid;    // the dm UUID
  std::string cipher;  // "aes-xts-plain64"
  uint64_t key_bits = 0;
  bool key_in_keyring = false;  // dm-crypt took the key from the kernel keyring
  std::string device;  // backing device, "major:minor" as dm reports it
  uint64_t offset_sectors = 0;
  uint64_t size_sectors = 0;
  uint32_t sector_size = 512;
  uint64_t iv_offset = 0;  // sectors skipped in the IV (cryptsetup status's "skipped")
  bool read_only = false;
  bool suspended = false;  // luksSuspend, or a table load in progress
  bool in_use = false;     // opened: mounted, held by another device, or open in a process
  std::vector<std::string> feature_args;  // dm-crypt optional parameters, e.g. allow_discards

  bool HasFeature(const std::string& arg) const;
  // True when dm-crypt skips its workqueues in both directions, by either mode.
  bool RunsInline() const;
  // Whether libcryptsetup's naming says this maps the LUKS2 volume of UUID `luks_uuid`
  // (dm UUID "CRYPT-LUKS2-<uuid without dashes>-<name>").
  bool MapsVolume(const std::string& luks_uuid) const;
};

// cryptsetup's answer for a mapping name that is not there (exit 4), one wording everywhere.
Error MappingNotActive(const std::string& name);
// Whether a device-mapper device of that name exists (any target; its table is not read).
bool MappingExists(const std::string& name);
// The mapping's dm-crypt table, read without copying its key. A table the parser cannot read
// is Error::WrongDevice.
Result<ActiveMapping> QueryMapping(const std::string& name);
// Removes the mapping (cryptsetup close). Busy mappings are Error::Busy.
Status Deactivate(const std::string& name);
// cryptsetup resize of a mapping whose key dm-crypt holds in its table (--disable-keyring):
// libcryptsetup reads the key back from the table, so no unlock is needed. `sectors` as
// ActivationRequest::resize_sectors.
Status ResizeWithTableKey(const std::string& name, uint64_t sectors);
// cryptsetup luksSuspend: I/O to the mapping waits, and dm-crypt and the kernel keyring forget
// its volume key, until a resume (ActivationRequest::resume) unlocks it again. Not a LUKS
// mapping (or not active): Error::WrongDevice.
Status Suspend(const std::string& name);

}  // namespace luks2ext
