// An anonymous in-memory file (memfd) that libcryptsetup opens by path as a detached LUKS2
// header. zcryptsetup builds and edits metadata images here, never on a zoned drive.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "luks2ext/error.h"
#include "luks2ext/unique_fd.h"

namespace luks2ext {

class Memfd {
 public:
  // A file of `size` bytes, all zero and sparse (holes cost no memory).
  static Result<Memfd> Create(const char* name, uint64_t size);

  Memfd(Memfd&&) noexcept = default;
  Memfd& operator=(Memfd&&) noexcept = default;

  // "/proc/self/fd/N": how libcryptsetup reaches it.
  std::string path() const;
  uint64_t size() const { return size_; }

  Status WriteAt(uint64_t offset, std::span<const std::uint8_t> data);
  Status ReadAt(uint64_t offset, std::span<std::uint8_t> out) const;
  Result<std::vector<std::uint8_t>> ReadAll() const;

 private:
  Memfd(UniqueFd fd, uint64_t size) : fd_(std::move(fd)), size_(size) {}
  UniqueFd fd_;
  uint64_t size_;
};

}  // namespace luks2ext
