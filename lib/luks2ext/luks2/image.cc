#include "luks2/image.h"

#include <algorithm>
#include <cstring>
#include <limits>

#include "base/i18n.h"
#include "luks2/digest.h"

namespace luks2ext {
namespace {

Error Malformed(const std::string& why) {
  return Error::WrongDevice(FormatMsg(_("Invalid LUKS2 metadata: {}."), why));
}

std::vector<std::string> WithoutDuplicates(const std::vector<std::string>& flags) {
  std::vector<std::string> unique;
  for (const auto& flag : flags) {
    if (std::find(unique.begin(), unique.end(), flag) == unique.end()) unique.push_back(flag);
  }
  return unique;
}

// keyslots.N: its area inside [keyslots_begin, image_end), and a split key that fits it.
Result<KeyslotArea> ParseKeyslot(const char* key, int number, json_object* keyslot,
                                 std::uint64_t keyslots_begin, std::uint64_t image_end) {
  json_object* area = JsonMember(keyslot, "area");
  const auto offset = JsonDecimalMember(area, "offset");
  const auto size = JsonDecimalMember(area, "size");
  // Written as a subtraction so that a huge size cannot overflow past the check.
  if (!offset || !size || *offset < keyslots_begin || *offset > image_end ||
      *size > image_end - *offset) {
    return Malformed(FormatMsg(_("keyslot {} area lies outside the keyslots area"), key));
  }
  // An anti-forensic split key (af.type luks1) is key_size * af.stripes bytes and lives in
  // the area. A header that claims more (a key_size of 2^31) sends libcryptsetup into a
  // minutes-long unlock, stock cryptsetup's included: refused here, before it is tried.
  json_object* af = JsonMember(keyslot, "af");
  json_object* af_type = JsonMember(af, "type");
  if (af_type != nullptr && json_object_is_type(af_type, json_type_string) &&
      std::string_view(json_object_get_string(af_type)) == "luks1") {
    const auto key_size = JsonIntegerMember(keyslot, "key_size", *size);
    const auto stripes = JsonIntegerMember(af, "stripes", *size);
    if (!key_size || !stripes || *key_size == 0 || *stripes == 0 ||
        *key_size > *size / *stripes)
      return Malformed(FormatMsg(
          _("keyslot {}: its key_size and af.stripes do not fit its area"), key));
  }
  return KeyslotArea{number, *offset, *size};
}

}  // namespace

Result<std::uint64_t> Luks2Image::HeaderBytesNeeded(std::span<const std::uint8_t> first_4096) {
  ASSIGN_OR_RETURN(BinaryHeader primary, DecodeBinaryHeader(first_4096, 0));
  return 2 * primary.hdr_size;
}

Result<Luks2Image> Luks2Image::ParseHeaders(std::span<const std::uint8_t> leading_bytes) {
  return ParseImpl(std::vector<std::uint8_t>(leading_bytes.begin(), leading_bytes.end()),
                   /*full=*/false);
}

Result<Luks2Image> Luks2Image::Parse(std::vector<std::uint8_t> bytes) {
  return ParseImpl(std::move(bytes), /*full=*/true);
}

Result<Luks2Image> Luks2Image::Clone() const { return ParseImpl(bytes_, has_keyslots_area_); }

// Secondary: where a valid primary says; otherwise where a primary that passes the cheap
// checks says, then at every legal offset, as cryptsetup searches.
std::vector<std::uint64_t> SecondaryCandidates(std::span<const std::uint8_t> all,
                                               const Result<BinaryHeader>& primary) {
  if (primary.ok()) return {primary->hdr_size};
  std::vector<std::uint64_t> candidates;
  if (auto cheap = DecodeBinaryHeader(all, 0); cheap.ok()) candidates.push_back(cheap->hdr_size);
  for (std::uint64_t offset : kSecondaryHeaderOffsets) {
    if (std::find(candidates.begin(), candidates.end(), offset) == candidates.end())
      candidates.push_back(offset);
  }
  return candidates;
}

void Luks2Image::FindHeaderCopies(std::span<const std::uint8_t> all) {
  primary_state_.offset = 0;  // always at offset 0
  auto primary = ParseHeaderCopy(all, 0);
  if (primary.ok()) {
    primary_state_.valid = true;
    primary_state_.seqid = primary->seqid;
    primary_header_ = *primary;
  } else {
    primary_state_.problem = primary.error().message();
  }
  const std::vector<std::uint64_t> candidates = SecondaryCandidates(all, primary);
  secondary_state_.offset = candidates.front();
  for (std::uint64_t offset : candidates) {
    Result<BinaryHeader> secondary =
        offset < all.size()
            ? ParseHeaderCopy(all.subspan(offset), offset)
            : Result<BinaryHeader>(Error::WrongDevice(FormatMsg(
                  _("No valid LUKS2 header at offset {}: header is truncated."), offset)));
    if (secondary.ok()) {
      secondary_state_ = {true, offset, secondary->seqid, {}};
      secondary_header_ = *secondary;
      return;
    }
    if (offset == candidates.front()) secondary_state_.problem = secondary.error().message();
  }
}

// Header-only: bytes past the input belong to an invalid (truncated) copy; zeros will do. Nor
// may the kept bytes hold a copy the parser refused: zero-filling a cut secondary can leave one
// whose checksum now matches (a real JSON area ends in zeros too), and a re-parse (Clone) or
// libcryptsetup, which loads these bytes, would take it.
void Luks2Image::KeepHeadersOnly() {
  const std::uint64_t hdr_size = this->hdr_size();
  const std::uint64_t keep = 2 * hdr_size;
  bytes_.resize(keep);
  if (!primary_state_.valid) std::fill_n(bytes_.begin(), hdr_size, 0);
  if (!secondary_state_.valid)
    std::fill(bytes_.begin() + static_cast<std::ptrdiff_t>(hdr_size), bytes_.end(), 0);
}

Result<Luks2Image> Luks2Image::ParseImpl(std::vector<std::uint8_t> bytes, bool full) {
  Luks2Image image;
  image.FindHeaderCopies(bytes);
  if (!image.primary_state_.valid && !image.secondary_state_.valid) {
    return Error::WrongDevice(FormatMsg(_("no valid header copy: {} {}"),
                                        image.primary_state_.problem,
                                        image.secondary_state_.problem));
  }
  // The newest valid copy wins; on equal seqids the primary, as cryptsetup does.
  const bool use_secondary =
      image.secondary_state_.valid &&
      (!image.primary_state_.valid || image.secondary_state_.seqid > image.primary_state_.seqid);
  image.newest_ = use_secondary ? image.secondary_header_ : image.primary_header_;

  image.bytes_ = std::move(bytes);
  RETURN_IF_ERROR(image.ReadJson());
  image.has_keyslots_area_ = full;
  if (!full) {
    image.KeepHeadersOnly();
    return image;
  }
  if (image.bytes_.size() < image.image_size()) {
    return Error::WrongDevice(FormatMsg(_("LUKS2 metadata image is truncated: {} of {} bytes."),
                                        image.bytes_.size(), image.image_size()));
  }
  image.bytes_.resize(image.image_size());
  return image;
}

// Reads and checks the newest copy's JSON area: what the getters and a sparse load rely on.
Status Luks2Image::ReadJson() {
  const std::uint64_t hdr_size = newest_.hdr_size;
  const auto* json_area =
      reinterpret_cast<const char*>(bytes_.data() + newest_.hdr_offset + kBinaryHeaderSize);
  // ParseHeaderCopy has checked the area holds a NUL.
  const std::string_view text(json_area, strnlen(json_area, newest_.json_size()));
  auto parsed = ParseJsonText(text);
  if (!parsed || !json_object_is_type(parsed->get(), json_type_object)) {
    return Malformed(_("JSON area does not hold a JSON object"));
  }
  json_ = std::move(*parsed);

  json_object* config = JsonMember(json_.get(), "config");
  const auto json_size = JsonDecimalMember(config, "json_size");
  if (!json_size || *json_size != newest_.json_size()) {
    return Malformed(_("config.json_size is missing or does not match the header size"));
  }
  const auto keyslots_size = JsonDecimalMember(config, "keyslots_size");
  if (!keyslots_size || *keyslots_size % kLuks2Alignment != 0 ||
      *keyslots_size > kMaxKeyslotsSize) {
    return Malformed(_("config.keyslots_size is missing or invalid"));
  }
  keyslots_size_ = *keyslots_size;
  const std::uint64_t keyslots_begin = 2 * hdr_size;
  const std::uint64_t image_end = keyslots_begin + keyslots_size_;

  config_flags_.clear();
  if (json_object* flags = JsonMember(config, "flags"); flags != nullptr) {
    if (!json_object_is_type(flags, json_type_array)) {
      return Malformed(_("config.flags is not an array"));
    }
    for (std::size_t i = 0; i < json_object_array_length(flags); ++i) {
      json_object* flag = json_object_array_get_idx(flags, i);
      if (!json_object_is_type(flag, json_type_string)) {
        return Malformed(_("config.flags holds a non-string"));
      }
      config_flags_.emplace_back(json_object_get_string(flag),
                                 static_cast<std::size_t>(json_object_get_string_len(flag)));
    }
  }

  json_object* keyslots = JsonMember(json_.get(), "keyslots");
  if (keyslots == nullptr || !json_object_is_type(keyslots, json_type_object)) {
    return Malformed(_("keyslots object is missing"));
  }
  keyslot_areas_.clear();
  json_object_object_foreach(keyslots, key, keyslot) {
    const auto number = ParseDecimal(key);
    if (!number || *number > static_cast<std::uint64_t>(std::numeric_limits<int>::max())) {
      return Malformed(FormatMsg(_("keyslot name {} is not a number"), key));
    }
    ASSIGN_OR_RETURN(const KeyslotArea area,
                     ParseKeyslot(key, static_cast<int>(*number), keyslot, keyslots_begin,
                                  image_end));
    keyslot_areas_.push_back(area);
  }
  std::sort(keyslot_areas_.begin(), keyslot_areas_.end(),
            [](const KeyslotArea& a, const KeyslotArea& b) { return a.keyslot < b.keyslot; });
  return Status::Ok();
}

const BinaryHeader& Luks2Image::copy_header(HeaderCopy copy) const {
  assert(copy == HeaderCopy::kPrimary ? primary_state_.valid : secondary_state_.valid);
  return copy == HeaderCopy::kPrimary ? primary_header_ : secondary_header_;
}

Result<std::uint64_t> Luks2Image::data_segment_offset() const {
  json_object* segment = JsonMember(JsonMember(json_.get(), "segments"), "0");
  const auto offset = JsonDecimalMember(segment, "offset");
  if (!offset) return Malformed(_("segment 0 or its offset is missing"));
  return *offset;
}

bool Luks2Image::HasConfigFlag(std::string_view flag) const {
  return std::find(config_flags_.begin(), config_flags_.end(), flag) != config_flags_.end();
}

Status Luks2Image::RewriteCopies(std::span<const std::uint8_t> json_area, std::uint64_t seqid,
                                 bool fresh_salts) {
  const std::uint64_t hdr_size = this->hdr_size();
  assert(json_area.size() == json_size());
  // Work on a copy so that a failure leaves this image as it was.
  std::vector<std::uint8_t> rewritten = bytes_;

  std::array<std::uint8_t, kSaltSize> primary_salt{};
  for (HeaderCopy copy : {HeaderCopy::kPrimary, HeaderCopy::kSecondary}) {
    const bool is_primary = copy == HeaderCopy::kPrimary;
    const HeaderCopyState& state = is_primary ? primary_state_ : secondary_state_;
    BinaryHeader header = newest_;
    header.copy = copy;
    header.hdr_offset = is_primary ? 0 : hdr_size;
    header.seqid = seqid;
    if (!fresh_salts && state.valid) {
      header.salt = is_primary ? primary_header_.salt : secondary_header_.salt;
    } else {
      RETURN_IF_ERROR(RandomBytes(header.salt));
    }
    // The copies must never share a salt (no two identical header sectors).
    while (!is_primary && header.salt == primary_salt) RETURN_IF_ERROR(RandomBytes(header.salt));
    if (is_primary) primary_salt = header.salt;

    auto copy_area = std::span<std::uint8_t>(rewritten).subspan(header.hdr_offset, hdr_size);
    std::copy(json_area.begin(), json_area.end(), copy_area.begin() + kBinaryHeaderSize);
    RETURN_IF_ERROR(WriteHeaderCopy(header, copy_area));
  }

  ASSIGN_OR_RETURN(Luks2Image reparsed, ParseImpl(std::move(rewritten), has_keyslots_area_));
  // Both copies were just written from one template; anything else is a bug here.
  assert(reparsed.both_copies_valid() && reparsed.seqid() == seqid);
  *this = std::move(reparsed);
  return Status::Ok();
}

Status Luks2Image::RewriteJson(json_object* new_json) {
  const std::string text = SerializeJson(new_json);
  // The area must keep at least one terminating NUL.
  if (text.size() + 1 > json_size()) {
    return Error::WrongParameters(
        FormatMsg(_("LUKS2 JSON metadata needs {} bytes but the JSON area holds {}."),
                  text.size() + 1, json_size()));
  }
  if (seqid() == std::numeric_limits<std::uint64_t>::max()) {
    return Error::WrongDevice(_("LUKS2 header sequence number cannot grow any further."));
  }
  std::vector<std::uint8_t> area(json_size(), 0);
  std::memcpy(area.data(), text.data(), text.size());
  return RewriteCopies(area, seqid() + 1, /*fresh_salts=*/false);
}

Status Luks2Image::SetConfigFlags(const std::vector<std::string>& flags) {
  json_object* copy_raw = nullptr;
  if (json_object_deep_copy(json_.get(), &copy_raw, nullptr) != 0) {
    return Error::OutOfMemory(_("Cannot copy LUKS2 JSON metadata."));
  }
  JsonPtr copy(copy_raw);
  json_object* config = JsonMember(copy.get(), "config");  // ReadJson checked it exists
  const std::vector<std::string> unique = WithoutDuplicates(flags);
  if (unique.empty()) {
    json_object_object_del(config, "flags");
  } else {
    JsonPtr array(json_object_new_array());
    if (!array) return Error::OutOfMemory(_("Cannot allocate LUKS2 JSON metadata."));
    for (const auto& flag : unique) {
      json_object* value = json_object_new_string_len(flag.data(), static_cast<int>(flag.size()));
      if (value == nullptr || json_object_array_add(array.get(), value) != 0) {
        json_object_put(value);
        return Error::OutOfMemory(_("Cannot allocate LUKS2 JSON metadata."));
      }
    }
    // object_add takes over our reference and drops the old array.
    json_object_object_add(config, "flags", array.release());
  }
  return RewriteJson(copy.get());
}

Status Luks2Image::AddConfigFlag(std::string_view flag) {
  std::vector<std::string> flags = config_flags_;
  flags.emplace_back(flag);
  return SetConfigFlags(flags);
}

Status Luks2Image::RemoveConfigFlag(std::string_view flag) {
  std::vector<std::string> flags;
  for (const auto& existing : config_flags_) {
    if (existing != flag) flags.push_back(existing);
  }
  return SetConfigFlags(flags);
}

Status Luks2Image::ResealWithFreshSalts() {
  const auto newest_area = bytes().subspan(newest_.hdr_offset + kBinaryHeaderSize, json_size());
  const std::vector<std::uint8_t> json_area(newest_area.begin(), newest_area.end());
  return RewriteCopies(json_area, seqid(), /*fresh_salts=*/true);
}

Status Luks2Image::SetSeqid(std::uint64_t new_seqid) {
  const auto newest_area = bytes().subspan(newest_.hdr_offset + kBinaryHeaderSize, json_size());
  const std::vector<std::uint8_t> json_area(newest_area.begin(), newest_area.end());
  return RewriteCopies(json_area, new_seqid, /*fresh_salts=*/false);
}

}  // namespace luks2ext
