// Unit-name escaping against systemd-escape(1)'s output (recorded from systemd 252), and the
// quoting of Exec and path-list arguments.
#include "luks2ext/systemd_unit.h"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

namespace luks2ext {
namespace {

TEST(CrypttabSystemdUnit, EscapeLikeSystemdEscape) {
  const std::vector<std::pair<std::string, std::string>> table = {
      {"home", "home"},
      {"a/b-c.d", "a-b\\x2dc.d"},
      {".foo", "\\x2efoo"},
      {"a.foo.", "a.foo."},
      {"x y$%\\", "x\\x20y\\x24\\x25\\x5c"},
      {"a:b_c", "a:b_c"},
      {"\xc3\xbc" "ber", "\\xc3\\xbcber"},
      {"", ""},
  };
  for (const auto& [in, want] : table) EXPECT_EQ(SystemdEscape(in), want) << in;
}

TEST(CrypttabSystemdUnit, EscapePathLikeSystemdEscapePath) {
  const std::vector<std::pair<std::string, std::string>> table = {
      {"/dev/sda", "dev-sda"},
      {"/dev//disk/by-uuid/ab-cd/", "dev-disk-by\\x2duuid-ab\\x2dcd"},
      {"/", "-"},
      {"//", "-"},
      {"/dev/./sda", "dev-sda"},
      {"/.hidden/x", "\\x2ehidden-x"},
      {"/dev/mapper/my-vol", "dev-mapper-my\\x2dvol"},
      {"/dev/disk/by-label/my\\x20disk", "dev-disk-by\\x2dlabel-my\\x5cx20disk"},
      {"/dev/disk/by-uuid/0f1e-AB", "dev-disk-by\\x2duuid-0f1e\\x2dAB"},
  };
  for (const auto& [in, want] : table) {
    auto got = SystemdEscapePath(in);
    ASSERT_TRUE(got.ok()) << in;
    EXPECT_EQ(*got, want) << in;
  }
  for (const char* bad : {"dev/sda", "", "/a/../b", "/.."}) {
    auto got = SystemdEscapePath(bad);
    ASSERT_FALSE(got.ok()) << bad;
    EXPECT_EQ(got.error().code(), ExitCode::kWrongParameters);
  }
}

TEST(CrypttabSystemdUnit, QuoteExecArgument) {
  EXPECT_EQ(QuoteExecArgument("home"), "\"home\"");
  EXPECT_EQ(QuoteExecArgument("a%i$HOME"), "\"a%%i$$HOME\"");
  EXPECT_EQ(QuoteExecArgument("q\"b\\s"), "\"q\\\"b\\\\s\"");
  EXPECT_EQ(QuoteExecArgument(""), "\"\"");
}

TEST(CrypttabSystemdUnit, EscapeUnitPath) {
  EXPECT_EQ(EscapeUnitPath("/etc/keys/a.key"), "/etc/keys/a.key");
  EXPECT_EQ(EscapeUnitPath("/etc/100%/k"), "/etc/100%%/k");
  for (const char* bad : {"/a b", "/a\tb", "/a\\b", "/a\"b", "/a'b"})
    EXPECT_FALSE(EscapeUnitPath(bad).has_value()) << bad;
}

}  // namespace
}  // namespace luks2ext
