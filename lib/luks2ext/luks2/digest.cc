#include "luks2/digest.h"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <algorithm>
#include <string>

#include "base/i18n.h"

namespace luks2ext {

void Hasher::ContextDeleter::operator()(void* ctx) const {
  EVP_MD_CTX_free(static_cast<EVP_MD_CTX*>(ctx));
}

Result<Hasher> Hasher::Create(std::string_view algorithm) {
  // EVP_get_digestbyname needs a NUL-terminated name.
  const std::string name(algorithm);
  const EVP_MD* md = EVP_get_digestbyname(name.c_str());
  if (md == nullptr) {
    return Error::WrongParameters(FormatMsg(_("Hash algorithm {} is not supported."), name));
  }
  const int size = EVP_MD_get_size(md);
  if (size <= 0 || static_cast<std::size_t>(size) > kMaxDigestSize) {
    return Error::WrongParameters(
        FormatMsg(_("Hash algorithm {} cannot be used for a LUKS2 checksum."), name));
  }
  ContextPtr ctx(EVP_MD_CTX_new());
  if (!ctx) return Error::OutOfMemory(_("Cannot allocate a hash context."));
  if (EVP_DigestInit_ex(static_cast<EVP_MD_CTX*>(ctx.get()), md, nullptr) != 1) {
    return Error::WrongParameters(FormatMsg(_("Cannot initialize hash {}."), name));
  }
  return Hasher(std::move(ctx), static_cast<std::size_t>(size));
}

Status Hasher::Update(std::span<const std::uint8_t> bytes) {
  if (bytes.empty()) return Status::Ok();
  if (EVP_DigestUpdate(static_cast<EVP_MD_CTX*>(ctx_.get()), bytes.data(), bytes.size()) != 1) {
    return Error::WrongParameters(_("Hash computation failed."));
  }
  return Status::Ok();
}

Result<std::vector<std::uint8_t>> Hasher::Finish() {
  std::vector<std::uint8_t> digest(EVP_MAX_MD_SIZE);
  unsigned int length = 0;
  if (EVP_DigestFinal_ex(static_cast<EVP_MD_CTX*>(ctx_.get()), digest.data(), &length) != 1 ||
      length != digest_size_) {
    return Error::WrongParameters(_("Hash computation failed."));
  }
  digest.resize(length);
  return digest;
}

Result<std::vector<std::uint8_t>> DigestOf(
    std::string_view algorithm, std::initializer_list<std::span<const std::uint8_t>> parts) {
  ASSIGN_OR_RETURN(Hasher hasher, Hasher::Create(algorithm));
  for (const auto& part : parts) RETURN_IF_ERROR(hasher.Update(part));
  return hasher.Finish();
}

Result<Sha256Digest> Sha256Of(std::initializer_list<std::span<const std::uint8_t>> parts) {
  ASSIGN_OR_RETURN(Hasher hasher, Hasher::Create("sha256"));
  for (const auto& part : parts) RETURN_IF_ERROR(hasher.Update(part));
  ASSIGN_OR_RETURN(std::vector<std::uint8_t> digest, hasher.Finish());
  Sha256Digest out{};
  // Create("sha256") guarantees a 32-byte digest.
  std::copy(digest.begin(), digest.end(), out.begin());
  return out;
}

Status RandomBytes(std::span<std::uint8_t> out) {
  if (out.empty()) return Status::Ok();
  if (RAND_bytes(out.data(), static_cast<int>(out.size())) != 1) {
    return Error::WrongParameters(_("Cannot read random bytes from the crypto backend."));
  }
  return Status::Ok();
}

}  // namespace luks2ext
