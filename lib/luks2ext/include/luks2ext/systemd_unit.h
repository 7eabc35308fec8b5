// Text for systemd unit files: unit-name escaping as systemd-escape(1) does it, and quoting
// of Exec*= arguments. Pure functions; used by zcryptsetup-generator.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "luks2ext/error.h"

namespace luks2ext {

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
