// What the fuzz targets share: an oracle check that survives NDEBUG, and small input helpers.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>
#include <string_view>

// A broken oracle is a crash: libFuzzer catches the abort, prints the stack and saves the input.
// Unlike assert(), it stays in RelWithDebInfo builds.
#define FUZZ_CHECK(cond)                                                                    \
  do {                                                                                      \
    if (!(cond)) {                                                                          \
      std::fprintf(stderr, "%s:%d: fuzz oracle failed: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                         \
    }                                                                                       \
  } while (0)

// libFuzzer's own mutator, for custom mutators to call (defined by libFuzzer).
extern "C" size_t LLVMFuzzerMutate(uint8_t* data, size_t size, size_t max_size);

namespace fuzz {

inline std::span<const std::uint8_t> Bytes(const uint8_t* data, size_t size) {
  return {data, size};
}

inline std::string_view Text(const uint8_t* data, size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

// Little-endian integer at data[offset], zero past the end: fuzz inputs may be cut anywhere.
inline std::uint64_t LoadLe(std::span<const std::uint8_t> data, size_t offset, size_t width) {
  std::uint64_t value = 0;
  for (size_t i = 0; i < width; ++i) {
    const std::uint64_t byte = offset + i < data.size() ? data[offset + i] : 0;
    value |= byte << (8 * i);
  }
  return value;
}

inline void StoreLe(std::span<std::uint8_t> data, size_t offset, size_t width, std::uint64_t v) {
  for (size_t i = 0; i < width && offset + i < data.size(); ++i) data[offset + i] = (v >> (8 * i)) & 0xff;
}

}  // namespace fuzz
