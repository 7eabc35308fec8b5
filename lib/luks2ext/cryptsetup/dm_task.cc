#include "cryptsetup/dm_task.h"

#include <fmt/format.h>

#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <utility>

#include "base/i18n.h"
#include "luks2ext/log.h"

namespace luks2ext {
namespace {

void DmLog(int level, const char* file, int line, int dm_errno, const char* f, ...) {
  (void)file, (void)line, (void)dm_errno;
  char buffer[1024];
  va_list args;
  va_start(args, f);
  const int n = std::vsnprintf(buffer, sizeof buffer, f, args);
  va_end(args);
  if (n < 0) return;
  // libdevmapper's levels: 3 error, 4 warn, 5 notice, 6 info, 7 debug. Its errors are
  // reported again, with context, by the caller; here they only help with --verbose.
  Log(level <= 4 ? LogLevel::kVerbose : LogLevel::kDebug, fmt::format("libdevmapper: {}", buffer));
}

// Runs the task with a udev cookie and waits for udev (or, without udev, for libdevmapper's
// own node handling). Returns whether it succeeded and the kernel's errno.
std::pair<bool, int> RunAndWaitForUdev(DmTask& task) {
  uint32_t cookie = 0;
  if (!dm_task_set_cookie(task.get(), &cookie, 0)) return {false, 0};
  const bool ok = dm_task_run(task.get());
  const int err = dm_task_get_errno(task.get());
  dm_udev_wait(cookie);
  return {ok, err};
}

Error DmError(const std::string& what) {
  return Error::WrongDevice(FormatMsg(_("Device-mapper: {} failed."), what));
}

std::string ErrnoText(int err) { return err ? std::strerror(err) : "unknown error"; }

DmDeviceInfo InfoOf(DmTask& task, const dm_info& info) {
  DmDeviceInfo result;
  result.read_only = info.read_only != 0;
  if (const char* uuid = dm_task_get_uuid(task.get())) result.uuid = uuid;
  result.major = info.major;
  result.minor = info.minor;
  result.suspended = info.suspended != 0;
  result.open_count = info.open_count;
  return result;
}

// Removes the device whose dm UUID is `uuid`. The kernel looks the device up by that UUID
// alone, so a device another process made under the same name is never the one removed; one
// already gone is not an error.
void RemoveDeviceWithUuid(const std::string& uuid) {
  DmTask task(DM_DEVICE_REMOVE);
  if (!task || !dm_task_set_uuid(task.get(), uuid.c_str())) return;
  dm_task_retry_remove(task.get());
  (void)RunAndWaitForUdev(task);
}

}  // namespace

DmTask::DmTask(int type) : task_(dm_task_create(type)) {}
DmTask::~DmTask() {
  if (task_) dm_task_destroy(task_);
}

void QuietDeviceMapperLogging() { dm_log_with_errno_init(DmLog); }

Result<std::optional<DmDeviceInfo>> QueryDmInfo(const std::string& name) {
  QuietDeviceMapperLogging();
  DmTask task(DM_DEVICE_INFO);
  if (!task || !dm_task_set_name(task.get(), name.c_str())) return DmError("info query");
  if (!dm_task_run(task.get())) {
    if (dm_task_get_errno(task.get()) == ENXIO) return std::optional<DmDeviceInfo>();
    return DmError(fmt::format("info query of {}", name));
  }
  dm_info info{};
  if (!dm_task_get_info(task.get(), &info) || !info.exists) return std::optional<DmDeviceInfo>();
  return std::optional<DmDeviceInfo>(InfoOf(task, info));
}

Result<std::optional<DmDeviceInfo>> VisitDmTable(
    const std::string& name, const std::function<Status(const DmTargetView&)>& visit) {
  QuietDeviceMapperLogging();
  DmTask task(DM_DEVICE_TABLE);
  if (!task || !dm_task_set_name(task.get(), name.c_str())) return DmError("table query");
  // The kernel returns the hex key in the table whatever the caller shows of it.
  if (!dm_task_secure_data(task.get())) return DmError("table query");
  if (!dm_task_run(task.get())) {
    if (dm_task_get_errno(task.get()) == ENXIO) return std::optional<DmDeviceInfo>();
    return DmError(fmt::format("table query of {}", name));
  }
  dm_info info{};
  if (!dm_task_get_info(task.get(), &info) || !info.exists) return std::optional<DmDeviceInfo>();
  void* next = nullptr;
  do {
    DmTargetView target;
    char* type = nullptr;
    char* params = nullptr;
    next = dm_get_next_target(task.get(), next, &target.start, &target.length, &type, &params);
    if (!type) break;
    target.type = type;
    if (params) target.params = params;
    RETURN_IF_ERROR(visit(target));
  } while (next);
  return std::optional<DmDeviceInfo>(InfoOf(task, info));
}

Status CreateDmDevice(const std::string& name, const std::string& uuid, uint64_t length,
                      const char* target_type, const char* params, bool read_only) {
  QuietDeviceMapperLogging();
  // Three ioctls, as libdevmapper's own create-with-table does, but each with its own errno:
  // libdevmapper's combined call loses the kernel's errno and cannot tell "the name was taken"
  // from "the table was refused".
  // 1. The device, without a table. A name or UUID already taken stays with whoever took it.
  DmTask create(DM_DEVICE_CREATE);
  if (!create || !dm_task_set_name(create.get(), name.c_str()) ||
      !dm_task_set_uuid(create.get(), uuid.c_str()))
    return DmError("create");
  if (!dm_task_run(create.get())) {
    const int err = dm_task_get_errno(create.get());
    if (err == EEXIST || err == EBUSY)
      return Error::Busy(FormatMsg(_("Device {} already exists."), name));
    return DmError(fmt::format("create of {} ({})", name, ErrnoText(err)));
  }
  dm_info info{};
  if (!dm_task_get_info(create.get(), &info) || !info.exists) {
    RemoveDeviceWithUuid(uuid);
    return DmError(fmt::format("create of {}", name));
  }

  // 2. The table, which may hold the key. The name only labels libdevmapper's messages: with
  // the device number set, the ioctl addresses our device by number.
  DmTask load(DM_DEVICE_RELOAD);
  if (!load || !dm_task_set_name(load.get(), name.c_str()) ||
      !dm_task_set_major_minor(load.get(), static_cast<int>(info.major),
                               static_cast<int>(info.minor), 0) ||
      !dm_task_secure_data(load.get()) || (read_only && !dm_task_set_ro(load.get())) ||
      !dm_task_add_target(load.get(), 0, length, target_type, params)) {
    RemoveDeviceWithUuid(uuid);
    return DmError("table load");
  }
  if (!dm_task_run(load.get())) {
    const int err = dm_task_get_errno(load.get());
    RemoveDeviceWithUuid(uuid);
    return Error::WrongParameters(
        FormatMsg(_("The kernel refused the dm-crypt table for {}: {}."), name, ErrnoText(err)));
  }

  // 3. Live. The name is what libdevmapper creates /dev/mapper/<name> from when udev does not.
  DmTask resume(DM_DEVICE_RESUME);
  if (!resume || !dm_task_set_name(resume.get(), name.c_str()) ||
      !dm_task_set_major_minor(resume.get(), static_cast<int>(info.major),
                               static_cast<int>(info.minor), 0)) {
    RemoveDeviceWithUuid(uuid);
    return DmError("resume");
  }
  const auto [ok, err] = RunAndWaitForUdev(resume);
  if (ok) return Status::Ok();
  RemoveDeviceWithUuid(uuid);
  return DmError(fmt::format("resume of {} ({})", name, ErrnoText(err)));
}

Status RemoveDmDevice(const std::string& name, const std::string& uuid) {
  QuietDeviceMapperLogging();
  DmTask task(DM_DEVICE_REMOVE);
  if (uuid.empty() || !task || !dm_task_set_uuid(task.get(), uuid.c_str()))
    return DmError(fmt::format("removal of {}", name));
  dm_task_retry_remove(task.get());
  const auto [ok, err] = RunAndWaitForUdev(task);
  if (ok) return Status::Ok();
  if (err == EBUSY) return Error::Busy(FormatMsg(_("Device {} is still in use."), name));
  return DmError(fmt::format("removal of {} ({})", name, ErrnoText(err)));
}

}  // namespace luks2ext
