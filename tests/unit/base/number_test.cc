#include "luks2ext/number.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <optional>
#include <string_view>

namespace luks2ext {
namespace {

constexpr std::uint64_t kMax = UINT64_MAX;

TEST(ParseDecimalTest, AcceptsDigitsUpToTheLargest64BitValue) {
  EXPECT_EQ(ParseDecimal("0"), 0u);
  EXPECT_EQ(ParseDecimal("007"), 7u);
  EXPECT_EQ(ParseDecimal("18446744073709551615"), kMax);
}

TEST(ParseDecimalTest, RefusesEverythingElse) {
  const std::string_view bad_inputs[] = {"",    "-1",  "+1",  " 1",
                                         "1 ",  "0x10", "1e3", "12a",
                                         "18446744073709551616", "99999999999999999999999",
                                         "1.0", std::string_view("1\0", 2)};
  for (std::string_view bad : bad_inputs) {
    EXPECT_EQ(ParseDecimal(bad), std::nullopt) << "'" << bad << "'";
  }
}

TEST(ParseDecimalTest, AtMostChecksTheBound) {
  EXPECT_EQ(ParseDecimalAtMost("31", 31), 31u);
  EXPECT_EQ(ParseDecimalAtMost("32", 31), std::nullopt);
  EXPECT_EQ(ParseDecimalAtMost("4294967296", UINT32_MAX), std::nullopt);
}

TEST(ParseSizeWithUnitTest, TakesCryptsetupsUnits) {
  EXPECT_EQ(ParseSizeWithUnit("16384"), 16384u);
  EXPECT_EQ(ParseSizeWithUnit("16k"), 16384u);
  EXPECT_EQ(ParseSizeWithUnit("16K"), 16384u);
  EXPECT_EQ(ParseSizeWithUnit("16KiB"), 16384u);
  EXPECT_EQ(ParseSizeWithUnit("4M"), 4u << 20);
  EXPECT_EQ(ParseSizeWithUnit("2G"), 2ULL << 30);
  EXPECT_EQ(ParseSizeWithUnit("1T"), 1ULL << 40);
  EXPECT_EQ(ParseSizeWithUnit("8s"), 4096u);
  EXPECT_EQ(ParseSizeWithUnit("7b"), 7u);
}

// The bug this parser replaced: 18014398509482000k wrapped to 16k.
TEST(ParseSizeWithUnitTest, RefusesAProductThatWouldWrap) {
  EXPECT_EQ(ParseSizeWithUnit("18014398509482000k"), std::nullopt);
  EXPECT_EQ(ParseSizeWithUnit("18014398509481983k"), 18014398509481983ULL * 1024);
  EXPECT_EQ(ParseSizeWithUnit("18014398509481984k"), std::nullopt);
  EXPECT_EQ(ParseSizeWithUnit("36028797018963968s"), std::nullopt);
  EXPECT_EQ(ParseSizeWithUnit("16777216T"), std::nullopt);
}

TEST(ParseSizeWithUnitTest, RefusesMalformedSizes) {
  const std::string_view bad_inputs[] = {"",      "k",    "-16k", "+16k", "16 k",   "16kb",
                                         "16KB",  "16x",  "0x10k", "16k ", "1.5M", "16Mi"};
  for (std::string_view bad : bad_inputs) {
    EXPECT_EQ(ParseSizeWithUnit(bad), std::nullopt) << "'" << bad << "'";
  }
}

}  // namespace
}  // namespace luks2ext
