// config, luksUUID --uuid, luksHeaderBackup, luksHeaderRestore, repair: whole-header
// operations.
#include <cstdio>

#include "actions.h"
#include "i18n.h"
#include "luks2ext/header_backup.h"
#include "luks2ext/volume.h"

namespace zcryptsetup {

using luks2ext::Error;
using luks2ext::Status;

namespace {

Result<std::string> BackupFileOption(const Options& o, const char* action) {
  if (o.header_backup_file.empty())
    return Error::WrongParameters(
        FormatMsg(_("Option --header-backup-file is required for {}."), action));
  return o.header_backup_file;
}

// cryptsetup's question before a restore over a header; one message for each case, so that
// each translates as a whole.
std::string RestoreQuestion(const std::string& path, bool other_volume,
                            const std::string& current_uuid) {
  if (other_volume)
    return FormatMsg(
        _("\nWARNING!\n========\nDevice {} already contains a LUKS2 header of another volume "
          "(UUID {}). Replacing the header will destroy its keyslots.\n\nAre you sure? (Type "
          "'yes' in capital letters): "),
        path, current_uuid);
  return FormatMsg(
      _("\nWARNING!\n========\nDevice {} already contains a LUKS2 header. Replacing the header "
        "will destroy its keyslots.\n\nAre you sure? (Type 'yes' in capital letters): "),
      path);
}

}  // namespace

Status ActionConfig(const Invocation& call) {
  const Options& o = call.options;
  const bool label = !o.label.empty() || o.given_label;
  const bool subsystem = !o.subsystem.empty() || o.given_subsystem;
  const bool flags = !o.perf_force_inline.empty();
  const bool priority = !o.priority.empty();
  if (!label && !subsystem && !flags && !priority)
    return Error::WrongParameters(_(
        "Nothing to change: give --label, --subsystem, --priority or --perf-force_inline[=off]."));
  // cryptsetup's checks and words for --priority.
  auto keyslot_priority = luks2ext::Volume::KeyslotPriority::kNormal;
  if (priority) {
    if (o.priority == "ignore") {
      keyslot_priority = luks2ext::Volume::KeyslotPriority::kIgnore;
    } else if (o.priority == "prefer") {
      keyslot_priority = luks2ext::Volume::KeyslotPriority::kPrefer;
    } else if (o.priority != "normal") {
      return Error::WrongParameters(_("Option --priority can be only ignore/normal/prefer."));
    }
    if (o.key_slot < 0) return Error::WrongParameters(_("Keyslot specification is required."));
  }
  if (o.perf_force_inline == "native")
    return Error::WrongParameters(
        _("=native cannot be made persistent: stock tools would not understand it."));
  ASSIGN_OR_RETURN(auto device, luks2ext::OpenBlockDevice(call.metadata_device(), true));
  ASSIGN_OR_RETURN(auto volume,
                   luks2ext::Volume::Open(*device, luks2ext::Volume::ReadScope::kForOpen));
  PrintWarnings(*volume);
  if (label || subsystem) {
    std::optional<std::string> new_label, new_subsystem;
    if (label) new_label = o.label;
    if (subsystem) new_subsystem = o.subsystem;
    RETURN_IF_ERROR(volume->SetLabel(new_label, new_subsystem));
  }
  if (priority) RETURN_IF_ERROR(volume->SetKeyslotPriority(o.key_slot, keyslot_priority));
  if (flags) RETURN_IF_ERROR(volume->SetPersistentFlags(o.perf_force_inline != "off", std::nullopt));
  return Status::Ok();
}

Status SetVolumeUuid(const Invocation& call) {
  const Options& o = call.options;
  ASSIGN_OR_RETURN(auto device, luks2ext::OpenBlockDevice(call.metadata_device(), true));
  ASSIGN_OR_RETURN(auto volume,
                   luks2ext::Volume::Open(*device, luks2ext::Volume::ReadScope::kForOpen));
  PrintWarnings(*volume);
  // cryptsetup's question (libcryptsetup's confirmation of crypt_set_uuid).
  if (!ConfirmUnlessBatch(o.batch_mode,
                          _("\nWARNING!\n========\nDo you really want to change UUID of "
                            "device?\n\nAre you sure? (Type 'yes' in capital letters): ")))
    return Error::NoPermission(_("Operation aborted."));
  return volume->SetUuid(o.uuid);
}

Status ActionLuksHeaderBackup(const Invocation& call) {
  ASSIGN_OR_RETURN(const std::string file, BackupFileOption(call.options, "luksHeaderBackup"));
  ASSIGN_OR_RETURN(auto device, luks2ext::OpenBlockDevice(call.metadata_device(), false));
  ASSIGN_OR_RETURN(auto volume, luks2ext::Volume::Open(*device));
  PrintWarnings(*volume);
  return volume->BackupHeader(file);
}

Status ActionLuksHeaderRestore(const Invocation& call) {
  const Options& o = call.options;
  const std::string& target = call.metadata_device();
  ASSIGN_OR_RETURN(const std::string file, BackupFileOption(o, "luksHeaderRestore"));
  // Replacing the header under a mapping or a mount would pull its keys from under it.
  ASSIGN_OR_RETURN(auto device, luks2ext::OpenBlockDevice(target, true, luks2ext::Exclusive::kYes));
  // --header: the backup goes to the detached header; its data segment must fit the drive.
  std::unique_ptr<luks2ext::BlockDevice> detached_data;
  if (!o.header.empty()) {
    ASSIGN_OR_RETURN(detached_data, luks2ext::OpenBlockDevice(call.args[0], false));
  }
  // The file is checked before anything is asked or written.
  ASSIGN_OR_RETURN(const std::string backup_uuid,
                   luks2ext::BackupUuid(*device, file, detached_data.get()));
  ASSIGN_OR_RETURN(const std::optional<std::string> current, luks2ext::CurrentUuid(*device));
  if (current && !o.batch_mode) {
    const bool other_volume = *current != backup_uuid;
    if (InteractiveInput()) {
      if (!ConfirmOnTerminal(RestoreQuestion(target, other_volume, *current)))
        return Error::NoPermission(_("Operation aborted."));
    } else if (other_volume) {
      return Error::WrongParameters(FormatMsg(
          _("Device {} holds the header of another volume (UUID {}, backup UUID {}); use -q to "
            "replace it."),
          target, *current, backup_uuid));
    }
  }
  ASSIGN_OR_RETURN(const std::string uuid,
                   luks2ext::RestoreHeader(*device, file, detached_data.get()));
  PrintVerbose(o, FormatMsg(_("Restored the header of {} on {}."), uuid, target));
  return Status::Ok();
}

Status ActionRepair(const Invocation& call) {
  ASSIGN_OR_RETURN(auto device,
                   luks2ext::OpenBlockDevice(call.args[0], true, luks2ext::Exclusive::kYes));
  ASSIGN_OR_RETURN(auto volume, luks2ext::Volume::Open(*device));
  PrintWarnings(*volume);
  ASSIGN_OR_RETURN(const std::string done, volume->Repair());
  PrintNote(done);
  return Status::Ok();
}

}  // namespace zcryptsetup
