// systemd unit-name escaping and Exec argument quoting.
#include "luks2ext/systemd_unit.h"

#include <cstdio>
#include <optional>
#include <vector>

#include "base/i18n.h"

namespace luks2ext {
namespace {

void AppendHex(unsigned char c, std::string* out) {
  char hex[5];
  (void)std::snprintf(hex, sizeof hex, "\\x%02x", c);
  *out += hex;
}

bool IsUnitNameSafe(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == ':' ||
         c == '_' || c == '.';
}

}  // namespace

size_t FindControlCharacter(std::string_view text) {
  for (size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if ((c < 0x20 && c != '\t') || c == 0x7f) return i;
  }
  return std::string_view::npos;
}

Status CheckUnitText(std::string_view text) {
  int line_number = 1;
  while (!text.empty()) {
    const size_t newline = text.find('\n');
    const std::string_view line = text.substr(0, newline);
    if (const size_t bad = FindControlCharacter(line); bad != std::string_view::npos)
      return Error::WrongParameters(
          FormatMsg(_("Unit text line {} holds control character 0x{:02x}; it is not written."),
                    line_number, static_cast<unsigned>(static_cast<unsigned char>(line[bad]))));
    text.remove_prefix(newline == std::string_view::npos ? text.size() : newline + 1);
    ++line_number;
  }
  return Status::Ok();
}

std::string SystemdEscape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (c == '/') {
      out += '-';
    } else if (IsUnitNameSafe(c) && !(i == 0 && c == '.')) {
      out += c;
    } else {
      AppendHex(static_cast<unsigned char>(c), &out);
    }
  }
  return out;
}

Result<std::string> SystemdEscapePath(std::string_view path) {
  if (!path.starts_with('/'))
    return Error::WrongParameters(
        FormatMsg(_("Path {} is not absolute."), std::string(path)));
  std::vector<std::string_view> components;
  while (!path.empty()) {
    const size_t slash = path.find('/');
    const std::string_view part = path.substr(0, slash);
    path.remove_prefix(slash == std::string_view::npos ? path.size() : slash + 1);
    if (part.empty() || part == ".") continue;
    if (part == "..")
      return Error::WrongParameters(_("A path with a '..' component has no unit name."));
    components.push_back(part);
  }
  if (components.empty()) return std::string("-");
  std::string joined;
  for (size_t i = 0; i < components.size(); ++i) {
    if (i) joined += '/';
    joined += components[i];
  }
  return SystemdEscape(joined);
}

std::string QuoteExecArgument(std::string_view arg) {
  std::string out = "\"";
  for (char c : arg) {
    switch (c) {
      case '\\': out += "\\\\"; break;
      case '"': out += "\\\""; break;
      case '%': out += "%%"; break;
      case '$': out += "$$"; break;
      default: out += c;
    }
  }
  out += '"';
  return out;
}

std::optional<std::string> EscapeUnitPath(std::string_view path) {
  std::string out;
  for (char c : path) {
    if (c == ' ' || c == '\t' || c == '\n' || c == '\\' || c == '"' || c == '\'') return std::nullopt;
    if (c == '%') out += '%';
    out += c;
  }
  return out;
}

}  // namespace luks2ext
