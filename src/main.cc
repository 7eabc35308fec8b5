// zcryptsetup: parse, run one action, print its error (the only place errors are printed)
// and exit with cryptsetup's code for it.
#include <fcntl.h>
#include <unistd.h>

#include <clocale>
#include <iostream>

#include "actions.h"
#include "i18n.h"
#include "luks2ext/log.h"

namespace {

// Standard input, output and error that were closed are opened on /dev/null before anything
// else is: otherwise the first file opened (a crypttab, a device) would become fd 0, 1 or 2,
// be read as standard input, or have messages written into it.
void OpenClosedStandardFds() {
  for (int fd = 0; fd <= 2; ++fd)
    if (fcntl(fd, F_GETFD) < 0 && open("/dev/null", fd == 0 ? O_RDONLY : O_WRONLY) < 0) _exit(1);
}

}  // namespace

int main(int argc, char** argv) {
  OpenClosedStandardFds();
  std::setlocale(LC_ALL, "");
  bindtextdomain("zcryptsetup", ZCRYPTSETUP_LOCALEDIR);

  auto command = zcryptsetup::ParseCommandLine(argc, argv);
  if (!command.ok()) {
    std::cerr << command.error().message() << '\n';
    return static_cast<int>(command.error().code());
  }
  if (command->help_or_version) return 0;

  const zcryptsetup::Options& options = command->options;
  luks2ext::SetLogSink(
      [&options](luks2ext::LogLevel level, std::string_view message) {
        // Errors are reported once, by the action's result; the sink shows the rest on demand.
        if (level == luks2ext::LogLevel::kDebug && !options.debug) return;
        if (level == luks2ext::LogLevel::kVerbose && !options.verbose && !options.debug) return;
        if (level == luks2ext::LogLevel::kError && !options.debug) return;
        std::cerr << (level == luks2ext::LogLevel::kDebug ? "# " : "") << message << '\n';
      },
      options.debug);

  const luks2ext::Status status = zcryptsetup::RunAction(*command);
  if (!status.ok()) {
    if (!status.error().message().empty()) std::cerr << status.error().message() << '\n';
    return static_cast<int>(status.error().code());
  }
  if (options.verbose) std::cerr << _("Command successful.") << '\n';
  return 0;
}
