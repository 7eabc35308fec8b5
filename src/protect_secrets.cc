#include "protect_secrets.h"

#include <linux/capability.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "actions.h"
#include "i18n.h"

namespace zcryptsetup {

namespace {

// Whether mlockall(MCL_FUTURE) is safe to ask for. With CAP_IPC_LOCK, or no RLIMIT_MEMLOCK,
// the kernel locks whatever the verb maps later. Under a finite limit without the capability
// it would lock until the limit and then make every later allocation fail (argon2 alone may
// want a GiB): the verb would break instead of its memory merely being swappable.
bool CanLockAllMemory() {
  rlimit limit{};
  if (getrlimit(RLIMIT_MEMLOCK, &limit) == 0 && limit.rlim_cur == RLIM_INFINITY) return true;
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = {};
  if (syscall(SYS_capget, &header, data) != 0) return false;
  return (data[CAP_TO_INDEX(CAP_IPC_LOCK)].effective & CAP_TO_MASK(CAP_IPC_LOCK)) != 0;
}

}  // namespace

void ProtectSecrets(const Options& options) {
  // No core file, and /proc/PID/mem and the like become root's only: the passphrase and the
  // volume key cannot be read out of this process by its own user, nor land in a core dump.
  if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0)
    PrintVerbose(options, FormatMsg(_("WARNING: cannot make the process non-dumpable ({})."),
                                    std::strerror(errno)));
  if (!CanLockAllMemory()) {
    PrintVerbose(options, _("WARNING: memory is not locked (no CAP_IPC_LOCK and a limited "
                            "RLIMIT_MEMLOCK): passphrases and keys may be swapped out."));
    return;
  }
  // MCL_ONFAULT: each page is locked when it is first touched, which every page holding a
  // secret is, instead of faulting in every page of every library mapped now and later (under
  // emulation that cost each verb a third of its start; stock cryptsetup locks only its secret
  // buffers). Kernels before 4.4 do not know the flag (EINVAL): lock everything as before.
  if (mlockall(MCL_CURRENT | MCL_FUTURE | MCL_ONFAULT) != 0 &&
      (errno != EINVAL || mlockall(MCL_CURRENT | MCL_FUTURE) != 0))
    PrintVerbose(options, FormatMsg(_("WARNING: cannot lock memory ({}): passphrases and keys "
                                      "may be swapped out."),
                                    std::strerror(errno)));
}

}  // namespace zcryptsetup
