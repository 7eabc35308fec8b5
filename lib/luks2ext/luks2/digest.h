// Message digests and random bytes for the LUKS2 codec, on OpenSSL's EVP interface.
//
// LUKS2 names its header checksum algorithm in the binary header (csum_alg, e.g. "sha256");
// DigestOf() takes that name. Our own commit record always uses SHA-256 (Sha256Of()).
// Failures come back as Error values; nothing here prints.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include "luks2/format.h"
#include "luks2ext/error.h"

namespace luks2ext {

using Sha256Digest = std::array<std::uint8_t, kSha256Size>;

// Largest digest any LUKS2 checksum field can hold (the csum field is 64 bytes).
inline constexpr std::size_t kMaxDigestSize = 64;

// An incremental digest: Create, Update any number of times, Finish once.
class Hasher {
 public:
  // Fails with WrongParameters when `algorithm` is not a digest OpenSSL knows, or when its
  // output is longer than kMaxDigestSize.
  static Result<Hasher> Create(std::string_view algorithm);

  Hasher(Hasher&&) noexcept = default;
  Hasher& operator=(Hasher&&) noexcept = default;
  ~Hasher() = default;

  Status Update(std::span<const std::uint8_t> bytes);
  // REQUIRES: not called before on this Hasher.
  Result<std::vector<std::uint8_t>> Finish();

  std::size_t digest_size() const { return digest_size_; }

 private:
  struct ContextDeleter {
    void operator()(void* ctx) const;
  };
  // Holds an EVP_MD_CTX; typed void so this header does not pull in OpenSSL.
  using ContextPtr = std::unique_ptr<void, ContextDeleter>;

  Hasher(ContextPtr ctx, std::size_t digest_size)
      : ctx_(std::move(ctx)), digest_size_(digest_size) {}

  ContextPtr ctx_;
  std::size_t digest_size_;
};

// Digest of the concatenation of `parts` with the algorithm named as in LUKS2's csum_alg.
Result<std::vector<std::uint8_t>> DigestOf(
    std::string_view algorithm, std::initializer_list<std::span<const std::uint8_t>> parts);

// SHA-256 of the concatenation of `parts`.
Result<Sha256Digest> Sha256Of(std::initializer_list<std::span<const std::uint8_t>> parts);

// Fills `out` from OpenSSL's CSPRNG.
Status RandomBytes(std::span<std::uint8_t> out);

}  // namespace luks2ext
