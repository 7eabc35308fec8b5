// Text for systemd unit files: unit-name escaping as systemd-escape(1) does it, and quoting
// of Exec*= arguments. Pure functions; used by zcryptsetup-generator.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "luks2ext/error.h"

namespace luks2ext {

// The bytes that must never reach a unit file: ASCII control characters, 0x00 to 0x1f except
// tab, and 0x7f. systemd ends a unit-file line at CR and NUL as well as LF, so one of them in a
// value starts a line of the attacker's choosing (an ExecStartPre=, say). Returns the offset
// of the first one, or std::string_view::npos.
size_t FindControlCharacter(std::string_view text);

// A whole unit file about to be written: every line (the text split at '\n') must be free of
// control characters. WrongParameters naming the line otherwise. The generator's last line of
// defence, should a value ever reach a unit without passing the crypttab parser's check.
Status CheckUnitText(std::string_view text);

// `systemd-escape STRING`: '/' becomes '-'; letters, digits, ':' and '_' stay, as does '.'
// except in first place; every other byte (including '-' and '\') becomes \xNN.
std::string SystemdEscape(std::string_view s);

// `systemd-escape --path PATH`: the path is simplified (repeated '/' and "." components
// dropped), its leading and trailing '/' removed ("/" alone gives "-"), then escaped as above.
// WrongParameters for a relative path or one with a ".." component, which have no unit name.
Result<std::string> SystemdEscapePath(std::string_view path);

// One argument of an ExecStart= line, reaching the program byte for byte: double-quoted,
// with '\' and '"' backslash-escaped, '%' written "%%" (specifiers) and '$' written "$$"
// (environment variables).
std::string QuoteExecArgument(std::string_view arg);

// A path for RequiresMountsFor= and similar path lists: '%' doubled. nullopt for a path with
// a blank, a quote or a '\', which such lists would split or unquote.
std::optional<std::string> EscapeUnitPath(std::string_view path);

}  // namespace luks2ext
