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
  // `mapped_length` bytes mapped at `base` (a page); the caller's bytes start `lead` bytes in.
  MemfdMapping(void* base, size_t mapped_length, size_t lead)
      : base_(base), mapped_length_(mapped_length), lead_(lead) {}
  MemfdMapping(MemfdMapping&& other) noexcept
      : base_(std::exchange(other.base_, nullptr)),
        mapped_length_(other.mapped_length_),
        lead_(other.lead_) {}
  MemfdMapping& operator=(MemfdMapping&&) = delete;
  ~MemfdMapping();
  std::span<std::uint8_t> bytes() const {
    return {static_cast<std::uint8_t*>(base_) + lead_, mapped_length_ - lead_};
  }

 private:
  void* base_;
  size_t mapped_length_;
  size_t lead_;
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
  // `length` bytes from `offset`, to be filled in place: a drive reads straight into the file,
  // with no buffer between them (an offset on a page gives memory aligned as O_DIRECT wants).
  Result<MemfdMapping> Map(uint64_t offset, uint64_t length);

 private:
  Memfd(UniqueFd fd, uint64_t size) : fd_(std::move(fd)), size_(size) {}
  UniqueFd fd_;
  uint64_t size_;
};

}  // namespace luks2ext
