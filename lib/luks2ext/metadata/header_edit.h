// Changes to an existing LUKS2 image made by libcryptsetup, in memory: the image goes into a
// memfd that libcryptsetup opens as a detached header (the drive is only its data device),
// libcryptsetup changes it (keyslots, label...), and the result is read back and re-parsed.
// All the cryptography stays libcryptsetup's; nothing touches the drive here.
#pragma once

#include <libcryptsetup.h>

#include <functional>
#include <memory>
#include <string>

#include "base/memfd.h"
#include "cryptsetup/crypt_device.h"
#include "luks2/image.h"
#include "luks2ext/format_options.h"
#include "metadata/device_lock.h"

namespace luks2ext {

using CryptEdit = std::function<Status(crypt_device* cd)>;

// Runs `edit` on `image` through libcryptsetup; on success `image` is replaced by the result
// (libcryptsetup bumps the seqid). On failure `image` is unchanged.
Status EditWithLibcryptsetup(Luks2Image& image, const std::string& data_path,
                             const CryptEdit& edit);

// Runs `edit` through libcryptsetup on the drive at `device_path` itself, header and data on
// one device, as stock cryptsetup does on an ordinary disk: libcryptsetup reads what it reads
// and writes the keyslot area and both headers in its own order. Under cryptsetup's exclusive
// lock for the whole read-modify-write (LockForLibcryptsetupInPlace). For a device whose
// BlockDevice is editable_in_place_at_path() only.
Status EditInPlaceWithLibcryptsetup(const std::string& device_path, const CryptEdit& edit);

// cryptsetup's exclusive lock of `device_path`, with libcryptsetup's own metadata locking
// switched off for this process (it would wait for our lock), for a change libcryptsetup makes
// in place.
Result<DeviceLock> LockForLibcryptsetupInPlace(const std::string& device_path);

// Whether libcryptsetup itself loads `image` as LUKS2 (crypt_load on a scratch memfd copy, which
// is its only device: loading needs no data device, and opening the drive as one would cost a
// read that stock cryptsetup does not make). Its JSON validation is stricter than our codec's,
// which reads only what placement needs; a header it refuses would leave a volume nobody can
// open. Error::WrongDevice with libcryptsetup's reason when it refuses.
Status CheckLoadsInLibcryptsetup(const Luks2Image& image);

// A copy's headers as libcryptsetup loaded them: an image-sized memfd holding them (keyslot
// areas still holes) and the context that has it as its header device. A copy judged for an
// open keeps it, so that the activation that follows does not build and load it a second time
// (an open must cost what stock cryptsetup's does). Members in this order: the context is
// freed before the memfd it reads is closed.
struct LoadedHeaders {
  Memfd memfd;
  CryptDevice cd;

  // Names the data device the volume's data is on (crypt_set_data_device): what an activation
  // maps. The load did not need it.
  Status SetDataDevice(const std::string& data_path);
};

// CheckLoadsInLibcryptsetup's load, kept. Error::WrongDevice when libcryptsetup refuses.
Result<std::shared_ptr<LoadedHeaders>> LoadInLibcryptsetup(const Luks2Image& image);

// The PBKDF for new keyslots: libcryptsetup's LUKS2 defaults with the user's overrides.
Status ApplyPbkdf(crypt_device* cd, const PbkdfOptions& options);

}  // namespace luks2ext
