// A signal's disposition changed for as long as an object lives, then restored as it was.
#pragma once

#include <signal.h>

namespace zcryptsetup {

class ScopedSignalDisposition {
 public:
  ScopedSignalDisposition(int signal, sighandler_t handler) : signal_(signal) {
    struct sigaction action {};
    action.sa_handler = handler;
    sigemptyset(&action.sa_mask);
    restore_ = sigaction(signal_, &action, &saved_) == 0;
  }
  ~ScopedSignalDisposition() {
    if (restore_) sigaction(signal_, &saved_, nullptr);
  }
  ScopedSignalDisposition(const ScopedSignalDisposition&) = delete;
  ScopedSignalDisposition& operator=(const ScopedSignalDisposition&) = delete;

 private:
  int signal_;
  struct sigaction saved_ {};
  bool restore_ = false;
};

// SIGCHLD at its default handling. SIGCHLD set to "ignore" (inherited through exec from
// whoever started us) makes the kernel reap our children itself, and waitpid() loses their
// exit codes: the openers of `crypttab open --all`, systemd-ask-password, enroll's tool.
class DefaultSigchld : public ScopedSignalDisposition {
 public:
  DefaultSigchld() : ScopedSignalDisposition(SIGCHLD, SIG_DFL) {}
};

}  // namespace zcryptsetup
