// luksDump, isLuks, luksUUID: reading a header, never writing.
#include <fmt/core.h>

#include <cstdio>

#include "actions.h"
#include "i18n.h"
#include "layout_text.h"
#include "luks2ext/format_volume.h"
#include "luks2ext/volume.h"

namespace zcryptsetup {

using luks2ext::Error;
using luks2ext::SizeText;
using luks2ext::Status;

namespace {

using ReadScope = luks2ext::Volume::ReadScope;

Result<std::unique_ptr<luks2ext::Volume>> OpenVolume(const std::string& path, ReadScope scope,
                                                     std::unique_ptr<luks2ext::BlockDevice>& keep) {
  ASSIGN_OR_RETURN(keep, luks2ext::OpenBlockDevice(path, false));
  return luks2ext::Volume::Open(*keep, scope);
}

// The layout of a volume that was read, its drive summary from the zones the read reported:
// a second zone report would tell the same.
void PrintOnDiskLayout(const std::string& path, const luks2ext::Volume& volume) {
  const luks2ext::DriveSummary drive = luks2ext::SummarizeZones(volume.geometry(), volume.zones());
  PrintLayout(path, drive, volume.layout(), _("on disk"), &volume.copies());
}

}  // namespace

Status ActionLuksDump(const Invocation& call) {
  std::unique_ptr<luks2ext::BlockDevice> device;
  ASSIGN_OR_RETURN(auto volume,
                   OpenVolume(call.metadata_device(), ReadScope::kEverything, device));
  PrintWarnings(*volume);
  if (call.options.dump_json_metadata) {
    fmt::print(stdout, "{}\n", volume->json_text(/*pretty=*/true));
    return Status::Ok();
  }
  PrintOnDiskLayout(call.metadata_device(), *volume);
  const auto& copies = volume->copies();
  if (copies.size() > 1)
    PrintRow(_("Copies agree"), copies[0].headers_valid && copies[1].headers_valid &&
                                        copies[0].seqid == copies[1].seqid
                                    ? _("yes")
                                    : _("no"));
  std::string flags;
  for (const std::string& flag : volume->config_flags())
    flags += (flags.empty() ? "" : " ") + flag;
  PrintRow(_("Flags"), flags.empty() ? _("(no flags)") : flags);
  fmt::print(stdout, "\n");
  ASSIGN_OR_RETURN(const std::string text, volume->DumpText());
  fmt::print(stdout, "{}", text);
  return Status::Ok();
}

Status ActionLayout(const Invocation& call) {
  const std::string& path = call.args[0];
  std::unique_ptr<luks2ext::BlockDevice> device;
  auto volume = OpenVolume(path, ReadScope::kEverything, device);
  if (!device) return volume.error();
  if (volume.ok()) {
    PrintOnDiskLayout(path, **volume);
    return Status::Ok();
  }
  if (volume.error().code() != luks2ext::ExitCode::kWrongDevice) return volume.error();
  ASSIGN_OR_RETURN(const luks2ext::DriveSummary drive, luks2ext::SummarizeDrive(*device));
  // No LUKS2 header: what luksFormat with these options would do.
  ASSIGN_OR_RETURN(const luks2ext::FormatOptions format, FormatOptionsFrom(call.options));
  ASSIGN_OR_RETURN(const luks2ext::Layout layout, luks2ext::PlanLayoutFor(*device, format));
  PrintLayout(path, drive, layout, _("planned"), nullptr);
  return Status::Ok();
}

Status ActionIsLuks(const Invocation& call) {
  std::unique_ptr<luks2ext::BlockDevice> device;
  auto volume = OpenVolume(call.metadata_device(), ReadScope::kJudgedHeaders, device);
  if (volume.ok()) return Status::Ok();
  if (volume.error().code() != luks2ext::ExitCode::kWrongDevice || !device) return volume.error();
  // Not LUKS: exit 1, and (as cryptsetup) say why only with --verbose.
  return Error::WrongParameters(call.options.verbose ? volume.error().message() : "");
}

Status ActionLuksUuid(const Invocation& call) {
  const Options& o = call.options;
  const std::string& path = call.metadata_device();
  if (!o.uuid.empty()) return SetVolumeUuid(call);  // a change: verb_header.cc
  std::unique_ptr<luks2ext::BlockDevice> device;
  ASSIGN_OR_RETURN(auto volume, OpenVolume(path, ReadScope::kJudgedHeaders, device));
  fmt::print(stdout, "{}\n", volume->uuid());
  return Status::Ok();
}

}  // namespace zcryptsetup
