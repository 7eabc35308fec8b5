// crypttab's token options (issue 11): tpm2-device=auto, fido2-device=auto, pkcs11-uri=auto,
// token-timeout=, headless=, tpm2-pin=, and the entries zcryptsetup leaves to
// systemd-cryptsetup because they need its own TPM2/FIDO2/PKCS#11 code.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "luks2ext/crypttab.h"

namespace luks2ext {
namespace {

CrypttabEntry One(const std::string& line) {
  std::vector<CrypttabProblem> problems;
  auto entries = ParseCrypttab(line + "\n", &problems);
  EXPECT_TRUE(entries.ok());
  EXPECT_TRUE(problems.empty()) << line << ": " << (problems.empty() ? "" : problems[0].message);
  if (!entries.ok() || entries->size() != 1) return {};
  return (*entries)[0];
}

std::string ProblemOf(const std::string& line) {
  std::vector<CrypttabProblem> problems;
  auto entries = ParseCrypttab(line + "\n", &problems);
  EXPECT_TRUE(entries.ok());
  EXPECT_TRUE(entries->empty()) << line;
  return problems.empty() ? "" : problems[0].message;
}

TEST(CrypttabTokenOptions, DefaultsAreSystemds) {
  const CrypttabOptions o = One("v /dev/sda - force-inline").options;
  EXPECT_TRUE(o.token_types.empty());
  EXPECT_EQ(o.token_timeout_sec, 30u);  // systemd's token-timeout default
  EXPECT_FALSE(o.headless);
  EXPECT_TRUE(o.systemd_only.empty());
  EXPECT_TRUE(o.ignored.empty());
}

TEST(CrypttabTokenOptions, AutoDevicesAddTheirTokenTypeInOrderOnce) {
  const CrypttabOptions o =
      One("v /dev/sda - force-inline,fido2-device=auto,tpm2-device=auto,pkcs11-uri=auto,"
          "tpm2-device=auto")
          .options;
  EXPECT_EQ(o.token_types,
            (std::vector<std::string>{"systemd-fido2", "systemd-tpm2", "systemd-pkcs11"}));
  EXPECT_TRUE(o.systemd_only.empty());
  EXPECT_TRUE(o.ignored.empty());
  EXPECT_TRUE(CheckZcryptsetupOpens(One("v /dev/sda - force-inline,tpm2-device=auto")).ok());
}

TEST(CrypttabTokenOptions, TimeoutHeadlessAndPin) {
  CrypttabOptions o =
      One("v /dev/sda - tpm2-device=auto,token-timeout=2min,headless=yes,tpm2-pin=true").options;
  EXPECT_EQ(o.token_timeout_sec, 120u);
  EXPECT_TRUE(o.headless);
  EXPECT_TRUE(o.ignored.empty());
  EXPECT_TRUE(o.systemd_only.empty());
  EXPECT_EQ(One("v /dev/sda - token-timeout=0").options.token_timeout_sec, 0u);
  EXPECT_TRUE(One("v /dev/sda - headless").options.headless);
  EXPECT_FALSE(One("v /dev/sda - headless=0").options.headless);
  EXPECT_FALSE(One("v /dev/sda - headless=yes,headless=off").options.headless);
}

TEST(CrypttabTokenOptions, BadValuesAreBadLines) {
  EXPECT_NE(ProblemOf("v /dev/sda - token-timeout=soon").find("token-timeout"), std::string::npos);
  EXPECT_NE(ProblemOf("v /dev/sda - token-timeout").find("needs a value"), std::string::npos);
  EXPECT_NE(ProblemOf("v /dev/sda - headless=maybe").find("boolean"), std::string::npos);
  EXPECT_NE(ProblemOf("v /dev/sda - tpm2-pin=2").find("boolean"), std::string::npos);
  EXPECT_NE(ProblemOf("v /dev/sda - tpm2-device=").find("needs a value"), std::string::npos);
}

// What needs systemd-cryptsetup's own code: a device path or URI instead of auto, PCR policies,
// FIDO2 credentials. The generator then writes no unit, crypttab open refuses, naming them.
TEST(CrypttabTokenOptions, SystemdOnlyOptionsLeaveTheEntryToSystemd) {
  const std::vector<std::string> lines = {
      "v /dev/sda - force-inline,tpm2-device=/dev/tpmrm0",
      "v /dev/sda - force-inline,fido2-device=/dev/hidraw1",
      "v /dev/sda - force-inline,pkcs11-uri=pkcs11:token=x",
      "v /dev/sda - force-inline,tpm2-device=auto,tpm2-pcrs=7+8",
      "v /dev/sda - force-inline,tpm2-device=auto,tpm2-signature=/etc/sig.json",
      "v /dev/sda - force-inline,tpm2-device=auto,tpm2-measure-pcr=yes",
      "v /dev/sda - force-inline,tpm2-device=auto,tpm2-measure-bank=sha256",
      "v /dev/sda - force-inline,tpm2-device=auto,tpm2-pcrlock=/var/lib/pcrlock.json",
      "v /dev/sda - force-inline,fido2-cid=AAAA",
      "v /dev/sda - force-inline,fido2-device=auto,fido2-rp=io.systemd.cryptsetup",
  };
  for (const std::string& line : lines) {
    SCOPED_TRACE(line);
    const CrypttabEntry entry = One(line);
    ASSERT_EQ(entry.options.systemd_only.size(), 1u);
    EXPECT_TRUE(entry.options.ignored.empty()) << "a systemd-only option is not 'unknown'";
    const Status refused = CheckZcryptsetupOpens(entry);
    ASSERT_FALSE(refused.ok());
    EXPECT_EQ(refused.error().code(), ExitCode::kWrongParameters);
    EXPECT_NE(refused.error().message().find(entry.options.systemd_only[0]), std::string::npos)
        << refused.error().message();
    EXPECT_NE(refused.error().message().find("systemd-cryptsetup"), std::string::npos);
  }
  // A path names no token type of ours: nothing to try.
  EXPECT_TRUE(One("v /dev/sda - tpm2-device=/dev/tpmrm0").options.token_types.empty());
}

}  // namespace
}  // namespace luks2ext
