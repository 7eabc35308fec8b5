#include "base/memfd.h"

#include <fmt/format.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "base/i18n.h"

namespace luks2ext {
namespace {

Error MemfdError(const char* what) {
  const int err = errno;
  if (err == ENOMEM) return Error::OutOfMemory(FormatMsg(_("Out of memory: {}."), what));
  return Error::WrongDevice(FormatMsg(_("In-memory metadata image: {} failed: {}."), what,
                                        std::strerror(err)));
}

}  // namespace

Result<Memfd> Memfd::Create(const char* name, uint64_t size) {
  const int fd = memfd_create(name, MFD_CLOEXEC);
  if (fd < 0) return MemfdError("memfd_create");
  Memfd memfd(fd, size);
  if (ftruncate(fd, static_cast<off_t>(size)) != 0) return MemfdError("ftruncate");
  return memfd;
}

Memfd& Memfd::operator=(Memfd&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) close(fd_);
    fd_ = other.fd_;
    size_ = other.size_;
    other.fd_ = -1;
  }
  return *this;
}

Memfd::~Memfd() {
  if (fd_ >= 0) close(fd_);
}

std::string Memfd::path() const { return fmt::format("/proc/self/fd/{}", fd_); }

Status Memfd::WriteAt(uint64_t offset, std::span<const std::byte> data) {
  size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = pwrite(fd_, data.data() + done, data.size() - done,
                             static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return MemfdError("write");
    done += static_cast<size_t>(n);
  }
  return Status::Ok();
}

Status Memfd::ReadAt(uint64_t offset, std::span<std::byte> out) const {
  size_t done = 0;
  while (done < out.size()) {
    const ssize_t n =
        pread(fd_, out.data() + done, out.size() - done, static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return MemfdError("read");
    if (n == 0) {  // past the end of the file: a hole reads as zeros
      std::memset(out.data() + done, 0, out.size() - done);
      break;
    }
    done += static_cast<size_t>(n);
  }
  return Status::Ok();
}

Result<std::vector<std::byte>> Memfd::ReadAll() const {
  std::vector<std::byte> bytes(size_);
  RETURN_IF_ERROR(ReadAt(0, bytes));
  return bytes;
}

}  // namespace luks2ext
