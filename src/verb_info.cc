// luksDump, isLuks, luksUUID: reading a header, never writing.
#include <iostream>

#include "actions.h"
#include "i18n.h"
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

std::string ZoneOf(const luks2ext::Layout& layout, uint64_t offset) {
  if (layout.zone_size == 0) return "";
  return FormatMsg(_(" (zone {})"), offset / layout.zone_size);
}

void PrintPlacement(const luks2ext::Volume& volume) {
  const luks2ext::Geometry& g = volume.geometry();
  const luks2ext::Layout& layout = volume.layout();
  std::cout << _("zcryptsetup placement:") << '\n';
  std::cout << "  " << _("Zone model:   ") << luks2ext::ZoneModelName(g.model) << '\n';
  if (g.is_zoned()) {
    std::cout << "  " << _("Zone size:    ") << SizeText(g.zone_size)
              << FormatMsg(_(" (capacity {}, {} zones)"), SizeText(layout.zone_capacity),
                           g.nr_zones)
              << '\n';
  }
  std::cout << "  " << _("Block size:   ") << g.logical_block_size << _(" bytes logical, ")
            << g.physical_block_size << _(" physical") << '\n';
  std::cout << "  " << _("Placement:    ") << luks2ext::PlacementName(layout.placement) << '\n';
  std::cout << "  " << _("Metadata:     ")
            << FormatMsg(_("{} image (headers {} x 2, keyslots area {}){}"),
                         SizeText(layout.image_size()), SizeText(layout.header_size),
                         SizeText(layout.keyslots_size),
                         layout.has_commit_record() ? _(" + 4 KiB commit record per copy") : "")
            << '\n';
  for (const luks2ext::CopySummary& copy : volume.copies()) {
    std::string state = copy.headers_valid
                            ? FormatMsg(_("seqid {}, headers valid"), copy.seqid)
                            : std::string(_("headers invalid"));
    if (layout.has_commit_record() && copy.headers_valid)
      state += copy.has_record ? _(", commit record ok") : _(", no commit record");
    if (!copy.problem.empty()) state += " (" + copy.problem + ")";
    std::cout << "  " << FormatMsg(_("{:<13} offset {}{}: {}{}"), copy.name + " copy:",
                                   copy.offset, ZoneOf(layout, copy.offset), state,
                                   copy.chosen ? _(" [read]") : "")
              << '\n';
  }
  if (!layout.journal_offset && layout.is_zoned())
    std::cout << "  " << _("journal copy: none (formatted with --no-zone-journal)") << '\n';
  std::cout << "  " << _("Data segment: ") << FormatMsg(_("offset {}{}"), layout.data_offset,
                                                         ZoneOf(layout, layout.data_offset))
            << '\n';
  const auto& copies = volume.copies();
  if (copies.size() > 1)
    std::cout << "  " << _("Copies agree: ")
              << (copies[0].headers_valid && copies[1].headers_valid &&
                          copies[0].seqid == copies[1].seqid
                      ? _("yes")
                      : _("no"))
              << '\n';
  std::string flags;
  for (const std::string& flag : volume.config_flags()) flags += (flags.empty() ? "" : " ") + flag;
  std::cout << "  " << _("Flags:        ") << (flags.empty() ? _("(no flags)") : flags) << '\n';
  std::cout << '\n';
}

}  // namespace

Status ActionLuksDump(const Invocation& call) {
  std::unique_ptr<luks2ext::BlockDevice> device;
  ASSIGN_OR_RETURN(auto volume, OpenVolume(call.args[0], ReadScope::kEverything, device));
  for (const std::string& warning : volume->warnings()) std::cerr << warning << '\n';
  if (call.options.dump_json_metadata) {
    std::cout << volume->json_text(/*pretty=*/true) << '\n';
    return Status::Ok();
  }
  PrintPlacement(*volume);
  ASSIGN_OR_RETURN(const std::string text, volume->DumpText());
  std::cout << text;
  return Status::Ok();
}

Status ActionIsLuks(const Invocation& call) {
  std::unique_ptr<luks2ext::BlockDevice> device;
  auto volume = OpenVolume(call.args[0], ReadScope::kForOpen, device);
  if (volume.ok()) return Status::Ok();
  if (volume.error().code() != luks2ext::ExitCode::kWrongDevice || !device) return volume.error();
  // Not LUKS: exit 1, and (as cryptsetup) say why only with --verbose.
  return Error::WrongParameters(call.options.verbose ? volume.error().message() : "");
}

Status ActionLuksUuid(const Invocation& call) {
  std::unique_ptr<luks2ext::BlockDevice> device;
  ASSIGN_OR_RETURN(auto volume, OpenVolume(call.args[0], ReadScope::kForOpen, device));
  std::cout << volume->uuid() << '\n';
  return Status::Ok();
}

}  // namespace zcryptsetup
