// enroll: runs systemd-cryptenroll, clevis or any tool that edits a LUKS2 header on a private
// copy of the drive's metadata, and writes the result back crash-safely
// (luks2ext/external_edit.h). The tool is the user's own command: it runs with the user's
// environment and terminal, found on PATH as a shell would find it, but never through a shell.
#include <fcntl.h>
#include <fmt/core.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "actions.h"
#include "i18n.h"
#include "luks2ext/external_edit.h"
#include "luks2ext/fd_io.h"
#include "luks2ext/volume.h"
#include "scoped_signal.h"

extern char** environ;

namespace zcryptsetup {

using luks2ext::Error;
using luks2ext::Status;

namespace {

// Where the image may go: /run is tmpfs on every systemd machine; /dev/shm where it is not
// (containers). ScratchFile refuses a directory that is not in memory.
const std::vector<std::string>& ScratchDirs() {
  static const std::vector<std::string> dirs = {"/run/zcryptsetup", "/dev/shm/zcryptsetup"};
  return dirs;
}

// SIGINT and SIGQUIT ignored while the tool runs, as system(3) does: a Ctrl-C at the terminal
// reaches the tool, which decides; we then wipe the image and write nothing.
struct IgnoreTerminalSignals {
  ScopedSignalDisposition interrupt{SIGINT, SIG_IGN};
  ScopedSignalDisposition quit{SIGQUIT, SIG_IGN};
};

Status RunTool(const std::vector<std::string>& command) {
  std::vector<char*> argv;
  for (const std::string& word : command) argv.push_back(const_cast<char*>(word.c_str()));
  argv.push_back(nullptr);
  posix_spawnattr_t attributes;
  posix_spawnattr_init(&attributes);
  sigset_t defaults, empty;
  sigemptyset(&defaults);
  for (const int signal : {SIGINT, SIGQUIT, SIGPIPE, SIGCHLD}) sigaddset(&defaults, signal);
  sigemptyset(&empty);
  posix_spawnattr_setsigdefault(&attributes, &defaults);
  posix_spawnattr_setsigmask(&attributes, &empty);
  posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
  DefaultSigchld sigchld;
  IgnoreTerminalSignals terminal_signals;
  pid_t pid = -1;
  const int rc = posix_spawnp(&pid, argv[0], nullptr, &attributes, argv.data(), environ);
  posix_spawnattr_destroy(&attributes);
  if (rc != 0)
    return Error::WrongParameters(FormatMsg(_("Cannot run {}: {}. Nothing was written."),
                                            command.front(), std::strerror(rc)));
  int wstatus = 0;
  if (luks2ext::RetryOnEintr([&] { return waitpid(pid, &wstatus, 0); }) < 0)
    return Error::WrongParameters(FormatMsg(_("Cannot wait for {}: {}. Nothing was written."),
                                            command.front(), std::strerror(errno)));
  if (WIFSIGNALED(wstatus))
    return Error::WrongParameters(FormatMsg(_("{} was killed by signal {}. Nothing was written."),
                                            command.front(), WTERMSIG(wstatus)));
  if (WEXITSTATUS(wstatus) != 0)
    return Error::WrongParameters(FormatMsg(_("{} failed (exit code {}). Nothing was written."),
                                            command.front(), WEXITSTATUS(wstatus)));
  return Status::Ok();
}

// The device itself among the tool's arguments: the tool would wait forever for the lock we
// hold (or, without one, write to a sequential zone).
bool NamesDevice(const std::string& word, const std::string& device_path) {
  struct stat a {}, b {};
  if (word == device_path) return true;
  if (stat(word.c_str(), &a) != 0 || stat(device_path.c_str(), &b) != 0) return false;
  if (S_ISBLK(a.st_mode) && S_ISBLK(b.st_mode)) return a.st_rdev == b.st_rdev;
  return a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

std::string Join(const std::vector<int>& numbers) {
  std::string text;
  for (const int n : numbers) text += (text.empty() ? "" : ",") + std::to_string(n);
  return text.empty() ? std::string(_("none")) : text;
}

std::string Join(const std::vector<std::string>& words) {
  std::string text;
  for (const std::string& w : words) text += (text.empty() ? "" : "; ") + w;
  return text.empty() ? std::string(_("none")) : text;
}

// The tool's command line: the first argument that is exactly "{}" becomes the image path
// (later ones stay, e.g. clevis's empty pin configuration '{}'); without one, the path is
// appended, where systemd-cryptenroll takes its device.
std::vector<std::string> EnrollCommandLine(std::vector<std::string> command,
                                           const std::string& image_path) {
  for (std::string& word : command) {
    if (word == "{}") {
      word = image_path;
      return command;
    }
  }
  command.push_back(image_path);
  return command;
}

}  // namespace

Status ActionEnroll(const Invocation& call) {
  const std::string& path = call.args[0];
  const std::vector<std::string>& command = call.options.enroll_command;
  if (command.empty())
    return Error::WrongParameters(
        _("Usage: zcryptsetup enroll <device> -- <command> [<argument>...] ({} names the "
          "header image)"));
  for (const std::string& word : command) {
    if (NamesDevice(word, path))
      return Error::WrongParameters(FormatMsg(
          _("The command names {} itself; write {{}} where the tool takes the device: it "
            "works on a private copy of the header. Nothing was written."),
          path));
  }
  ASSIGN_OR_RETURN(auto device, luks2ext::OpenBlockDevice(path, true));
  {
    ASSIGN_OR_RETURN(auto volume, luks2ext::Volume::Open(*device));
    PrintWarnings(*volume);
  }
  ASSIGN_OR_RETURN(const luks2ext::ExternalEditOutcome outcome,
                   luks2ext::EditHeaderExternally(*device, ScratchDirs(),
                                                  [&](const std::string& image_path) {
                                                    return RunTool(
                                                        EnrollCommandLine(command, image_path));
                                                  }));
  if (!outcome.changed) {
    fmt::print(stderr, "{}\n", _("The tool changed nothing; nothing was written."));
    return Status::Ok();
  }
  fmt::print(
      stderr, "{}\n",
      FormatMsg(_("Written to {} (seqid {} -> {}).\n  keyslots: {} -> {}\n  tokens:   {} -> {}"),
                path, outcome.before.seqid, outcome.after.seqid, Join(outcome.before.keyslots),
                Join(outcome.after.keyslots), Join(outcome.before.tokens),
                Join(outcome.after.tokens)));
  return Status::Ok();
}

}  // namespace zcryptsetup
