// ParseCryptTable: dm-crypt's table line as the kernel reports it, parsed strictly; a
// malformed line is an error, never zeros.
#include "activation/crypt_table.h"

#include <gtest/gtest.h>

#include <string>

namespace luks2ext {
namespace {

// 64 bytes of key in hex, a pattern no other field contains.
const std::string kHexKey = [] {
  std::string key;
  for (int i = 0; i < 64; ++i) key += "a5";
  return key;
}();

std::string Table(const std::string& tail) {
  return "aes-xts-plain64 " + kHexKey + " 0 251:3 262144" + tail;
}

TEST(CryptTableTest, HexKeyWithoutOptionalArguments) {
  auto t = ParseCryptTable(Table(""));
  ASSERT_TRUE(t.ok()) << t.error().message();
  EXPECT_EQ(t->cipher, "aes-xts-plain64");
  EXPECT_EQ(t->key_bytes, 64u);
  EXPECT_FALSE(t->key_in_keyring);
  EXPECT_EQ(t->iv_offset, 0u);
  EXPECT_EQ(t->device, "251:3");
  EXPECT_EQ(t->offset_sectors, 262144u);
  EXPECT_EQ(t->sector_size, 512u);
  EXPECT_TRUE(t->feature_args.empty());
}

TEST(CryptTableTest, OptionalArgumentsAndSectorSize) {
  auto t = ParseCryptTable(
      Table(" 4 allow_discards no_read_workqueue no_write_workqueue sector_size:4096"));
  ASSERT_TRUE(t.ok()) << t.error().message();
  EXPECT_EQ(t->sector_size, 4096u);
  EXPECT_EQ(t->feature_args, (std::vector<std::string>{"allow_discards", "no_read_workqueue",
                                                       "no_write_workqueue", "sector_size:4096"}));
}

TEST(CryptTableTest, KeyringReference) {
  auto t = ParseCryptTable(
      "aes-xts-plain64 :64:logon:cryptsetup:0b5e1d0c-6f7e-4c6b-9a8c-2f2f6a3c9e11-d0 0 8:16 "
      "32768 2 no_read_workqueue no_write_workqueue");
  ASSERT_TRUE(t.ok()) << t.error().message();
  EXPECT_TRUE(t->key_in_keyring);
  EXPECT_EQ(t->key_bytes, 64u);
  EXPECT_EQ(t->offset_sectors, 32768u);
  EXPECT_EQ(t->feature_args.size(), 2u);
}

TEST(CryptTableTest, CipherNullHasNoKey) {
  auto t = ParseCryptTable("cipher_null-ecb - 0 7:0 0");
  ASSERT_TRUE(t.ok()) << t.error().message();
  EXPECT_EQ(t->key_bytes, 0u);
  EXPECT_FALSE(t->key_in_keyring);
}

TEST(CryptTableTest, LargestValuesStillFit) {
  auto t = ParseCryptTable("aes-xts-plain64 " + kHexKey +
                           " 18446744073709551615 251:3 18446744073709551615");
  ASSERT_TRUE(t.ok()) << t.error().message();
  EXPECT_EQ(t->iv_offset, 18446744073709551615u);
  EXPECT_EQ(t->offset_sectors, 18446744073709551615u);
}

// Nothing of the key is kept: no field of the result holds any of its characters' run.
TEST(CryptTableTest, TheKeyIsNotKept) {
  auto t = ParseCryptTable(Table(" 1 allow_discards"));
  ASSERT_TRUE(t.ok()) << t.error().message();
  const std::string piece = kHexKey.substr(0, 8);
  EXPECT_EQ(t->cipher.find(piece), std::string::npos);
  EXPECT_EQ(t->device.find(piece), std::string::npos);
  for (const auto& arg : t->feature_args) EXPECT_EQ(arg.find(piece), std::string::npos);
}

struct BadTable {
  const char* why;
  std::string params;
};

TEST(CryptTableTest, MalformedTablesAreErrorsNotZeros) {
  const BadTable cases[] = {
      {"empty", ""},
      {"cipher only", "aes-xts-plain64"},
      {"no offset", "aes-xts-plain64 " + kHexKey + " 0 251:3"},
      {"no device, no offset", "aes-xts-plain64 " + kHexKey + " 0"},
      {"offset is junk", Table("").replace(Table("").size() - 6, 6, "26x144")},
      {"offset is negative", "aes-xts-plain64 " + kHexKey + " 0 251:3 -1"},
      {"offset has a sign", "aes-xts-plain64 " + kHexKey + " 0 251:3 +5"},
      {"offset overflows", "aes-xts-plain64 " + kHexKey + " 0 251:3 18446744073709551616"},
      {"offset in hex", "aes-xts-plain64 " + kHexKey + " 0 251:3 0x40000"},
      {"iv_offset is junk", "aes-xts-plain64 " + kHexKey + " zero 251:3 262144"},
      {"iv_offset overflows", "aes-xts-plain64 " + kHexKey + " 99999999999999999999 251:3 0"},
      {"argument count is junk", Table(" two allow_discards same_cpu_crypt")},
      {"fewer arguments than counted", Table(" 3 allow_discards same_cpu_crypt")},
      {"more arguments than counted", Table(" 1 allow_discards same_cpu_crypt")},
      {"count without arguments", Table(" 1")},
      {"zero count with arguments", Table(" 0 allow_discards")},
      {"argument count overflows", Table(" 18446744073709551617 allow_discards")},
      {"sector_size is junk", Table(" 1 sector_size:4k")},
      {"sector_size is empty", Table(" 1 sector_size:")},
      {"sector_size overflows 32 bits", Table(" 1 sector_size:4294971392")},
      {"sector_size not a power of two", Table(" 1 sector_size:1000")},
      {"sector_size zero", Table(" 1 sector_size:0")},
      {"hex key of odd length", "aes-xts-plain64 abc 0 251:3 0"},
      {"hex key with a non-hex digit", "aes-xts-plain64 a5g5 0 251:3 0"},
      {"keyring size is junk", "aes-xts-plain64 :6x4:logon:cryptsetup:u-d0 0 251:3 0"},
      {"keyring size overflows", "aes-xts-plain64 :18446744073709551616:logon:c:u 0 251:3 0"},
      {"keyring size missing", "aes-xts-plain64 ::logon:cryptsetup:u-d0 0 251:3 0"},
      {"keyring without description", "aes-xts-plain64 :64:logon 0 251:3 0"},
      {"keyring with empty type", "aes-xts-plain64 :64::cryptsetup:u 0 251:3 0"},
      {"double space", "aes-xts-plain64  " + kHexKey + " 0 251:3 0"},
      {"trailing space", Table(" ")},
      {"leading space", " " + Table("")},
      {"empty device", "aes-xts-plain64 " + kHexKey + " 0  0"},
  };
  for (const BadTable& c : cases) {
    auto t = ParseCryptTable(c.params);
    EXPECT_FALSE(t.ok()) << c.why << ": accepted \"" << c.params << "\"";
    if (!t.ok()) {
      EXPECT_EQ(t.error().code(), ExitCode::kWrongDevice) << c.why;
      EXPECT_EQ(t.error().message().find(kHexKey.substr(0, 8)), std::string::npos)
          << c.why << ": the message shows the key";
    }
  }
}

// Every prefix of a good line that stops inside a required field is refused.
TEST(CryptTableTest, EveryTruncationInsideTheRequiredFieldsIsRefused) {
  const std::string good = Table(" 1 allow_discards");
  const size_t required_end = Table("").size();
  for (size_t n = 0; n < required_end; ++n) {
    const std::string cut = good.substr(0, n);
    auto t = ParseCryptTable(cut);
    if (t.ok()) {
      // Only a cut inside the last number can look complete; it must then read as that prefix.
      EXPECT_GT(n, required_end - 6) << "accepted a line cut at " << n;
    }
  }
  EXPECT_FALSE(ParseCryptTable(good.substr(0, required_end + 2)).ok())
      << "a count without its arguments still parses";
}

}  // namespace
}  // namespace luks2ext
