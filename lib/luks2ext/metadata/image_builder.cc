#include "metadata/image_builder.h"

#include <libcryptsetup.h>

#include <algorithm>

#include "base/i18n.h"
#include "cryptsetup/crypt_device.h"
#include "metadata/header_edit.h"
#include "base/memfd.h"
#include "metadata/device_lock.h"
#include "zoned/tallying_device.h"

namespace luks2ext {
namespace {

constexpr const char* kUpstreamInlineFlags[] = {kNoReadWorkqueueFlag, kNoWriteWorkqueueFlag};
// The config.flags open --persistent replaces: dm-crypt's, as cryptsetup 2.6 stores them, and
// zcryptsetup's force-inline. no-journal (dm-integrity's) is not open's to change here.
constexpr const char* kActivationFlags[] = {kAllowDiscardsFlag,    kSameCpuCryptFlag,
                                            kSubmitFromCryptCpusFlag, kNoReadWorkqueueFlag,
                                            kNoWriteWorkqueueFlag, kForceInlineFlag};

Result<uint32_t> ChooseSectorSize(uint32_t requested, uint32_t logical, uint32_t physical,
                                  uint64_t data_offset) {
  if (requested == 0) {
    // cryptsetup's rule for LUKS2: 4096-byte encryption sectors where the drive's blocks allow
    // it, never below the logical block size.
    requested = std::clamp<uint32_t>(std::max(physical, logical), 512, 4096);
    requested = std::max(requested, logical);
    while (requested > 512 && data_offset % requested != 0) requested /= 2;
  }
  if (requested < 512 || requested > 4096 || (requested & (requested - 1)) != 0)
    return Error::WrongParameters(FormatMsg(
        _("Unsupported encryption sector size {}: use 512, 1024, 2048 or 4096."), requested));
  if (requested < logical)
    return Error::WrongParameters(FormatMsg(
        _("Encryption sector size {} is smaller than the drive's logical block size {}: every "
          "write would need a read-modify-write, which a zoned drive cannot do."),
        requested, logical));
  if (data_offset % requested != 0)
    return Error::WrongParameters(FormatMsg(
        _("The data offset {} is not a multiple of the encryption sector size {}."), data_offset,
        requested));
  return requested;
}

}  // namespace

namespace {

// cipher-mode, split; the key size checked.
struct CipherSpec {
  std::string cipher, mode;
};

Result<CipherSpec> SplitCipher(const FormatOptions& options) {
  const auto dash = options.cipher.find('-');
  if (dash == std::string::npos || dash == 0 || dash + 1 == options.cipher.size())
    return Error::WrongParameters(FormatMsg(
        _("Cipher {} is not in the form cipher-mode (e.g. aes-xts-plain64)."), options.cipher));
  if (options.key_bits == 0 || options.key_bits % 8 != 0)
    return Error::WrongParameters(_("Key size must be a multiple of 8 bits."));
  return CipherSpec{options.cipher.substr(0, dash), options.cipher.substr(dash + 1)};
}

// The volume on `cd`'s header device: format, first keyslot, the upstream inline flags.
Status FormatWithLibcryptsetup(crypt_device* cd, const Layout& layout,
                               const FormatOptions& options, const Secret& passphrase,
                               uint32_t logical_block_size, uint32_t physical_block_size) {
  ASSIGN_OR_RETURN(const CipherSpec spec, SplitCipher(options));
  ASSIGN_OR_RETURN(const uint32_t sector_size,
                   ChooseSectorSize(options.sector_size, logical_block_size, physical_block_size,
                                    layout.data_offset));
  int r = crypt_set_metadata_size(cd, layout.header_size, layout.keyslots_size);
  if (r < 0) return CryptError(r, _("Cannot set the LUKS2 metadata size"));
  r = crypt_set_data_offset(cd, layout.data_offset / 512);
  if (r < 0) return CryptError(r, _("Cannot set the data offset"));

  // Before crypt_format too: it keeps a valid PBKDF already set on the context, and builds the
  // volume-key digest with it (with forced iterations: no benchmark, the minimum iterations, as
  // cryptsetup's --pbkdf-force-iterations does); without one it benchmarks the digest.
  RETURN_IF_ERROR(ApplyPbkdf(cd, options.pbkdf));
  crypt_params_luks2 params{};
  params.sector_size = sector_size;
  params.label = options.label.empty() ? nullptr : options.label.c_str();
  params.subsystem = options.subsystem.empty() ? nullptr : options.subsystem.c_str();
  r = crypt_format(cd, CRYPT_LUKS2, spec.cipher.c_str(), spec.mode.c_str(),
                   options.uuid.empty() ? nullptr : options.uuid.c_str(), nullptr,
                   options.key_bits / 8, &params);
  if (r < 0) return CryptError(r, _("Cannot format the LUKS2 header"));
  // After crypt_format, which resets the PBKDF to its defaults: the keyslot uses ours.
  RETURN_IF_ERROR(ApplyPbkdf(cd, options.pbkdf));

  r = crypt_keyslot_add_by_volume_key(cd, options.keyslot, nullptr, 0, passphrase.data(),
                                      passphrase.size());
  if (r < 0) return CryptError(r, _("Cannot add the keyslot"));

  if (options.force_inline) {
    r = crypt_persistent_flags_set(cd, CRYPT_FLAGS_ACTIVATION,
                                   CRYPT_ACTIVATE_NO_READ_WORKQUEUE |
                                       CRYPT_ACTIVATE_NO_WRITE_WORKQUEUE);
    if (r < 0) return CryptError(r, _("Cannot store the performance flags"));
  }
  return Status::Ok();
}

}  // namespace

Result<Luks2Image> BuildImage(const Layout& layout, const FormatOptions& options,
                              const Secret& passphrase, const std::string& data_path,
                              uint32_t logical_block_size, uint32_t physical_block_size) {
  ASSIGN_OR_RETURN(Memfd header, Memfd::Create("zcryptsetup-luks2", layout.image_size()));
  {
    ASSIGN_OR_RETURN(CryptDevice cd, CryptDevice::InitDetached(header.path(), data_path));
    RETURN_IF_ERROR(FormatWithLibcryptsetup(cd.get(), layout, options, passphrase,
                                            logical_block_size, physical_block_size));
  }
  ASSIGN_OR_RETURN(std::vector<std::uint8_t> bytes, header.ReadAll());
  ASSIGN_OR_RETURN(Luks2Image image, Luks2Image::Parse(std::move(bytes)));
  if (options.force_inline) RETURN_IF_ERROR(image.AddConfigFlag(kForceInlineFlag));
  return image;
}

Result<std::string> FormatInPlace(const Layout& layout, const FormatOptions& options,
                                  const Secret& passphrase, const std::string& device_path,
                                  const std::string& detached_data_path,
                                  uint32_t logical_block_size, uint32_t physical_block_size) {
  ASSIGN_OR_RETURN(const DeviceLock lock, LockForLibcryptsetupInPlace(device_path));
  std::string uuid;
  {
    const ProcessIoTally tally(device_path);
    ASSIGN_OR_RETURN(CryptDevice cd, detached_data_path.empty()
                                         ? CryptDevice::Init(device_path)
                                         : CryptDevice::InitDetached(device_path,
                                                                     detached_data_path));
    RETURN_IF_ERROR(FormatWithLibcryptsetup(cd.get(), layout, options, passphrase,
                                            logical_block_size, physical_block_size));
    if (const char* formatted = crypt_get_uuid(cd.get())) uuid = formatted;
  }
  return uuid;
}

Status PersistForceInline(Luks2Image& image, bool enable) {
  std::vector<std::string> flags = image.config_flags();
  auto drop = [&flags](const std::string& flag) { std::erase(flags, flag); };
  for (const char* flag : kUpstreamInlineFlags) drop(flag);
  drop(kForceInlineFlag);
  if (enable) {
    for (const char* flag : kUpstreamInlineFlags) flags.emplace_back(flag);
    flags.emplace_back(kForceInlineFlag);
  }
  return image.SetConfigFlags(flags);
}

Status ReplaceActivationFlags(Luks2Image& image, const std::vector<std::string>& flags) {
  std::vector<std::string> kept = image.config_flags();
  std::erase_if(kept, [](const std::string& flag) {
    return std::find(std::begin(kActivationFlags), std::end(kActivationFlags), flag) !=
           std::end(kActivationFlags);
  });
  kept.insert(kept.end(), flags.begin(), flags.end());
  return image.SetConfigFlags(kept);
}

}  // namespace luks2ext
