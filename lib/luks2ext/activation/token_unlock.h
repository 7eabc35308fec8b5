// Unlocking with LUKS2 tokens: which tokens an unlock may try and which keyslots they name,
// read from the header's JSON, so that a zoned drive loads only those keyslot areas.
#pragma once

#include <json-c/json.h>

#include <vector>

#include "luks2ext/activation.h"

struct crypt_device;

namespace luks2ext {

// The ids of the tokens in `root` (a LUKS2 JSON object) that `token` selects: its id (or any)
// and its type (or any), in libcryptsetup's order (ascending id).
std::vector<int> MatchingTokens(json_object* root, const TokenRequest& token);

// The keyslots token `id` of `root` names in its "keyslots" array, in the array's order.
// Malformed entries are skipped (libcryptsetup refuses such a header anyway).
std::vector<int> TokenKeyslots(json_object* root, int id);

// Whether libcryptsetup has a handler for token `id` of the loaded header: built in, or an
// external plugin it could load (not when external tokens are disabled). Only such tokens are
// tried, so only their keyslots need reading.
bool TokenHandlerAvailable(crypt_device* cd, int id);

}  // namespace luks2ext
