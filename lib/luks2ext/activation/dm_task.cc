#include "activation/dm_task.h"

#include <fmt/format.h>

#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <utility>

#include "i18n.h"
#include "luks2ext/log.h"

namespace luks2ext {
namespace {

void DmLog(int level, const char* file, int line, int dm_errno, const char* f, ...) {
  (void)file, (void)line, (void)dm_errno;
  char buffer[1024];
  va_list args;
  va_start(args, f);
  std::vsnprintf(buffer, sizeof buffer, f, args);
  va_end(args);
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

}  // namespace

DmTask::DmTask(int type) : task_(dm_task_create(type)) {}
DmTask::~DmTask() {
  if (task_) dm_task_destroy(task_);
}

void QuietDeviceMapperLogging() { dm_log_with_errno_init(DmLog); }

Result<std::optional<DmDeviceTable>> ReadDmTable(const std::string& name, bool show_keys) {
  QuietDeviceMapperLogging();
  DmTask task(DM_DEVICE_TABLE);
  if (!task || !dm_task_set_name(task.get(), name.c_str())) return DmError("table query");
  if (show_keys) dm_task_secure_data(task.get());
  if (!show_keys) dm_task_no_flush(task.get());
  if (!dm_task_run(task.get())) {
    if (dm_task_get_errno(task.get()) == ENXIO) return std::optional<DmDeviceTable>();
    return DmError(fmt::format("table query of {}", name));
  }
  dm_info info{};
  if (!dm_task_get_info(task.get(), &info) || !info.exists) return std::optional<DmDeviceTable>();
  DmDeviceTable table;
  table.read_only = info.read_only != 0;
  if (const char* uuid = dm_task_get_uuid(task.get())) table.uuid = uuid;
  void* next = nullptr;
  do {
    uint64_t start = 0, length = 0;
    char* type = nullptr;
    char* params = nullptr;
    next = dm_get_next_target(task.get(), next, &start, &length, &type, &params);
    if (type) table.targets.push_back({start, length, type, params ? params : ""});
  } while (next);
  return std::optional<DmDeviceTable>(std::move(table));
}

Status CreateDmDevice(const std::string& name, const std::string& uuid, uint64_t length,
                      const char* target_type, const char* params, bool read_only) {
  QuietDeviceMapperLogging();
  DmTask task(DM_DEVICE_CREATE);
  if (!task || !dm_task_set_name(task.get(), name.c_str()) ||
      !dm_task_set_uuid(task.get(), uuid.c_str()) ||
      !dm_task_add_target(task.get(), 0, length, target_type, params))
    return DmError("create");
  dm_task_secure_data(task.get());  // the table holds the volume key: wipe ioctl buffers
  if (read_only) dm_task_set_ro(task.get());
  const auto [ok, err] = RunAndWaitForUdev(task);
  if (ok) return Status::Ok();
  // libdevmapper removes a device whose table load failed; make sure, so nothing is left.
  (void)RemoveDmDevice(name);
  if (err == EEXIST || err == EBUSY)
    return Error::Busy(FormatMsg(_("Device {} already exists."), name));
  return Error::WrongParameters(FormatMsg(
      _("The kernel refused the dm-crypt table for {}: {}."), name,
      err ? std::strerror(err) : "unknown error"));
}

Status RemoveDmDevice(const std::string& name) {
  QuietDeviceMapperLogging();
  DmTask task(DM_DEVICE_REMOVE);
  if (!task || !dm_task_set_name(task.get(), name.c_str())) return DmError("remove");
  dm_task_retry_remove(task.get());
  const auto [ok, err] = RunAndWaitForUdev(task);
  if (ok) return Status::Ok();
  if (err == EBUSY) return Error::Busy(FormatMsg(_("Device {} is still in use."), name));
  if (err == ENXIO) return Error::WrongDevice(FormatMsg(_("Device {} is not active."), name));
  return DmError(fmt::format("remove of {}", name));
}

}  // namespace luks2ext
