#include "ask_password.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>  // explicit_bzero
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string_view>

#include "scoped_signal.h"
#include "i18n.h"
#include "luks2ext/fd_io.h"
#include "luks2ext/unique_fd.h"

namespace zcryptsetup {

using luks2ext::Error;
using luks2ext::Result;
using luks2ext::Secret;
using luks2ext::UniqueFd;

namespace {

constexpr uint64_t kMaxAnswerSize = 8 * 1024 * 1024;  // as key files

// Where Debian and other distributions install it; /bin is /usr/bin on merged-/usr systems.
constexpr const char* kAskPasswordPaths[] = {"/usr/bin/systemd-ask-password",
                                             "/bin/systemd-ask-password"};

// Error for everything that leaves us without an answer: exit code 2, as a wrong passphrase.
Error NoAnswer(const std::string& why) {
  return Error::NoPermission(
      FormatMsg(_("No passphrase was given through systemd-ask-password: {}."), why));
}

// The id as systemd-cryptsetup writes it: C-escaped (backslash, quotes, bytes outside ASCII's
// printable range as octal), so an agent can show it on one line.
std::string CEscape(std::string_view text) {
  std::string out;
  for (unsigned char c : text) {
    if (c == '\\' || c == '"' || c == '\'') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20 || c >= 0x7f) {
      out += FormatMsg("\\{:03o}", static_cast<unsigned>(c));
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

// The answer: what the tool writes before it exits, bounded; the bytes pass through a wiped
// buffer only.
Result<Secret> ReadAnswer(int fd) {
  Secret answer;
  char buffer[4096];
  int error = 0;
  while (answer.size() <= kMaxAnswerSize) {
    const luks2ext::FdTransfer got = luks2ext::ReadFull(fd, buffer, sizeof buffer);
    answer.Append(std::string_view(buffer, got.done));
    error = got.error;
    if (got.error != 0 || got.end) break;
  }
  explicit_bzero(buffer, sizeof buffer);
  if (error != 0) return NoAnswer(std::strerror(error));
  if (answer.size() > kMaxAnswerSize) return NoAnswer(_("the answer is over 8 MiB"));
  return answer;
}

// Starts `argv` with standard output on `out` and standard input /dev/null, in an empty
// environment. Returns the pid, or -1 with errno.
pid_t Spawn(const std::vector<std::string>& argv, int out) {
  std::vector<char*> args;
  for (const std::string& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);
  char* const environment[] = {nullptr};
  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attributes;
  posix_spawn_file_actions_init(&actions);
  posix_spawnattr_init(&attributes);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, out, STDOUT_FILENO);
  // Signals the tool must see as usual, whatever we inherited or blocked.
  sigset_t defaults, empty;
  sigemptyset(&defaults);
  sigaddset(&defaults, SIGPIPE);
  sigaddset(&defaults, SIGCHLD);
  sigemptyset(&empty);
  posix_spawnattr_setsigdefault(&attributes, &defaults);
  posix_spawnattr_setsigmask(&attributes, &empty);
  posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
  pid_t pid = -1;
  const int rc = posix_spawn(&pid, args[0], &actions, &attributes, args.data(), environment);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attributes);
  if (rc != 0) {
    errno = rc;
    return -1;
  }
  return pid;
}

}  // namespace

std::string FindAskPasswordTool() {
  for (const char* path : kAskPasswordPaths)
    if (access(path, X_OK) == 0) return path;
  return "";
}

std::vector<std::string> AskPasswordArguments(const std::string& tool,
                                              const AgentQuestion& question) {
  std::vector<std::string> argv = {tool, "--icon=drive-harddisk", "--id=" + CEscape(question.id),
                                   "--keyname=" + question.keyname};
  if (question.accept_cached) {
    argv.emplace_back("--accept-cached");
    argv.emplace_back("--multiple");
  }
  argv.push_back(FormatMsg("--timeout={}", question.timeout_sec));
  // "--" so a message can never read as an option.
  argv.emplace_back("--");
  argv.push_back(question.message);
  return argv;
}

Result<std::vector<Secret>> AskPasswordAgent(const AgentQuestion& question) {
  const std::string tool = FindAskPasswordTool();
  if (tool.empty()) return NoAnswer(_("it is not installed"));
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return NoAnswer(std::strerror(errno));
  UniqueFd read_end(fds[0]);
  UniqueFd write_end(fds[1]);
  DefaultSigchld sigchld;
  const pid_t pid = Spawn(AskPasswordArguments(tool, question), write_end.get());
  if (pid < 0) return NoAnswer(FormatMsg(_("cannot run {}: {}"), tool, std::strerror(errno)));
  write_end = UniqueFd();  // the tool holds the only write end: its exit ends the read
  Result<Secret> answer = ReadAnswer(read_end.get());
  read_end = UniqueFd();  // an answer over the limit: the tool's next write fails, it ends
  int wstatus = 0;
  if (luks2ext::RetryOnEintr([&] { return waitpid(pid, &wstatus, 0); }) < 0)
    return NoAnswer(std::strerror(errno));
  if (!WIFEXITED(wstatus))
    return NoAnswer(FormatMsg(_("it was killed by signal {}"), WTERMSIG(wstatus)));
  if (WEXITSTATUS(wstatus) != 0)
    return NoAnswer(
        FormatMsg(_("it failed with exit code {} (timed out or cancelled)"), WEXITSTATUS(wstatus)));
  if (!answer.ok()) return answer.error();
  // One passphrase a line; a passphrase cannot hold a newline (systemd's agents send none).
  std::vector<Secret> passphrases;
  const std::string_view text(answer->data(), answer->size());
  for (size_t start = 0; start < text.size();) {
    const size_t end = std::min(text.find('\n', start), text.size());
    if (end > start) passphrases.emplace_back(text.substr(start, end - start));
    start = end + 1;
  }
  if (passphrases.empty()) return NoAnswer(_("the answer is empty"));
  return passphrases;
}

}  // namespace zcryptsetup
