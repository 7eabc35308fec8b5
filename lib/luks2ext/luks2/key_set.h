// What an enrollment may change in a LUKS2 header and what it may not, read from the JSON
// metadata alone: its key set (keyslots, tokens) for the user, and whether two headers still
// describe the same volume. metadata/external_edit.cc applies these to what a tool left.
#pragma once

#include <json-c/json.h>

#include <optional>
#include <string>
#include <vector>

namespace luks2ext {

struct KeySet {
  std::vector<int> keyslots;        // ids in "keyslots", ascending (non-numeric ids skipped)
  std::vector<std::string> tokens;  // "0: systemd-tpm2 (keyslot 1)", in stored order
};

KeySet KeySetOf(json_object* metadata);

// The keyslots a token object names in its "keyslots" array, in the array's order: the entries
// that are keyslot numbers in quotes ("0" to "31"); others are skipped (libcryptsetup refuses
// a header holding one). What unlocking and listing need; import checks strictly instead.
std::vector<int> TokenKeyslotNumbers(json_object* token);

// What makes `after` another volume than `before`, as words for a message ("data segments",
// "volume key digest 0", "requirements"), or nullopt when it is the same volume: the same
// segments, the same requirements, and every digest that binds a segment unchanged (keyslots
// may join or leave it). Any JSON (even not an object) is taken without harm.
std::optional<std::string> VolumeDifference(json_object* before, json_object* after);

// A token naming a keyslot that does not exist, as "token 3, keyslot 7"; nullopt when every
// token's keyslots exist. A token is only as good as its keyslot.
std::optional<std::string> TokenWithoutKeyslot(json_object* metadata);

}  // namespace luks2ext
