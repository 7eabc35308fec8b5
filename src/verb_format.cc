// luksFormat: plan the layout, confirm, read the passphrase, write the volume.
#include <fmt/core.h>

#include <cstdio>

#include "actions.h"
#include "i18n.h"
#include "layout_text.h"
#include "luks2ext/format_volume.h"
#include "luks2ext/signature.h"
#include "luks2ext/volume.h"

namespace zcryptsetup {

using luks2ext::Error;
using luks2ext::Status;

luks2ext::PbkdfOptions PbkdfFrom(const Options& o) {
  luks2ext::PbkdfOptions p;
  p.type = o.pbkdf;
  p.hash = o.hash;
  p.iter_time_ms = o.iter_time;
  p.memory_kb = o.pbkdf_memory;
  p.parallel = o.pbkdf_parallel;
  p.iterations = o.pbkdf_force_iterations;
  return p;
}

Result<luks2ext::FormatOptions> FormatOptionsFrom(const Options& o) {
  luks2ext::FormatOptions f;
  f.cipher = o.cipher;
  f.key_bits = o.key_size;
  f.pbkdf = PbkdfFrom(o);
  f.sector_size = o.sector_size;
  f.label = o.label;
  f.subsystem = o.subsystem;
  f.uuid = o.uuid;
  f.keyslot = o.key_slot;
  f.force_inline = o.perf_force_inline == "flags";
  if (o.perf_force_inline == "off")
    return Error::WrongParameters(_("--perf-force_inline=off applies to config only."));
  if (o.perf_force_inline == "native")
    return Error::WrongParameters(
        _("luksFormat persists force_inline as the upstream table flags; =native applies to "
          "open only."));
  if (!o.luks2_metadata_size.empty()) {
    ASSIGN_OR_RETURN(f.layout.header_size,
                     ParseSize(o.luks2_metadata_size, "--luks2-metadata-size"));
  }
  if (!o.luks2_keyslots_size.empty()) {
    ASSIGN_OR_RETURN(f.layout.keyslots_size,
                     ParseSize(o.luks2_keyslots_size, "--luks2-keyslots-size"));
  }
  if (o.offset) f.layout.data_offset = *o.offset * 512;  // cryptsetup's unit: 512-byte sectors
  f.layout.zone_journal = !o.no_zone_journal;
  return f;
}

namespace {

// cryptsetup's questions, asked only when someone can answer them.
Status Confirm(const Options& o, const std::string& path) {
  if (o.batch_mode || !InteractiveInput()) return Status::Ok();
  ASSIGN_OR_RETURN(auto signature, luks2ext::ProbeSignature(path));
  if (signature)
    fmt::print(stdout, "{}",
               FormatMsg(_("WARNING: Device {} already contains a '{}' superblock signature.\n"),
                         path, *signature));
  const std::string question = FormatMsg(
      _("\nWARNING!\n========\nThis will overwrite data on {} irrevocably.\n\nAre you sure? "
        "(Type 'yes' in capital letters): "),
      path);
  if (!ConfirmOnTerminal(question)) return Error::NoPermission(_("Operation aborted."));
  return Status::Ok();
}

}  // namespace

Status ActionLuksFormat(const Invocation& call) {
  const Options& o = call.options;
  const std::string& path = call.args[0];
  ASSIGN_OR_RETURN(const luks2ext::FormatOptions format, FormatOptionsFrom(o));

  // Plan on a read-only handle: every refusal (read-only drive, bad offset, too small, a
  // device in use) comes before anything is asked or written. --dry-run writes nothing, so it
  // may look at a device in use.
  luks2ext::Layout layout;
  {
    ASSIGN_OR_RETURN(auto probe, luks2ext::OpenBlockDevice(path, false,
                                                           o.dry_run ? luks2ext::Exclusive::kNo
                                                                     : luks2ext::Exclusive::kYes));
    ASSIGN_OR_RETURN(layout, luks2ext::PlanFormat(*probe, format));
    if (o.dry_run) {
      // What would happen, and nothing else: no question, no passphrase, no write.
      ASSIGN_OR_RETURN(const luks2ext::DriveSummary drive, luks2ext::SummarizeDrive(*probe));
      PrintLayout(path, drive, layout, _("planned"), nullptr);
      return Status::Ok();
    }
  }
  RETURN_IF_ERROR(Confirm(o, path));

  PassphraseSource source = call.passphrase_source();
  if (call.args.size() > 1) source.key_file = call.args[1];
  ASSIGN_OR_RETURN(const luks2ext::Secret passphrase,
                   ReadPassphrase(source, FormatMsg(_("Enter passphrase for {}: "), path),
                                  call.verify_new_passphrase()));

  // On an ordinary disk libcryptsetup formats the drive itself and opens it exclusively then
  // (a device in use is refused there, as stock's is); our own exclusive handle would make it
  // refuse us.
  ASSIGN_OR_RETURN(auto device, luks2ext::OpenBlockDevice(path, true,
                                                          layout.is_zoned()
                                                              ? luks2ext::Exclusive::kYes
                                                              : luks2ext::Exclusive::kNo));
  ASSIGN_OR_RETURN(const std::string uuid,
                   luks2ext::FormatVolume(*device, layout, format, passphrase));
  PrintVerbose(o, FormatMsg(_("Formatted {} as LUKS2 {} ({} placement, data at {})."), path, uuid,
                            luks2ext::PlacementName(layout.placement),
                            luks2ext::SizeText(layout.data_offset)));
  PrintVerbose(o, _("Key slot 0 created."));
  return Status::Ok();
}

}  // namespace zcryptsetup
