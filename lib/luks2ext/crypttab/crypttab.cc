// crypttab(5): the line grammar, the option table, and device specs.
#include "luks2ext/crypttab.h"

#include <blkid/blkid.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>
#include <set>

#include "base/i18n.h"
#include "luks2ext/number.h"
#include "luks2ext/systemd_unit.h"

namespace luks2ext {
namespace {

// device-mapper names are at most DM_NAME_LEN (128) bytes including the terminating NUL.
constexpr size_t kMaxMapperNameLength = 127;

// The tags a device spec may use, with the udev directory holding their symlinks.
struct DeviceTag {
  std::string_view prefix;
  std::string_view udev_dir;
};
constexpr DeviceTag kDeviceTags[] = {
    {"UUID=", "/dev/disk/by-uuid/"},
    {"PARTUUID=", "/dev/disk/by-partuuid/"},
    {"LABEL=", "/dev/disk/by-label/"},
    {"PARTLABEL=", "/dev/disk/by-partlabel/"},
};

const DeviceTag* FindTag(std::string_view spec) {
  for (const DeviceTag& tag : kDeviceTags)
    if (spec.starts_with(tag.prefix)) return &tag;
  return nullptr;
}

// Options that are a bare word.
struct FlagOption {
  std::string_view name;
  bool CrypttabOptions::*member;
};
constexpr FlagOption kFlagOptions[] = {
    {"luks", &CrypttabOptions::luks},
    {"force-inline", &CrypttabOptions::force_inline},
    {"no-read-workqueue", &CrypttabOptions::no_read_workqueue},
    {"no-write-workqueue", &CrypttabOptions::no_write_workqueue},
    {"same-cpu-crypt", &CrypttabOptions::same_cpu_crypt},
    {"submit-from-crypt-cpus", &CrypttabOptions::submit_from_crypt_cpus},
    {"discard", &CrypttabOptions::discard},
    {"readonly", &CrypttabOptions::read_only},
    {"read-only", &CrypttabOptions::read_only},
    {"noauto", &CrypttabOptions::noauto},
    {"nofail", &CrypttabOptions::nofail},
};

// Options that take `=value`.
constexpr std::string_view kValueOptions[] = {
    "header",       "keyfile-offset", "keyfile-size", "tries",      "timeout", "keyfile-timeout",
    "tpm2-device",  "fido2-device",   "pkcs11-uri",   "token-timeout", "headless", "tpm2-pin"};

// The device options whose `auto` zcryptsetup handles (any token of that type, through
// libcryptsetup's token plugins); any other value needs systemd-cryptsetup.
struct TokenDeviceOption {
  std::string_view name;
  std::string_view token_type;
};
constexpr TokenDeviceOption kTokenDeviceOptions[] = {
    {"tpm2-device", "systemd-tpm2"},
    {"fido2-device", "systemd-fido2"},
    {"pkcs11-uri", "systemd-pkcs11"},
};

// Options systemd-cryptsetup passes to its token plugins or implements itself, which
// zcryptsetup cannot honour: an entry with one of them is left to systemd-cryptsetup.
constexpr std::string_view kSystemdOnlyOptions[] = {
    "tpm2-pcrs",        "tpm2-signature", "tpm2-pcrlock", "tpm2-measure-pcr",
    "tpm2-measure-bank", "fido2-cid",      "fido2-rp"};

// systemd's parse_boolean().
std::optional<bool> ParseBoolean(std::string_view text) {
  for (std::string_view yes : {"1", "yes", "y", "true", "t", "on"})
    if (text == yes) return true;
  for (std::string_view no : {"0", "no", "n", "false", "f", "off"})
    if (text == no) return false;
  return std::nullopt;
}

// The token options; nullopt when `key` is none of them, else the message (empty when fine).
std::optional<std::string> ApplyTokenOption(std::string_view key, std::string_view value,
                                            CrypttabOptions* o) {
  for (const TokenDeviceOption& device : kTokenDeviceOptions) {
    if (key != device.name) continue;
    if (value.empty()) return FormatMsg(_("Option {}= needs a value."), std::string(key));
    if (value != "auto") {
      o->systemd_only.push_back(FormatMsg("{}={}", std::string(key), std::string(value)));
    } else if (std::find(o->token_types.begin(), o->token_types.end(), device.token_type) ==
               o->token_types.end()) {
      o->token_types.emplace_back(device.token_type);
    }
    return std::string();
  }
  if (key == "token-timeout") {
    const std::optional<uint64_t> seconds = ParseCrypttabTimeSpan(value);
    if (!seconds)
      return FormatMsg(_("Option {} needs a time span such as 30, 90s, 2min or 1h, not '{}'."),
                       std::string(key), std::string(value));
    o->token_timeout_sec = *seconds;
    return std::string();
  }
  if (key == "headless" || key == "tpm2-pin") {
    const std::optional<bool> flag = ParseBoolean(value);
    if (!flag)
      return FormatMsg(_("Option {} needs a boolean (yes or no), not '{}'."), std::string(key),
                       std::string(value));
    // tpm2-pin=: the token itself says whether it needs a PIN; libcryptsetup asks for one
    // through us when it does, so the option changes nothing here.
    if (key == "headless") o->headless = *flag;
    return std::string();
  }
  return std::nullopt;
}

// The units a time span may use, in seconds.
struct TimeUnit {
  std::string_view name;
  uint64_t seconds;
};
constexpr TimeUnit kTimeUnits[] = {{"sec", 1}, {"s", 1}, {"min", 60}, {"h", 3600}};

bool IsBlank(char c) { return c == ' ' || c == '\t'; }

std::vector<std::string_view> SplitFields(std::string_view line) {
  std::vector<std::string_view> fields;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && IsBlank(line[i])) ++i;
    const size_t start = i;
    while (i < line.size() && !IsBlank(line[i])) ++i;
    if (i > start) fields.push_back(line.substr(start, i - start));
  }
  return fields;
}

// Applies one option; returns a message when it is malformed.
std::optional<std::string> ApplyOption(std::string_view option, CrypttabOptions* o) {
  const size_t eq = option.find('=');
  const std::string_view key = option.substr(0, eq);
  const bool has_value = eq != std::string_view::npos;
  const std::string_view value = has_value ? option.substr(eq + 1) : std::string_view();

  if (option == "headless") {  // systemd takes it bare too, for headless=yes
    o->headless = true;
    return std::nullopt;
  }
  for (const FlagOption& flag : kFlagOptions) {
    if (key != flag.name) continue;
    if (has_value) return FormatMsg(_("Option {} takes no value."), std::string(key));
    o->*flag.member = true;
    return std::nullopt;
  }
  for (std::string_view name : kSystemdOnlyOptions) {
    if (key != name) continue;
    o->systemd_only.emplace_back(option);
    return std::nullopt;
  }
  bool known_value_option = false;
  for (std::string_view name : kValueOptions) known_value_option |= key == name;
  if (!known_value_option) {
    o->ignored.emplace_back(option);
    return std::nullopt;
  }
  if (!has_value) return FormatMsg(_("Option {} needs a value."), std::string(key));
  if (auto message = ApplyTokenOption(key, value, o)) {
    if (message->empty()) return std::nullopt;
    return message;
  }
  if (key == "header") {
    // As systemd-cryptsetup 252: an absolute path (no UUID= or the like), given once.
    if (value.empty()) return std::string(_("Option header= needs a path."));
    if (!value.starts_with('/'))
      return FormatMsg(_("Option header= needs an absolute path, not '{}'."), std::string(value));
    if (!o->header.empty()) return std::string(_("Option header= is given twice."));
    o->header = std::string(value);
    return std::nullopt;
  }
  if (key == "timeout" || key == "keyfile-timeout") {
    const std::optional<uint64_t> seconds = ParseCrypttabTimeSpan(value);
    if (!seconds)
      return FormatMsg(_("Option {} needs a time span such as 30, 90s, 2min or 1h, not '{}'."),
                       std::string(key), std::string(value));
    if (key == "timeout")
      o->timeout_sec = *seconds;
    else
      o->keyfile_timeout_sec = *seconds;
    return std::nullopt;
  }
  const std::optional<uint64_t> number = ParseDecimal(value);
  if (!number)
    return FormatMsg(_("Option {} needs a non-negative decimal number, not '{}'."),
                     std::string(key), std::string(value));
  if (key == "keyfile-offset") {
    o->keyfile_offset = *number;
  } else if (key == "keyfile-size") {
    o->keyfile_size = *number;
  } else {  // tries
    if (*number > UINT32_MAX)
      return FormatMsg(_("Option tries={} is out of range."), std::string(value));
    o->tries = static_cast<unsigned>(*number);
  }
  return std::nullopt;
}

// Parses the fields of a non-blank, non-comment line; returns a message when it is bad.
std::optional<std::string> ParseFields(const std::vector<std::string_view>& fields,
                                       CrypttabEntry* entry) {
  if (fields.size() < 2) return std::string(_("Missing device (expected: name device [keyfile [options]])."));
  if (fields.size() > 4)
    return FormatMsg(_("Too many fields ({}); expected: name device [keyfile [options]]."),
                     fields.size());
  entry->name = std::string(fields[0]);
  // The names device-mapper refuses (the kernel's dm-ioctl check_name(), libdevmapper's
  // length). A name starting with '-' is a valid mapping; callers pass it after "--".
  if (entry->name.empty()) return std::string(_("Volume name is empty."));
  if (entry->name.find('/') != std::string::npos)
    return FormatMsg(_("Volume name {} must not contain '/'."), entry->name);
  if (entry->name == "." || entry->name == ".." || entry->name == "control")
    return FormatMsg(_("Volume name {} is not a valid device-mapper name."), entry->name);
  if (entry->name.size() > kMaxMapperNameLength)
    return FormatMsg(_("Volume name is longer than {} characters."), kMaxMapperNameLength);
  entry->device = std::string(fields[1]);
  if (const DeviceTag* tag = FindTag(entry->device);
      tag && entry->device.size() == tag->prefix.size())
    return FormatMsg(_("Device {} names no value."), entry->device);
  if (fields.size() >= 3 && fields[2] != "none" && fields[2] != "-")
    entry->key_file = std::string(fields[2]);
  if (fields.size() < 4 || fields[3] == "-" || fields[3] == "none") return std::nullopt;
  std::string_view options = fields[3];
  while (true) {
    const size_t comma = options.find(',');
    const std::string_view option = options.substr(0, comma);
    if (!option.empty())
      if (auto message = ApplyOption(option, &entry->options)) return message;
    if (comma == std::string_view::npos) break;
    options.remove_prefix(comma + 1);
  }
  return std::nullopt;
}

struct FileCloser {
  void operator()(std::FILE* f) const { (void)std::fclose(f); }
};

}  // namespace

Result<std::vector<CrypttabEntry>> ParseCrypttab(std::string_view text,
                                                 std::vector<CrypttabProblem>* problems) {
  std::vector<CrypttabEntry> entries;
  std::set<std::string, std::less<>> names;
  int line_number = 0;
  while (!text.empty()) {
    const size_t newline = text.find('\n');
    std::string_view line = text.substr(0, newline);
    text.remove_prefix(newline == std::string_view::npos ? text.size() : newline + 1);
    ++line_number;
    if (line.ends_with('\r')) line.remove_suffix(1);  // a CRLF file; any other CR is refused

    // Every field may end up in a generated unit, where a CR or NUL starts a new line: a
    // control character anywhere, comments included, makes the line bad before any of its
    // text is used or echoed in a message.
    std::optional<std::string> message;
    CrypttabEntry entry;
    entry.line = line_number;
    if (const size_t bad = FindControlCharacter(line); bad != std::string_view::npos) {
      message = FormatMsg(_("Line holds control character 0x{:02x} at byte {}."),
                          static_cast<unsigned>(static_cast<unsigned char>(line[bad])), bad + 1);
    } else {
      const std::vector<std::string_view> fields = SplitFields(line);
      if (fields.empty() || fields[0].starts_with('#')) continue;
      message = ParseFields(fields, &entry);
    }
    if (!message && names.contains(entry.name)) {
      const CrypttabEntry* first = FindCrypttabEntry(entries, entry.name);
      message = FormatMsg(_("Duplicate volume name {} (first on line {})."), entry.name,
                          first ? first->line : 0);
    }
    if (message) {
      if (!problems)
        return Error::WrongParameters(FormatMsg(_("crypttab line {}: {}"), line_number, *message));
      problems->push_back({line_number, std::move(*message)});
      continue;
    }
    names.insert(entry.name);
    entries.push_back(std::move(entry));
  }
  return entries;
}

std::optional<uint64_t> ParseCrypttabTimeSpan(std::string_view text) {
  if (text.empty()) return std::nullopt;
  uint64_t total = 0;
  while (!text.empty()) {
    size_t digits = 0;
    while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') ++digits;
    const std::optional<uint64_t> number = ParseDecimal(text.substr(0, digits));
    if (!number) return std::nullopt;
    text.remove_prefix(digits);
    uint64_t unit = 1;  // a last part without a unit: seconds
    if (!text.empty()) {
      const TimeUnit* found = nullptr;
      // The longest unit name that matches ("sec" before "s"), then digits or the end.
      for (const TimeUnit& candidate : kTimeUnits)
        if (text.starts_with(candidate.name) &&
            (!found || candidate.name.size() > found->name.size()))
          found = &candidate;
      if (!found) return std::nullopt;
      text.remove_prefix(found->name.size());
      if (!text.empty() && (text[0] < '0' || text[0] > '9')) return std::nullopt;
      unit = found->seconds;
    }
    if (*number > (UINT64_MAX - total) / unit) return std::nullopt;
    total += *number * unit;
  }
  return total;
}

Status CheckZcryptsetupOpens(const CrypttabEntry& entry) {
  if (!entry.options.systemd_only.empty()) {
    std::string options;
    for (const std::string& option : entry.options.systemd_only)
      options += (options.empty() ? "" : ", ") + option;
    return Error::WrongParameters(
        FormatMsg(_("{}: {} needs systemd-cryptsetup's own TPM2/FIDO2/PKCS#11 code (zcryptsetup "
                    "takes tpm2-device=auto, fido2-device=auto, pkcs11-uri=auto only); let "
                    "systemd-cryptsetup open this entry."),
                  entry.name, options));
  }
  return Status::Ok();
}

Result<std::vector<CrypttabEntry>> ParseCrypttabFile(const std::string& path,
                                                     std::vector<CrypttabProblem>* problems) {
  std::unique_ptr<std::FILE, FileCloser> file(std::fopen(path.c_str(), "re"));
  if (!file) {
    const int err = errno;
    std::string message = FormatMsg(_("Cannot read {}: {}"), path, std::strerror(err));
    if (err == EACCES || err == EPERM) return Error::NoPermission(std::move(message));
    return Error::WrongParameters(std::move(message));
  }
  std::string text;
  char buffer[4096];
  size_t n;
  while ((n = std::fread(buffer, 1, sizeof buffer, file.get())) > 0) text.append(buffer, n);
  if (std::ferror(file.get()))
    return Error::WrongParameters(FormatMsg(_("Cannot read {}: {}"), path, std::strerror(errno)));
  return ParseCrypttab(text, problems);
}

const CrypttabEntry* FindCrypttabEntry(const std::vector<CrypttabEntry>& entries,
                                       std::string_view name) {
  for (const CrypttabEntry& entry : entries)
    if (entry.name == name) return &entry;
  return nullptr;
}

std::string CrypttabDeviceNode(const std::string& spec) {
  const DeviceTag* tag = FindTag(spec);
  if (!tag) return spec;
  // udev's symlink names keep letters, digits, "#+-.:=@_" and UTF-8 bytes, and write any
  // other byte (a '/', a blank, a '\') as \xNN.
  std::string node(tag->udev_dir);
  for (unsigned char c : std::string_view(spec).substr(tag->prefix.size())) {
    const bool safe = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                      std::strchr("#+-.:=@_", c) != nullptr || c >= 0x80;
    if (safe && c != '\0') {
      node += static_cast<char>(c);
    } else {
      char hex[5];
      (void)std::snprintf(hex, sizeof hex, "\\x%02x", c);
      node += hex;
    }
  }
  return node;
}

Result<std::string> ResolveCrypttabDevice(const std::string& spec) {
  if (const DeviceTag* tag = FindTag(spec)) {
    if (spec.size() == tag->prefix.size())
      return Error::WrongDevice(FormatMsg(_("Device {} names no value."), spec));
    // blkid_evaluate_tag reads "TAG=value" itself when value is NULL; with a NULL cache it
    // uses a private one. It returns a malloc()ed path or NULL.
    std::unique_ptr<char, decltype(&std::free)> path(
        blkid_evaluate_tag(spec.c_str(), nullptr, nullptr), &std::free);
    if (!path) return Error::WrongDevice(FormatMsg(_("No device matches {}."), spec));
    return std::string(path.get());
  }
  struct stat st;
  if (::stat(spec.c_str(), &st) != 0)
    return Error::WrongDevice(
        FormatMsg(_("Device {} does not exist or access denied."), spec));
  return spec;
}

}  // namespace luks2ext
