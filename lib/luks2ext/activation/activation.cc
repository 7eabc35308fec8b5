#include <fmt/format.h>
#include <libcryptsetup.h>

#include <cerrno>
#include <cstdlib>
#include <optional>
#include <vector>

#include "activation/activate.h"
#include "cryptsetup/dm_task.h"
#include "activation/kernel_keyring.h"
#include "base/i18n.h"
#include "cryptsetup/crypt_device.h"

namespace luks2ext {
namespace {

Error WrongPassphrase() { return Error::NoPermission(_("No key available with this passphrase.")); }

// Builds the dm-crypt table by hand, as libcryptsetup would, plus the native feature
// argument: libcryptsetup has no way to pass an argument it does not know.
Status ActivateNative(crypt_device* cd, const ActivationRequest& request, const Secret& passphrase,
                      const std::string& data_path, uint64_t data_size,
                      const CryptTargetVersion& dm_crypt) {
  const int key_size = crypt_get_volume_key_size(cd);
  if (key_size <= 0) return Error::WrongDevice(_("The header names no volume key size."));
  Secret volume_key = Secret::Zeroed(static_cast<size_t>(key_size));
  size_t got = volume_key.size();
  int r = crypt_volume_key_get(cd, request.keyslot, volume_key.data(), &got, passphrase.data(),
                               passphrase.size());
  if (r == -EPERM) return WrongPassphrase();
  if (r < 0) return CryptError(r, _("Cannot unlock the volume key"));
  volume_key.Truncate(got);

  uint32_t persistent = 0;
  crypt_persistent_flags_get(cd, CRYPT_FLAGS_ACTIVATION, &persistent);
  std::vector<std::string> args;
  if (request.allow_discards || (persistent & CRYPT_ACTIVATE_ALLOW_DISCARDS))
    args.emplace_back("allow_discards");
  if (request.same_cpu_crypt || (persistent & CRYPT_ACTIVATE_SAME_CPU_CRYPT))
    args.emplace_back("same_cpu_crypt");
  if (request.submit_from_crypt_cpus || (persistent & CRYPT_ACTIVATE_SUBMIT_FROM_CRYPT_CPUS))
    args.emplace_back("submit_from_crypt_cpus");
  if (const int sector_size = crypt_get_sector_size(cd); sector_size > 512)
    args.push_back(fmt::format("sector_size:{}", sector_size));
  args.push_back(NativeFeatureArg());

  const uint64_t offset = crypt_get_data_offset(cd);  // 512-byte sectors
  if (data_size / 512 <= offset)
    return Error::WrongDevice(_("The data device is smaller than the data offset."));
  const uint64_t length = data_size / 512 - offset;

  const std::string luks_uuid = crypt_get_uuid(cd) ? crypt_get_uuid(cd) : "";
  std::string suffix =
      fmt::format(" {} {} {} {}", crypt_get_iv_offset(cd), data_path, offset, args.size());
  for (const auto& arg : args) suffix += " " + arg;

  Secret params;
  std::optional<KeyringKey> keyring_key;
  params.Append(fmt::format("{}-{} ", crypt_get_cipher(cd), crypt_get_cipher_mode(cd)));
  // Digest 0 is the one digest of the volumes luksFormat writes (ours and cryptsetup's); the
  // description is libcryptsetup's, so its tools recognise the key.
  RETURN_IF_ERROR(AppendTableKeyField(volume_key, VolumeKeyDescription(luks_uuid, 0), dm_crypt,
                                      !request.disable_keyring, params, keyring_key));
  params.Append(suffix);
  params.Append('\0');

  std::string uuid_hex;
  for (const char c : luks_uuid)
    if (c != '-') uuid_hex += c;
  const std::string dm_uuid = fmt::format("CRYPT-LUKS2-{}-{}", uuid_hex, request.name);
  Status created =
      CreateDmDevice(request.name, dm_uuid, length, "crypt", params.data(), request.read_only);
  // dm-crypt copied the key when it loaded the table, or the load failed: either way nothing
  // needs it in the keyring any more.
  if (keyring_key) keyring_key->Drop();
  if (!created.ok() && created.error().code() == ExitCode::kWrongParameters)
    return Error::WrongParameters(FormatMsg(
        _("The kernel rejected dm-crypt's '{}' argument (native force_inline needs a kernel "
          "with the force_inline patch; use --perf-force_inline without =native for the "
          "upstream flags). Nothing was activated."),
        NativeFeatureArg()));
  return created;
}

}  // namespace

Status AppendTableKeyField(const Secret& volume_key, const std::string& keyring_description,
                           const CryptTargetVersion& dm_crypt, bool use_keyring, Secret& params,
                           std::optional<KeyringKey>& keyring_key) {
  if (use_keyring && dm_crypt.SupportsKeyringKeys() && KernelHasKeyring()) {
    ASSIGN_OR_RETURN(KeyringKey key, KeyringKey::Add(keyring_description, volume_key));
    params.Append(key.TableKeyField());
    keyring_key.emplace(std::move(key));
    return Status::Ok();
  }
  // dm-crypt before 1.15 (Linux 4.10), a kernel built without keyrings, or a user who asked
  // for it (--disable-keyring): the key goes in the table itself, as libcryptsetup then
  // passes it too: in hex, in wiped memory.
  static constexpr char kHex[] = "0123456789abcdef";
  for (size_t i = 0; i < volume_key.size(); ++i) {
    const auto byte = static_cast<unsigned char>(volume_key.data()[i]);
    params.Append(kHex[byte >> 4]);
    params.Append(kHex[byte & 15]);
  }
  return Status::Ok();
}

std::string NativeFeatureArg() {
#ifdef ZCRYPTSETUP_TEST_HOOKS
  const char* override_arg = std::getenv("ZCRYPTSETUP_NATIVE_FEATURE_ARG");
  if (override_arg && *override_arg) return override_arg;
#endif
  return "force_inline";
}

bool TestHooksCompiledIn() {
#ifdef ZCRYPTSETUP_TEST_HOOKS
  return true;
#else
  return false;
#endif
}

Status CheckActivation(const ActivationRequest& request,
                       std::optional<CryptTargetVersion>* dm_crypt) {
  if (request.resize_sectors) {
    if (request.name.empty() || !MappingExists(request.name))
      return MappingNotActive(request.name);
    return Status::Ok();
  }
  if (request.resume) {
    ASSIGN_OR_RETURN(const ActiveMapping mapping, QueryMapping(request.name));
    if (!mapping.suspended)
      return Error::WrongParameters(FormatMsg(_("Volume {} is not suspended."), request.name));
    return Status::Ok();
  }
  if (request.refresh) {
    RETURN_IF_ERROR(CheckRefreshRequest(request));
    if (request.name.empty() || !MappingExists(request.name))
      return MappingNotActive(request.name);
  } else if (request.inline_mode == InlineMode::kNative && !request.name.empty() &&
             MappingExists(request.name)) {
    // Only for the table built here: libcryptsetup's activation asks device-mapper itself
    // before it tries a keyslot, and its -EEXIST becomes this same error. A second query would
    // be one more ioctl and its code in every open, for nothing.
    return Error::Busy(FormatMsg(_("Device {} already exists."), request.name));
  }
  if ((request.inline_mode || request.no_read_workqueue || request.no_write_workqueue) &&
      !request.name.empty()) {
    ASSIGN_OR_RETURN(*dm_crypt, QueryCryptTarget());
    RETURN_IF_ERROR(
        CheckInlineSupport(**dm_crypt, request.inline_mode.value_or(InlineMode::kWorkqueueFlags)));
  }
  return Status::Ok();
}

Status CheckRefreshRequest(const ActivationRequest& request) {
  // libcryptsetup reloads a table it has read back; it cannot read the RFC's argument, and it
  // cannot write it either.
  if (request.refresh && request.inline_mode == InlineMode::kNative)
    return Error::WrongParameters(
        _("refresh cannot switch to --perf-force_inline=native: close the mapping and open it "
          "again with it."));
  return Status::Ok();
}

uint32_t ActivationFlags(const ActivationRequest& request) {
  uint32_t flags = 0;
  if (request.read_only) flags |= CRYPT_ACTIVATE_READONLY;
  if (request.allow_discards) flags |= CRYPT_ACTIVATE_ALLOW_DISCARDS;
  if (request.inline_mode == InlineMode::kWorkqueueFlags || request.no_read_workqueue)
    flags |= CRYPT_ACTIVATE_NO_READ_WORKQUEUE;
  if (request.inline_mode == InlineMode::kWorkqueueFlags || request.no_write_workqueue)
    flags |= CRYPT_ACTIVATE_NO_WRITE_WORKQUEUE;
  if (request.same_cpu_crypt) flags |= CRYPT_ACTIVATE_SAME_CPU_CRYPT;
  if (request.submit_from_crypt_cpus) flags |= CRYPT_ACTIVATE_SUBMIT_FROM_CRYPT_CPUS;
  if (request.refresh) flags |= CRYPT_ACTIVATE_REFRESH;
  return flags;
}

Status ResizeLoaded(crypt_device* cd, const ActivationRequest& request) {
  const int r = crypt_resize(cd, request.name.c_str(), *request.resize_sectors);
  if (r < 0) return CryptError(r, FormatMsg(_("Cannot resize {}"), request.name));
  return Status::Ok();
}

void DisableKeyringIfAsked(crypt_device* cd, const ActivationRequest& request) {
  if (request.disable_keyring) crypt_volume_key_keyring(cd, 0);
}

Error NoUsableKeyslot() { return Error::WrongParameters(_("No usable keyslot is available.")); }

Status ActivateByPassphrase(crypt_device* cd, const ActivationRequest& request,
                            const Secret& passphrase, const std::string& data_path,
                            uint64_t data_size) {
  std::optional<CryptTargetVersion> dm_crypt;
  RETURN_IF_ERROR(CheckActivation(request, &dm_crypt));
  if (request.inline_mode == InlineMode::kNative && !request.name.empty() && !request.resume &&
      !request.resize_sectors)
    return ActivateNative(cd, request, passphrase, data_path, data_size, *dm_crypt);

  if (request.resize_sectors) {
    // As cryptsetup resize: the key into the keyring through this context, then the new table.
    const int unlocked = crypt_activate_by_passphrase(cd, nullptr, request.keyslot,
                                                      passphrase.data(), passphrase.size(),
                                                      CRYPT_ACTIVATE_KEYRING_KEY);
    if (unlocked == -EPERM) return WrongPassphrase();
    if (unlocked == -ENOENT) return NoUsableKeyslot();
    if (unlocked < 0) return CryptError(unlocked, _("Cannot unlock the volume key"));
    return ResizeLoaded(cd, request);
  }
  DisableKeyringIfAsked(cd, request);
  const int r =
      request.resume
          ? crypt_resume_by_passphrase(cd, request.name.c_str(), request.keyslot,
                                       passphrase.data(), passphrase.size())
          : crypt_activate_by_passphrase(cd, request.name.empty() ? nullptr : request.name.c_str(),
                                         request.keyslot, passphrase.data(), passphrase.size(),
                                         ActivationFlags(request));
  if (r == -EPERM) return WrongPassphrase();
  if (r < 0) {
    if (r == -EEXIST) return Error::Busy(FormatMsg(_("Device {} already exists."), request.name));
    if (r == -ENOENT) return NoUsableKeyslot();
    return CryptError(r, FormatMsg(_("Cannot activate {}"), request.name));
  }
  return Status::Ok();
}

}  // namespace luks2ext
