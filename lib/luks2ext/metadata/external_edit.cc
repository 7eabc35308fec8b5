#include "luks2ext/external_edit.h"

#include <algorithm>

#include "base/i18n.h"
#include "luks2/image.h"
#include "luks2/key_set.h"
#include "metadata/header_edit.h"
#include "metadata/scratch_file.h"
#include "metadata/update_protocol.h"

namespace luks2ext {
namespace {

KeySetSummary Summarize(const Luks2Image& image) {
  KeySet set = KeySetOf(image.json());
  return {image.seqid(), std::move(set.keyslots), std::move(set.tokens)};
}

Error NotTheSameVolume(const std::string& what) {
  return Error::WrongParameters(FormatMsg(
      _("The tool changed the volume itself ({}), not only its keys. Nothing was written."),
      what));
}

Status CheckSameVolume(const Luks2Image& before, const Luks2Image& after) {
  if (after.uuid() != before.uuid()) return NotTheSameVolume(_("UUID"));
  if (after.hdr_size() != before.hdr_size() || after.keyslots_size() != before.keyslots_size())
    return NotTheSameVolume(_("metadata or keyslots area size"));
  ASSIGN_OR_RETURN(const uint64_t old_offset, before.data_segment_offset());
  ASSIGN_OR_RETURN(const uint64_t new_offset, after.data_segment_offset());
  if (old_offset != new_offset) return NotTheSameVolume(_("data offset"));
  if (auto difference = VolumeDifference(before.json(), after.json()))
    return NotTheSameVolume(*difference);
  if (auto orphan = TokenWithoutKeyslot(after.json()))
    return Error::WrongParameters(FormatMsg(
        _("The tool left a token naming a keyslot that does not exist ({}). Nothing was "
          "written."),
        *orphan));
  return Status::Ok();
}

// The tool's result as the new image, or `image` unchanged when the tool changed nothing.
Status TakeToolResult(Luks2Image& image, std::vector<std::uint8_t> bytes) {
  const std::span<const std::uint8_t> old_bytes = image.bytes();
  if (std::equal(bytes.begin(), bytes.end(), old_bytes.begin(), old_bytes.end()))
    return Status::Ok();
  auto parsed = Luks2Image::Parse(std::move(bytes));
  if (!parsed.ok())
    return Error::WrongParameters(FormatMsg(
        _("The tool left no valid LUKS2 header ({}). Nothing was written."),
        parsed.error().message()));
  Luks2Image edited = std::move(parsed).value();
  if (!edited.both_copies_valid())
    return Error::WrongParameters(
        _("The tool left a header with only one valid copy. Nothing was written."));
  if (edited.seqid() <= image.seqid())
    return Error::WrongParameters(FormatMsg(
        _("The tool changed the header without raising its sequence number (seqid {} -> {}). "
          "Nothing was written."),
        image.seqid(), edited.seqid()));
  RETURN_IF_ERROR(CheckSameVolume(image, edited));
  if (Status loads = CheckLoadsInLibcryptsetup(edited); !loads.ok())
    return Error::WrongParameters(FormatMsg(
        _("libcryptsetup does not accept the header the tool left ({}). Nothing was written."),
        loads.error().message()));
  image = std::move(edited);
  return Status::Ok();
}

}  // namespace

Result<ExternalEditOutcome> EditHeaderExternally(BlockDevice& device,
                                                 std::span<const std::string> scratch_dirs,
                                                 const ExternalTool& tool) {
  ExternalEditOutcome outcome;
  RETURN_IF_ERROR(UpdateMetadata(device, [&](Luks2Image& image, const VolumeState&) -> Status {
    outcome.before = Summarize(image);
    ASSIGN_OR_RETURN(ScratchFile file, ScratchFile::Create(scratch_dirs, image.bytes()));
    RETURN_IF_ERROR(tool(file.path()));
    ASSIGN_OR_RETURN(std::vector<std::uint8_t> bytes, file.ReadBack(image.image_size()));
    file.Wipe();
    RETURN_IF_ERROR(TakeToolResult(image, std::move(bytes)));
    outcome.after = Summarize(image);
    outcome.changed = outcome.after.seqid != outcome.before.seqid;
    return Status::Ok();
  }));
  return outcome;
}

}  // namespace luks2ext
