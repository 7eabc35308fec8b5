#include "luks2/digest.h"

// The one-shot SHA functions are deprecated in OpenSSL 3 in favour of EVP, which is kept for
// every other algorithm; see ShaDigest for why these are used.
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include <algorithm>
#include <optional>
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

namespace {

// SHA-1 and SHA-2, the checksums LUKS2 headers carry (cryptsetup writes sha256), through
// OpenSSL's direct SHA functions. EVP would first set up OpenSSL's provider machinery: about
// five million instructions, a quarter of a whole luksDump, paid by every verb that reads a
// header, on top of the context libcryptsetup sets up for itself anyway. nullopt for any other
// algorithm, which EVP handles.
template <typename Context, int (*Init)(Context*),
          int (*Update)(Context*, const void*, size_t),
          int (*Final)(unsigned char*, Context*)>
std::vector<std::uint8_t> ShaOf(std::size_t size,
                                std::initializer_list<std::span<const std::uint8_t>> parts) {
  Context context;
  Init(&context);
  for (const auto& part : parts)
    if (!part.empty()) Update(&context, part.data(), part.size());
  std::vector<std::uint8_t> digest(size);
  Final(digest.data(), &context);
  OPENSSL_cleanse(&context, sizeof(context));
  return digest;
}

std::optional<std::vector<std::uint8_t>> ShaDigest(
    std::string_view algorithm, std::initializer_list<std::span<const std::uint8_t>> parts) {
  if (algorithm == "sha256")
    return ShaOf<SHA256_CTX, SHA256_Init, SHA256_Update, SHA256_Final>(SHA256_DIGEST_LENGTH,
                                                                       parts);
  if (algorithm == "sha512")
    return ShaOf<SHA512_CTX, SHA512_Init, SHA512_Update, SHA512_Final>(SHA512_DIGEST_LENGTH,
                                                                       parts);
  if (algorithm == "sha1")
    return ShaOf<SHA_CTX, SHA1_Init, SHA1_Update, SHA1_Final>(SHA_DIGEST_LENGTH, parts);
  if (algorithm == "sha224")
    return ShaOf<SHA256_CTX, SHA224_Init, SHA224_Update, SHA224_Final>(SHA224_DIGEST_LENGTH,
                                                                       parts);
  if (algorithm == "sha384")
    return ShaOf<SHA512_CTX, SHA384_Init, SHA384_Update, SHA384_Final>(SHA384_DIGEST_LENGTH,
                                                                       parts);
  return std::nullopt;
}

}  // namespace

Result<std::vector<std::uint8_t>> DigestOf(
    std::string_view algorithm, std::initializer_list<std::span<const std::uint8_t>> parts) {
  if (std::optional<std::vector<std::uint8_t>> digest = ShaDigest(algorithm, parts))
    return std::move(*digest);
  ASSIGN_OR_RETURN(Hasher hasher, Hasher::Create(algorithm));
  for (const auto& part : parts) RETURN_IF_ERROR(hasher.Update(part));
  return hasher.Finish();
}

Result<Sha256Digest> Sha256Of(std::initializer_list<std::span<const std::uint8_t>> parts) {
  const std::vector<std::uint8_t> digest =
      ShaOf<SHA256_CTX, SHA256_Init, SHA256_Update, SHA256_Final>(SHA256_DIGEST_LENGTH, parts);
  Sha256Digest out{};
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
