// RAII and helpers over libdevmapper's dm_task: the few ioctls zcryptsetup issues itself.
#pragma once

#include <libdevmapper.h>

#include <optional>
#include <string>
#include <vector>

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

struct DmTarget {
  uint64_t start = 0, length = 0;
  std::string type, params;
};

struct DmDeviceTable {
  bool read_only = false;
  std::string uuid;
  std::vector<DmTarget> targets;
};

// Routes libdevmapper's messages to the log sink instead of stderr.
void QuietDeviceMapperLogging();

// std::nullopt when the device does not exist.
Result<std::optional<DmDeviceTable>> ReadDmTable(const std::string& name, bool show_keys);

// DM_DEVICE_CREATE with one target whose parameters may hold a key (`params`, NUL-terminated,
// is never copied into a std::string); on failure nothing is left behind.
Status CreateDmDevice(const std::string& name, const std::string& uuid, uint64_t length,
                      const char* target_type, const char* params, bool read_only);
Status RemoveDmDevice(const std::string& name);

}  // namespace luks2ext
