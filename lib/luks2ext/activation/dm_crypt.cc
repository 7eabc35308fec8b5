// What the running kernel's dm-crypt supports, and what an active mapping runs with.
#include <fmt/format.h>
#include <libcryptsetup.h>

#include <cstring>
#include <optional>
#include <utility>

#include "activation/activate.h"
#include "activation/crypt_table.h"
#include "cryptsetup/dm_task.h"
#include "activation/kernel_module.h"
#include "base/i18n.h"
#include "luks2ext/activation.h"
#include "cryptsetup/crypt_device.h"

namespace luks2ext {
namespace {

std::optional<CryptTargetVersion> ListedCryptTarget() {
  QuietDeviceMapperLogging();
  DmTask task(DM_DEVICE_LIST_VERSIONS);
  if (!task || !dm_task_run(task.get())) return std::nullopt;
  dm_versions* target = dm_task_get_versions(task.get());
  if (!target) return std::nullopt;
  // The list is packed: each entry says how far the next one is; the last says 0.
  for (;;) {
    if (std::strcmp(target->name, "crypt") == 0)
      return CryptTargetVersion{target->version[0], target->version[1], target->version[2]};
    if (target->next == 0) break;
    target = reinterpret_cast<dm_versions*>(reinterpret_cast<char*>(target) + target->next);
  }
  return std::nullopt;
}

}  // namespace

std::string CryptTargetVersion::ToString() const {
  return fmt::format("{}.{}.{}", major, minor, patch);
}

Result<CryptTargetVersion> QueryCryptTarget() {
  if (auto version = ListedCryptTarget()) return *version;
  // The kernel lists a target only once its module is loaded; cryptsetup relies on the kernel
  // loading it at the first table load, but the version must be known before that.
  const Status loaded = LoadKernelModule("dm_crypt");
  if (auto version = ListedCryptTarget()) return *version;
  return Error::WrongDevice(
      FormatMsg(_("The kernel has no dm-crypt target (module dm_crypt), or device-mapper is not "
                  "available (is /dev/mapper/control there, and are you root?).{}"),
                loaded.ok() ? "" : " " + loaded.error().message()));
}

Status CheckInlineSupport(const CryptTargetVersion& version, InlineMode mode) {
  if (mode == InlineMode::kWorkqueueFlags && !version.SupportsWorkqueueFlags())
    return Error::WrongParameters(FormatMsg(
        _("force_inline needs dm-crypt 1.22.0 or later (Linux 5.9) for no_read_workqueue and "
          "no_write_workqueue; this kernel has dm-crypt {}. Nothing was activated."),
        version.ToString()));
  // kNative: only the kernel can tell whether it carries the RFC patch; it refuses the table
  // otherwise, and activation cleans up.
  return Status::Ok();
}

bool ActiveMapping::HasFeature(const std::string& arg) const {
  for (const auto& a : feature_args)
    if (a == arg) return true;
  return false;
}

bool ActiveMapping::RunsInline() const {
  return HasFeature("force_inline") ||
         (HasFeature("no_read_workqueue") && HasFeature("no_write_workqueue"));
}

bool ActiveMapping::MapsVolume(const std::string& luks_uuid) const {
  std::string prefix = "CRYPT-LUKS2-";
  for (const char c : luks_uuid)
    if (c != '-') prefix += c;
  prefix += '-';
  return !luks_uuid.empty() && uuid.rfind(prefix, 0) == 0;
}

Error MappingNotActive(const std::string& name) {
  return Error::WrongDevice(FormatMsg(_("Device {} is not active."), name));
}

bool MappingExists(const std::string& name) {
  auto info = QueryDmInfo(name);
  return info.ok() && info->has_value();
}

Result<ActiveMapping> QueryMapping(const std::string& name) {
  ActiveMapping mapping;
  mapping.name = name;
  size_t targets = 0;
  // The table is parsed inside libdevmapper's buffer (wiped when the query ends): the hex key
  // it may hold is never copied.
  ASSIGN_OR_RETURN(
      const std::optional<DmDeviceInfo> info,
      VisitDmTable(name, [&](const DmTargetView& target) -> Status {
        if (++targets > 1 || target.type != "crypt")
          return Error::WrongDevice(FormatMsg(_("Device {} is not a dm-crypt device."), name));
        ASSIGN_OR_RETURN(CryptTable table, ParseCryptTable(target.params));
        mapping.size_sectors = target.length;
        mapping.cipher = std::move(table.cipher);
        mapping.key_bits = 8 * table.key_bytes;
        mapping.key_in_keyring = table.key_in_keyring;
        mapping.device = std::move(table.device);
        mapping.offset_sectors = table.offset_sectors;
        mapping.iv_offset = table.iv_offset;
        mapping.sector_size = table.sector_size;
        mapping.feature_args = std::move(table.feature_args);
        return Status::Ok();
      }));
  if (!info) return MappingNotActive(name);
  if (targets != 1)
    return Error::WrongDevice(FormatMsg(_("Device {} is not a dm-crypt device."), name));
  mapping.uuid = info->uuid;
  mapping.read_only = info->read_only;
  mapping.suspended = info->suspended;
  mapping.in_use = info->open_count > 0;
  // "CRYPT-LUKS2-<uuid>-<name>": libcryptsetup's naming, which stock tools rely on.
  if (mapping.uuid.rfind("CRYPT-", 0) == 0) {
    const auto dash = mapping.uuid.find('-', 6);
    mapping.type = mapping.uuid.substr(6, dash == std::string::npos ? dash : dash - 6);
  }
  return mapping;
}

Status ResizeWithTableKey(const std::string& name, uint64_t sectors) {
  ASSIGN_OR_RETURN(const CryptDevice cd, CryptDevice::InitByName(name));
  ActivationRequest request;
  request.name = name;
  request.resize_sectors = sectors;
  return ResizeLoaded(cd.get(), request);
}

Status Suspend(const std::string& name) {
  ASSIGN_OR_RETURN(const ActiveMapping mapping, QueryMapping(name));
  if (mapping.uuid.rfind("CRYPT-LUKS", 0) != 0)
    return Error::WrongDevice(
        FormatMsg(_("{} is not active LUKS device name or header is missing."), name));
  if (mapping.suspended)
    return Error::WrongParameters(FormatMsg(_("Volume {} is already suspended."), name));
  // As cryptsetup: libcryptsetup loads the header from the device the table names (it only
  // reads, so a zoned drive is no obstacle), wipes the key in dm-crypt and drops the keyring
  // key the table names.
  ASSIGN_OR_RETURN(const CryptDevice cd, CryptDevice::InitByName(name));
  const int r = crypt_suspend(cd.get(), name.c_str());
  if (r < 0) return CryptError(r, FormatMsg(_("Cannot suspend {}"), name));
  return Status::Ok();
}

Status Deactivate(const std::string& name) {
  // libcryptsetup first, as stock cryptsetup closes: a close costs what stock's does.
  const int r = crypt_deactivate_by_name(nullptr, name.c_str(), 0);
  if (r >= 0) return Status::Ok();
  if (!MappingExists(name))
    return MappingNotActive(name);
  // libcryptsetup 2.6 cannot parse a table with the RFC's force_inline ("Failed to query
  // dm-crypt segment") and so cannot close it: such a mapping, which only =native makes on a
  // patched dm-crypt, is removed through device-mapper, by its cryptsetup UUID. dm-crypt wipes
  // its copy of the key when the target goes; the keyring key was revoked at activation.
  if (auto mapping = QueryMapping(name); mapping.ok() && mapping->HasFeature("force_inline")) {
    if (mapping->uuid.rfind("CRYPT-", 0) != 0)
      return Error::WrongDevice(
          FormatMsg(_("Device {} was not made by cryptsetup or zcryptsetup."), name));
    return RemoveDmDevice(name, mapping->uuid);
  }
  return CryptError(r, FormatMsg(_("Cannot deactivate {}"), name));
}

}  // namespace luks2ext
