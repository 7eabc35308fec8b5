// crypttab text through to the pieces of unit text zcryptsetup-generator writes:
// ParseCrypttab (luks2ext/crypttab.h), then for each entry what src/generator makes of it with
// luks2ext/systemd_unit.h: the unit name (SystemdEscape), the device unit names
// (CrypttabDeviceNode, SystemdEscapePath), RequiresMountsFor= paths (EscapeUnitPath) and the
// ExecStart=/ExecStop= arguments (QuoteExecArgument); and the generator's last check on a
// whole unit (FindControlCharacter, CheckUnitText).
//
// Input: crypttab text.
//
// Oracles: no crash or sanitizer report; ParseCrypttab with and without a problem list agree;
// entries have sane names and increasing line numbers; no unit text fragment made from an
// entry holds a control character (systemd ends a unit file line at '\n', '\r' and '\0');
// every Exec argument, read back with systemd's rules (specifiers "%%", C escapes inside double
// quotes, "$$" at exec time), is the original bytes; unit names unescape to what was escaped.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_check.h"
#include "luks2ext/crypttab.h"
#include "luks2ext/systemd_unit.h"

using namespace luks2ext;

namespace {

bool IsControl(unsigned char c) { return c < 0x20 || c == 0x7f; }

bool HasControl(std::string_view s) {
  for (unsigned char c : s)
    if (IsControl(c)) return true;
  return false;
}

// A fragment of unit text must stay on its line and hold no control character.
void CheckFragment(std::string_view fragment) { FUZZ_CHECK(!HasControl(fragment)); }

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// systemd's reading of one ExecStart= argument written as a double-quoted word, in systemd's
// order: specifiers over the line when the unit is loaded ("%%" is '%', any other '%x' is a
// specifier: refused here), then the word is unquoted with C escapes (config_parse_exec:
// EXTRACT_UNQUOTE | EXTRACT_CUNESCAPE), then at exec time "$$" is '$' and any other '$' starts a
// variable (refused here). nullopt when the text is not exactly one such argument.
std::optional<std::string> SystemdExecArgument(std::string_view text) {
  std::string expanded;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      expanded += text[i];
    } else if (i + 1 < text.size() && text[i + 1] == '%') {
      expanded += '%';
      ++i;
    } else {
      return std::nullopt;
    }
  }
  if (expanded.size() < 2 || expanded.front() != '"') return std::nullopt;
  std::string word;
  size_t i = 1;
  for (;; ++i) {
    if (i >= expanded.size()) return std::nullopt;  // unterminated quote
    const char c = expanded[i];
    if (c == '"') break;
    if (c != '\\') {
      word += c;
      continue;
    }
    if (++i >= expanded.size()) return std::nullopt;
    switch (const char e = expanded[i]) {
      case 'a': word += '\a'; break;
      case 'b': word += '\b'; break;
      case 'f': word += '\f'; break;
      case 'n': word += '\n'; break;
      case 'r': word += '\r'; break;
      case 't': word += '\t'; break;
      case 'v': word += '\v'; break;
      case 's': word += ' '; break;
      case '\\': case '"': case '\'': word += e; break;
      case 'x': {
        if (i + 2 >= expanded.size()) return std::nullopt;
        const int hi = HexValue(expanded[i + 1]), lo = HexValue(expanded[i + 2]);
        if (hi < 0 || lo < 0) return std::nullopt;
        word += static_cast<char>(hi * 16 + lo);
        i += 2;
        break;
      }
      default: return std::nullopt;  // octal and \u escapes: not produced by the quoting
    }
  }
  if (i + 1 != expanded.size()) return std::nullopt;  // more than one word
  std::string argument;
  for (size_t j = 0; j < word.size(); ++j) {
    if (word[j] != '$') {
      argument += word[j];
    } else if (j + 1 < word.size() && word[j + 1] == '$') {
      argument += '$';
      ++j;
    } else {
      return std::nullopt;
    }
  }
  return argument;
}

void CheckExecArgument(std::string_view arg, bool from_entry) {
  const std::string quoted = QuoteExecArgument(arg);
  if (from_entry) CheckFragment(quoted);
  if (HasControl(arg)) return;  // no way to write it on a unit line byte for byte
  const std::optional<std::string> back = SystemdExecArgument(quoted);
  FUZZ_CHECK(back.has_value() && *back == arg);
}

// systemd-escape --unescape: '-' is '/', \xNN a byte; every other byte must be one escaping
// keeps. nullopt when the text is not an escaped string.
std::optional<std::string> Unescape(std::string_view escaped) {
  std::string out;
  for (size_t i = 0; i < escaped.size(); ++i) {
    const char c = escaped[i];
    if (c == '-') {
      out += '/';
    } else if (c == '\\') {
      if (i + 3 >= escaped.size() || escaped[i + 1] != 'x') return std::nullopt;
      const int hi = HexValue(escaped[i + 2]), lo = HexValue(escaped[i + 3]);
      if (hi < 0 || lo < 0) return std::nullopt;
      out += static_cast<char>(hi * 16 + lo);
      i += 3;
    } else if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
               c == ':' || c == '_' || (c == '.' && i != 0)) {
      out += c;
    } else {
      return std::nullopt;
    }
  }
  return out;
}

void CheckUnitName(std::string_view s) {
  const std::string escaped = SystemdEscape(s);
  CheckFragment(escaped);
  const std::optional<std::string> back = Unescape(escaped);
  FUZZ_CHECK(back.has_value() && *back == s);
}

// `path` simplified as systemd-escape --path does: components without "" and ".", joined.
std::string Simplified(std::string_view path) {
  std::string joined;
  while (!path.empty()) {
    const size_t slash = path.find('/');
    const std::string_view part = path.substr(0, slash);
    path.remove_prefix(slash == std::string_view::npos ? path.size() : slash + 1);
    if (part.empty() || part == ".") continue;
    if (!joined.empty()) joined += '/';
    joined += part;
  }
  return joined;
}

void CheckUnitPathName(std::string_view path, bool from_entry) {
  auto escaped = SystemdEscapePath(path);
  if (!escaped.ok()) return;
  if (from_entry) CheckFragment(*escaped);
  const std::string simplified = Simplified(path);
  if (simplified.empty()) {
    FUZZ_CHECK(*escaped == "-");
  } else {
    const std::optional<std::string> back = Unescape(*escaped);
    FUZZ_CHECK(back.has_value() && *back == simplified);
  }
}

void CheckMountPath(std::string_view path, bool from_entry) {
  const std::optional<std::string> escaped = EscapeUnitPath(path);
  if (!escaped) return;
  if (from_entry) CheckFragment(*escaped);
  std::string back;
  for (size_t i = 0; i < escaped->size(); ++i) {
    const char c = (*escaped)[i];
    FUZZ_CHECK(c != ' ' && c != '\t' && c != '"' && c != '\'' && c != '\\');
    if (c == '%') {
      FUZZ_CHECK(i + 1 < escaped->size() && (*escaped)[i + 1] == '%');
      ++i;
    }
    back += c;
  }
  FUZZ_CHECK(back == path);
}

void CheckEntry(const CrypttabEntry& entry) {
  FUZZ_CHECK(!entry.name.empty() && entry.name.size() <= 127);
  FUZZ_CHECK(entry.name.find('/') == std::string::npos);
  FUZZ_CHECK(!entry.device.empty());
  // What the generator writes for the entry.
  CheckUnitName(entry.name);
  CheckUnitPathName("/dev/mapper/" + entry.name, true);
  CheckExecArgument(entry.name, true);
  const std::string node = CrypttabDeviceNode(entry.device);
  if (node.starts_with("/dev/")) CheckUnitPathName(node, true);
  for (const std::string& path : {node, entry.key_file, entry.options.header}) {
    if (path.starts_with("/dev/")) {
      CheckUnitPathName(path, true);
    } else if (path.starts_with('/')) {
      CheckMountPath(path, true);
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text = fuzz::Text(data, size);

  std::vector<CrypttabProblem> problems;
  auto entries = ParseCrypttab(text, &problems);
  FUZZ_CHECK(entries.ok());  // with a problem list, parsing never fails
  auto strict = ParseCrypttab(text, nullptr);
  FUZZ_CHECK(strict.ok() == problems.empty());
  if (strict.ok()) FUZZ_CHECK(strict->size() == entries->size());

  int previous_line = 0;
  for (const CrypttabEntry& entry : *entries) {
    FUZZ_CHECK(entry.line > previous_line);
    previous_line = entry.line;
    FUZZ_CHECK(FindCrypttabEntry(*entries, entry.name) == &entry);  // names are unique
    CheckEntry(entry);
  }
  for (const CrypttabProblem& problem : problems) {
    FUZZ_CHECK(problem.line > 0 && !problem.message.empty());
  }

  // The generator's last check on a unit file: the first control character other than tab
  // (FindControlCharacter) and every line free of them (CheckUnitText).
  size_t first_control = std::string_view::npos;
  bool lines_clean = true;
  for (size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (!IsControl(c) || c == '\t') continue;
    if (first_control == std::string_view::npos) first_control = i;
    if (c != '\n') lines_clean = false;
  }
  FUZZ_CHECK(FindControlCharacter(text) == first_control);
  FUZZ_CHECK(CheckUnitText(text).ok() == lines_clean);

  // The escaping functions on arbitrary bytes (not from a parsed entry): the round trips hold
  // for everything that can be written on a unit line at all.
  CheckUnitName(text);
  CheckExecArgument(text, false);
  if (text.starts_with('/')) {
    CheckUnitPathName(text, false);
    CheckMountPath(text, false);
  }
  return 0;
}
