// A volume key handed to dm-crypt through the kernel keyring, as libcryptsetup hands it: a
// "logon" key (the kernel never gives its payload back to user space) in this thread's
// keyring, which dm-crypt looks up by description when it loads a table whose key field is
// ":<key bytes>:logon:<description>". The key then never appears in a table, neither in the
// ioctl that loads it nor in any later table query.
#pragma once

#include <cstdint>
#include <string>
#include <utility>

#include "luks2ext/error.h"
#include "luks2ext/secret.h"

namespace luks2ext {

// Whether the running kernel has keyrings at all (CONFIG_KEYS); libcryptsetup's test.
bool KernelHasKeyring();

// libcryptsetup's description for a LUKS2 volume key: "cryptsetup:<LUKS UUID>-d<digest>".
std::string VolumeKeyDescription(const std::string& luks_uuid, int digest);

class KeyringKey {
 public:
  // Adds `key` to this thread's keyring as a logon key named `description`.
  static Result<KeyringKey> Add(const std::string& description, const Secret& key);

  KeyringKey(KeyringKey&& other) noexcept;
  KeyringKey& operator=(KeyringKey&&) = delete;
  KeyringKey(const KeyringKey&) = delete;
  KeyringKey& operator=(const KeyringKey&) = delete;
  // Drops the key.
  ~KeyringKey();

  // The dm-crypt table's key field that names this key.
  std::string TableKeyField() const;
  // Revokes the key, so that nothing can use it any more, and unlinks it from the thread
  // keyring. dm-crypt keeps its own copy from the table load; nothing else needs the key.
  void Drop();

 private:
  KeyringKey(int32_t id, size_t bytes, std::string description)
      : id_(id), bytes_(bytes), description_(std::move(description)) {}
  int32_t id_;  // key_serial_t; -1 once dropped
  size_t bytes_;
  std::string description_;
};

}  // namespace luks2ext
