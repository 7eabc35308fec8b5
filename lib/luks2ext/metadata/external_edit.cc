#include "luks2ext/external_edit.h"

#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "base/i18n.h"
#include "luks2/image.h"
#include "luks2/json.h"
#include "metadata/header_edit.h"
#include "metadata/scratch_file.h"
#include "metadata/update_protocol.h"

namespace luks2ext {
namespace {

std::string MemberText(json_object* object, const char* key) {
  json_object* member = JsonMember(object, key);
  return member ? SerializeJson(member) : std::string();
}

std::string StringMember(json_object* object, const char* key) {
  json_object* member = JsonMember(object, key);
  if (!member || !json_object_is_type(member, json_type_string)) return "";
  return json_object_get_string(member);
}

// The keyslot ids a token names, as written ("1"), in order.
std::vector<std::string> TokenKeyslots(json_object* token) {
  std::vector<std::string> ids;
  json_object* keyslots = JsonMember(token, "keyslots");
  if (!keyslots || !json_object_is_type(keyslots, json_type_array)) return ids;
  for (size_t i = 0; i < json_object_array_length(keyslots); ++i) {
    json_object* id = json_object_array_get_idx(keyslots, i);
    ids.push_back(json_object_is_type(id, json_type_string) ? json_object_get_string(id) : "?");
  }
  return ids;
}

KeySetSummary Summarize(const Luks2Image& image) {
  KeySetSummary summary;
  summary.seqid = image.seqid();
  for (const KeyslotArea& area : image.keyslot_areas()) summary.keyslots.push_back(area.keyslot);
  std::sort(summary.keyslots.begin(), summary.keyslots.end());
  json_object* tokens = JsonMember(image.json(), "tokens");
  if (tokens && json_object_is_type(tokens, json_type_object)) {
    json_object_object_foreach(tokens, id, token) {
      std::string keyslots;
      for (const std::string& k : TokenKeyslots(token)) keyslots += (keyslots.empty() ? "" : ",") + k;
      summary.tokens.push_back(fmt::format("{}: {} (keyslot {})", id, StringMember(token, "type"),
                                           keyslots.empty() ? "-" : keyslots));
    }
  }
  return summary;
}

Error NotTheSameVolume(const std::string& what) {
  return Error::WrongParameters(FormatMsg(
      _("The tool changed the volume itself ({}), not only its keys. Nothing was written."),
      what));
}

// The digests that bind a segment (the volume key's): each must stay exactly as it was, or the
// header would no longer open the data. Keyslots may join or leave them.
Status CheckVolumeKeyDigests(json_object* before, json_object* after) {
  json_object* old_digests = JsonMember(before, "digests");
  json_object* new_digests = JsonMember(after, "digests");
  if (!old_digests || !json_object_is_type(old_digests, json_type_object))
    return NotTheSameVolume(_("no digests"));
  json_object_object_foreach(old_digests, id, digest) {
    json_object* segments = JsonMember(digest, "segments");
    if (!segments || !json_object_is_type(segments, json_type_array) ||
        json_object_array_length(segments) == 0)
      continue;
    json_object* now = JsonMember(new_digests, id);
    for (const char* key : {"type", "salt", "digest", "segments", "hash", "iterations"}) {
      if (MemberText(digest, key) != MemberText(now, key))
        return NotTheSameVolume(FormatMsg(_("volume key digest {}"), id));
    }
  }
  return Status::Ok();
}

// A token is only as good as its keyslot: one naming a keyslot that is not there would be a
// key that opens nothing (or, once that number is reused, the wrong one).
Status CheckTokensHaveKeyslots(json_object* json) {
  json_object* keyslots = JsonMember(json, "keyslots");
  json_object* tokens = JsonMember(json, "tokens");
  if (!tokens || !json_object_is_type(tokens, json_type_object)) return Status::Ok();
  json_object_object_foreach(tokens, id, token) {
    for (const std::string& keyslot : TokenKeyslots(token)) {
      if (!JsonMember(keyslots, keyslot.c_str()))
        return Error::WrongParameters(FormatMsg(
            _("The tool left token {} naming keyslot {}, which does not exist. Nothing was "
              "written."),
            id, keyslot));
    }
  }
  return Status::Ok();
}

Status CheckSameVolume(const Luks2Image& before, const Luks2Image& after) {
  if (after.uuid() != before.uuid()) return NotTheSameVolume(_("UUID"));
  if (after.hdr_size() != before.hdr_size() || after.keyslots_size() != before.keyslots_size())
    return NotTheSameVolume(_("metadata or keyslots area size"));
  ASSIGN_OR_RETURN(const uint64_t old_offset, before.data_segment_offset());
  ASSIGN_OR_RETURN(const uint64_t new_offset, after.data_segment_offset());
  if (old_offset != new_offset) return NotTheSameVolume(_("data offset"));
  if (MemberText(before.json(), "segments") != MemberText(after.json(), "segments"))
    return NotTheSameVolume(_("data segments"));
  json_object* old_config = JsonMember(before.json(), "config");
  json_object* new_config = JsonMember(after.json(), "config");
  if (MemberText(old_config, "requirements") != MemberText(new_config, "requirements"))
    return NotTheSameVolume(_("requirements"));
  RETURN_IF_ERROR(CheckVolumeKeyDigests(before.json(), after.json()));
  return CheckTokensHaveKeyslots(after.json());
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
