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

// A writable shared mapping of part of a Memfd: bytes written through it are the file's.
// Unmapped when destroyed.
class MemfdMapping {
 public:
  MemfdMapping(void* address, size_t length) : address_(address), length_(length) {}
  MemfdMapping(MemfdMapping&& other) noexcept
      : address_(std::exchange(other.address_, nullptr)), length_(other.length_) {}
  MemfdMapping& operator=(MemfdMapping&&) = delete;
  ~MemfdMapping();
  std::span<std::uint8_t> bytes() const {
    return {static_cast<std::uint8_t*>(address_), length_};
  }

 private:
  void* address_;
  size_t length_;
};

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
  // `length` bytes from `offset` (a multiple of the page size), to be filled in place: a drive
  // reads straight into the file, with no buffer between them (page-aligned, as O_DIRECT wants).
  Result<MemfdMapping> Map(uint64_t offset, uint64_t length);

 private:
  Memfd(UniqueFd fd, uint64_t size) : fd_(std::move(fd)), size_(size) {}
  UniqueFd fd_;
  uint64_t size_;
};

}  // namespace luks2ext
