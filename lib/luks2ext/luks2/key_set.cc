#include "luks2/key_set.h"

#include <fmt/format.h>

#include <algorithm>

#include "base/i18n.h"
#include "luks2/json.h"
#include "luks2ext/number.h"

namespace luks2ext {
namespace {

bool IsObject(json_object* o) { return o && json_object_is_type(o, json_type_object); }
bool IsArray(json_object* o) { return o && json_object_is_type(o, json_type_array); }

std::string MemberText(json_object* object, const char* key) {
  json_object* member = JsonMember(object, key);
  return member ? SerializeJson(member) : std::string();
}

std::string StringMember(json_object* object, const char* key) {
  json_object* member = JsonMember(object, key);
  if (!member || !json_object_is_type(member, json_type_string)) return "";
  return json_object_get_string(member);
}

// The keyslot ids a token names, as written ("1"), in order; "?" for one that is no string.
std::vector<std::string> TokenKeyslots(json_object* token) {
  std::vector<std::string> ids;
  json_object* keyslots = JsonMember(token, "keyslots");
  if (!IsArray(keyslots)) return ids;
  for (size_t i = 0; i < json_object_array_length(keyslots); ++i) {
    json_object* id = json_object_array_get_idx(keyslots, i);
    ids.push_back(json_object_is_type(id, json_type_string) ? json_object_get_string(id) : "?");
  }
  return ids;
}

}  // namespace

std::vector<int> TokenKeyslotNumbers(json_object* token) {
  std::vector<int> numbers;
  json_object* keyslots = JsonMember(token, "keyslots");
  if (!IsArray(keyslots)) return numbers;
  for (size_t i = 0; i < json_object_array_length(keyslots); ++i) {
    json_object* id = json_object_array_get_idx(keyslots, i);
    if (!json_object_is_type(id, json_type_string)) continue;
    // LUKS2 has keyslots 0..31 (cryptsetup's LUKS2_KEYSLOTS_MAX).
    if (auto number = ParseDecimalAtMost(json_object_get_string(id), 31))
      numbers.push_back(static_cast<int>(*number));
  }
  return numbers;
}

KeySet KeySetOf(json_object* metadata) {
  KeySet set;
  json_object* keyslots = JsonMember(metadata, "keyslots");
  if (IsObject(keyslots)) {
    json_object_object_foreach(keyslots, id, keyslot) {
      (void)keyslot;
      if (auto n = ParseDecimalAtMost(id, 1000000)) set.keyslots.push_back(static_cast<int>(*n));
    }
  }
  std::sort(set.keyslots.begin(), set.keyslots.end());
  json_object* tokens = JsonMember(metadata, "tokens");
  if (IsObject(tokens)) {
    json_object_object_foreach(tokens, id, token) {
      std::string named;
      for (const std::string& k : TokenKeyslots(token)) named += (named.empty() ? "" : ",") + k;
      set.tokens.push_back(fmt::format("{}: {} (keyslot {})", id, StringMember(token, "type"),
                                       named.empty() ? "-" : named));
    }
  }
  return set;
}

std::optional<std::string> VolumeDifference(json_object* before, json_object* after) {
  if (MemberText(before, "segments") != MemberText(after, "segments")) return std::string(_("data segments"));
  if (MemberText(JsonMember(before, "config"), "requirements") !=
      MemberText(JsonMember(after, "config"), "requirements"))
    return std::string(_("requirements"));
  json_object* old_digests = JsonMember(before, "digests");
  if (!IsObject(old_digests)) return std::string(_("digests"));
  json_object* new_digests = JsonMember(after, "digests");
  json_object_object_foreach(old_digests, id, digest) {
    json_object* segments = JsonMember(digest, "segments");
    if (!IsArray(segments) || json_object_array_length(segments) == 0) continue;
    json_object* now = JsonMember(new_digests, id);
    for (const char* key : {"type", "salt", "digest", "segments", "hash", "iterations"}) {
      if (!now || MemberText(digest, key) != MemberText(now, key))
        return FormatMsg(_("volume key digest {}"), id);
    }
  }
  return std::nullopt;
}

std::optional<std::string> TokenWithoutKeyslot(json_object* metadata) {
  json_object* keyslots = JsonMember(metadata, "keyslots");
  json_object* tokens = JsonMember(metadata, "tokens");
  if (!IsObject(tokens)) return std::nullopt;
  json_object_object_foreach(tokens, id, token) {
    for (const std::string& keyslot : TokenKeyslots(token)) {
      if (!JsonMember(keyslots, keyslot.c_str()))
        return FormatMsg(_("token {}, keyslot {}"), id, keyslot);
    }
  }
  return std::nullopt;
}

}  // namespace luks2ext
