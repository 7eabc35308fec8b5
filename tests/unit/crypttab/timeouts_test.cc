// crypttab's timeout= and keyfile-timeout= (time spans in seconds), and the one rule of which
// entries zcryptsetup opens (CheckZcryptsetupOpens), shared by the generator and crypttab open.
#include <gtest/gtest.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "luks2ext/crypttab.h"

namespace luks2ext {
namespace {

TEST(CrypttabTimeSpan, GoodSpans) {
  const std::vector<std::pair<std::string, uint64_t>> table = {
      {"0", 0},
      {"30", 30},
      {"30s", 30},
      {"30sec", 30},
      {"1min", 60},
      {"2min30s", 150},
      {"2min30", 150},  // a last part without a unit is seconds
      {"1h", 3600},
      {"1h1min1s", 3661},
      {"18446744073709551615", UINT64_MAX},
  };
  for (const auto& [text, seconds] : table) {
    SCOPED_TRACE(text);
    const std::optional<uint64_t> got = ParseCrypttabTimeSpan(text);
    ASSERT_TRUE(got.has_value());
    EXPECT_EQ(*got, seconds);
  }
}

TEST(CrypttabTimeSpan, BadSpans) {
  for (const std::string text :
       {"", "s", "min", "-1", "+1", "1.5", "1.5s", "1m", "1ms", "1d", "1 min", "10x", "1mins",
        "1s s", "0x10", "30 ", "18446744073709551616", "5124095576030432h"}) {
    SCOPED_TRACE(text);
    EXPECT_FALSE(ParseCrypttabTimeSpan(text).has_value());
  }
}

TEST(CrypttabTimeouts, DefaultsAreSystemds) {
  const CrypttabOptions o;
  EXPECT_EQ(o.timeout_sec, 0u);  // no timeout
  EXPECT_FALSE(o.keyfile_timeout_sec.has_value());  // a missing key file is an error
}

TEST(CrypttabTimeouts, OptionsAreParsed) {
  std::vector<CrypttabProblem> problems;
  auto entries = ParseCrypttab(
      "a /dev/sda - timeout=90s,keyfile-timeout=10\n"
      "b /dev/sdb /k timeout=0,keyfile-timeout=0\n"
      "c /dev/sdc - timeout=1,timeout=2min\n",
      &problems);
  ASSERT_TRUE(entries.ok());
  EXPECT_TRUE(problems.empty());
  ASSERT_EQ(entries->size(), 3u);
  EXPECT_EQ((*entries)[0].options.timeout_sec, 90u);
  EXPECT_EQ((*entries)[0].options.keyfile_timeout_sec, std::optional<uint64_t>(10));
  EXPECT_EQ((*entries)[1].options.timeout_sec, 0u);
  // keyfile-timeout=0 is set (do not wait), unlike an absent option.
  EXPECT_EQ((*entries)[1].options.keyfile_timeout_sec, std::optional<uint64_t>(0));
  EXPECT_EQ((*entries)[2].options.timeout_sec, 120u);  // the last one counts
  for (const CrypttabEntry& e : *entries) EXPECT_TRUE(e.options.ignored.empty());
}

TEST(CrypttabTimeouts, BadValuesMakeABadLine) {
  const std::vector<std::pair<std::string, std::string>> table = {
      {"a /dev/sda - timeout=", "timeout"},
      {"a /dev/sda - timeout", "needs a value"},
      {"a /dev/sda - timeout=1d", "'1d'"},
      {"a /dev/sda - keyfile-timeout=soon", "'soon'"},
      {"a /dev/sda - keyfile-timeout", "needs a value"},
      {"a /dev/sda - keyfile-timeout=1.5s", "'1.5s'"},
  };
  for (const auto& [text, part] : table) {
    SCOPED_TRACE(text);
    std::vector<CrypttabProblem> problems;
    auto entries = ParseCrypttab(text + "\ngood /dev/sdz\n", &problems);
    ASSERT_TRUE(entries.ok());
    ASSERT_EQ(problems.size(), 1u);
    EXPECT_EQ(problems[0].line, 1);
    EXPECT_NE(problems[0].message.find(part), std::string::npos) << problems[0].message;
    ASSERT_EQ(entries->size(), 1u);
    EXPECT_EQ((*entries)[0].name, "good");
  }
}

// header= is zcryptsetup's to open (crypttab open, the generator's unit), on a device or in
// a file, kept as written; only the systemd-only options still leave an entry to
// systemd-cryptsetup.
TEST(CrypttabOpens, DetachedHeaderIsOpenedByZcryptsetup) {
  auto entries = ParseCrypttab(
      "plain /dev/sda - force-inline\n"
      "hdr /dev/sdb - force-inline,header=/boot/h.img\n"
      "dev /dev/sdc - force-inline,header=/dev/disk/by-partlabel/hdr\n"
      "odd /dev/sdd - force-inline,header=/boot/a\\b'c%1$x\n"
      "tpm /dev/sde - force-inline,header=/boot/h.img,tpm2-device=/dev/tpmrm0\n",
      nullptr);
  ASSERT_TRUE(entries.ok());
  ASSERT_EQ(entries->size(), 5u);
  for (size_t i = 0; i < 4; ++i) {
    SCOPED_TRACE((*entries)[i].name);
    EXPECT_TRUE(CheckZcryptsetupOpens((*entries)[i]).ok());
  }
  EXPECT_EQ((*entries)[1].options.header, "/boot/h.img");
  EXPECT_EQ((*entries)[2].options.header, "/dev/disk/by-partlabel/hdr");
  EXPECT_EQ((*entries)[3].options.header, "/boot/a\\b'c%1$x");
  const Status refused = CheckZcryptsetupOpens((*entries)[4]);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code(), ExitCode::kWrongParameters);
  EXPECT_NE(refused.error().message().find("tpm2-device=/dev/tpmrm0"), std::string::npos);
  EXPECT_EQ(refused.error().message().find("header"), std::string::npos);
}

}  // namespace
}  // namespace luks2ext
