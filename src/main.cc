// zcryptsetup: parse, run one action, print its error (the only place errors are printed)
// and exit with cryptsetup's code for it.
#include <fcntl.h>
#include <fmt/core.h>
#include <unistd.h>

#include <clocale>
#include <cstdio>

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

  zcryptsetup::ParsedCommandLine command;
  if (const luks2ext::Status parsed = zcryptsetup::ParseCommandLine(argc, argv, command);
      !parsed.ok()) {
    fmt::print(stderr, "{}\n", parsed.error().message());
    return static_cast<int>(parsed.error().code());
  }
  if (command.help_or_version) return 0;

  const zcryptsetup::Options& options = command.options;
  luks2ext::SetLogSink(
      [&options](luks2ext::LogLevel level, std::string_view message) {
        // Errors are reported once, by the action's result; the sink shows the rest on demand.
        if (level == luks2ext::LogLevel::kDebug && !options.debug) return;
        if (level == luks2ext::LogLevel::kVerbose && !options.verbose && !options.debug) return;
        if (level == luks2ext::LogLevel::kError && !options.debug) return;
        fmt::print(stderr, "{}{}\n", (level == luks2ext::LogLevel::kDebug ? "# " : ""), message);
      },
      options.debug);

  const luks2ext::Status status = zcryptsetup::RunAction(command);
  if (!status.ok()) {
    if (!status.error().message().empty()) fmt::print(stderr, "{}\n", status.error().message());
    return static_cast<int>(status.error().code());
  }
  if (options.verbose) fmt::print(stderr, "{}\n", _("Command successful."));
  return 0;
}
