// What `enroll` checks in the JSON a tool left (luks2/key_set.h): the key set shown to the
// user, whether two headers are the same volume, and tokens without their keyslot.
//
// Input: one or two JSON texts, the second after the first NUL byte (none: the first twice).
// The seeds are headers libcryptsetup wrote, before and after systemd-cryptenroll.
//
// Oracles: no crash or sanitizer report on any JSON, valid LUKS2 or not; a header with a
// digests object is always the same volume as itself; the key set lists exactly one entry per
// member of "tokens" and keyslot ids in ascending order; a header that names no keyslot in any
// token has no token without its keyslot.
#include <algorithm>
#include <string_view>

#include "fuzz_check.h"
#include "luks2/json.h"
#include "luks2/key_set.h"

using namespace luks2ext;

namespace {

void CheckOne(json_object* metadata) {
  const KeySet set = KeySetOf(metadata);
  FUZZ_CHECK(std::is_sorted(set.keyslots.begin(), set.keyslots.end()));
  json_object* tokens = JsonMember(metadata, "tokens");
  const size_t members = tokens && json_object_is_type(tokens, json_type_object)
                             ? static_cast<size_t>(json_object_object_length(tokens))
                             : 0;
  FUZZ_CHECK(set.tokens.size() == members);
  json_object* digests = JsonMember(metadata, "digests");
  if (digests && json_object_is_type(digests, json_type_object))
    FUZZ_CHECK(!VolumeDifference(metadata, metadata).has_value());
  bool any_named = false;
  if (members) {
    json_object_object_foreach(tokens, id, token) {
      (void)id;
      json_object* keyslots = JsonMember(token, "keyslots");
      any_named = any_named || (keyslots && json_object_is_type(keyslots, json_type_array) &&
                                json_object_array_length(keyslots) > 0);
    }
  }
  if (!any_named) FUZZ_CHECK(!TokenWithoutKeyslot(metadata).has_value());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input = fuzz::Text(data, size);
  const size_t nul = input.find('\0');
  const std::string_view first = input.substr(0, nul);
  const std::string_view second = nul == std::string_view::npos ? first : input.substr(nul + 1);
  auto before = ParseJsonText(first);
  auto after = ParseJsonText(second);
  if (before) CheckOne(before->get());
  if (after) CheckOne(after->get());
  if (before && after) {
    (void)VolumeDifference(before->get(), after->get());
    (void)VolumeDifference(after->get(), before->get());
  }
  return 0;
}
