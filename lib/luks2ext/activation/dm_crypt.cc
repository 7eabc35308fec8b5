// What the running kernel's dm-crypt supports, and what an active mapping runs with.
#include <fmt/format.h>
#include <libcryptsetup.h>
#include <spawn.h>
#include <sys/wait.h>

#include <cerrno>
#include <cstring>
#include <sstream>

#include "activation/dm_task.h"
#include "i18n.h"
#include "luks2ext/activation.h"
#include "metadata/crypt_device.h"

extern char** environ;

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

// The kernel lists a target only once its module is loaded; cryptsetup relies on the kernel
// loading it at the first table load, but the version must be known before that.
void LoadCryptModule() {
  pid_t pid = 0;
  const char* argv[] = {"modprobe", "-q", "dm_crypt", nullptr};
  if (posix_spawnp(&pid, "modprobe", nullptr, nullptr, const_cast<char* const*>(argv),
                   environ) != 0)
    return;
  int status = 0;
  waitpid(pid, &status, 0);
}

uint64_t ParseUnsigned(const std::string& text) {
  try {
    return std::stoull(text);
  } catch (...) {
    return 0;
  }
}

}  // namespace

std::string CryptTargetVersion::ToString() const {
  return fmt::format("{}.{}.{}", major, minor, patch);
}

Result<CryptTargetVersion> QueryCryptTarget() {
  if (auto version = ListedCryptTarget()) return *version;
  LoadCryptModule();
  if (auto version = ListedCryptTarget()) return *version;
  return Error::WrongDevice(
      _("The kernel has no dm-crypt target (module dm_crypt), or device-mapper is not "
        "available (is /dev/mapper/control there, and are you root?)."));
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

bool MappingExists(const std::string& name) {
  auto table = ReadDmTable(name, false);
  return table.ok() && table->has_value();
}

Result<ActiveMapping> QueryMapping(const std::string& name) {
  ASSIGN_OR_RETURN(auto table, ReadDmTable(name, false));
  if (!table) return Error::WrongDevice(FormatMsg(_("Device {} is not active."), name));
  if (table->targets.size() != 1 || table->targets[0].type != "crypt")
    return Error::WrongDevice(FormatMsg(_("Device {} is not a dm-crypt device."), name));

  ActiveMapping mapping;
  mapping.name = name;
  mapping.uuid = table->uuid;
  mapping.read_only = table->read_only;
  mapping.size_sectors = table->targets[0].length;
  // "CRYPT-LUKS2-<uuid>-<name>": libcryptsetup's naming, which stock tools rely on.
  if (mapping.uuid.rfind("CRYPT-", 0) == 0) {
    const auto dash = mapping.uuid.find('-', 6);
    mapping.type = mapping.uuid.substr(6, dash == std::string::npos ? dash : dash - 6);
  }
  // dm-crypt's table: <cipher> <key> <iv_offset> <device> <offset> [<#args> <arg>...]
  std::istringstream params(table->targets[0].params);
  std::string key, iv_offset, offset, count;
  params >> mapping.cipher >> key >> iv_offset >> mapping.device >> offset >> count;
  mapping.offset_sectors = ParseUnsigned(offset);
  if (!key.empty() && key[0] == ':') {  // ":<bytes>:<keyring type>:<description>"
    mapping.key_bits = 8 * ParseUnsigned(key.substr(1, key.find(':', 1) - 1));
  } else {
    mapping.key_bits = 4 * key.size();  // hex, usually shown as zeros without --showkeys
  }
  std::string arg;
  while (params >> arg) {
    if (arg.rfind("sector_size:", 0) == 0)
      mapping.sector_size = static_cast<uint32_t>(ParseUnsigned(arg.substr(12)));
    mapping.feature_args.push_back(arg);
  }
  return mapping;
}

Status Deactivate(const std::string& name) {
  if (!MappingExists(name))
    return Error::WrongDevice(FormatMsg(_("Device {} is not active."), name));
  const int r = crypt_deactivate_by_name(nullptr, name.c_str(), 0);
  if (r < 0) return CryptError(r, FormatMsg(_("Cannot deactivate {}"), name));
  return Status::Ok();
}

}  // namespace luks2ext
