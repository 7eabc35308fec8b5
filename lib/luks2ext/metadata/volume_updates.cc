// The update verbs of Volume (key management, label, backup, restore, repair). Every change
// goes through UpdateMetadata (metadata/update_protocol.h); the changes themselves are
// libcryptsetup's, applied to the in-memory image (metadata/header_edit.h).
#include <libcryptsetup.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <limits>
#include <string_view>

#include "base/i18n.h"
#include "luks2/commit_record.h"
#include "luks2ext/header_backup.h"
#include "luks2ext/volume.h"
#include "metadata/backup_file.h"
#include "metadata/copy_reader.h"
#include "cryptsetup/crypt_device.h"
#include "metadata/device_lock.h"
#include "metadata/header_edit.h"
#include "metadata/update_protocol.h"

namespace luks2ext {
namespace {

Error WrongPassphrase() {
  return Error::NoPermission(_("No key available with this passphrase."));
}

Error LastKeyslot(int keyslot) {
  return Error::WrongParameters(FormatMsg(
      _("Keyslot {} is the last one: without it no passphrase opens the volume and its data "
        "is lost for good. Confirm (interactively, or with -q) to remove it."),
      keyslot));
}

// The keyslot `passphrase` opens, checked by libcryptsetup without activating anything.
Result<int> KeyslotOf(crypt_device* cd, const Secret& passphrase) {
  const int r = crypt_activate_by_passphrase(cd, nullptr, CRYPT_ANY_SLOT, passphrase.data(),
                                             passphrase.size(), 0);
  if (r == -EPERM) return WrongPassphrase();
  if (r < 0) return CryptError(r, _("Cannot check the passphrase"));
  return r;
}

// A backup file, checked as far as can be without the drive's lock: a whole LUKS2 image of
// exactly its declared size, that libcryptsetup itself loads (as stock's restore demands: it
// reads the backup with its full JSON validation).
Result<Luks2Image> LoadBackup(const std::string& path) {
  ASSIGN_OR_RETURN(std::vector<uint8_t> bytes, ReadBackupFile(path));
  auto not_luks2 = [&path](const std::string& why) {
    return Error::WrongParameters(FormatMsg(
        _("Header backup file {} does not contain a valid LUKS2 header ({})."), path, why));
  };
  if (bytes.size() < kBinaryHeaderSize) return not_luks2(_("too short"));
  if (IsLuks1Header(bytes)) return not_luks2(_("it is a LUKS1 header"));
  auto headers = Luks2Image::ParseHeaders(bytes);
  if (!headers.ok()) return not_luks2(headers.error().message());
  if (bytes.size() != headers->image_size())
    return not_luks2(FormatMsg(_("the file has {} bytes, the header declares {}"), bytes.size(),
                               headers->image_size()));
  auto image = Luks2Image::Parse(std::move(bytes));
  if (!image.ok()) return not_luks2(image.error().message());
  if (Status loads = CheckLoadsInLibcryptsetup(*image); !loads.ok())
    return not_luks2(loads.error().message());
  return std::move(image).value();
}

}  // namespace

Result<int> Volume::AddKey(const Secret& existing, const Secret& new_passphrase, int keyslot,
                           const PbkdfOptions& pbkdf) {
  int added = -1;
  RETURN_IF_ERROR(UpdateWithLibcryptsetup(*state_->device, [&](crypt_device* cd) -> Status {
    RETURN_IF_ERROR(ApplyPbkdf(cd, pbkdf));
    const int r = crypt_keyslot_add_by_passphrase(cd, keyslot, existing.data(), existing.size(),
                                                  new_passphrase.data(), new_passphrase.size());
    if (r == -EPERM) return WrongPassphrase();
    if (r < 0) return CryptError(r, _("Cannot add the key"));
    added = r;
    return Status::Ok();
  }));
  return added;
}

Result<int> Volume::ChangeKey(const Secret& existing, const Secret& new_passphrase, int keyslot,
                              const PbkdfOptions& pbkdf) {
  // One libcryptsetup change: the key `from` opens (any keyslot for -1) re-wrapped into `to`
  // (-1: libcryptsetup's choice, which keeps the number and takes a free area).
  auto change = [&](const Secret& passphrase, int from, int to) -> Result<int> {
    int changed = -1;
    RETURN_IF_ERROR(UpdateWithLibcryptsetup(*state_->device, [&](crypt_device* cd) -> Status {
      RETURN_IF_ERROR(ApplyPbkdf(cd, pbkdf));
      const int r = crypt_keyslot_change_by_passphrase(cd, from, to, passphrase.data(),
                                                       passphrase.size(), new_passphrase.data(),
                                                       new_passphrase.size());
      if (r == -EPERM) return WrongPassphrase();
      if (r < 0) return CryptError(r, _("Cannot change the key"));
      changed = r;
      return Status::Ok();
    }));
    return changed;
  };
  // On copies rewritten whole (zoned drives) a keyslot changed in place is as safe as any
  // change: the old copy stays complete until the new one is. On a drive rewritten in place,
  // libcryptsetup asked to put the key back into the keyslot it names (`to` == `from`, what
  // cryptsetup's luksChangeKey -S does) writes the new key material over the old before the
  // headers: a power cut between the two leaves headers naming material that no longer opens.
  // Asked for any keyslot instead, libcryptsetup 2.6 keeps the keyslot's number but writes the
  // material to a free area, switches the headers to it, and only then wipes the old area
  // (what luksChangeKey without -S does). Should a libcryptsetup move the key to another
  // number, a second change (the same safe kind) brings it back.
  if (keyslot < 0 || state_->geometry.is_zoned()) return change(existing, keyslot, keyslot);
  ASSIGN_OR_RETURN(const int moved_to, change(existing, keyslot, CRYPT_ANY_SLOT));
  if (moved_to == keyslot) return moved_to;
  return change(new_passphrase, moved_to, keyslot);
}

Result<int> Volume::ConvertKey(const Secret& passphrase, int keyslot,
                               const PbkdfOptions& pbkdf) {
  // cryptsetup's check, before anything is asked of libcryptsetup: a named keyslot that holds
  // nothing has nothing to convert.
  if (keyslot >= 0) {
    const std::vector<int> active = active_keyslots();
    if (std::find(active.begin(), active.end(), keyslot) == active.end())
      return Error::WrongParameters(FormatMsg(_("Keyslot {} is not active."), keyslot));
  }
  return ChangeKey(passphrase, passphrase, keyslot, pbkdf);
}

Result<int> Volume::RemoveKey(const Secret& passphrase, bool allow_last) {
  int removed = -1;
  RETURN_IF_ERROR(UpdateWithLibcryptsetup(*state_->device, [&](crypt_device* cd) -> Status {
    ASSIGN_OR_RETURN(const int keyslot, KeyslotOf(cd, passphrase));
    if (crypt_keyslot_status(cd, keyslot) == CRYPT_SLOT_ACTIVE_LAST && !allow_last)
      return LastKeyslot(keyslot);
    const int r = crypt_keyslot_destroy(cd, keyslot);
    if (r < 0) return CryptError(r, FormatMsg(_("Cannot wipe keyslot {}"), keyslot));
    removed = keyslot;
    return Status::Ok();
  }));
  return removed;
}

Result<std::vector<int>> Volume::Erase() {
  std::vector<int> destroyed;
  RETURN_IF_ERROR(UpdateWithLibcryptsetup(
      *state_->device,
      [&](crypt_device* cd) -> Status {
        destroyed.clear();  // the keyslots of the headers this change read
        const int max = crypt_keyslot_max(CRYPT_LUKS2);
        for (int keyslot = 0; keyslot < max; ++keyslot) {
          const crypt_keyslot_info info = crypt_keyslot_status(cd, keyslot);
          if (info != CRYPT_SLOT_ACTIVE && info != CRYPT_SLOT_ACTIVE_LAST &&
              info != CRYPT_SLOT_UNBOUND)
            continue;
          const int r = crypt_keyslot_destroy(cd, keyslot);
          if (r < 0) return CryptError(r, FormatMsg(_("Cannot wipe keyslot {}"), keyslot));
          destroyed.push_back(keyslot);
        }
        return Status::Ok();
      },
      ZoneTail::kRandomFill));
  return destroyed;
}

Status Volume::KillSlot(int keyslot, const Secret* verify, bool allow_last) {
  return UpdateWithLibcryptsetup(*state_->device, [&](crypt_device* cd) -> Status {
    switch (crypt_keyslot_status(cd, keyslot)) {
      case CRYPT_SLOT_INVALID:
        return Error::WrongParameters(FormatMsg(_("Key slot {} is invalid."), keyslot));
      case CRYPT_SLOT_INACTIVE:
        return Error::WrongParameters(FormatMsg(_("Keyslot {} is not active."), keyslot));
      case CRYPT_SLOT_ACTIVE_LAST:
        if (!allow_last) return LastKeyslot(keyslot);
        break;
      default:
        break;
    }
    if (verify) RETURN_IF_ERROR(KeyslotOf(cd, *verify));
    const int r = crypt_keyslot_destroy(cd, keyslot);
    if (r < 0) return CryptError(r, FormatMsg(_("Cannot wipe keyslot {}"), keyslot));
    return Status::Ok();
  });
}

std::vector<int> Volume::active_keyslots() const {
  std::vector<int> slots;
  for (const KeyslotArea& area : state_->headers().keyslot_areas()) slots.push_back(area.keyslot);
  std::sort(slots.begin(), slots.end());
  return slots;
}

namespace {

bool IsUuidText(std::string_view text) {
  // What libuuid's uuid_parse accepts, which libcryptsetup applies: 8-4-4-4-12 hex digits.
  if (text.size() != 36) return false;
  for (size_t i = 0; i < text.size(); ++i) {
    const bool hyphen_place = i == 8 || i == 13 || i == 18 || i == 23;
    if (hyphen_place != (text[i] == '-')) return false;
    if (!hyphen_place && !std::isxdigit(static_cast<unsigned char>(text[i]))) return false;
  }
  return true;
}

// The argument as it may be shown: at most 64 characters, anything unprintable (a terminal
// escape) as '?'.
std::string Printable(std::string_view text) {
  std::string shown(text.substr(0, 64));
  for (char& c : shown)
    if (!std::isprint(static_cast<unsigned char>(c))) c = '?';
  return text.size() > 64 ? shown + "..." : shown;
}

}  // namespace

Status Volume::SetUuid(const std::string& uuid) {
  // Checked before the lock and any read: a bad argument never reaches the drive.
  if (!IsUuidText(uuid))
    return Error::WrongParameters(
        FormatMsg(_("Wrong LUKS UUID format provided ({}): expected 8-4-4-4-12 hexadecimal "
                    "digits, such as 01234567-89ab-cdef-0123-456789abcdef."),
                  Printable(uuid)));
  return UpdateWithLibcryptsetup(*state_->device, [&](crypt_device* cd) -> Status {
    const int r = crypt_set_uuid(cd, uuid.c_str());
    if (r < 0) return CryptError(r, _("Cannot set the UUID"));
    return Status::Ok();
  });
}

Status Volume::SetKeyslotPriority(int keyslot, KeyslotPriority priority) {
  const crypt_keyslot_priority wanted =
      priority == KeyslotPriority::kIgnore   ? CRYPT_SLOT_PRIORITY_IGNORE
      : priority == KeyslotPriority::kPrefer ? CRYPT_SLOT_PRIORITY_PREFER
                                             : CRYPT_SLOT_PRIORITY_NORMAL;
  return UpdateWithLibcryptsetup(*state_->device, [&](crypt_device* cd) -> Status {
    const crypt_keyslot_info info = crypt_keyslot_status(cd, keyslot);
    if (info != CRYPT_SLOT_ACTIVE && info != CRYPT_SLOT_ACTIVE_LAST && info != CRYPT_SLOT_UNBOUND)
      return Error::WrongParameters(FormatMsg(_("Keyslot {} is not active."), keyslot));
    if (crypt_keyslot_get_priority(cd, keyslot) == wanted) return Status::Ok();
    const int r = crypt_keyslot_set_priority(cd, keyslot, wanted);
    if (r < 0) return CryptError(r, FormatMsg(_("Cannot set the priority of keyslot {}"), keyslot));
    return Status::Ok();
  });
}

Status Volume::SetLabel(std::optional<std::string> label, std::optional<std::string> subsystem) {
  return UpdateWithLibcryptsetup(*state_->device, [&](crypt_device* cd) -> Status {
    const char* current_label = crypt_get_label(cd);
    const char* current_subsystem = crypt_get_subsystem(cd);
    const std::string new_label = label.value_or(current_label ? current_label : "");
    const std::string new_subsystem =
        subsystem.value_or(current_subsystem ? current_subsystem : "");
    const int r = crypt_set_label(cd, new_label.c_str(), new_subsystem.c_str());
    if (r < 0) return CryptError(r, _("Cannot set the label"));
    return Status::Ok();
  });
}

Status Volume::BackupHeader(const std::string& backup_path) {
  BlockDevice& device = *state_->device;
  std::vector<uint8_t> bytes;
  {
    ASSIGN_OR_RETURN(DeviceLock lock, DeviceLock::Acquire(device.path(), LockMode::kShared));
    ASSIGN_OR_RETURN(auto state, ReadCopies(device, InspectDepth::kFull));
    ASSIGN_OR_RETURN(Luks2Image image, ReadChosenImage(device, *state));
    bytes = std::move(image).TakeBytes();
  }
  return WriteBackupFile(backup_path, bytes);
}

Result<std::string> Volume::Repair() {
  BlockDevice& device = *state_->device;
  ASSIGN_OR_RETURN(DeviceLock lock, DeviceLock::Acquire(device.path(), LockMode::kExclusive));
  ASSIGN_OR_RETURN(auto state, ReadCopies(device, InspectDepth::kFull));
  const CopyState& chosen = state->chosen_copy();
  ASSIGN_OR_RETURN(Luks2Image image, ReadChosenImage(device, *state));
  // Healthy: every copy the layout has is there, complete, recorded where records belong, of
  // the chosen seqid, with both of its header copies valid.
  const size_t expected = state->layout.journal_offset ? 2 : 1;
  bool healthy = state->copies.size() == expected;
  for (const CopyState& copy : state->copies) {
    healthy = healthy && copy.usable() && copy.seqid() == chosen.seqid() &&
              (!copy.slot.with_record || copy.record) && copy.headers->both_copies_valid();
  }
  if (healthy)
    return FormatMsg(_("Nothing to repair: every metadata copy is complete and agrees (seqid {})."),
                     chosen.seqid());
  RETURN_IF_ERROR(WriteCopies(device, *state, image, state->chosen));
  return FormatMsg(_("Rewrote the metadata copies from the {} copy (seqid {})."),
                   CopyRoleName(chosen.slot.role), chosen.seqid());
}

Result<std::string> BackupUuid(BlockDevice& device, const std::string& backup_path,
                               BlockDevice* detached_data) {
  ASSIGN_OR_RETURN(Luks2Image image, LoadBackup(backup_path));
  ASSIGN_OR_RETURN(auto target, StateForImage(device, image, detached_data));
  return std::string(image.uuid());
}

Result<std::optional<std::string>> CurrentUuid(BlockDevice& device) {
  auto state = ReadCopies(device, InspectDepth::kCheap);
  if (!state.ok()) {
    if (state.error().code() == ExitCode::kWrongDevice) return std::optional<std::string>();
    return state.error();
  }
  return std::optional<std::string>(std::string((*state)->headers().uuid()));
}

Result<std::string> RestoreHeader(BlockDevice& device, const std::string& backup_path,
                                  BlockDevice* detached_data) {
  // Every check of the file comes before the lock and before any write.
  ASSIGN_OR_RETURN(Luks2Image image, LoadBackup(backup_path));
  ASSIGN_OR_RETURN(auto target, StateForImage(device, image, detached_data));
  ASSIGN_OR_RETURN(DeviceLock lock, DeviceLock::Acquire(device.path(), LockMode::kExclusive));
  // Newer than every copy on the drive, valid or not, so no recovery prefers what it replaced.
  uint64_t newest = image.seqid();
  if (auto current = ReadCopies(device, InspectDepth::kFull); current.ok()) {
    for (const CopyState& copy : (*current)->copies) newest = std::max(newest, copy.seqid());
  }
  // Readers take the highest seqid: a wrapped one would lose to every copy it replaced.
  if (newest == std::numeric_limits<uint64_t>::max())
    return Error::WrongParameters(FormatMsg(
        _("Cannot restore {}: its sequence number (seqid {}) or one on the device is at the "
          "largest value, and a restored header must be newer than both. Nothing was written."),
        backup_path, newest));
  RETURN_IF_ERROR(image.SetSeqid(newest + 1));
  RETURN_IF_ERROR(WriteCopies(device, *target, image, /*source=*/std::nullopt));
  return std::string(image.uuid());
}

}  // namespace luks2ext
