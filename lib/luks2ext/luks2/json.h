// Ownership and small helpers for json-c objects used by the LUKS2 codec.
//
// LUKS2 stores every 64-bit number in its JSON as a string of decimal digits (JSON numbers
// lose precision above 2^53 in many parsers); luks2ext/number.h's ParseDecimal reads those.
#pragma once

#include <json-c/json.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "luks2ext/number.h"

namespace luks2ext {

struct JsonObjectPut {
  void operator()(json_object* object) const { json_object_put(object); }
};
// Owns one reference to a json_object.
using JsonPtr = std::unique_ptr<json_object, JsonObjectPut>;

// Parses a complete JSON text; nullopt when it is not valid JSON or has trailing bytes.
inline std::optional<JsonPtr> ParseJsonText(std::string_view text) {
  std::unique_ptr<json_tokener, decltype(&json_tokener_free)> tokener(json_tokener_new(),
                                                                      &json_tokener_free);
  if (!tokener) return std::nullopt;
  JsonPtr root(json_tokener_parse_ex(tokener.get(), text.data(), static_cast<int>(text.size())));
  if (!root || json_tokener_get_error(tokener.get()) != json_tokener_success) return std::nullopt;
  // Everything after the value must be whitespace, as a strict parser would demand.
  for (std::size_t i = json_tokener_get_parse_end(tokener.get()); i < text.size(); ++i) {
    const char c = text[i];
    if (c != ' ' && c != '\t' && c != '\n' && c != '\r') return std::nullopt;
  }
  return root;
}

// The form libcryptsetup writes: no whitespace, '/' not escaped.
inline std::string SerializeJson(json_object* object) {
  std::size_t length = 0;
  const char* text = json_object_to_json_string_length(
      object, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &length);
  return std::string(text, length);
}

// A borrowed member of an object, or nullptr when absent or `object` is not an object.
inline json_object* JsonMember(json_object* object, const char* key) {
  json_object* member = nullptr;
  if (object == nullptr || !json_object_is_type(object, json_type_object)) return nullptr;
  if (!json_object_object_get_ex(object, key, &member)) return nullptr;
  return member;
}

// A JSON string member holding a decimal number; nullopt when absent or malformed.
inline std::optional<std::uint64_t> JsonDecimalMember(json_object* object, const char* key) {
  json_object* member = JsonMember(object, key);
  if (member == nullptr || !json_object_is_type(member, json_type_string)) return std::nullopt;
  return ParseDecimal(
      std::string_view(json_object_get_string(member),
                       static_cast<std::size_t>(json_object_get_string_len(member))));
}

// A JSON integer member (LUKS2's small counts: a keyslot's PBKDF memory, time, cpus) of at most
// `max`; nullopt when absent, of another type, negative or larger. json-c holds the integer
// already; its decimal text goes through the one strict parser, so a negative value is refused
// as everywhere else instead of wrapping, and a string is not converted by json-c's own parser.
inline std::optional<std::uint64_t> JsonIntegerMember(json_object* object, const char* key,
                                                      std::uint64_t max) {
  json_object* member = JsonMember(object, key);
  if (member == nullptr || !json_object_is_type(member, json_type_int)) return std::nullopt;
  return ParseDecimalAtMost(json_object_to_json_string_ext(member, JSON_C_TO_STRING_PLAIN), max);
}

}  // namespace luks2ext
