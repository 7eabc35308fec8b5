#include "metadata/header_edit.h"

#include <vector>

#include "base/i18n.h"
#include "cryptsetup/crypt_device.h"
#include "metadata/image_store.h"
#include "base/memfd.h"

namespace luks2ext {

Status EditWithLibcryptsetup(Luks2Image& image, const std::string& data_path,
                             const CryptEdit& edit) {
  ASSIGN_OR_RETURN(Memfd memfd, Memfd::Create("zcryptsetup-luks2", image.image_size()));
  RETURN_IF_ERROR(memfd.WriteAt(0, image.bytes()));
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

Status CheckLoadsInLibcryptsetup(const Luks2Image& image) {
  ASSIGN_OR_RETURN(Memfd memfd, Memfd::Create("zcryptsetup-check", image.image_size()));
  RETURN_IF_ERROR(memfd.WriteAt(0, image.bytes()));
  ASSIGN_OR_RETURN(CryptDevice cd, CryptDevice::Init(memfd.path()));
  return cd.LoadLuks2(_("the metadata"));
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
