// Big-endian loads and stores for on-disk integers (LUKS2 and our commit record are big-endian
// whatever the host is).
#pragma once

#include <cstddef>
#include <cstdint>

namespace luks2ext {

template <typename T>
T LoadBigEndian(const std::uint8_t* p) {
  T value = 0;
  for (std::size_t i = 0; i < sizeof(T); ++i) value = static_cast<T>((value << 8) | p[i]);
  return value;
}

template <typename T>
void StoreBigEndian(std::uint8_t* p, T value) {
  for (std::size_t i = sizeof(T); i-- > 0;) {
    p[i] = static_cast<std::uint8_t>(value & 0xff);
    value = static_cast<T>(value >> 8);
  }
}

}  // namespace luks2ext
