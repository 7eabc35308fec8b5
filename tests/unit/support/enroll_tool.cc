#include "support/enroll_tool.h"

#include <libcryptsetup.h>
#include <unistd.h>

#include <fmt/format.h>

#include <memory>

namespace luks2ext::testing {
namespace {

using CryptPtr = std::unique_ptr<crypt_device, decltype(&crypt_free)>;

Result<CryptPtr> Load(const std::string& image_path) {
  crypt_device* cd = nullptr;
  if (crypt_init(&cd, image_path.c_str()) < 0)
    return Error::WrongDevice("crypt_init " + image_path);
  CryptPtr owned(cd, &crypt_free);
  if (crypt_load(cd, CRYPT_LUKS2, nullptr) < 0) return Error::WrongDevice("crypt_load");
  return owned;
}

}  // namespace

const std::vector<std::string>& EnrollScratchDirs() {
  static const std::vector<std::string> dirs = {
      fmt::format("/dev/shm/zcryptsetup-unit-{}", getpid())};
  return dirs;
}

Status EnrollKeyWithToken(const std::string& image_path, const std::string& existing,
                          const std::string& added) {
  ASSIGN_OR_RETURN(CryptPtr cd, Load(image_path));
  crypt_pbkdf_type pbkdf{};
  pbkdf.type = CRYPT_KDF_PBKDF2;
  pbkdf.hash = "sha256";
  pbkdf.iterations = 1000;
  pbkdf.flags = CRYPT_PBKDF_NO_BENCHMARK;
  if (crypt_set_pbkdf_type(cd.get(), &pbkdf) < 0) return Error::WrongParameters("pbkdf");
  const int keyslot =
      crypt_keyslot_add_by_passphrase(cd.get(), CRYPT_ANY_SLOT, existing.data(), existing.size(),
                                      added.data(), added.size());
  if (keyslot < 0) return Error::NoPermission("keyslot add");
  const std::string token =
      fmt::format(R"({{"type":"{}","keyslots":["{}"]}})", kEnrollTokenType, keyslot);
  if (crypt_token_json_set(cd.get(), CRYPT_ANY_TOKEN, token.c_str()) < 0)
    return Error::WrongParameters("token import");
  return Status::Ok();
}

Status ImportToken(const std::string& image_path, const std::string& token_json) {
  ASSIGN_OR_RETURN(CryptPtr cd, Load(image_path));
  if (crypt_token_json_set(cd.get(), CRYPT_ANY_TOKEN, token_json.c_str()) < 0)
    return Error::WrongParameters("token import");
  return Status::Ok();
}

}  // namespace luks2ext::testing
