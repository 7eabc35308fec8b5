// Unit-name escaping against systemd-escape(1)'s output (recorded from systemd 252), and the
// quoting of Exec and path-list arguments.
#include "luks2ext/systemd_unit.h"

#include <gtest/gtest.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <optional>
#include <string>
#include <utility>
#include <vector>

extern char** environ;

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

// Runs the installed systemd-escape with `args`; its output without the final newline, or
// nullopt when it is not installed or fails.
std::optional<std::string> RunSystemdEscape(std::vector<std::string> args) {
  static const char* const kPaths[] = {"/usr/bin/systemd-escape", "/bin/systemd-escape"};
  const char* tool = nullptr;
  for (const char* path : kPaths)
    if (access(path, X_OK) == 0) tool = path;
  if (!tool) return std::nullopt;
  args.insert(args.begin(), tool);
  std::vector<char*> argv;
  for (std::string& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);
  int out[2];
  if (pipe(out) != 0) return std::nullopt;
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
  posix_spawn_file_actions_addclose(&actions, out[0]);
  pid_t pid = 0;
  const int spawned = posix_spawn(&pid, tool, &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  close(out[1]);
  std::string text;
  char buffer[256];
  ssize_t n;
  while ((n = read(out[0], buffer, sizeof buffer)) > 0) text.append(buffer, n);
  close(out[0]);
  if (spawned != 0) return std::nullopt;
  int status = 0;
  waitpid(pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) return std::nullopt;
  if (text.ends_with('\n')) text.pop_back();
  return text;
}

// Names that trip escapers up: a leading '.', '-' or '\', UTF-8 and invalid UTF-8, blanks,
// specifier and variable characters, the characters systemd keeps.
const std::vector<std::string>& TrickyNames() {
  static const std::vector<std::string> names = {
      "home", ".foo", "..", ".", "..a", "a.", "a..b", "-", "--all", "-a-", "\\", "\\x2d",
      "a\\b", "\xc3\xbc" "ber", "\xe2\x82\xac", "\xff\xfe", "a b", "a\tb", "%i", "100%",
      "$HOME", ":", "a:b", "_", "a_b", "~x", "a@b", "a+b=c", "a#b", "a,b", "a;b", "'q'",
      "\"q\"", "a/b", "/lead", "trail/", "a//b", "A-Z_09", "x\x7f"};
  return names;
}

TEST(CrypttabSystemdUnit, EscapeAgreesWithTheInstalledSystemdEscape) {
  if (!RunSystemdEscape({"--", "x"})) GTEST_SKIP() << "systemd-escape is not installed";
  for (const std::string& name : TrickyNames()) {
    const std::optional<std::string> want = RunSystemdEscape({"--", name});
    ASSERT_TRUE(want.has_value()) << testing::PrintToString(name);
    EXPECT_EQ(SystemdEscape(name), *want) << testing::PrintToString(name);
  }
}

TEST(CrypttabSystemdUnit, EscapePathAgreesWithTheInstalledSystemdEscape) {
  if (!RunSystemdEscape({"--", "x"})) GTEST_SKIP() << "systemd-escape is not installed";
  for (const std::string& name : TrickyNames()) {
    if (name == "." || name == ".." || name.find('/') != std::string::npos) continue;
    // The unit names the generator derives from /dev/mapper/NAME.
    const std::string path = "/dev/mapper/" + name;
    const std::optional<std::string> want = RunSystemdEscape({"--path", "--", path});
    ASSERT_TRUE(want.has_value()) << testing::PrintToString(path);
    auto got = SystemdEscapePath(path);
    ASSERT_TRUE(got.ok()) << testing::PrintToString(path);
    EXPECT_EQ(*got, *want) << testing::PrintToString(path);
  }
  for (const char* path : {"/", "//", "/.hidden/x", "/dev//disk/./by-id/", "/-", "/a/-b/\\c"}) {
    const std::optional<std::string> want = RunSystemdEscape({"--path", "--", path});
    ASSERT_TRUE(want.has_value()) << path;
    auto got = SystemdEscapePath(path);
    ASSERT_TRUE(got.ok()) << path;
    EXPECT_EQ(*got, *want) << path;
  }
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

TEST(CrypttabSystemdUnit, FindControlCharacter) {
  using namespace std::string_literals;
  EXPECT_EQ(FindControlCharacter(""), std::string_view::npos);
  EXPECT_EQ(FindControlCharacter("plain\ttext \xc3\xbc ~"), std::string_view::npos);
  EXPECT_EQ(FindControlCharacter("a\rb"), 1u);
  EXPECT_EQ(FindControlCharacter("ab\n"), 2u);
  EXPECT_EQ(FindControlCharacter("a\0b"s), 1u);
  EXPECT_EQ(FindControlCharacter("\x1f"), 0u);
  EXPECT_EQ(FindControlCharacter("x\x7f"), 1u);
  // Bytes of UTF-8 (or not) above 0x7f are not control characters.
  EXPECT_EQ(FindControlCharacter("\x80\xff"), std::string_view::npos);
}

TEST(CrypttabSystemdUnit, CheckUnitTextRefusesAControlCharacterInAnyLine) {
  using namespace std::string_literals;
  EXPECT_TRUE(CheckUnitText("[Unit]\nDescription=x\n\n[Service]\nExecStart=/bin/true\n").ok());
  EXPECT_TRUE(CheckUnitText("").ok());
  EXPECT_TRUE(CheckUnitText("no final newline\tis fine").ok());
  for (const std::string& bad : {"[Unit]\nRequiresMountsFor=/k\rExecStartPre=/bin/evil\n"s,
                                 "[Unit]\nRequiresMountsFor=/k\0ExecStartPre=/bin/evil\n"s,
                                 "[Unit]\r\n"s, "[Unit]\nX=\x1b[2J\n"s, "[Unit]\nX=\x7f"s}) {
    const Status status = CheckUnitText(bad);
    ASSERT_FALSE(status.ok()) << testing::PrintToString(bad);
    EXPECT_EQ(status.error().code(), ExitCode::kWrongParameters);
    EXPECT_NE(status.error().message().find(bad.starts_with("[Unit]\r") ? "line 1" : "line 2"),
              std::string::npos)
        << status.error().message();
  }
}

}  // namespace
}  // namespace luks2ext
