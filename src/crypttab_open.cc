#include "crypttab_open.h"

#include <algorithm>
#include <iostream>

#include "actions.h"
#include "i18n.h"
#include "luks2ext/activation.h"
#include "luks2ext/volume.h"
#include "passphrase.h"

namespace zcryptsetup {

using luks2ext::CrypttabEntry;
using luks2ext::Error;
using luks2ext::Secret;
using luks2ext::Status;

namespace {

luks2ext::ActivationRequest RequestFor(const CrypttabEntry& entry) {
  luks2ext::ActivationRequest request;
  request.name = entry.name;
  request.read_only = entry.options.read_only;
  request.allow_discards = entry.options.discard;
  if (entry.options.force_inline) request.inline_mode = luks2ext::InlineMode::kWorkqueueFlags;
  request.no_read_workqueue = entry.options.no_read_workqueue;
  request.no_write_workqueue = entry.options.no_write_workqueue;
  return request;
}

}  // namespace

Status PrepareCrypttabJob(const CrypttabEntry& entry, CrypttabJob& job) {
  job.entry = &entry;
  if (!entry.options.header.empty())
    return Error::WrongParameters(
        FormatMsg(_("{}: header= (a detached header) is not supported by zcryptsetup; let "
                    "systemd-cryptsetup open this entry."),
                  entry.name));
  ASSIGN_OR_RETURN(job.device, luks2ext::ResolveCrypttabDevice(entry.device));
  ASSIGN_OR_RETURN(auto device, luks2ext::OpenBlockDevice(job.device, false));
  ASSIGN_OR_RETURN(auto volume,
                   luks2ext::Volume::Open(*device, luks2ext::Volume::ReadScope::kForOpen));
  job.memory = std::max<uint64_t>(volume->unlock_memory_kib() * 1024, 1ULL << 20);
  return Status::Ok();
}

Status OpenCrypttabEntry(const CrypttabEntry& entry, const std::string& device_path,
                         const std::optional<Secret>& given) {
  ASSIGN_OR_RETURN(auto device, luks2ext::OpenBlockDevice(device_path, false));
  ASSIGN_OR_RETURN(auto volume,
                   luks2ext::Volume::Open(*device, luks2ext::Volume::ReadScope::kForOpen));
  PrintWarnings(*volume, entry.name + ": ");
  const luks2ext::ActivationRequest request = RequestFor(entry);
  if (given) return volume->Activate(request, *given);
  PassphraseSource source{entry.key_file, entry.options.keyfile_offset, entry.options.keyfile_size};
  const bool asking = entry.key_file.empty();
  const unsigned tries = asking && InteractiveInput() ? entry.options.tries : 1;
  for (unsigned attempt = 1;; ++attempt) {
    ASSIGN_OR_RETURN(
        const Secret passphrase,
        ReadPassphrase(source,
                       FormatMsg(_("Enter passphrase for {} ({}): "), entry.name, device_path),
                       false));
    Status status = volume->Activate(request, passphrase);
    if (status.ok() || status.error().code() != luks2ext::ExitCode::kNoPermission ||
        (tries != 0 && attempt >= tries))
      return status;
    std::cerr << status.error().message() << '\n';
  }
}

}  // namespace zcryptsetup
