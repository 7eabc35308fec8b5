#include "luks2ext/secret.h"

#include <openssl/crypto.h>

#include <algorithm>

namespace luks2ext {

void Secret::Wipe() {
  if (!bytes_.empty()) OPENSSL_cleanse(bytes_.data(), bytes_.size());
  bytes_.clear();
}

void Secret::Reserve(size_t n) {
  if (n <= bytes_.capacity()) return;
  std::vector<char> grown;
  grown.reserve(std::max<size_t>(n, 2 * bytes_.capacity() + 64));
  grown.assign(bytes_.begin(), bytes_.end());
  Wipe();
  bytes_.swap(grown);
}

void Secret::Truncate(size_t n) {
  if (n >= bytes_.size()) return;
  OPENSSL_cleanse(bytes_.data() + n, bytes_.size() - n);
  bytes_.resize(n);
}

bool Secret::operator==(const Secret& other) const {
  return bytes_.size() == other.bytes_.size() &&
         CRYPTO_memcmp(bytes_.data(), other.bytes_.data(), bytes_.size()) == 0;
}

}  // namespace luks2ext
