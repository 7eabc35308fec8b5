// RAII around libcryptsetup's crypt_device, and the one mapping from its negative errno
// results to zcryptsetup's errors (and so to cryptsetup's exit codes).
#pragma once

#include <libcryptsetup.h>

#include <string>

#include "luks2ext/error.h"

namespace luks2ext {

class CryptDevice {
 public:
  // A LUKS2 header held at `header_path` (a memfd image) for the data on `data_path`.
  static Result<CryptDevice> InitDetached(const std::string& header_path,
                                          const std::string& data_path);
  // Header and data on one device, as cryptsetup uses an ordinary disk.
  static Result<CryptDevice> Init(const std::string& device_path);
  // An active mapping, for status and close.
  static Result<CryptDevice> InitByName(const std::string& name);

  CryptDevice(CryptDevice&& other) noexcept : cd_(other.cd_) { other.cd_ = nullptr; }
  CryptDevice& operator=(CryptDevice&& other) noexcept;
  CryptDevice(const CryptDevice&) = delete;
  CryptDevice& operator=(const CryptDevice&) = delete;
  ~CryptDevice();

  crypt_device* get() const { return cd_; }
  // crypt_load(CRYPT_LUKS2); a LUKS1 or non-LUKS header is Error::WrongDevice.
  Status LoadLuks2(const std::string& device_for_messages);

 private:
  explicit CryptDevice(crypt_device* cd) : cd_(cd) {}
  crypt_device* cd_;
};

// Maps a libcryptsetup result (-errno) to an Error. `what` says what failed; libcryptsetup's
// own last error message, when it logged one, is added.
Error CryptError(int result, const std::string& what);

}  // namespace luks2ext
