#include "passphrase.h"

#include <fcntl.h>
#include <fmt/core.h>
#include <poll.h>
#include <string.h>  // explicit_bzero
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string_view>

#include "i18n.h"
#include "luks2ext/fd_io.h"
#include "luks2ext/unique_fd.h"

namespace zcryptsetup {

using luks2ext::Error;
using luks2ext::Result;
using luks2ext::Secret;
using luks2ext::Status;
using luks2ext::UniqueFd;

namespace {

constexpr uint64_t kMaxKeyFileSize = 8 * 1024 * 1024;  // cryptsetup's default limit
constexpr size_t kMaxPassphraseLength = 512;           // cryptsetup's interactive limit

// Key bytes pass through here on their way into a Secret: wiped when it goes.
struct WipedBuffer {
  WipedBuffer() = default;
  WipedBuffer(const WipedBuffer&) = delete;
  WipedBuffer& operator=(const WipedBuffer&) = delete;
  ~WipedBuffer() { explicit_bzero(bytes, sizeof bytes); }
  char bytes[4096];
};

Error ReadError(int error_number) {
  return Error::WrongParameters(
      FormatMsg(_("Cannot read the key: {}."), std::strerror(error_number)));
}

// One line (a passphrase typed or piped): byte by byte, so that nothing after the newline is
// taken from the stream. At most `limit` bytes.
Result<Secret> ReadLine(int fd, uint64_t limit) {
  Secret secret;
  char c = 0;
  while (secret.size() < limit) {
    const luks2ext::FdTransfer got = luks2ext::ReadFull(fd, &c, 1);
    if (got.error != 0) return ReadError(got.error);
    if (got.end || c == '\n') break;
    secret.Append(c);
  }
  explicit_bzero(&c, sizeof c);
  return secret;
}

// Appends what `fd` holds, to its end or to `limit` bytes in all, in chunks.
Status ReadChunks(int fd, uint64_t limit, Secret* secret) {
  WipedBuffer buffer;
  while (secret->size() < limit) {
    const size_t want =
        static_cast<size_t>(std::min<uint64_t>(sizeof buffer.bytes, limit - secret->size()));
    const luks2ext::FdTransfer got = luks2ext::ReadFull(fd, buffer.bytes, want);
    if (got.error != 0) return ReadError(got.error);
    secret->Append(std::string_view(buffer.bytes, got.done));
    if (got.end) break;
  }
  return Status::Ok();
}

// keyfile-offset on a stream that cannot seek (standard input, a pipe): read and discarded in
// bounded chunks. Counts down, so no offset can wrap; a stream ending first is an error.
Status Discard(int fd, uint64_t offset) {
  WipedBuffer buffer;  // the skipped bytes may be key material too
  for (uint64_t left = offset; left > 0;) {
    const size_t want = static_cast<size_t>(std::min<uint64_t>(sizeof buffer.bytes, left));
    const luks2ext::FdTransfer got = luks2ext::ReadFull(fd, buffer.bytes, want);
    if (got.error != 0) return ReadError(got.error);
    if (got.end)
      return Error::WrongParameters(
          FormatMsg(_("Cannot skip to the keyfile offset {}: standard input ends first."), offset));
    left -= want;
  }
  return Status::Ok();
}

// systemd-cryptsetup's warning, for a key file others may read (or execute) or write.
void WarnAboutMode(const std::string& path, mode_t mode) {
  const bool readable = (mode & (S_IROTH | S_IXOTH)) != 0;
  const bool writable = (mode & S_IWOTH) != 0;
  if (readable && writable)
    fmt::print(
        stderr, "{}\n",
        FormatMsg(_("Key file {} is world-readable and world-writable. This is not a good idea!"),
                  path));
  else if (readable)
    fmt::print(stderr, "{}\n",
               FormatMsg(_("Key file {} is world-readable. This is not a good idea!"), path));
  else if (writable)
    fmt::print(stderr, "{}\n",
               FormatMsg(_("Key file {} is world-writable. This is not a good idea!"), path));
}

// A key file: a regular file, or a block device (a raw key on a USB stick, which crypttab
// orders after its device unit). Anything else is refused before a byte is read: a FIFO
// would block the boot (the unit has no timeout), a character device or socket may never end.
Result<Secret> ReadKeyFileAt(const std::string& path, uint64_t offset, uint64_t limit,
                             uint64_t wanted) {
  // O_NONBLOCK: opening a FIFO must not wait for a writer; it is cleared once fstat() has
  // shown a file that does not block. Symbolic links are followed: /dev/disk/by-id/... and
  // links into /etc/keys are ordinary crypttab key files.
  UniqueFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK));
  if (!fd.valid())
    return Error::WrongParameters(
        FormatMsg(_("Failed to open key file {}: {}."), path, std::strerror(errno)));
  struct stat st {};
  if (fstat(fd.get(), &st) != 0)
    return Error::WrongParameters(
        FormatMsg(_("Cannot stat key file {}: {}."), path, std::strerror(errno)));
  if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode))
    return Error::WrongParameters(FormatMsg(
        _("Key file {} is not a regular file (nor a block device); use '-' to read the key "
          "from standard input."),
        path));
  const int flags = fcntl(fd.get(), F_GETFL);
  if (flags < 0 || fcntl(fd.get(), F_SETFL, flags & ~O_NONBLOCK) != 0)
    return Error::WrongParameters(
        FormatMsg(_("Cannot read key file {}: {}."), path, std::strerror(errno)));
  if (S_ISREG(st.st_mode)) WarnAboutMode(path, st.st_mode);

  // A block device's size is where its end is; a regular file's, st_size.
  const off_t end = S_ISREG(st.st_mode) ? st.st_size : lseek(fd.get(), 0, SEEK_END);
  if (end < 0)
    return Error::WrongParameters(
        FormatMsg(_("Cannot read key file {}: {}."), path, std::strerror(errno)));
  const auto size = static_cast<uint64_t>(end);
  if (offset > size)
    return Error::WrongParameters(
        FormatMsg(_("Cannot seek to the keyfile offset {}: key file {} holds {} bytes."), offset,
                  path, size));
  // offset <= size <= INT64_MAX, so it fits off_t; size - offset cannot wrap.
  if (wanted > size - offset)
    return Error::WrongParameters(_("Cannot read the requested amount of data from the key file."));
  if (lseek(fd.get(), static_cast<off_t>(offset), SEEK_SET) < 0)
    return Error::WrongParameters(
        FormatMsg(_("Cannot seek to the keyfile offset {}: {}."), offset, std::strerror(errno)));
  Secret secret;
  RETURN_IF_ERROR(ReadChunks(fd.get(), limit, &secret));
  return secret;
}

Result<Secret> ReadKeyFile(const PassphraseSource& source) {
  // cryptsetup's limit bounds keyfile-size too: a huge size must not read without end.
  if (source.keyfile_size > kMaxKeyFileSize)
    return Error::WrongParameters(
        FormatMsg(_("Key file size {} is over the limit of 8 MiB ({} bytes)."), source.keyfile_size,
                  kMaxKeyFileSize));
  const uint64_t limit = source.keyfile_size ? source.keyfile_size : kMaxKeyFileSize;
  Secret secret;
  if (source.key_file == "-") {
    RETURN_IF_ERROR(Discard(STDIN_FILENO, source.keyfile_offset));
    RETURN_IF_ERROR(ReadChunks(STDIN_FILENO, limit, &secret));
  } else {
    ASSIGN_OR_RETURN(
        secret, ReadKeyFileAt(source.key_file, source.keyfile_offset, limit, source.keyfile_size));
  }
  // A short read (standard input ending, a file shrinking under us) gives too few bytes.
  if (source.keyfile_size && secret.size() < source.keyfile_size)
    return Error::WrongParameters(_("Cannot read the requested amount of data from the key file."));
  return secret;
}

// Whether `fd` has input within `timeout_seconds` (0: waits for ever, and says yes).
bool WaitForInput(int fd, uint32_t timeout_seconds) {
  if (timeout_seconds == 0) return true;
  pollfd waiting{fd, POLLIN, 0};
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_seconds);
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    const int ready = poll(&waiting, 1, static_cast<int>(std::min<int64_t>(left.count(), INT32_MAX)));
    if (ready > 0) return true;
    if (ready == 0) return false;
    if (errno != EINTR) return true;  // let the read report what is wrong
  }
}

// One line from the terminal with echo off; with a timeout (seconds, 0 none), the whole line
// must have been typed by then (the terminal hands it over at Enter, as cryptsetup's timed
// read sees it).
Result<Secret> AskTerminal(const std::string& prompt, uint32_t timeout_seconds) {
  UniqueFd tty(open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY));
  const int fd = tty.valid() ? tty.get() : STDIN_FILENO;
  const int out = tty.valid() ? tty.get() : STDERR_FILENO;
  (void)!write(out, prompt.data(), prompt.size());
  termios saved{};
  const bool have_termios = tcgetattr(fd, &saved) == 0;
  if (have_termios) {
    termios quiet = saved;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    tcsetattr(fd, TCSANOW, &quiet);  // keep typed-ahead input
  }
  Result<Secret> secret = Error::WrongParameters(_("Timed out waiting for the passphrase."));
  if (WaitForInput(fd, timeout_seconds)) secret = ReadLine(fd, kMaxPassphraseLength);
  if (have_termios) tcsetattr(fd, TCSANOW, &saved);
  (void)!write(out, "\n", 1);
  return secret;
}

// Whether ReadPassphrase asks on the terminal, and so shows its prompt: no key file, and a
// terminal on standard input.
bool AsksOnTerminal(const PassphraseSource& source) {
  return source.key_file.empty() && InteractiveInput();
}

}  // namespace

bool InteractiveInput() { return isatty(STDIN_FILENO) == 1; }

InputKind StandardInputKind() {
  struct stat st {};
  if (fstat(STDIN_FILENO, &st) != 0) return InputKind::kNone;  // closed
  if (isatty(STDIN_FILENO) == 1) return InputKind::kTerminal;
  if (S_ISFIFO(st.st_mode) || S_ISREG(st.st_mode)) return InputKind::kStream;
  return InputKind::kNone;
}

Result<Secret> ReadPassphrase(const PassphraseSource& source, const std::string& prompt,
                              bool verify) {
  if (!source.key_file.empty()) {
    ASSIGN_OR_RETURN(Secret secret, ReadKeyFile(source));
    if (secret.empty()) return Error::NoPermission(_("No key available with this passphrase."));
    return secret;
  }
  if (!AsksOnTerminal(source)) {
    // Not a terminal: one line of standard input, newline dropped (as cryptsetup does).
    ASSIGN_OR_RETURN(Secret secret, ReadLine(STDIN_FILENO, kMaxKeyFileSize));
    if (secret.empty()) return Error::NoPermission(_("No passphrase was given on standard input."));
    return secret;
  }
  ASSIGN_OR_RETURN(Secret secret, AskTerminal(prompt, source.timeout_seconds));
  if (secret.empty()) return Error::NoPermission(_("No passphrase entered."));
  if (verify) {
    ASSIGN_OR_RETURN(Secret again, AskTerminal(_("Verify passphrase: "), source.timeout_seconds));
    if (!(again == secret)) return Error::NoPermission(_("Passphrases do not match."));
  }
  return secret;
}

Result<Secret> ReadDevicePassphrase(const PassphraseSource& source, const std::string& device,
                                    bool verify) {
  return ReadPassphrase(
      source,
      AsksOnTerminal(source) ? FormatMsg(_("Enter passphrase for {}: "), device) : std::string(),
      verify);
}

bool ConfirmOnTerminal(const std::string& question) {
  fmt::print(stdout, "{}", question);
  std::fflush(stdout);
  // Straight from the descriptor, a byte at a time: nothing after the answer's line (a
  // passphrase read next) is taken into a buffer.
  const auto answer = ReadLine(STDIN_FILENO, 64);
  return answer.ok() && std::string_view(answer->data(), answer->size()) == "YES";
}

bool ConfirmUnlessBatch(bool batch_mode, const std::string& question) {
  return batch_mode || !InteractiveInput() || ConfirmOnTerminal(question);
}

}  // namespace zcryptsetup
