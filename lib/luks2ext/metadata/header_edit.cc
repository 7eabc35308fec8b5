#include "metadata/header_edit.h"

#include <algorithm>
#include <vector>

#include "base/i18n.h"
#include "cryptsetup/crypt_device.h"
#include "metadata/device_lock.h"
#include "metadata/image_store.h"
#include "zoned/tallying_device.h"
#include "base/memfd.h"

namespace luks2ext {

Status EditWithLibcryptsetup(Luks2Image& image, const std::string& data_path,
                             const CryptEdit& edit) {
  // The headers and the keyslot areas in use; the rest stays holes (zeros). libcryptsetup
  // reads nothing else, and copying a whole 16 MiB image in would cost every update time that
  // stock cryptsetup does not spend.
  ASSIGN_OR_RETURN(Memfd memfd, Memfd::Create("zcryptsetup-luks2", image.image_size()));
  const std::span<const uint8_t> image_bytes = image.bytes();
  RETURN_IF_ERROR(memfd.WriteAt(
      0, image_bytes.first(std::min<uint64_t>(image_bytes.size(), 2 * image.hdr_size()))));
  for (const KeyslotArea& area : image.keyslot_areas()) {
    if (area.offset + area.size <= image_bytes.size())
      RETURN_IF_ERROR(memfd.WriteAt(area.offset, image_bytes.subspan(area.offset, area.size)));
  }
  {
    ASSIGN_OR_RETURN(CryptDevice cd, CryptDevice::InitDetached(memfd.path(), data_path));
    RETURN_IF_ERROR(cd.LoadLuks2(data_path));
    RETURN_IF_ERROR(edit(cd.get()));
  }  // crypt_free: libcryptsetup is done with the memfd
  ASSIGN_OR_RETURN(std::vector<std::uint8_t> bytes, memfd.ReadAll());
  ASSIGN_OR_RETURN(Luks2Image edited, Luks2Image::Parse(std::move(bytes)));
  image = std::move(edited);
  return Status::Ok();
}

Result<DeviceLock> LockForLibcryptsetupInPlace(const std::string& device_path) {
  ASSIGN_OR_RETURN(DeviceLock lock, DeviceLock::Acquire(device_path, LockMode::kExclusive));
  // Our lock is cryptsetup's lock file, held for the whole read-modify-write: a concurrent
  // update by anyone waits for it rather than fail as a concurrent update (what stock does when
  // two updates race). libcryptsetup taking the same lock again through its own open file would
  // wait for us forever (flock(2) locks of two open files conflict within one process), so its
  // own locking goes off; libcryptsetup allows that only for the whole process, which is safe
  // here because every metadata read and write of ours is under a DeviceLock.
  const int r = crypt_metadata_locking(nullptr, 0);
  if (r < 0) return CryptError(r, _("Cannot hand the metadata lock to libcryptsetup"));
  return lock;
}

Status EditInPlaceWithLibcryptsetup(const std::string& device_path, const CryptEdit& edit) {
  ASSIGN_OR_RETURN(const DeviceLock lock, LockForLibcryptsetupInPlace(device_path));
  const ProcessIoTally tally(device_path);
  ASSIGN_OR_RETURN(CryptDevice cd, CryptDevice::Init(device_path));
  RETURN_IF_ERROR(cd.LoadLuks2(device_path));
  return edit(cd.get());
}

Result<std::shared_ptr<LoadedHeaders>> LoadInLibcryptsetup(const Luks2Image& image) {
  ASSIGN_OR_RETURN(Memfd memfd, Memfd::Create("zcryptsetup-luks2", image.image_size()));
  RETURN_IF_ERROR(memfd.WriteAt(0, image.bytes()));
  ASSIGN_OR_RETURN(CryptDevice cd, CryptDevice::Init(memfd.path()));
  RETURN_IF_ERROR(cd.LoadLuks2(_("the metadata")));
  return std::make_shared<LoadedHeaders>(LoadedHeaders{std::move(memfd), std::move(cd)});
}

Status CheckLoadsInLibcryptsetup(const Luks2Image& image) {
  auto loaded = LoadInLibcryptsetup(image);
  if (!loaded.ok()) return loaded.error();
  return Status::Ok();
}

Status LoadedHeaders::SetDataDevice(const std::string& data_path) {
  const int r = crypt_set_data_device(cd.get(), data_path.c_str());
  if (r < 0) return CryptError(r, FormatMsg(_("Cannot use device {}"), data_path));
  return Status::Ok();
}

Status ApplyPbkdf(crypt_device* cd, const PbkdfOptions& options) {
  crypt_pbkdf_type pbkdf{};
  if (const crypt_pbkdf_type* defaults = crypt_get_pbkdf_default(CRYPT_LUKS2)) pbkdf = *defaults;
  if (!options.type.empty()) pbkdf.type = options.type.c_str();
  pbkdf.hash = options.hash.c_str();
  if (options.iter_time_ms) pbkdf.time_ms = options.iter_time_ms;
  if (options.memory_kb) pbkdf.max_memory_kb = options.memory_kb;
  if (options.parallel) pbkdf.parallel_threads = options.parallel;
  if (std::strcmp(pbkdf.type, CRYPT_KDF_PBKDF2) == 0) {
    pbkdf.max_memory_kb = 0;
    pbkdf.parallel_threads = 0;
  }
  if (options.iterations) {
    pbkdf.iterations = options.iterations;
    pbkdf.time_ms = 0;
    pbkdf.flags |= CRYPT_PBKDF_NO_BENCHMARK;
  }
  const int r = crypt_set_pbkdf_type(cd, &pbkdf);
  if (r < 0) return CryptError(r, _("Unsupported PBKDF parameters"));
  return Status::Ok();
}

}  // namespace luks2ext
