// The token verbs of Volume (cryptsetup token import|add|remove|export). Every change goes
// through UpdateMetadata (docs/design.md#update-protocol), made by libcryptsetup on the
// in-memory image (metadata/header_edit.h): the token and its keyslot assignment land in one
// update, so no cut leaves a token without the keyslot it was given.
#include <libcryptsetup.h>

#include <algorithm>

#include "base/i18n.h"
#include "base/memfd.h"
#include "cryptsetup/crypt_device.h"
#include "luks2/json.h"
#include "luks2/key_set.h"
#include "luks2ext/volume.h"
#include "metadata/copy_reader.h"
#include "metadata/header_edit.h"
#include "metadata/image_store.h"
#include "metadata/update_protocol.h"

namespace luks2ext {
namespace {

// LUKS2 has tokens 0..31 and keyslots 0..31 (cryptsetup's LUKS2_TOKENS_MAX, LUKS2_KEYSLOTS_MAX).
constexpr int kMaxId = 31;

Error BadTokenJson(const std::string& why) {
  return Error::WrongParameters(FormatMsg(_("Invalid token JSON: {}. Nothing was written."), why));
}

// The keyslot ids a token's "keyslots" array names; refused unless each is a keyslot number
// written as a string ("0"), as LUKS2 writes them.
Result<std::vector<int>> NamedKeyslots(json_object* token) {
  json_object* keyslots = JsonMember(token, "keyslots");
  if (!keyslots || !json_object_is_type(keyslots, json_type_array))
    return BadTokenJson(_("it needs a \"keyslots\" array"));
  std::vector<int> ids;
  for (size_t i = 0; i < json_object_array_length(keyslots); ++i) {
    json_object* id = json_object_array_get_idx(keyslots, i);
    const char* text = json_object_is_type(id, json_type_string) ? json_object_get_string(id) : "";
    const std::optional<uint64_t> number = ParseDecimalAtMost(text, kMaxId);
    if (!number)
      return BadTokenJson(FormatMsg(_("\"keyslots\" entry {} is not a keyslot number in quotes "
                                      "(\"0\" to \"{}\")"),
                                    json_object_to_json_string(id), kMaxId));
    ids.push_back(static_cast<int>(*number));
  }
  return ids;
}

// What import checks before taking any lock: the size, a JSON object, its "type" and
// "keyslots". Returns the keyslots it names.
Result<std::vector<int>> CheckTokenJson(const std::string& json) {
  if (json.size() > kMaxTokenJsonBytes)
    return BadTokenJson(FormatMsg(_("{} bytes, more than the {} a LUKS2 JSON area can hold"),
                                  json.size(), kMaxTokenJsonBytes));
  if (json.find('\0') != std::string::npos) return BadTokenJson(_("it contains a NUL byte"));
  std::optional<JsonPtr> parsed = ParseJsonText(json);
  if (!parsed) return BadTokenJson(_("not valid JSON"));
  json_object* token = parsed->get();
  if (!json_object_is_type(token, json_type_object))
    return BadTokenJson(_("it is not a JSON object"));
  json_object* type = JsonMember(token, "type");
  if (!type || !json_object_is_type(type, json_type_string) ||
      json_object_get_string_len(type) == 0)
    return BadTokenJson(_("it needs a \"type\" string"));
  return NamedKeyslots(token);
}

// Every keyslot the token names exists in the header it goes into: a token is only as good as
// its keyslot.
Status CheckKeyslotsExist(const Luks2Image& image, const std::vector<int>& ids) {
  json_object* keyslots = JsonMember(image.json(), "keyslots");
  for (const int id : ids) {
    if (!JsonMember(keyslots, std::to_string(id).c_str()))
      return Error::WrongParameters(FormatMsg(
          _("The token names keyslot {}, which does not exist. Nothing was written."), id));
  }
  return Status::Ok();
}

// cryptsetup's checks of --token-id for import and add.
Status CheckFreeTokenId(crypt_device* cd, int token_id, bool replace) {
  if (token_id == CRYPT_ANY_TOKEN) return Status::Ok();
  const crypt_token_info info = crypt_token_status(cd, token_id, nullptr);
  if (info == CRYPT_TOKEN_INVALID)
    return Error::WrongParameters(FormatMsg(_("Token {} is invalid."), token_id));
  if (info != CRYPT_TOKEN_INACTIVE && !replace)
    return Error::WrongParameters(
        FormatMsg(_("Token {} in use (--token-replace replaces it)."), token_id));
  return Status::Ok();
}

Status CheckTokenInUse(crypt_device* cd, int token_id) {
  const crypt_token_info info = crypt_token_status(cd, token_id, nullptr);
  if (info == CRYPT_TOKEN_INVALID)
    return Error::WrongParameters(FormatMsg(_("Token {} is invalid."), token_id));
  if (info == CRYPT_TOKEN_INACTIVE)
    return Error::WrongParameters(FormatMsg(_("Token {} is not in use."), token_id));
  return Status::Ok();
}

Status CheckKeyslotActive(crypt_device* cd, int keyslot) {
  switch (crypt_keyslot_status(cd, keyslot)) {
    case CRYPT_SLOT_INVALID:
      return Error::WrongParameters(FormatMsg(_("Key slot {} is invalid."), keyslot));
    case CRYPT_SLOT_INACTIVE:
      return Error::WrongParameters(FormatMsg(_("Keyslot {} is not active."), keyslot));
    default:
      return Status::Ok();
  }
}

// Assigns `token` to `keyslot` (CRYPT_ANY_SLOT: every active one).
Status AssignToken(crypt_device* cd, int token, int keyslot) {
  const int r = crypt_token_assign_keyslot(cd, token, keyslot);
  if (r < 0) {
    if (keyslot == CRYPT_ANY_SLOT)
      return CryptError(r, FormatMsg(_("Failed to assign token {} to the keyslots"), token));
    return CryptError(r, FormatMsg(_("Failed to assign token {} to keyslot {}"), token, keyslot));
  }
  return Status::Ok();
}

Error NeedsTokenId() {
  return Error::WrongParameters(_("Action requires specific token. Use --token-id parameter."));
}

}  // namespace

Result<int> Volume::ImportToken(const std::string& json, int token_id, int keyslot, bool replace) {
  ASSIGN_OR_RETURN(const std::vector<int> named, CheckTokenJson(json));
  int imported = -1;
  const std::string data_path = state_->device->path();
  RETURN_IF_ERROR(
      UpdateMetadata(*state_->device, [&](Luks2Image& image, const VolumeState&) -> Status {
        RETURN_IF_ERROR(CheckKeyslotsExist(image, named));
        return EditWithLibcryptsetup(image, data_path, [&](crypt_device* cd) -> Status {
          RETURN_IF_ERROR(CheckFreeTokenId(cd, token_id, replace));
          if (keyslot != CRYPT_ANY_SLOT) RETURN_IF_ERROR(CheckKeyslotActive(cd, keyslot));
          const int token = crypt_token_json_set(cd, token_id, json.c_str());
          if (token < 0) return CryptError(token, _("Failed to import the token"));
          if (keyslot != CRYPT_ANY_SLOT) RETURN_IF_ERROR(AssignToken(cd, token, keyslot));
          imported = token;
          return Status::Ok();
        });
      }));
  return imported;
}

Result<int> Volume::AddKeyringToken(const std::string& key_description, int token_id, int keyslot,
                                    bool replace) {
  if (key_description.empty())
    return Error::WrongParameters(
        _("--key-description parameter is mandatory for token add action."));
  int added = -1;
  RETURN_IF_ERROR(UpdateWithLibcryptsetup(*state_->device, [&](crypt_device* cd) -> Status {
    RETURN_IF_ERROR(CheckFreeTokenId(cd, token_id, replace));
    if (keyslot != CRYPT_ANY_SLOT) RETURN_IF_ERROR(CheckKeyslotActive(cd, keyslot));
    const crypt_token_params_luks2_keyring params{key_description.c_str()};
    const int token = crypt_token_luks2_keyring_set(cd, token_id, &params);
    if (token < 0)
      return CryptError(token, FormatMsg(_("Failed to add luks2-keyring token {}"), token_id));
    RETURN_IF_ERROR(AssignToken(cd, token, keyslot));
    added = token;
    return Status::Ok();
  }));
  return added;
}

Status Volume::RemoveToken(int token_id) {
  if (token_id == CRYPT_ANY_TOKEN) return NeedsTokenId();
  return UpdateWithLibcryptsetup(*state_->device, [&](crypt_device* cd) -> Status {
    RETURN_IF_ERROR(CheckTokenInUse(cd, token_id));
    const int r = crypt_token_json_set(cd, token_id, nullptr);
    if (r < 0) return CryptError(r, FormatMsg(_("Failed to remove token {}"), token_id));
    return Status::Ok();
  });
}

Result<std::string> Volume::ExportToken(int token_id) const {
  if (token_id == CRYPT_ANY_TOKEN) return NeedsTokenId();
  // libcryptsetup loads the headers alone: the memfd is its only device, the drive is not read.
  ASSIGN_OR_RETURN(Memfd memfd, Memfd::Create("zcryptsetup-luks2", state_->headers().image_size()));
  RETURN_IF_ERROR(LoadHeaders(state_->headers(), memfd));
  ASSIGN_OR_RETURN(CryptDevice cd, CryptDevice::Init(memfd.path()));
  RETURN_IF_ERROR(cd.LoadLuks2(state_->device->path()));
  RETURN_IF_ERROR(CheckTokenInUse(cd.get(), token_id));
  const char* json = nullptr;
  const int r = crypt_token_json_get(cd.get(), token_id, &json);
  if (r < 0 || json == nullptr)
    return Error::WrongParameters(FormatMsg(_("Failed to get token {} for export."), token_id));
  return std::string(json);
}

std::vector<TokenSummary> Volume::tokens() const {
  std::vector<TokenSummary> list;
  json_object* tokens = JsonMember(state_->headers().json(), "tokens");
  if (!tokens || !json_object_is_type(tokens, json_type_object)) return list;
  json_object_object_foreach(tokens, id, token) {
    const std::optional<uint64_t> number = ParseDecimalAtMost(id, kMaxId);
    if (!number) continue;  // libcryptsetup refuses such a header; the codec reads past it
    TokenSummary summary;
    summary.id = static_cast<int>(*number);
    json_object* type = JsonMember(token, "type");
    if (type && json_object_is_type(type, json_type_string))
      summary.type = json_object_get_string(type);
    summary.keyslots = TokenKeyslotNumbers(token);
    std::sort(summary.keyslots.begin(), summary.keyslots.end());
    list.push_back(std::move(summary));
  }
  std::sort(list.begin(), list.end(),
            [](const TokenSummary& a, const TokenSummary& b) { return a.id < b.id; });
  return list;
}

}  // namespace luks2ext
