// luksAddKey, luksChangeKey, luksConvertKey, luksRemoveKey, luksKillSlot, erase: keyslot changes, each one crash-safe
// update of the metadata (see luks2ext/volume.h).
#include <cstdio>

#include "actions.h"
#include "i18n.h"
#include "luks2ext/number.h"
#include "luks2ext/volume.h"

namespace zcryptsetup {

using luks2ext::Error;
using luks2ext::Secret;
using luks2ext::Status;

namespace {

// The new passphrase: from --new-keyfile or the positional key file (with
// --new-keyfile-offset and --new-keyfile-size), else asked.
Result<Secret> NewPassphrase(const Invocation& call, const std::string& prompt) {
  const Options& o = call.options;
  PassphraseSource source{o.new_keyfile, o.new_keyfile_offset, o.new_keyfile_size, o.timeout};
  if (call.args.size() > 1) {
    if (!o.new_keyfile.empty())
      return Error::WrongParameters(
          _("Give the new key file either as --new-keyfile or as an argument, not both."));
    source.key_file = call.args[1];
  }
  if (source.key_file.empty() && (o.new_keyfile_offset || o.new_keyfile_size))
    return Error::WrongParameters(
        _("--new-keyfile-offset and --new-keyfile-size need a new key file."));
  return ReadPassphrase(source, prompt, call.verify_new_passphrase());
}

// Removing the last keyslot destroys access to the data: cryptsetup's question, or -q.
Result<bool> ConfirmLastKeyslot(const Options& o, const luks2ext::Volume& volume, int keyslot) {
  const std::vector<int> active = volume.active_keyslots();
  const bool last = active.size() == 1 && (keyslot < 0 || active.front() == keyslot);
  if (!last || o.batch_mode) return o.batch_mode;
  if (!InteractiveInput()) return false;  // the library refuses, with the reason
  if (!ConfirmOnTerminal(_("\nWARNING!\n========\nThis is the last keyslot. Device will become "
                           "unusable after purging this key.\n\nAre you sure? (Type 'yes' in "
                           "capital letters): ")))
    return Error::NoPermission(_("Operation aborted, the keyslot was NOT wiped."));
  return true;
}

}  // namespace

Status ActionLuksAddKey(const Invocation& call) {
  const std::string& path = call.metadata_device();
  const Options& o = call.options;
  // cryptsetup 2.7: --new-key-slot names the new keyslot, and -S then the one that unlocks.
  // libcryptsetup 2.6 adds a keyslot unlocked by any keyslot only, so -S keeps its 2.6 sense
  // (the new keyslot) alone and is refused beside --new-key-slot.
  if (o.new_key_slot >= 0 && o.key_slot >= 0)
    return Error::WrongParameters(
        _("-S (the keyslot to unlock with) beside --new-key-slot is not supported: give "
          "--new-key-slot alone."));
  const int new_keyslot = o.new_key_slot >= 0 ? o.new_key_slot : o.key_slot;
  ASSIGN_OR_RETURN(OpenedVolume v,
                   OpenVolume(path, true, luks2ext::Volume::ReadScope::kForOpen));
  ASSIGN_OR_RETURN(const Secret existing,
                   ReadPassphrase(call.passphrase_source(), _("Enter any existing passphrase: "),
                                  false));
  ASSIGN_OR_RETURN(const Secret added, NewPassphrase(call, _("Enter new passphrase for key slot: ")));
  ASSIGN_OR_RETURN(const int keyslot, v.volume->AddKey(existing, added, new_keyslot,
                                                       PbkdfFrom(call.options)));
  PrintVerbose(call.options, FormatMsg(_("Key slot {} created."), keyslot));
  return Status::Ok();
}

Status ActionLuksChangeKey(const Invocation& call) {
  const std::string& path = call.metadata_device();
  ASSIGN_OR_RETURN(OpenedVolume v,
                   OpenVolume(path, true, luks2ext::Volume::ReadScope::kForOpen));
  ASSIGN_OR_RETURN(const Secret existing,
                   ReadPassphrase(call.passphrase_source(), _("Enter passphrase to be changed: "),
                                  false));
  ASSIGN_OR_RETURN(const Secret replacement, NewPassphrase(call, _("Enter new passphrase: ")));
  ASSIGN_OR_RETURN(const int keyslot, v.volume->ChangeKey(existing, replacement,
                                                          call.options.key_slot,
                                                          PbkdfFrom(call.options)));
  PrintVerbose(call.options, FormatMsg(_("Key slot {} now holds the new passphrase."), keyslot));
  return Status::Ok();
}

Status ActionLuksConvertKey(const Invocation& call) {
  const std::string& path = call.metadata_device();
  ASSIGN_OR_RETURN(OpenedVolume v,
                   OpenVolume(path, true, luks2ext::Volume::ReadScope::kForOpen));
  ASSIGN_OR_RETURN(const Secret passphrase,
                   ReadPassphrase(call.passphrase_source(),
                                  _("Enter passphrase for keyslot to be converted: "),
                                  false));
  ASSIGN_OR_RETURN(const int keyslot, v.volume->ConvertKey(passphrase, call.options.key_slot,
                                                           PbkdfFrom(call.options)));
  PrintVerbose(call.options, FormatMsg(_("Key slot {} converted."), keyslot));
  return Status::Ok();
}

Status ActionErase(const Invocation& call) {
  const Options& o = call.options;
  const std::string& path = call.metadata_device();
  ASSIGN_OR_RETURN(OpenedVolume v,
                   OpenVolume(path, true, luks2ext::Volume::ReadScope::kForOpen));
  if (!ConfirmUnlessBatch(
          o.batch_mode,
          FormatMsg(_("\nWARNING!\n========\nThis operation will erase all keyslots on device "
                      "{}.\nDevice will become unusable after this operation.\n\nAre you sure? "
                      "(Type 'yes' in capital letters): "),
                    path)))
    return Error::NoPermission(_("Operation aborted, keyslots were NOT wiped."));
  ASSIGN_OR_RETURN(const std::vector<int> destroyed, v.volume->Erase());
  for (const int keyslot : destroyed)
    PrintVerbose(o, FormatMsg(_("Key slot {} removed."), keyslot));
  return Status::Ok();
}

Status ActionLuksRemoveKey(const Invocation& call) {
  const std::string& path = call.metadata_device();
  ASSIGN_OR_RETURN(OpenedVolume v,
                   OpenVolume(path, true, luks2ext::Volume::ReadScope::kForOpen));
  PassphraseSource source = call.passphrase_source();
  if (call.args.size() > 1) source.key_file = call.args[1];
  ASSIGN_OR_RETURN(const Secret passphrase,
                   ReadPassphrase(source, _("Enter passphrase to be deleted: "), false));
  ASSIGN_OR_RETURN(const bool allow_last, ConfirmLastKeyslot(call.options, *v.volume, -1));
  ASSIGN_OR_RETURN(const int keyslot, v.volume->RemoveKey(passphrase, allow_last));
  PrintVerbose(call.options, FormatMsg(_("Key slot {} removed."), keyslot));
  return Status::Ok();
}

Status ActionLuksKillSlot(const Invocation& call) {
  const std::string& path = call.metadata_device();
  // LUKS2 has keyslots 0..31 (cryptsetup's LUKS2_KEYSLOTS_MAX).
  const std::optional<uint64_t> number = luks2ext::ParseDecimalAtMost(call.args[1], 31);
  if (!number)
    return Error::WrongParameters(FormatMsg(_("Invalid keyslot number {}."), call.args[1]));
  const int keyslot = static_cast<int>(*number);
  ASSIGN_OR_RETURN(OpenedVolume v,
                   OpenVolume(path, true, luks2ext::Volume::ReadScope::kForOpen));
  ASSIGN_OR_RETURN(const bool allow_last, ConfirmLastKeyslot(call.options, *v.volume, keyslot));
  // Except in batch mode, a remaining passphrase proves the caller may change the volume
  // (cryptsetup's rule); not asked when the last keyslot goes, which was confirmed instead.
  const std::vector<int> active = v.volume->active_keyslots();
  const bool last = active.size() == 1 && active.front() == keyslot;
  std::optional<Secret> verify;
  if (!call.options.batch_mode && !last) {
    ASSIGN_OR_RETURN(verify, ReadPassphrase(call.passphrase_source(),
                                            _("Enter any remaining passphrase: "), false));
  }
  RETURN_IF_ERROR(v.volume->KillSlot(keyslot, verify ? &*verify : nullptr, allow_last));
  PrintVerbose(call.options, FormatMsg(_("Key slot {} removed."), keyslot));
  return Status::Ok();
}

}  // namespace zcryptsetup
