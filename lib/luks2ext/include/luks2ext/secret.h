// Memory for passphrases and keys: wiped on destruction and on every move-from, never copied
// by accident (no copy constructor).
#pragma once

#include <cstddef>
#include <string_view>
#include <vector>

namespace luks2ext {

class Secret {
 public:
  Secret() = default;
  explicit Secret(std::string_view text) : bytes_(text.begin(), text.end()) {}
  // n zero bytes, to be filled through data() (e.g. a volume key from libcryptsetup).
  static Secret Zeroed(size_t n) {
    Secret s;
    s.bytes_.resize(n);
    return s;
  }
  Secret(const Secret&) = delete;
  Secret& operator=(const Secret&) = delete;
  Secret(Secret&& other) noexcept : bytes_(std::move(other.bytes_)) { other.Wipe(); }
  Secret& operator=(Secret&& other) noexcept {
    Wipe();
    bytes_ = std::move(other.bytes_);
    other.Wipe();
    return *this;
  }
  ~Secret() { Wipe(); }

  void Append(char c) {
    Reserve(bytes_.size() + 1);
    bytes_.push_back(c);
  }
  void Wipe();
  const char* data() const { return bytes_.data(); }
  char* data() { return bytes_.data(); }
  void Append(std::string_view text) {
    Reserve(bytes_.size() + text.size());
    bytes_.insert(bytes_.end(), text.begin(), text.end());
  }
  // Drops bytes past n (wiping them); n must not exceed size().
  void Truncate(size_t n);
  size_t size() const { return bytes_.size(); }
  bool empty() const { return bytes_.empty(); }
  bool operator==(const Secret& other) const;

 private:
  // Growing a vector copies into a new block and frees the old one unwiped: grow by hand.
  void Reserve(size_t n);
  std::vector<char> bytes_;
};

}  // namespace luks2ext
