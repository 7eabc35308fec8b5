#include "passphrase.h"

#include <fcntl.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <iostream>

#include "i18n.h"

namespace zcryptsetup {

using luks2ext::Error;
using luks2ext::Result;
using luks2ext::Secret;

namespace {

constexpr uint64_t kMaxKeyFileSize = 8 * 1024 * 1024;  // cryptsetup's default limit
constexpr size_t kMaxPassphraseLength = 512;           // cryptsetup's interactive limit

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() {
    if (fd_ > STDERR_FILENO) close(fd_);
  }
  int get() const { return fd_; }

 private:
  int fd_;
};

// Reads up to `limit` bytes (or to the first newline when `line` is set) into a Secret.
Result<Secret> ReadFrom(int fd, uint64_t skip, uint64_t limit, bool line) {
  char c = 0;
  for (uint64_t i = 0; i < skip; ++i) {
    const ssize_t n = read(fd, &c, 1);
    if (n < 0 && errno == EINTR) { --i; continue; }
    if (n <= 0) return Error::WrongParameters(_("Cannot skip the requested keyfile offset."));
  }
  Secret secret;
  while (secret.size() < limit) {
    const ssize_t n = read(fd, &c, 1);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Error::WrongParameters(FormatMsg(_("Cannot read the key: {}."), std::strerror(errno)));
    if (n == 0) break;
    if (line && c == '\n') break;
    secret.Append(c);
  }
  c = 0;
  return secret;
}

Result<Secret> ReadKeyFile(const PassphraseSource& source) {
  const uint64_t limit = source.keyfile_size ? source.keyfile_size : kMaxKeyFileSize;
  if (source.key_file == "-") return ReadFrom(STDIN_FILENO, source.keyfile_offset, limit, false);
  Fd fd(open(source.key_file.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0)
    return Error::WrongParameters(FormatMsg(_("Failed to open key file {}: {}."), source.key_file,
                                            std::strerror(errno)));
  ASSIGN_OR_RETURN(Secret secret, ReadFrom(fd.get(), source.keyfile_offset, limit, false));
  if (source.keyfile_size && secret.size() < source.keyfile_size)
    return Error::WrongParameters(_("Cannot read the requested amount of data from the key file."));
  return secret;
}

// One line from the terminal with echo off.
Result<Secret> AskTerminal(const std::string& prompt) {
  Fd tty(open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY));
  const int fd = tty.get() >= 0 ? tty.get() : STDIN_FILENO;
  const int out = tty.get() >= 0 ? tty.get() : STDERR_FILENO;
  (void)!write(out, prompt.data(), prompt.size());
  termios saved{};
  const bool have_termios = tcgetattr(fd, &saved) == 0;
  if (have_termios) {
    termios quiet = saved;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    tcsetattr(fd, TCSANOW, &quiet);  // keep typed-ahead input
  }
  auto secret = ReadFrom(fd, 0, kMaxPassphraseLength, true);
  if (have_termios) tcsetattr(fd, TCSANOW, &saved);
  (void)!write(out, "\n", 1);
  return secret;
}

}  // namespace

bool InteractiveInput() { return isatty(STDIN_FILENO) == 1; }

Result<Secret> ReadPassphrase(const PassphraseSource& source, const std::string& prompt,
                              bool verify) {
  if (!source.key_file.empty()) {
    ASSIGN_OR_RETURN(Secret secret, ReadKeyFile(source));
    if (secret.empty()) return Error::NoPermission(_("No key available with this passphrase."));
    return secret;
  }
  if (!InteractiveInput()) {
    // Not a terminal: one line of standard input, newline dropped (as cryptsetup does).
    ASSIGN_OR_RETURN(Secret secret, ReadFrom(STDIN_FILENO, 0, kMaxKeyFileSize, true));
    if (secret.empty()) return Error::NoPermission(_("No passphrase was given on standard input."));
    return secret;
  }
  ASSIGN_OR_RETURN(Secret secret, AskTerminal(prompt));
  if (secret.empty()) return Error::NoPermission(_("No passphrase entered."));
  if (verify) {
    ASSIGN_OR_RETURN(Secret again, AskTerminal(_("Verify passphrase: ")));
    if (!(again == secret)) return Error::NoPermission(_("Passphrases do not match."));
  }
  return secret;
}

bool ConfirmOnTerminal(const std::string& question) {
  std::cout << question << std::flush;
  std::string answer;
  if (!std::getline(std::cin, answer)) return false;
  return answer == "YES";
}

}  // namespace zcryptsetup
