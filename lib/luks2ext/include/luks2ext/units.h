// Binary size units, for sizes in bytes.
#pragma once

#include <cstdint>

namespace luks2ext {

inline constexpr std::uint64_t KiB = 1024;
inline constexpr std::uint64_t MiB = 1024 * KiB;
inline constexpr std::uint64_t GiB = 1024 * MiB;

}  // namespace luks2ext
