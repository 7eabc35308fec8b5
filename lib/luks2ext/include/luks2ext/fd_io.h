// The one place that calls read(2), write(2), pread(2) and pwrite(2) in a loop: a signal
// (EINTR) or a short transfer is never an error, so every caller needs the same loop, and one
// copy of it cannot drift from the others. The other system calls that a signal interrupts go
// through RetryOnEintr.
#pragma once

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace luks2ext {

// How a full transfer ended. `error` and `end` are never both set; neither means all bytes
// were moved.
struct FdTransfer {
  std::size_t done = 0;  // bytes moved before it stopped
  int error = 0;         // errno of the call that failed; 0 when none did
  bool end = false;      // a read met end of file before the buffer was full

  bool complete() const { return error == 0 && !end; }
};

// Read until `size` bytes are in `buffer`, end of file, or an error.
FdTransfer ReadFull(int fd, void* buffer, std::size_t size);
FdTransfer PreadFull(int fd, void* buffer, std::size_t size, std::uint64_t offset);

// Write all `size` bytes, or stop at an error. A write that moves nothing (returns 0) fails
// with ENOSPC: for a file or a block device nothing else explains it, and the callers' errors
// would otherwise carry a stale errno.
FdTransfer WriteFull(int fd, const void* buffer, std::size_t size);
FdTransfer PwriteFull(int fd, const void* buffer, std::size_t size, std::uint64_t offset);

// The first `limit` bytes of a small kernel file (/proc, /sys), or nullopt when it cannot be
// opened or read. Read with read(2) rather than an ifstream: iostreams' locale set-up is code
// every process would otherwise carry and run (issue 12).
std::optional<std::string> ReadKernelText(const char* path, std::size_t limit = 64 * 1024);

// In such a text of lines, what follows `prefix` on the first line that starts with it
// ("DEVNAME=", "MemAvailable:"); nullopt when no line does. The view points into `text`.
std::optional<std::string_view> KernelTextField(std::string_view text, std::string_view prefix);

// Calls `call` again while it fails with EINTR, for the system calls that report failure as
// a negative result with errno (flock, wait4, ...). Returns the first other result; errno is
// left as that call set it.
template <typename Call>
auto RetryOnEintr(Call&& call) -> decltype(call()) {
  for (;;) {
    const auto result = call();
    if (!(result < 0 && errno == EINTR)) return result;
  }
}

}  // namespace luks2ext
