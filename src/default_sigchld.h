// SIGCHLD at its default handling for as long as an object lives, then as it was.
// SIGCHLD set to "ignore" (inherited through exec from whoever started us) makes the kernel
// reap our children itself, and waitpid() loses their exit codes: the openers of
// `crypttab open --all`, systemd-ask-password.
#pragma once

#include <signal.h>

namespace zcryptsetup {

class DefaultSigchld {
 public:
  DefaultSigchld() {
    struct sigaction dfl {};
    dfl.sa_handler = SIG_DFL;
    sigemptyset(&dfl.sa_mask);
    restore_ = sigaction(SIGCHLD, &dfl, &saved_) == 0;
  }
  ~DefaultSigchld() {
    if (restore_) sigaction(SIGCHLD, &saved_, nullptr);
  }
  DefaultSigchld(const DefaultSigchld&) = delete;
  DefaultSigchld& operator=(const DefaultSigchld&) = delete;

 private:
  struct sigaction saved_ {};
  bool restore_ = false;
};

}  // namespace zcryptsetup
