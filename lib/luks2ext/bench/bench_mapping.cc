#include "bench/bench_mapping.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <libcryptsetup.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <thread>

#include "activation/activate.h"
#include "activation/kernel_module.h"
#include "base/i18n.h"
#include "cryptsetup/crypt_device.h"
#include "cryptsetup/dm_task.h"
#include "luks2ext/log.h"
#include "luks2ext/unique_fd.h"

namespace luks2ext {
namespace {

Status CreatePlain(const MappingSpec& spec, BenchMode mode) {
  ASSIGN_OR_RETURN(CryptDevice cd, CryptDevice::Init(spec.device));
  const auto parts = SplitCipherSpec(spec.cipher);
  if (!parts) return Error::WrongParameters(FormatMsg(_("Invalid cipher '{}'."), spec.cipher));
  const std::string mode_iv = spec.cipher.substr(parts->first.size() + 1);
  crypt_params_plain params{};
  params.sector_size = spec.device_bytes % 4096 == 0 ? 4096 : 512;
  int r = crypt_format(cd.get(), CRYPT_PLAIN, parts->first.c_str(), mode_iv.c_str(), nullptr,
                       nullptr, spec.key->size(), &params);
  if (r < 0) return CryptError(r, FormatMsg(_("Cannot set up a {} mapping"), spec.cipher));
  uint32_t flags = spec.read_only ? CRYPT_ACTIVATE_READONLY : 0;
  if (mode == BenchMode::kInline)
    flags |= CRYPT_ACTIVATE_NO_READ_WORKQUEUE | CRYPT_ACTIVATE_NO_WRITE_WORKQUEUE;
  r = crypt_activate_by_volume_key(cd.get(), spec.name.c_str(), spec.key->data(), spec.key->size(),
                                   flags);
  if (r == -EEXIST || r == -EBUSY)
    return Error::Busy(
        FormatMsg(_("Device {} already exists or {} is in use."), spec.name, spec.device));
  if (r < 0) return CryptError(r, FormatMsg(_("Cannot activate {}"), spec.name));
  return Status::Ok();
}

// As ActivateNative builds a LUKS2 volume's table, for a plain mapping of the whole device.
Status CreateNative(const MappingSpec& spec) {
  std::vector<std::string> args;
  if (spec.device_bytes % 4096 == 0) args.emplace_back("sector_size:4096");
  args.push_back(NativeFeatureArg());
  std::string suffix = fmt::format(" 0 {} 0 {}", spec.device, args.size());
  for (const auto& arg : args) suffix += " " + arg;

  Secret params;
  std::optional<KeyringKey> keyring_key;
  params.Append(spec.cipher + " ");
  RETURN_IF_ERROR(AppendTableKeyField(*spec.key, fmt::format("zcryptsetup:bench-{}", spec.name),
                                      spec.dm_crypt, /*use_keyring=*/true, params, keyring_key));
  params.Append(suffix);
  params.Append('\0');
  Status created = CreateDmDevice(spec.name, fmt::format("CRYPT-PLAIN-{}", spec.name),
                                  spec.device_bytes / 512, "crypt", params.data(), spec.read_only);
  if (keyring_key) keyring_key->Drop();  // dm-crypt holds its own copy now, or failed
  return created;
}

}  // namespace

Result<uint64_t> BlockDeviceBytes(const std::string& path) {
  UniqueFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid())
    return Error::WrongDevice(FormatMsg(_("Cannot open {}: {}."), path, std::strerror(errno)));
  struct stat st {};
  uint64_t bytes = 0;
  if (fstat(fd.get(), &st) != 0 || !S_ISBLK(st.st_mode))
    return Error::WrongDevice(FormatMsg(_("{} is not a block device."), path));
  if (ioctl(fd.get(), BLKGETSIZE64, &bytes) != 0 || bytes < 1024 * 1024)
    return Error::WrongDevice(FormatMsg(_("{} is smaller than 1 MiB."), path));
  return bytes;
}

Result<ScratchRamDisk> ScratchRamDisk::Create(uint64_t mib) {
  if (KernelModuleLoaded("brd") || access("/dev/ram0", F_OK) == 0)
    return Error::Busy(
        _("brd is loaded already; its RAM disks may hold data. Unload it "
          "(rmmod brd) or name a device to benchmark read-only."));
  RETURN_IF_ERROR(
      LoadKernelModule("brd", fmt::format("rd_nr=1 rd_size={} max_part=0", mib * 1024)));
  ScratchRamDisk disk;
  disk.loaded_ = true;
  // devtmpfs shows the disk when brd registers it; give it a moment all the same.
  for (int i = 0; i < 50 && access(disk.path().c_str(), F_OK) != 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  if (access(disk.path().c_str(), F_OK) != 0)
    return Error::WrongDevice(_("brd loaded, but /dev/ram0 did not appear."));
  return disk;
}

ScratchRamDisk::~ScratchRamDisk() {
  if (!loaded_) return;
  if (Status s = UnloadKernelModule("brd"); !s.ok()) Log(LogLevel::kError, s.error().message());
}

Result<BenchMapping> BenchMapping::Create(const MappingSpec& spec, BenchMode mode) {
  if (MappingExists(spec.name))
    return Error::Busy(FormatMsg(_("Device {} already exists."), spec.name));
  if (mode == BenchMode::kNative) {
    RETURN_IF_ERROR(CreateNative(spec));
  } else {
    RETURN_IF_ERROR(CreatePlain(spec, mode));
  }
  return BenchMapping(spec.name);
}

BenchMapping::~BenchMapping() {
  if (name_.empty()) return;
  // A mapping just closed by us may still be busy for a moment (udev, a last reference).
  for (int attempt = 0; attempt < 20; ++attempt) {
    const Status s = Deactivate(name_);
    if (s.ok() || !MappingExists(name_)) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  Log(LogLevel::kError, FormatMsg(_("Cannot remove the benchmark mapping {}."), name_));
}

}  // namespace luks2ext
