#include "cryptsetup/crypt_device.h"

#include <fmt/format.h>

#include <cerrno>
#include <cstring>

#include "cryptsetup/crypt_log.h"
#include "base/i18n.h"

namespace luks2ext {

Error CryptError(int result, const std::string& what) {
  const int err = -result;
  std::string message = what;
  const std::string detail = TakeLastCryptError();
  if (!detail.empty())
    message += ": " + detail;
  else if (err > 0)
    message += ": " + std::string(std::strerror(err));
  switch (err) {
    case EPERM:
    case EACCES:
      return Error::NoPermission(message);
    case ENOMEM:
      return Error::OutOfMemory(message);
    case EBUSY:
    case EEXIST:
      return Error::Busy(message);
    case ENODEV:
    case ENOENT:
    case ENXIO:
    case EIO:
    case ENOTBLK:
      return Error::WrongDevice(message);
    default:
      return Error::WrongParameters(message);
  }
}

namespace {

// Makes a context with `init` (one of libcryptsetup's crypt_init calls), its messages routed
// to our sink from the first one on: the global route before it exists, its own after.
template <typename Init>
int InitRouted(crypt_device** cd, Init init) {
  RouteCryptLog();
  const int r = init(cd);
  if (r >= 0) InstallCryptLogCallback(*cd);
  return r;
}

}  // namespace

Result<CryptDevice> CryptDevice::InitDetached(const std::string& header_path,
                                              const std::string& data_path) {
  crypt_device* cd = nullptr;
  const int r = InitRouted(&cd, [&](crypt_device** out) {
    return crypt_init_data_device(out, header_path.c_str(), data_path.c_str());
  });
  if (r < 0) return CryptError(r, FormatMsg(_("Cannot use device {}"), data_path));
  return CryptDevice(cd);
}

Result<CryptDevice> CryptDevice::Init(const std::string& device_path) {
  crypt_device* cd = nullptr;
  const int r =
      InitRouted(&cd, [&](crypt_device** out) { return crypt_init(out, device_path.c_str()); });
  if (r < 0) return CryptError(r, FormatMsg(_("Cannot use device {}"), device_path));
  return CryptDevice(cd);
}

Result<CryptDevice> CryptDevice::InitByName(const std::string& name) {
  crypt_device* cd = nullptr;
  const int r =
      InitRouted(&cd, [&](crypt_device** out) { return crypt_init_by_name(out, name.c_str()); });
  if (r == -ENODEV) return Error::WrongDevice(FormatMsg(_("Device {} is not active."), name));
  if (r < 0) return CryptError(r, FormatMsg(_("Cannot query active device {}"), name));
  return CryptDevice(cd);
}

CryptDevice& CryptDevice::operator=(CryptDevice&& other) noexcept {
  if (this != &other) {
    if (cd_) crypt_free(cd_);
    cd_ = other.cd_;
    other.cd_ = nullptr;
  }
  return *this;
}

CryptDevice::~CryptDevice() {
  if (cd_) crypt_free(cd_);
}

Status CryptDevice::LoadLuks2(const std::string& device_for_messages) {
  const int r = crypt_load(cd_, CRYPT_LUKS2, nullptr);
  if (r == 0) return Status::Ok();
  TakeLastCryptError();  // "Device is not a valid LUKS device" says less than we can
  if (crypt_load(cd_, CRYPT_LUKS1, nullptr) == 0)
    return Error::WrongDevice(FormatMsg(
        _("Device {} holds a LUKS1 header; zcryptsetup handles LUKS2 only."),
        device_for_messages));
  TakeLastCryptError();
  if (r == -ENOMEM) return Error::OutOfMemory(_("Out of memory while loading the header."));
  return Error::WrongDevice(
      FormatMsg(_("Device {} is not a valid LUKS2 device."), device_for_messages));
}

}  // namespace luks2ext
