#include "base/memfd.h"

#include <fmt/format.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "base/i18n.h"
#include "luks2ext/fd_io.h"

namespace luks2ext {
namespace {

Error MemfdError(const char* what, int err) {
  if (err == ENOMEM) return Error::OutOfMemory(FormatMsg(_("Out of memory: {}."), what));
  return Error::WrongDevice(
      FormatMsg(_("In-memory metadata image: {} failed: {}."), what, std::strerror(err)));
}

}  // namespace

Result<Memfd> Memfd::Create(const char* name, uint64_t size) {
  UniqueFd fd(memfd_create(name, MFD_CLOEXEC));
  if (!fd.valid()) return MemfdError("memfd_create", errno);
  if (ftruncate(fd.get(), static_cast<off_t>(size)) != 0) return MemfdError("ftruncate", errno);
  return Memfd(std::move(fd), size);
}

std::string Memfd::path() const { return fmt::format("/proc/self/fd/{}", fd_.get()); }

Status Memfd::WriteAt(uint64_t offset, std::span<const std::uint8_t> data) {
  const FdTransfer written = PwriteFull(fd_.get(), data.data(), data.size(), offset);
  if (!written.complete()) return MemfdError("write", written.error);
  return Status::Ok();
}

Status Memfd::ReadAt(uint64_t offset, std::span<std::uint8_t> out) const {
  const FdTransfer got = PreadFull(fd_.get(), out.data(), out.size(), offset);
  if (got.error != 0) return MemfdError("read", got.error);
  // Past the end of the file: a hole reads as zeros.
  if (got.end) std::memset(out.data() + got.done, 0, out.size() - got.done);
  return Status::Ok();
}

MemfdMapping::~MemfdMapping() {
  if (base_ != nullptr) munmap(base_, mapped_length_);
}

Result<MemfdMapping> Memfd::Map(uint64_t offset, uint64_t length) {
  if (length == 0 || offset > size_ || length > size_ - offset)
    return Error::WrongParameters(FormatMsg(
        _("In-memory metadata image: cannot map {} bytes at offset {} of {}."), length, offset,
        size_));
  // mmap starts on a page: from the page holding `offset`.
  const uint64_t lead = offset % static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
  void* base = mmap(nullptr, lead + length, PROT_READ | PROT_WRITE, MAP_SHARED, fd_.get(),
                    static_cast<off_t>(offset - lead));
  if (base == MAP_FAILED) return MemfdError("mmap", errno);
  return MemfdMapping(base, lead + length, lead);
}

Result<std::vector<std::uint8_t>> Memfd::ReadAll() const {
  std::vector<std::uint8_t> bytes(size_);
  RETURN_IF_ERROR(ReadAt(0, bytes));
  return bytes;
}

}  // namespace luks2ext
