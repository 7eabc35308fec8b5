// A LUKS2 volume on a drive, zoned or not: what the CLI opens, dumps and updates once it
// exists (format_volume.h makes one, header_backup.h restores one). It hides the codec, the
// memfd images and libcryptsetup.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "luks2ext/activation.h"
#include "luks2ext/block_device.h"
#include "luks2ext/format_options.h"
#include "luks2ext/layout.h"
#include "luks2ext/secret.h"

namespace luks2ext {

// One metadata copy as found on the drive.
struct CopySummary {
  std::string name;  // "home", "journal"
  uint64_t offset = 0;
  bool headers_valid = false;
  bool image_present = false;  // the zone holds the whole image
  bool has_record = false;     // our commit record is there and matches
  uint64_t seqid = 0;
  bool chosen = false;
  std::string problem;
};

// One LUKS2 token of a header (cryptsetup token; docs/design.md#update-protocol for changes).
struct TokenSummary {
  int id = 0;
  std::string type;
  std::vector<int> keyslots;  // the keyslots it is assigned to, ascending
};

// The largest token JSON import takes: the largest LUKS2 JSON area (4 MiB header less its
// 4 KiB binary header). libcryptsetup refuses, more precisely, a token the volume's own JSON
// area cannot hold.
inline constexpr std::size_t kMaxTokenJsonBytes = (4u << 20) - 4096;

struct VolumeState;  // what Volume::Open read, private to the library
class DeviceLock;    // cryptsetup's metadata lock, private to the library

class Volume {
 public:
  enum class ReadScope {
    // What unlocking needs, reading no more than stock cryptsetup: home's headers (its record
    // only when the zone report cannot prove the copy complete) and the journal's seqid.
    // cryptsetup's shared lock stays held until Activate has unlocked, so that the keyslot
    // areas it reads belong to the headers read here; an update through this Volume (or any
    // exclusive lock of the device this process takes) makes it give way first.
    // On an ordinary disk libcryptsetup's own load of the headers is left to the activation or
    // key change that follows, which loads the drive itself as stock cryptsetup does.
    kForOpen,
    // kForOpen's reads with libcryptsetup's verdict on every drive, for the verbs after which
    // nothing loads the headers again (isLuks, luksUUID).
    kJudgedHeaders,
    // Every copy's headers and commit record: luksDump, isLuks, updates.
    kEverything,
  };

  // Reads the drive's metadata under cryptsetup's shared lock and chooses the newest
  // complete, valid copy. Not a LUKS2 device (or LUKS1): Error::WrongDevice.
  // With `detached_data` (cryptsetup --header), `device` holds a detached header
  // (CheckDetachedHeaderDevice: a regular file or an ordinary disk, changed in place by
  // libcryptsetup) and `detached_data` the data segment, which activation maps. That drive
  // must hold the segment: at a zone boundary when zoned, and past the data offset.
  // Both devices must outlive the Volume.
  static Result<std::unique_ptr<Volume>> Open(BlockDevice& device,
                                              ReadScope scope = ReadScope::kEverything,
                                              BlockDevice* detached_data = nullptr);
  ~Volume();

  const Layout& layout() const;
  // The geometry of the drive the metadata is on.
  const Geometry& geometry() const;
  // The drive the data segment is on: the metadata's own, or the detached header's data drive.
  const BlockDevice& data_device() const;
  bool detached_header() const;
  const std::vector<CopySummary>& copies() const;
  // The leading zones the read reported (at most 64); empty when the drive is not zoned.
  const std::vector<Zone>& zones() const;
  // Things a user should know: a torn or older home copy, copies that disagree.
  const std::vector<std::string>& warnings() const;

  std::string uuid() const;
  std::string label() const;
  std::vector<std::string> config_flags() const;
  bool force_inline() const;
  std::string json_text(bool pretty) const;
  // The most memory one unlock can take: the largest argon2 memory cost among the keyslots
  // (KiB; 0 for pbkdf2). Lets crypttab open many drives at once within a memory budget.
  uint64_t unlock_memory_kib() const;

  // libcryptsetup's own luksDump text for the chosen copy.
  Result<std::string> DumpText();

  // Whether open stores the flags it was asked for in the header (cryptsetup --persistent).
  enum class FlagStorage { kThisActivationOnly, kPersistent };

  // Unlocks and maps (or, with an empty name, only checks the passphrase). Inline mode comes
  // from the request, else from the header's force-inline flag. With kPersistent, the
  // requested flags are then stored through the update protocol. Keyslot areas are read under
  // cryptsetup's shared lock: the one Open kept (kForOpen), released once a keyslot opened; a
  // wrong passphrase keeps it for the next try.
  Status Activate(const ActivationRequest& request, const Secret& passphrase,
                  FlagStorage storage = FlagStorage::kThisActivationOnly);

  // Unlocks with a LUKS2 token instead of a passphrase (cryptsetup open tries tokens first),
  // with the same flags and storage as Activate. On a zoned drive only the keyslot areas of the
  // tokens that may be tried are read: those `token` selects that libcryptsetup has a handler
  // for. `failure` (may be null) says why no token unlocked; a wrong-PIN or no-token failure
  // keeps the lock for what the caller tries next, as a wrong passphrase does.
  Status ActivateByToken(const ActivationRequest& request, const TokenRequest& token,
                         TokenFailure* failure = nullptr,
                         FlagStorage storage = FlagStorage::kThisActivationOnly);
  // Whether the chosen copy holds a token `token` selects (by id and type; handler or not).
  bool HasToken(const TokenRequest& token) const;

  // Stores or clears force_inline (and its upstream flags) in the header, crash-safely.
  Status SetPersistentFlags(std::optional<bool> force_inline, std::optional<bool> allow_discards);

  // --- Updates. Each goes through the update protocol (docs/design.md#update-protocol): cryptsetup's
  // exclusive lock for the whole read-modify-write, the newest complete copy re-read and
  // checked, the change applied by libcryptsetup to that image in memory, every other copy
  // rewritten and verified before the copy it came from. A wrong passphrase is
  // Error::NoPermission and writes nothing. They re-read the drive, so they stay correct when
  // another process changed it since Open.

  // luksAddKey: a new keyslot for `new_passphrase`, unlocked by `existing`. `keyslot` -1 takes
  // the first free one. Returns the new keyslot.
  Result<int> AddKey(const Secret& existing, const Secret& new_passphrase, int keyslot,
                     const PbkdfOptions& pbkdf);
  // luksChangeKey: replaces the passphrase of the keyslot `existing` opens (or of `keyslot`).
  // The key keeps its keyslot number, as in cryptsetup. On a drive rewritten in place the new
  // key material never overwrites the old before the headers name it (where cryptsetup's
  // luksChangeKey -S has that window): libcryptsetup writes it to a free area first.
  // Returns the keyslot now holding `new_passphrase`.
  Result<int> ChangeKey(const Secret& existing, const Secret& new_passphrase, int keyslot,
                        const PbkdfOptions& pbkdf);
  // luksConvertKey: the keyslot `passphrase` opens (or `keyslot`, which must be active) gets
  // the PBKDF `pbkdf` with the same passphrase, re-wrapped as ChangeKey re-wraps a key.
  // Returns the keyslot now holding it.
  Result<int> ConvertKey(const Secret& passphrase, int keyslot, const PbkdfOptions& pbkdf);
  // luksRemoveKey: destroys the keyslot `passphrase` opens. Returns it. The last keyslot only
  // with `allow_last` (the volume then has no key: its data is lost for good).
  Result<int> RemoveKey(const Secret& passphrase, bool allow_last);
  // luksKillSlot: destroys `keyslot`. `verify`, when given, must open some keyslot (cryptsetup
  // asks for "any remaining passphrase" unless in batch mode). The last one only with
  // `allow_last`.
  Status KillSlot(int keyslot, const Secret* verify, bool allow_last);
  // erase / luksErase: destroys every keyslot, as cryptsetup's erase does (the headers stay,
  // without keyslots; no passphrase opens the volume again, its data is lost for good).
  // Zoned drives: through the crash-safe update, each sequential metadata zone's tail filled
  // with random bytes up to its capacity after the copy, so that nothing of the old keyslot
  // areas stays on the medium behind a reset write pointer. Returns the keyslots destroyed.
  Result<std::vector<int>> Erase();
  // Active keyslot numbers of the copy read by Open.
  std::vector<int> active_keyslots() const;

  // luksUUID --uuid: the volume's new UUID, in the form 01234567-89ab-cdef-0123-456789abcdef
  // (anything else: Error::WrongParameters, nothing written). Through the update protocol on
  // a zoned drive, in place by libcryptsetup elsewhere; the same UUID writes nothing.
  Status SetUuid(const std::string& uuid);
  // config --priority: which keyslots an unlock tries first (kPrefer), as usual (kNormal), or
  // only when named (kIgnore; cryptsetup -S). The keyslot must be active (else
  // Error::WrongParameters, nothing written); its present priority again writes nothing.
  enum class KeyslotPriority { kIgnore, kNormal, kPrefer };
  Status SetKeyslotPriority(int keyslot, KeyslotPriority priority);
  // config: label and subsystem (nullopt keeps the current one).
  Status SetLabel(std::optional<std::string> label, std::optional<std::string> subsystem);

  // luksHeaderBackup: the whole metadata image of the newest complete copy (headers and
  // keyslots area, M bytes, as cryptsetup writes it) into a new file (mode 0400). An existing
  // file is Error::Busy.
  Status BackupHeader(const std::string& backup_path);

  // --- Tokens (cryptsetup token ...), in volume_tokens.cc. The changes go through the update
  // protocol like the key updates above; a refused one writes nothing. `token_id` -1 takes the
  // first free id; an id in use is refused (WrongParameters, as cryptsetup) unless `replace`.

  // token import: `json` must be a JSON object with a string "type" and a "keyslots" array
  // naming existing keyslots (libcryptsetup checks the rest). `keyslot` >= 0 also assigns the
  // token to that active keyslot. Returns the token id.
  Result<int> ImportToken(const std::string& json, int token_id, int keyslot, bool replace);
  // token add: libcryptsetup's builtin luks2-keyring token for the passphrase stored in the
  // kernel keyring under `key_description`, assigned to `keyslot` (-1: every active keyslot).
  Result<int> AddKeyringToken(const std::string& key_description, int token_id, int keyslot,
                              bool replace);
  // token remove: a token in use, of any type.
  Status RemoveToken(int token_id);
  // token export: the token's JSON as libcryptsetup serializes it, from the copy read by Open
  // (under cryptsetup's shared lock). A free id is Error::WrongParameters.
  Result<std::string> ExportToken(int token_id) const;
  // The tokens of the copy read by Open, by id.
  std::vector<TokenSummary> tokens() const;

  // repair: rewrites every copy that is torn, stale or without its record from the newest
  // complete one, the source last. Returns what was done, for the user.
  Result<std::string> Repair();

 private:
  struct Unlock;  // a passphrase or a token, and the keyslot areas it needs (volume.cc)
  Volume(std::unique_ptr<VolumeState> state, std::unique_ptr<DeviceLock> unlock_lock);
  Status ActivateWith(const ActivationRequest& request, const Unlock& unlock, FlagStorage storage);
  // open/refresh --persistent once mapped: `request`'s flags replace the stored ones.
  Status StoreRequestedFlags(const ActivationRequest& request);
  std::unique_ptr<VolumeState> state_;
  std::unique_ptr<DeviceLock> unlock_lock_;  // kForOpen: held from Open until an unlock
};

}  // namespace luks2ext
