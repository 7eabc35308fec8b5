#include "luks2ext/number.h"

#include <array>
#include <limits>
#include <utility>

namespace luks2ext {
namespace {

constexpr std::uint64_t kMax = std::numeric_limits<std::uint64_t>::max();

constexpr std::array<std::pair<std::string_view, std::uint64_t>, 15> kUnits = {{
    {"b", 1},
    {"B", 1},
    {"s", 512},
    {"S", 512},
    {"k", 1ULL << 10},
    {"K", 1ULL << 10},
    {"KiB", 1ULL << 10},
    {"m", 1ULL << 20},
    {"M", 1ULL << 20},
    {"MiB", 1ULL << 20},
    {"g", 1ULL << 30},
    {"G", 1ULL << 30},
    {"GiB", 1ULL << 30},
    {"t", 1ULL << 40},
    {"TiB", 1ULL << 40},
}};

}  // namespace

std::optional<std::uint64_t> ParseDecimal(std::string_view text) {
  if (text.empty()) return std::nullopt;
  std::uint64_t value = 0;
  for (const char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    const auto digit = static_cast<std::uint64_t>(c - '0');
    if (value > (kMax - digit) / 10) return std::nullopt;  // value * 10 + digit > kMax
    value = value * 10 + digit;
  }
  return value;
}

std::optional<std::uint64_t> ParseDecimalAtMost(std::string_view text, std::uint64_t max) {
  const std::optional<std::uint64_t> value = ParseDecimal(text);
  if (!value || *value > max) return std::nullopt;
  return value;
}

std::optional<std::uint64_t> ParseSizeWithUnit(std::string_view text) {
  std::size_t digits = 0;
  while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') ++digits;
  const std::optional<std::uint64_t> value = ParseDecimal(text.substr(0, digits));
  if (!value) return std::nullopt;
  const std::string_view suffix = text.substr(digits);
  std::uint64_t unit = 0;
  if (suffix.empty()) unit = 1;
  if (suffix == "T") unit = 1ULL << 40;
  for (const auto& [name, multiplier] : kUnits)
    if (suffix == name) unit = multiplier;
  if (unit == 0) return std::nullopt;
  if (*value > kMax / unit) return std::nullopt;  // the product would wrap
  return *value * unit;
}

}  // namespace luks2ext
