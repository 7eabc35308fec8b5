// The one number parser for every input zcryptsetup reads: the command line, the LUKS2 JSON,
// crypttab and device-mapper tables. Strict by design: unsigned decimal digits only (no sign,
// no blanks, no "0x", no trailing text), and a value or a unit product that does not fit in 64
// bits is refused, never wrapped.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace luks2ext {

// A non-empty run of decimal digits whose value fits in 64 bits; nullopt otherwise.
std::optional<std::uint64_t> ParseDecimal(std::string_view text);

// ParseDecimal, and the value must not exceed `max`.
std::optional<std::uint64_t> ParseDecimalAtMost(std::string_view text, std::uint64_t max);

// A size in bytes: decimal digits, then an optional unit, as cryptsetup's size options take
// them: none, "b" or "B" (bytes), "s" or "S" (512-byte sectors), "k"/"K"/"KiB",
// "m"/"M"/"MiB", "g"/"G"/"GiB", "t"/"T"/"TiB" (powers of 1024). nullopt when malformed or
// when digits times unit overflows 64 bits.
std::optional<std::uint64_t> ParseSizeWithUnit(std::string_view text);

}  // namespace luks2ext
