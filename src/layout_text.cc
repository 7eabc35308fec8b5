#include "layout_text.h"

#include <iostream>

#include "i18n.h"

namespace zcryptsetup {

using luks2ext::SizeText;

namespace {

std::string ZoneOf(const luks2ext::Layout& layout, uint64_t offset) {
  if (layout.zone_size == 0) return "";
  return FormatMsg(_(" (zone {})"), offset / layout.zone_size);
}

void Row(const std::string& name, const std::string& value) {
  std::cout << "  " << FormatMsg("{:<14}", name + ":") << value << '\n';
}

}  // namespace

void PrintLayout(const std::string& device, const luks2ext::DriveSummary& drive,
                 const luks2ext::Layout& layout, const std::string& state,
                 const std::vector<luks2ext::CopySummary>* copies) {
  const luks2ext::Geometry& g = drive.geometry;
  std::cout << FormatMsg(_("zcryptsetup placement on {}:"), device) << '\n';
  Row(_("Device size"), FormatMsg(_("{} bytes"), g.size));
  Row(_("Zone model"), luks2ext::ZoneModelName(g.model));
  if (g.is_zoned()) {
    std::string limits;
    if (g.max_open_zones) limits += FormatMsg(_(", max open {}"), g.max_open_zones);
    if (g.max_active_zones) limits += FormatMsg(_(", max active {}"), g.max_active_zones);
    Row(_("Zone size"), FormatMsg(_("{} (capacity {}, {} zones{})"), SizeText(g.zone_size),
                                  SizeText(drive.zone0_capacity), g.nr_zones, limits));
    Row(_("Conventional"), FormatMsg(_("{}{} zones at LBA 0"),
                                     drive.conventional_zones_at_least ? _("at least ") : "",
                                     drive.conventional_zones));
  }
  Row(_("Block size"), FormatMsg(_("{} bytes logical, {} physical"), g.logical_block_size,
                                 g.physical_block_size));
  Row(_("Placement"), FormatMsg("{} ({})", luks2ext::PlacementName(layout.placement), state));
  Row(_("Metadata"),
      FormatMsg(_("{} image (headers {} x 2, keyslots area {}){}"), SizeText(layout.image_size()),
                SizeText(layout.header_size), SizeText(layout.keyslots_size),
                layout.has_commit_record() ? _(" + 4 KiB commit record per copy") : ""));
  if (copies) {
    for (const luks2ext::CopySummary& copy : *copies) {
      std::string condition = copy.headers_valid
                                  ? FormatMsg(_("seqid {}, headers valid"), copy.seqid)
                                  : std::string(_("headers invalid"));
      if (layout.has_commit_record() && copy.headers_valid)
        condition += copy.has_record ? _(", commit record ok") : _(", no commit record");
      if (!copy.problem.empty()) condition += " (" + copy.problem + ")";
      Row(copy.name + _(" copy"), FormatMsg(_("offset {}{}: {}{}"), copy.offset,
                                            ZoneOf(layout, copy.offset), condition,
                                            copy.chosen ? _(" [read]") : ""));
    }
  } else {
    Row(_("home copy"), FormatMsg(_("offset {}{}"), layout.home_offset,
                                  ZoneOf(layout, layout.home_offset)));
    if (layout.journal_offset)
      Row(_("journal copy"), FormatMsg(_("offset {}{}"), *layout.journal_offset,
                                       ZoneOf(layout, *layout.journal_offset)));
  }
  if (!layout.journal_offset && layout.is_zoned())
    Row(_("journal copy"), _("none (--no-zone-journal: updates are not crash-safe)"));
  Row(_("Data segment"),
      FormatMsg(_("offset {}{}"), layout.data_offset, ZoneOf(layout, layout.data_offset)));
  Row(_("Reserved"), FormatMsg(_("{} bytes before the data segment ({})"), layout.data_offset,
                               SizeText(layout.data_offset)));
}

}  // namespace zcryptsetup
