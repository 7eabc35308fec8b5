// RAII and helpers over libdevmapper's dm_task: the few ioctls zcryptsetup issues itself.
//
// A dm-crypt table holds the volume key in hex unless the key is a keyring reference, and the
// kernel returns it to every table query. So every task that loads or returns a table runs
// with dm_task_secure_data (the kernel and libdevmapper wipe their ioctl buffers), and table
// parameters are handed out only as views into libdevmapper's buffer, never copied.
#pragma once

#include <libdevmapper.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "luks2ext/error.h"

namespace luks2ext {

class DmTask {
 public:
  explicit DmTask(int type);
  DmTask(const DmTask&) = delete;
  DmTask& operator=(const DmTask&) = delete;
  ~DmTask();

  dm_task* get() const { return task_; }
  explicit operator bool() const { return task_ != nullptr; }

 private:
  dm_task* task_;
};

// Routes libdevmapper's messages to the log sink instead of stderr.
void QuietDeviceMapperLogging();

struct DmDeviceInfo {
  bool read_only = false;
  std::string uuid;  // the dm UUID, "" when the device has none
  uint32_t major = 0, minor = 0;
  bool suspended = false;
  int32_t open_count = 0;  // openers of the mapped device (a mount, a holder, a process)
};

// DM_DEVICE_INFO: what the kernel knows of the device `name` without its table (no key ever
// travels). nullopt when no such device exists.
Result<std::optional<DmDeviceInfo>> QueryDmInfo(const std::string& name);

// One target of a table, valid only during the visit: `params` points into libdevmapper's
// buffer, which is wiped when the query ends.
struct DmTargetView {
  uint64_t start = 0, length = 0;
  std::string_view type, params;
};

// DM_DEVICE_TABLE with secure data: calls `visit` for each target, in order. nullopt when no
// such device exists. `visit`'s first error stops the query and is returned.
Result<std::optional<DmDeviceInfo>> VisitDmTable(
    const std::string& name, const std::function<Status(const DmTargetView&)>& visit);

// Creates `name` with one target, whose NUL-terminated `params` may hold a key: create the
// device (name, uuid), load the table (secure data), resume. Never removes a device this call
// did not create: when the name or UUID is taken (by another process, maybe a moment ago) it
// is Error::Busy and nothing is touched; after a failed load or resume only the device
// carrying `uuid` is removed.
Status CreateDmDevice(const std::string& name, const std::string& uuid, uint64_t length,
                      const char* target_type, const char* params, bool read_only);

// Removes the device `name` whose dm UUID is `uuid` (looked up by the UUID, so nothing made
// under that name in the meantime is touched). Error::Busy when it is in use (open, mounted,
// held by another device).
Status RemoveDmDevice(const std::string& name, const std::string& uuid);

}  // namespace luks2ext
