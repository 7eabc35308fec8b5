#include "luks2ext/fd_io.h"

#include <fcntl.h>
#include <sys/types.h>
#include <unistd.h>

#include <algorithm>

#include "luks2ext/unique_fd.h"

namespace luks2ext {
namespace {

// The one loop. `step(done)` moves the next bytes after the first `done` ones, as one read or
// write call would, and returns its result.
template <typename Step>
FdTransfer Transfer(std::size_t size, bool writing, Step step) {
  FdTransfer transfer;
  while (transfer.done < size) {
    const ssize_t n = RetryOnEintr([&] { return step(transfer.done); });
    if (n < 0) {
      transfer.error = errno;
      break;
    }
    if (n == 0) {
      if (writing)
        transfer.error = ENOSPC;
      else
        transfer.end = true;
      break;
    }
    transfer.done += static_cast<std::size_t>(n);
  }
  return transfer;
}

}  // namespace

FdTransfer ReadFull(int fd, void* buffer, std::size_t size) {
  auto* bytes = static_cast<unsigned char*>(buffer);
  return Transfer(size, false,
                  [&](std::size_t done) { return ::read(fd, bytes + done, size - done); });
}

FdTransfer PreadFull(int fd, void* buffer, std::size_t size, std::uint64_t offset) {
  auto* bytes = static_cast<unsigned char*>(buffer);
  return Transfer(size, false, [&](std::size_t done) {
    return ::pread(fd, bytes + done, size - done, static_cast<off_t>(offset + done));
  });
}

FdTransfer WriteFull(int fd, const void* buffer, std::size_t size) {
  const auto* bytes = static_cast<const unsigned char*>(buffer);
  return Transfer(size, true,
                  [&](std::size_t done) { return ::write(fd, bytes + done, size - done); });
}

FdTransfer PwriteFull(int fd, const void* buffer, std::size_t size, std::uint64_t offset) {
  const auto* bytes = static_cast<const unsigned char*>(buffer);
  return Transfer(size, true, [&](std::size_t done) {
    return ::pwrite(fd, bytes + done, size - done, static_cast<off_t>(offset + done));
  });
}

std::optional<std::string> ReadKernelText(const char* path, std::size_t limit) {
  const UniqueFd fd(RetryOnEintr([&] { return ::open(path, O_RDONLY | O_CLOEXEC); }));
  if (!fd.valid()) return std::nullopt;
  std::string text(limit, '\0');
  const FdTransfer read = ReadFull(fd.get(), text.data(), text.size());
  if (read.error != 0) return std::nullopt;
  text.resize(read.done);
  return text;
}

std::optional<std::string_view> KernelTextField(std::string_view text, std::string_view prefix) {
  while (!text.empty()) {
    const std::string_view line = text.substr(0, text.find('\n'));
    if (line.starts_with(prefix)) return line.substr(prefix.size());
    text.remove_prefix(std::min(text.size(), line.size() + 1));
  }
  return std::nullopt;
}

}  // namespace luks2ext
