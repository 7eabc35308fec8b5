// crypt_activate_by_token_pin, its results as our errors (cryptsetup 2.6.1's messages and exit
// codes), and the token JSON an unlock needs.
#include "activation/token_unlock.h"

#include <libcryptsetup.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <optional>
#include <string>

#include "activation/activate.h"
#include "base/i18n.h"
#include "cryptsetup/crypt_device.h"
#include "luks2/json.h"
#include "luks2/key_set.h"

namespace luks2ext {
namespace {

// LUKS2 allows tokens 0 to 31 (LUKS2_TOKENS_MAX).
constexpr int kMaxTokens = 32;

// What a token is called in a message: by id when one was asked for, else by type.
std::string Subject(const TokenRequest& token) {
  if (token.token_id >= 0) return FormatMsg(_("Token {}"), token.token_id);
  if (!token.token_type.empty()) return FormatMsg(_("Token (type {})"), token.token_type);
  return _("A token");
}

// libcryptsetup's result for a failed token unlock, as cryptsetup 2.6.1 words and codes it.
Error TokenError(int r, const TokenRequest& token, TokenFailure* failure) {
  auto set = [failure](TokenFailure why) {
    if (failure) *failure = why;
  };
  switch (r) {
    case -ENOANO:
      set(TokenFailure::kPinRequired);
      if (token.pin) return Error::WrongParameters(_("No token could be unlocked with this PIN."));
      return Error::WrongParameters(FormatMsg(_("{} requires PIN."), Subject(token)));
    case -EPERM:
      set(TokenFailure::kKeyslotRefused);
      return Error::NoPermission(FormatMsg(
          _("{} cannot unlock assigned keyslot(s) (wrong keyslot passphrase)."), Subject(token)));
    case -EAGAIN:
      set(TokenFailure::kMissingResource);
      return Error::WrongParameters(
          FormatMsg(_("{} requires additional missing resource."), Subject(token)));
    case -ENOENT:
      set(TokenFailure::kNoUsableToken);
      if (!token.token_type.empty())
        return Error::WrongParameters(
            FormatMsg(_("No usable token (type {}) is available."), token.token_type));
      return Error::WrongParameters(_("No usable token is available."));
    case -EINVAL:
      set(TokenFailure::kInvalid);
      return Error::WrongParameters(FormatMsg(
          _("{} cannot be used: its metadata or the request is invalid."), Subject(token)));
    default:
      return CryptError(r, _("Cannot unlock with a token"));
  }
}

}  // namespace

std::vector<int> MatchingTokens(json_object* root, const TokenRequest& token) {
  std::vector<int> ids;
  json_object* tokens = JsonMember(root, "tokens");
  for (int id = 0; id < kMaxTokens; ++id) {
    if (token.token_id >= 0 && id != token.token_id) continue;
    json_object* entry = JsonMember(tokens, std::to_string(id).c_str());
    if (!entry) continue;
    if (!token.token_type.empty()) {
      json_object* type = JsonMember(entry, "type");
      if (!type || !json_object_is_type(type, json_type_string) ||
          token.token_type != json_object_get_string(type))
        continue;
    }
    ids.push_back(id);
  }
  return ids;
}

std::vector<int> TokenKeyslots(json_object* root, int id) {
  return TokenKeyslotNumbers(JsonMember(JsonMember(root, "tokens"), std::to_string(id).c_str()));
}

void DisableExternalTokens() { crypt_token_external_disable(); }

bool TokenHandlerAvailable(crypt_device* cd, int id) {
  const crypt_token_info info = crypt_token_status(cd, id, nullptr);
  return info == CRYPT_TOKEN_INTERNAL || info == CRYPT_TOKEN_EXTERNAL;
}

Status ActivateByToken(crypt_device* cd, const ActivationRequest& request,
                       const TokenRequest& token, TokenFailure* failure) {
  if (failure) *failure = TokenFailure::kNone;
  if (request.inline_mode == InlineMode::kNative && !request.name.empty() && !request.resume)
    return Error::WrongParameters(
        _("--perf-force_inline=native cannot be used with a token: libcryptsetup builds the "
          "table itself and cannot add the force_inline argument. Nothing was activated (use a "
          "passphrase or key file, or the upstream flags)."));
  std::optional<CryptTargetVersion> dm_crypt;
  RETURN_IF_ERROR(CheckActivation(request, &dm_crypt));
  const char* type = token.token_type.empty() ? nullptr : token.token_type.c_str();
  const char* pin = token.pin ? token.pin->data() : nullptr;
  const size_t pin_size = token.pin ? token.pin->size() : 0;
  if (request.resize_sectors) {
    const int unlocked = crypt_activate_by_token_pin(cd, nullptr, type, token.token_id, pin,
                                                     pin_size, nullptr,
                                                     CRYPT_ACTIVATE_KEYRING_KEY);
    if (unlocked < 0) return TokenError(unlocked, token, failure);
    return ResizeLoaded(cd, request);
  }
  DisableKeyringIfAsked(cd, request);
  const int r =
      request.resume
          ? crypt_resume_by_token_pin(cd, request.name.c_str(), type, token.token_id, pin,
                                      pin_size, nullptr)
          : crypt_activate_by_token_pin(cd, request.name.empty() ? nullptr : request.name.c_str(),
                                        type, token.token_id, pin, pin_size, nullptr,
                                        ActivationFlags(request));
  if (r >= 0) return Status::Ok();
  if (r == -EEXIST) return Error::Busy(FormatMsg(_("Device {} already exists."), request.name));
  return TokenError(r, token, failure);
}

}  // namespace luks2ext
