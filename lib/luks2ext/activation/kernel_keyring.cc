#include "activation/kernel_keyring.h"

// keyutils (libkeyutils) is not needed for three system calls.
#include <linux/keyctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "base/i18n.h"

namespace luks2ext {

bool KernelHasKeyring() {
  // A logon key's description must be "prefix:rest", so this lookup can find nothing; it
  // fails with ENOSYS only when the kernel has no keyrings.
  return syscall(SYS_request_key, "logon", "dummy", nullptr, 0) == -1 && errno != ENOSYS;
}

std::string VolumeKeyDescription(const std::string& luks_uuid, int digest) {
  return FormatMsg("cryptsetup:{}-d{}", luks_uuid, digest);
}

Result<KeyringKey> KeyringKey::Add(const std::string& description, const Secret& key) {
  const long id = syscall(SYS_add_key, "logon", description.c_str(), key.data(), key.size(),
                          KEY_SPEC_THREAD_KEYRING);
  if (id < 0) {
    const int err = errno;
    const std::string message =
        FormatMsg(_("Cannot load the volume key into the kernel keyring: {}."), std::strerror(err));
    if (err == ENOMEM || err == EDQUOT) return Error::OutOfMemory(message);
    return Error::WrongParameters(message);
  }
  return KeyringKey(static_cast<int32_t>(id), key.size(), description);
}

KeyringKey::KeyringKey(KeyringKey&& other) noexcept
    : id_(other.id_), bytes_(other.bytes_), description_(std::move(other.description_)) {
  other.id_ = -1;
}

KeyringKey::~KeyringKey() { Drop(); }

std::string KeyringKey::TableKeyField() const {
  return FormatMsg(":{}:logon:{}", bytes_, description_);
}

void KeyringKey::Drop() {
  if (id_ < 0) return;
  // Revoking first makes the payload unusable even where the key is still linked; the unlink
  // is then housekeeping, as in libcryptsetup.
  (void)syscall(SYS_keyctl, KEYCTL_REVOKE, id_);
  (void)syscall(SYS_keyctl, KEYCTL_UNLINK, id_, KEY_SPEC_THREAD_KEYRING);
  id_ = -1;
}

}  // namespace luks2ext
