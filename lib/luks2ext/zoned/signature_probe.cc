// Before luksFormat overwrites a drive, what is on it (cryptsetup asks the same way).
#include <blkid/blkid.h>

#include <memory>

#include "base/i18n.h"
#include "luks2ext/signature.h"

namespace luks2ext {
namespace {

struct ProbeDeleter {
  void operator()(blkid_struct_probe* probe) const { blkid_free_probe(probe); }
};
using ProbePtr = std::unique_ptr<blkid_struct_probe, ProbeDeleter>;

}  // namespace

Result<std::optional<std::string>> ProbeSignature(const std::string& path) {
  ProbePtr probe(blkid_new_probe_from_filename(path.c_str()));
  if (!probe)
    return Error::WrongDevice(FormatMsg(_("Cannot probe device {} for signatures."), path));
  blkid_probe_enable_superblocks(probe.get(), 1);
  blkid_probe_set_superblocks_flags(probe.get(), BLKID_SUBLKS_TYPE);
  blkid_probe_enable_partitions(probe.get(), 1);
  blkid_probe_set_partitions_flags(probe.get(), BLKID_PARTS_MAGIC);
  const int r = blkid_do_safeprobe(probe.get());
  if (r == 1) return std::optional<std::string>();  // nothing found
  if (r < 0)  // -2: ambivalent (several signatures): report it, the user must confirm
    return std::optional<std::string>(r == -2 ? std::string(_("several signatures"))
                                              : std::string(_("unreadable signature area")));
  const char* value = nullptr;
  if (blkid_probe_lookup_value(probe.get(), "TYPE", &value, nullptr) == 0 && value)
    return std::optional<std::string>(value);
  if (blkid_probe_lookup_value(probe.get(), "PTTYPE", &value, nullptr) == 0 && value)
    return std::optional<std::string>(FormatMsg(_("{} partition table"), value));
  return std::optional<std::string>(_("unknown signature"));
}

}  // namespace luks2ext
