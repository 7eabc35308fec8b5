// The one number parser (luks2ext/number.h): ParseDecimal, ParseDecimalAtMost and
// ParseSizeWithUnit, against an independent reference computed in 128 bits.
//
// Input: the text to parse.
//
// Oracles: no crash or sanitizer report; each function returns exactly what the reference
// says: the value when the text is a non-empty run of ASCII digits (then an optional unit, for
// sizes) whose value (times the unit) fits in 64 bits, nullopt otherwise.
#include <optional>
#include <string_view>

#include "fuzz_check.h"
#include "luks2ext/number.h"

using namespace luks2ext;

namespace {

using u128 = unsigned __int128;
constexpr u128 kMax64 = UINT64_MAX;

// The value of a run of digits, saturated just above 2^64 - 1 (leading zeros may be many).
std::optional<u128> Digits(std::string_view text) {
  if (text.empty()) return std::nullopt;
  u128 value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + static_cast<unsigned>(c - '0');
    if (value > kMax64) value = kMax64 + 1;  // stays above the limit from here on
  }
  return value;
}

std::optional<uint64_t> ReferenceDecimal(std::string_view text) {
  const std::optional<u128> value = Digits(text);
  if (!value || *value > kMax64) return std::nullopt;
  return static_cast<uint64_t>(*value);
}

// cryptsetup's size units, as number.h lists them.
std::optional<u128> Unit(std::string_view suffix) {
  struct Entry { std::string_view name; unsigned shift; };
  static constexpr Entry kUnits[] = {
      {"", 0},   {"b", 0},  {"B", 0},  {"s", 9},   {"S", 9},  {"k", 10}, {"K", 10},
      {"KiB", 10}, {"m", 20}, {"M", 20}, {"MiB", 20}, {"g", 30}, {"G", 30}, {"GiB", 30},
      {"t", 40}, {"T", 40}, {"TiB", 40}};
  for (const Entry& unit : kUnits)
    if (suffix == unit.name) return u128{1} << unit.shift;
  return std::nullopt;
}

std::optional<uint64_t> ReferenceSize(std::string_view text) {
  size_t digits = 0;
  while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') ++digits;
  const std::optional<u128> value = Digits(text.substr(0, digits));
  const std::optional<u128> unit = Unit(text.substr(digits));
  if (!value || !unit || *value > kMax64) return std::nullopt;
  const u128 product = *value * *unit;  // < 2^104: no overflow
  if (product > kMax64) return std::nullopt;
  return static_cast<uint64_t>(product);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text = fuzz::Text(data, size);

  const std::optional<uint64_t> decimal = ParseDecimal(text);
  FUZZ_CHECK(decimal == ReferenceDecimal(text));

  // ParseDecimalAtMost around the value: at, below and above the limit.
  const uint64_t v = decimal.value_or(0);
  for (uint64_t max : {uint64_t{0}, v - 1, v, v + 1, uint64_t{UINT64_MAX}}) {
    const std::optional<uint64_t> at_most = ParseDecimalAtMost(text, max);
    FUZZ_CHECK(at_most == (decimal && *decimal <= max ? decimal : std::nullopt));
  }

  FUZZ_CHECK(ParseSizeWithUnit(text) == ReferenceSize(text));
  return 0;
}
