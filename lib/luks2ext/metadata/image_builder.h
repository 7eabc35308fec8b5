// A new volume's LUKS2 metadata, made by libcryptsetup (all the cryptography: PBKDF, AF split,
// keyslot encryption), with the same parameters either way: BuildImage on a memfd detached
// header, writing nothing to the drive (zoned drives, the emulator); FormatInPlace on an
// ordinary disk itself, as stock cryptsetup formats it.
#pragma once

#include <string>

#include "luks2/image.h"
#include "luks2ext/format_options.h"
#include "luks2ext/secret.h"

namespace luks2ext {

// The image for `layout` (sizes, data offset) with one keyslot for `passphrase`.
// `data_path` is the drive, which libcryptsetup opens to check but does not write.
// `data_size` and `logical_block_size` describe it (for the sector-size default and checks).
Result<Luks2Image> BuildImage(const Layout& layout, const FormatOptions& options,
                              const Secret& passphrase, const std::string& data_path,
                              uint32_t logical_block_size, uint32_t physical_block_size);

// The same volume formatted by libcryptsetup on the drive itself (an ordinary disk, header
// and data on one device), as stock cryptsetup does: its wipe of the metadata area, its writes,
// its order; no image in memory. Returns the new volume's UUID. force_inline gets only the
// upstream flags here: the caller adds zcryptsetup's own flag with an update.
// A non-empty `detached_data_path` makes `device_path` a detached header (cryptsetup
// --header) for the data on that drive, which libcryptsetup opens to check but never writes.
Result<std::string> FormatInPlace(const Layout& layout, const FormatOptions& options,
                                  const Secret& passphrase, const std::string& device_path,
                                  const std::string& detached_data_path,
                                  uint32_t logical_block_size, uint32_t physical_block_size);

// The persisted form of force_inline: the upstream flags libcryptsetup and systemd honour,
// plus "force-inline" for zcryptsetup, added to `image` (JSON edit, both copies, seqid + 1).
Status PersistForceInline(Luks2Image& image, bool enable);

// cryptsetup --persistent: the activation flags in config.flags become exactly `flags`
// (config.flags names, force-inline among them); flags this code does not know as activation
// flags stay, in their order.
Status ReplaceActivationFlags(Luks2Image& image, const std::vector<std::string>& flags);

}  // namespace luks2ext
