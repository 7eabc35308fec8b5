// The text of a fixed-size field of an on-disk header (a LUKS2 label, UUID, checksum name),
// held in place rather than in a std::string.
//
// A header is decoded, moved into its image, copied for the newest copy and moved again with
// the copy that holds it, several times in every read. With std::string members each of those
// moves and copies was string code of its own (1,100 of the 10,500 distinct instructions of
// zcryptsetup's own that an open ran, docs/performance.md) and a heap allocation for a
// 36-character UUID. A field is at most its on-disk size, so the bytes fit in the struct and a
// copy is a copy of bytes.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace luks2ext {

template <std::size_t kCapacity>
class FieldString {
 public:
  FieldString() = default;

  // The bytes up to the first NUL of an on-disk field of kCapacity bytes; all of them when it
  // holds none.
  static FieldString FromField(const std::uint8_t* field) {
    FieldString text;
    const auto* chars = reinterpret_cast<const char*>(field);
    text.size_ = static_cast<unsigned char>(strnlen(chars, kCapacity));
    std::memcpy(text.chars_.data(), chars, text.size_);
    return text;
  }

  // False, and unchanged, when `value` is longer than the field.
  [[nodiscard]] bool Assign(std::string_view value) {
    if (value.size() > kCapacity) return false;
    size_ = static_cast<unsigned char>(value.size());
    std::memcpy(chars_.data(), value.data(), value.size());
    return true;
  }

  std::string_view view() const { return std::string_view(chars_.data(), size_); }
  std::size_t size() const { return size_; }

  friend bool operator==(const FieldString& a, const FieldString& b) {
    return a.view() == b.view();
  }
  friend bool operator==(const FieldString& a, std::string_view b) { return a.view() == b; }

 private:
  static_assert(kCapacity <= 255, "the size is kept in one byte");
  std::array<char, kCapacity> chars_{};
  unsigned char size_ = 0;
};

}  // namespace luks2ext
