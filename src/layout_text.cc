#include "layout_text.h"

#include <fmt/core.h>

#include <cstdio>

#include "i18n.h"

namespace zcryptsetup {

using luks2ext::SizeText;

namespace {

// "offset 4096", with its zone on a zoned drive: "offset 268435456 (zone 1)".
std::string OffsetText(const luks2ext::Layout& layout, uint64_t offset) {
  if (layout.zone_size == 0) return FormatMsg(_("offset {}"), offset);
  return FormatMsg(_("offset {} (zone {})"), offset, offset / layout.zone_size);
}

// Each combination of the drive's zone limits is a message of its own, so that it translates
// as a whole.
std::string ZoneSizeText(const luks2ext::DriveSummary& drive) {
  const luks2ext::Geometry& g = drive.geometry;
  const std::string size = SizeText(g.zone_size);
  const std::string capacity = SizeText(drive.zone0_capacity);
  if (g.max_open_zones && g.max_active_zones)
    return FormatMsg(_("{} (capacity {}, {} zones, max open {}, max active {})"), size, capacity,
                     g.nr_zones, g.max_open_zones, g.max_active_zones);
  if (g.max_open_zones)
    return FormatMsg(_("{} (capacity {}, {} zones, max open {})"), size, capacity, g.nr_zones,
                     g.max_open_zones);
  if (g.max_active_zones)
    return FormatMsg(_("{} (capacity {}, {} zones, max active {})"), size, capacity, g.nr_zones,
                     g.max_active_zones);
  return FormatMsg(_("{} (capacity {}, {} zones)"), size, capacity, g.nr_zones);
}

std::string ConventionalText(const luks2ext::DriveSummary& drive) {
  if (drive.conventional_zones_at_least)
    return FormatMsg(_("at least {} zones at LBA 0"), drive.conventional_zones);
  return FormatMsg(_("{} zones at LBA 0"), drive.conventional_zones);
}

std::string MetadataText(const luks2ext::Layout& layout) {
  const std::string image = SizeText(layout.image_size());
  const std::string header = SizeText(layout.header_size);
  const std::string keyslots = SizeText(layout.keyslots_size);
  if (layout.has_commit_record())
    return FormatMsg(_("{} image (headers {} x 2, keyslots area {}) + 4 KiB commit record per "
                       "copy"),
                     image, header, keyslots);
  return FormatMsg(_("{} image (headers {} x 2, keyslots area {})"), image, header, keyslots);
}

// The row's name: "home copy", "journal copy".
std::string CopyName(const luks2ext::CopySummary& copy) {
  if (copy.name == "home") return _("home copy");
  if (copy.name == "journal") return _("journal copy");
  return FormatMsg(_("{} copy"), copy.name);
}

// "seqid 7, headers valid, commit record ok", and why a copy is not usable when it is not.
std::string CopyCondition(const luks2ext::Layout& layout, const luks2ext::CopySummary& copy) {
  std::string condition;
  if (!copy.headers_valid)
    condition = _("headers invalid");
  else if (!layout.has_commit_record())
    condition = FormatMsg(_("seqid {}, headers valid"), copy.seqid);
  else if (copy.has_record)
    condition = FormatMsg(_("seqid {}, headers valid, commit record ok"), copy.seqid);
  else
    condition = FormatMsg(_("seqid {}, headers valid, no commit record"), copy.seqid);
  if (!copy.problem.empty()) condition = FormatMsg("{} ({})", condition, copy.problem);
  return condition;
}

// Where the copy is and its condition; the copy the volume was read from is marked.
std::string CopyText(const luks2ext::Layout& layout, const luks2ext::CopySummary& copy) {
  const std::string offset = OffsetText(layout, copy.offset);
  const std::string condition = CopyCondition(layout, copy);
  if (copy.chosen) return FormatMsg(_("{}: {} [read]"), offset, condition);
  return FormatMsg("{}: {}", offset, condition);
}

}  // namespace

void PrintRow(const std::string& name, const std::string& value) {
  fmt::print(stdout, "  {}{}\n", FormatMsg("{:<14}", name + ":"), value);
}

void PrintLayout(const std::string& device, const luks2ext::DriveSummary& drive,
                 const luks2ext::Layout& layout, const std::string& state,
                 const std::vector<luks2ext::CopySummary>* copies) {
  const luks2ext::Geometry& g = drive.geometry;
  fmt::print(stdout, "{}\n", FormatMsg(_("zcryptsetup placement on {}:"), device));
  PrintRow(_("Device size"), FormatMsg(_("{} bytes"), g.size));
  PrintRow(_("Zone model"), luks2ext::ZoneModelName(g.model));
  if (g.is_zoned()) {
    PrintRow(_("Zone size"), ZoneSizeText(drive));
    PrintRow(_("Conventional"), ConventionalText(drive));
  }
  PrintRow(_("Block size"), FormatMsg(_("{} bytes logical, {} physical"), g.logical_block_size,
                                      g.physical_block_size));
  PrintRow(_("Placement"), FormatMsg("{} ({})", luks2ext::PlacementName(layout.placement), state));
  PrintRow(_("Metadata"), MetadataText(layout));
  if (copies) {
    for (const luks2ext::CopySummary& copy : *copies)
      PrintRow(CopyName(copy), CopyText(layout, copy));
  } else {
    PrintRow(_("home copy"), OffsetText(layout, layout.home_offset));
    if (layout.journal_offset)
      PrintRow(_("journal copy"), OffsetText(layout, *layout.journal_offset));
  }
  if (!layout.journal_offset && layout.is_zoned())
    PrintRow(_("journal copy"), _("none (--no-zone-journal: updates are not crash-safe)"));
  PrintRow(_("Data segment"), OffsetText(layout, layout.data_offset));
  PrintRow(_("Reserved"), FormatMsg(_("{} bytes before the data segment ({})"), layout.data_offset,
                                    SizeText(layout.data_offset)));
}

}  // namespace zcryptsetup
