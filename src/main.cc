// zcryptsetup: parse, run one action, print its error (the only place errors are printed)
// and exit with cryptsetup's code for it.
#include <clocale>
#include <iostream>

#include "actions.h"
#include "i18n.h"
#include "luks2ext/log.h"

int main(int argc, char** argv) {
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
