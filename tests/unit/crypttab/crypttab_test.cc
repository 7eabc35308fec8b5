// ParseCrypttab over tables of good and bad lines, whole files (comments, CRLF, duplicates,
// line numbers, very long lines), and device specs.
#include "luks2ext/crypttab.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

namespace luks2ext {
namespace {

// What a good line must give; options not listed keep their defaults.
struct GoodLine {
  std::string text;
  std::string name, device, key_file;
  CrypttabOptions options;
};

CrypttabOptions Defaults() { return {}; }

CrypttabOptions With(void (*edit)(CrypttabOptions*)) {
  CrypttabOptions o;
  edit(&o);
  return o;
}

void ExpectSameOptions(const CrypttabOptions& want, const CrypttabOptions& got,
                       const std::string& where) {
  SCOPED_TRACE(where);
  EXPECT_EQ(want.luks, got.luks);
  EXPECT_EQ(want.force_inline, got.force_inline);
  EXPECT_EQ(want.no_read_workqueue, got.no_read_workqueue);
  EXPECT_EQ(want.no_write_workqueue, got.no_write_workqueue);
  EXPECT_EQ(want.same_cpu_crypt, got.same_cpu_crypt);
  EXPECT_EQ(want.submit_from_crypt_cpus, got.submit_from_crypt_cpus);
  EXPECT_EQ(want.discard, got.discard);
  EXPECT_EQ(want.read_only, got.read_only);
  EXPECT_EQ(want.header, got.header);
  EXPECT_EQ(want.keyfile_offset, got.keyfile_offset);
  EXPECT_EQ(want.keyfile_size, got.keyfile_size);
  EXPECT_EQ(want.tries, got.tries);
  EXPECT_EQ(want.noauto, got.noauto);
  EXPECT_EQ(want.nofail, got.nofail);
  EXPECT_EQ(want.ignored, got.ignored);
}

TEST(CrypttabParse, DefaultsAreSystemds) {
  const CrypttabOptions o;
  EXPECT_EQ(o.tries, 3u);
  EXPECT_FALSE(o.force_inline);
  EXPECT_EQ(o.keyfile_size, 0u);
  EXPECT_TRUE(o.header.empty());
}

TEST(CrypttabParse, GoodLines) {
  const std::vector<GoodLine> table = {
      {"home /dev/sda1", "home", "/dev/sda1", "", Defaults()},
      {"home\t/dev/sda1\t/etc/keys/home.key\tluks", "home", "/dev/sda1", "/etc/keys/home.key",
       With([](CrypttabOptions* o) { o->luks = true; })},
      {"   home  \t UUID=0f1e-ab \t\t -   discard   ", "home", "UUID=0f1e-ab", "",
       With([](CrypttabOptions* o) { o->discard = true; })},
      {"home PARTUUID=1234 none", "home", "PARTUUID=1234", "", Defaults()},
      {"data LABEL=big PARTLABEL=keys", "data", "LABEL=big", "PARTLABEL=keys", Defaults()},
      {"all /dev/sdb - luks,force-inline,no-read-workqueue,no-write-workqueue,discard,readonly,"
       "header=/boot/all.hdr,keyfile-offset=512,keyfile-size=64,tries=0,noauto,nofail",
       "all", "/dev/sdb", "",
       With([](CrypttabOptions* o) {
         o->luks = o->force_inline = o->no_read_workqueue = o->no_write_workqueue = true;
         o->discard = o->read_only = o->noauto = o->nofail = true;
         o->header = "/boot/all.hdr";
         o->keyfile_offset = 512;
         o->keyfile_size = 64;
         o->tries = 0;
       })},
      {"perf /dev/sdd - same-cpu-crypt,submit-from-crypt-cpus", "perf", "/dev/sdd", "",
       With([](CrypttabOptions* o) { o->same_cpu_crypt = o->submit_from_crypt_cpus = true; })},
      {"ro /dev/sdc /k read-only", "ro", "/dev/sdc", "/k",
       With([](CrypttabOptions* o) { o->read_only = true; })},
      {"t /dev/sdc - tries=10,keyfile-offset=18446744073709551615", "t", "/dev/sdc", "",
       With([](CrypttabOptions* o) {
         o->tries = 10;
         o->keyfile_offset = UINT64_MAX;
       })},
      {"t /dev/sdc - tries=4294967295", "t", "/dev/sdc", "",
       With([](CrypttabOptions* o) { o->tries = 4294967295u; })},
      // Unknown options are kept as written, in order; known ones still apply.
      {"u /dev/sdd - cipher=aes-xts-plain64,luks,x-initrd.attach,size=256", "u", "/dev/sdd", "",
       With([](CrypttabOptions* o) {
         o->luks = true;
         o->ignored = {"cipher=aes-xts-plain64", "x-initrd.attach", "size=256"};
       })},
      // Empty options between commas are skipped; "-" means no options; the last value wins.
      {"e /dev/sde - ,luks,,discard,", "e", "/dev/sde", "",
       With([](CrypttabOptions* o) { o->luks = o->discard = true; })},
      {"e /dev/sde /key -", "e", "/dev/sde", "/key", Defaults()},
      {"e /dev/sde - tries=1,tries=5", "e", "/dev/sde", "",
       With([](CrypttabOptions* o) { o->tries = 5; })},
      // '#' only starts a comment at the start of a line.
      {"h#1 /dev/sdf /k#ey", "h#1", "/dev/sdf", "/k#ey", Defaults()},
      {"my-vol.1:x_y /dev/disk/by-id/ata-X_Y-part1", "my-vol.1:x_y",
       "/dev/disk/by-id/ata-X_Y-part1", "", Defaults()},
      {"crlf /dev/sdg - discard\r", "crlf", "/dev/sdg", "",
       With([](CrypttabOptions* o) { o->discard = true; })},
      {std::string(127, 'n') + " /dev/sdh", std::string(127, 'n'), "/dev/sdh", "", Defaults()},
      // device-mapper takes names that look like options; the units pass them after "--".
      {"--all /dev/sdi", "--all", "/dev/sdi", "", Defaults()},
      {"-q /dev/sdi", "-q", "/dev/sdi", "", Defaults()},
      {".hidden /dev/sdi", ".hidden", "/dev/sdi", "", Defaults()},
      {"controller /dev/sdi", "controller", "/dev/sdi", "", Defaults()},
  };
  for (const GoodLine& row : table) {
    SCOPED_TRACE(row.text);
    std::vector<CrypttabProblem> problems;
    auto entries = ParseCrypttab(row.text, &problems);
    ASSERT_TRUE(entries.ok());
    EXPECT_TRUE(problems.empty()) << (problems.empty() ? "" : problems[0].message);
    ASSERT_EQ(entries->size(), 1u);
    const CrypttabEntry& e = (*entries)[0];
    EXPECT_EQ(e.name, row.name);
    EXPECT_EQ(e.device, row.device);
    EXPECT_EQ(e.key_file, row.key_file);
    EXPECT_EQ(e.line, 1);
    ExpectSameOptions(row.options, e.options, row.text);
  }
}

struct BadLine {
  std::string text;
  std::string message_part;  // a word the problem's (untranslated) message must hold
};

TEST(CrypttabParse, BadLinesAreProblemsAndSkipped) {
  const std::vector<BadLine> table = {
      {"home", "Missing device"},
      {"  home  \t ", "Missing device"},
      {"a/b /dev/sda", "'/'"},
      {"/dev/mapper/x /dev/sda", "'/'"},
      {". /dev/sda", "not a valid"},
      {".. /dev/sda", "not a valid"},
      {"control /dev/sda", "not a valid"},  // the kernel keeps it for /dev/mapper/control
      {std::string(128, 'n') + " /dev/sda", "longer than 127"},
      {"a /dev/sda - luks extra", "Too many fields (5)"},
      {"a UUID= -", "names no value"},
      {"a LABEL=", "names no value"},
      {"a /dev/sda - tries=x", "tries"},
      {"a /dev/sda - tries=-1", "'-1'"},
      {"a /dev/sda - tries=+3", "'+3'"},
      {"a /dev/sda - tries=", "tries"},
      {"a /dev/sda - tries=4294967296", "out of range"},
      {"a /dev/sda - tries", "needs a value"},
      {"a /dev/sda - keyfile-offset=", "keyfile-offset"},
      {"a /dev/sda - keyfile-offset=0x10", "'0x10'"},
      {"a /dev/sda - keyfile-offset=18446744073709551616", "keyfile-offset"},
      {"a /dev/sda - keyfile-size=12k", "'12k'"},
      {"a /dev/sda - keyfile-size= 4", "Too many fields"},  // a blank splits the field
      {"a /dev/sda - header=", "header="},
      {"a /dev/sda - header", "needs a value"},
      // systemd-cryptsetup 252 refuses a relative header path and a second header=.
      {"a /dev/sda - header=boot/h.img", "absolute path, not 'boot/h.img'"},
      {"a /dev/sda - header=UUID=ab-cd", "absolute path"},
      {"a /dev/sda - header=/h1,header=/h2", "given twice"},
      {"a /dev/sda - discard=1", "takes no value"},
      {"a /dev/sda - force-inline=yes", "takes no value"},
      {"a /dev/sda - luks,tries=3,keyfile-size=oops", "'oops'"},
  };
  for (const BadLine& row : table) {
    SCOPED_TRACE(row.text);
    std::vector<CrypttabProblem> problems;
    auto entries = ParseCrypttab("# header comment\n" + row.text + "\ngood /dev/sdz\n", &problems);
    ASSERT_TRUE(entries.ok());
    ASSERT_EQ(problems.size(), 1u);
    EXPECT_EQ(problems[0].line, 2);
    EXPECT_NE(problems[0].message.find(row.message_part), std::string::npos)
        << problems[0].message;
    // The bad line is skipped, the good one after it kept.
    ASSERT_EQ(entries->size(), 1u);
    EXPECT_EQ((*entries)[0].name, "good");
    EXPECT_EQ((*entries)[0].line, 3);

    // Without a problem list, the first bad line is the error.
    auto strict = ParseCrypttab("# header comment\n" + row.text + "\n", nullptr);
    ASSERT_FALSE(strict.ok());
    EXPECT_EQ(strict.error().code(), ExitCode::kWrongParameters);
    EXPECT_NE(strict.error().message().find("line 2"), std::string::npos)
        << strict.error().message();
  }
}

// A control character in a line would reach the generated units, where systemd ends a line
// at a CR or NUL too: "/k\rExecStartPre=/bin/evil" as a key file is an injected command.
TEST(CrypttabParse, ControlCharactersMakeABadLine) {
  using namespace std::string_literals;
  const std::vector<std::string> table = {
      "a\rExecStartPre=/bin/evil /dev/sda",          // in the name
      "a /dev/sda\rExecStartPre=/bin/evil",          // in the device
      "a /dev/sda /k\rExecStartPre=/bin/evil",       // in the key file
      "a /dev/sda - force-inline,header=/h\r/x",     // in an option value
      "a /dev/sda - force-inline,x-\rExecStart=/x",  // in an unknown option
      "a /dev/sda /k\0x"s,                           // NUL
      "a\x01 /dev/sda",
      "a /dev/sda\x1b[2J",
      "a /dev/sda\x7f",
      "a /dev/sda\v",
      "a /dev/sda\f",
      "a /dev/sda - luks\r\r",  // only one CR ends a line
      "# a comment\rExecStartPre=/bin/evil",  // anywhere in a line, comments too
      "\0"s,
  };
  for (const std::string& line : table) {
    SCOPED_TRACE(testing::PrintToString(line));
    std::vector<CrypttabProblem> problems;
    auto entries = ParseCrypttab("# header comment\n" + line + "\ngood /dev/sdz\n", &problems);
    ASSERT_TRUE(entries.ok());
    ASSERT_EQ(problems.size(), 1u);
    EXPECT_EQ(problems[0].line, 2);
    EXPECT_NE(problems[0].message.find("control character"), std::string::npos)
        << problems[0].message;
    // The message names the byte, never echoes the line (it goes to the journal).
    EXPECT_EQ(problems[0].message.find_first_of("\r\n"s + '\0'), std::string::npos);
    ASSERT_EQ(entries->size(), 1u);
    EXPECT_EQ((*entries)[0].name, "good");

    auto strict = ParseCrypttab(line + "\n", nullptr);
    ASSERT_FALSE(strict.ok());
    EXPECT_EQ(strict.error().code(), ExitCode::kWrongParameters);
  }
  // A tab separates fields, and one trailing CR (a CRLF file) ends the line.
  std::vector<CrypttabProblem> problems;
  auto entries = ParseCrypttab("a\t/dev/sda\t-\tluks\r\nb /dev/sdb\r", &problems);
  ASSERT_TRUE(entries.ok());
  EXPECT_TRUE(problems.empty()) << problems[0].message;
  ASSERT_EQ(entries->size(), 2u);
  EXPECT_TRUE((*entries)[0].options.luks);
  EXPECT_EQ((*entries)[1].device, "/dev/sdb");
}

TEST(CrypttabParse, WholeFileWithCommentsBlanksCrlfAndDuplicates) {
  const std::string text =
      "# /etc/crypttab\r\n"                      // 1
      "\r\n"                                      // 2
      "   # indented comment\n"                   // 3
      "\t\n"                                      // 4
      "root\tUUID=1111 none luks,discard\r\n"     // 5
      "swap /dev/sdb2 /dev/urandom swap\n"        // 6
      "root /dev/sdc1\n"                          // 7: duplicate
      "broken\n"                                  // 8: no device
      "data /dev/sdd1 /etc/data.key force-inline\r\n"  // 9
      "#data /dev/sde1\n"                         // 10
      "root2 /dev/sdf1";                          // 11, no final newline
  std::vector<CrypttabProblem> problems;
  auto entries = ParseCrypttab(text, &problems);
  ASSERT_TRUE(entries.ok());
  ASSERT_EQ(entries->size(), 4u);
  EXPECT_EQ((*entries)[0].name, "root");
  EXPECT_EQ((*entries)[0].device, "UUID=1111");
  EXPECT_EQ((*entries)[0].line, 5);
  EXPECT_TRUE((*entries)[0].options.discard);
  EXPECT_TRUE((*entries)[0].options.ignored.empty());  // no "discard\r"
  EXPECT_EQ((*entries)[1].name, "swap");
  EXPECT_EQ((*entries)[1].key_file, "/dev/urandom");
  EXPECT_EQ((*entries)[1].options.ignored, std::vector<std::string>{"swap"});
  EXPECT_EQ((*entries)[1].line, 6);
  EXPECT_EQ((*entries)[2].name, "data");
  EXPECT_TRUE((*entries)[2].options.force_inline);
  EXPECT_TRUE((*entries)[2].options.ignored.empty());
  EXPECT_EQ((*entries)[2].line, 9);
  EXPECT_EQ((*entries)[3].name, "root2");
  EXPECT_EQ((*entries)[3].line, 11);

  ASSERT_EQ(problems.size(), 2u);
  EXPECT_EQ(problems[0].line, 7);
  EXPECT_NE(problems[0].message.find("Duplicate volume name root (first on line 5)"),
            std::string::npos)
      << problems[0].message;
  EXPECT_EQ(problems[1].line, 8);

  // The first entry of a name wins, whatever the second says.
  EXPECT_EQ(FindCrypttabEntry(*entries, "root")->device, "UUID=1111");
  EXPECT_EQ(FindCrypttabEntry(*entries, "missing"), nullptr);
  EXPECT_EQ(FindCrypttabEntry(*entries, "broken"), nullptr);
}

TEST(CrypttabParse, NameOfABadLineMayBeUsedAgain) {
  std::vector<CrypttabProblem> problems;
  auto entries = ParseCrypttab("a /dev/sda - tries=x\na /dev/sdb\n", &problems);
  ASSERT_TRUE(entries.ok());
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0].line, 1);
  ASSERT_EQ(entries->size(), 1u);
  EXPECT_EQ((*entries)[0].device, "/dev/sdb");
}

TEST(CrypttabParse, EmptyAndCommentOnlyTexts) {
  for (const char* text : {"", "\n", "\n\n\r\n", "# only\n#\n", "   \t  "}) {
    std::vector<CrypttabProblem> problems;
    auto entries = ParseCrypttab(text, &problems);
    ASSERT_TRUE(entries.ok());
    EXPECT_TRUE(entries->empty()) << text;
    EXPECT_TRUE(problems.empty()) << text;
  }
}

TEST(CrypttabParse, VeryLongLines) {
  const std::string long_key = "/" + std::string(200000, 'k');
  std::string many_options = "luks";
  for (int i = 0; i < 5000; ++i) many_options += ",x-opt" + std::to_string(i);
  many_options += ",tries=7";
  const std::string text = "k /dev/sda " + long_key + " discard\n" + "o /dev/sdb - " +
                           many_options + "\n" + "n" + std::string(100000, 'x') + " /dev/sdc\n" +
                           "last /dev/sdd\n";
  std::vector<CrypttabProblem> problems;
  auto entries = ParseCrypttab(text, &problems);
  ASSERT_TRUE(entries.ok());
  ASSERT_EQ(entries->size(), 3u);
  EXPECT_EQ((*entries)[0].key_file, long_key);
  EXPECT_TRUE((*entries)[0].options.discard);
  EXPECT_TRUE((*entries)[1].options.luks);
  EXPECT_EQ((*entries)[1].options.tries, 7u);
  ASSERT_EQ((*entries)[1].options.ignored.size(), 5000u);
  EXPECT_EQ((*entries)[1].options.ignored.back(), "x-opt4999");
  EXPECT_EQ((*entries)[2].name, "last");
  EXPECT_EQ((*entries)[2].line, 4);
  ASSERT_EQ(problems.size(), 1u);  // the 100001-character name
  EXPECT_EQ(problems[0].line, 3);
}

class CrypttabFile : public ::testing::Test {
 protected:
  void SetUp() override {
    char dir[] = "/tmp/crypttab_test.XXXXXX";
    ASSERT_NE(mkdtemp(dir), nullptr);
    dir_ = dir;
  }
  void TearDown() override {
    std::remove((dir_ + "/crypttab").c_str());
    std::remove((dir_ + "/device").c_str());
    rmdir(dir_.c_str());
  }
  std::string dir_;
};

TEST_F(CrypttabFile, ReadsAFileAndReportsAMissingOne) {
  const std::string path = dir_ + "/crypttab";
  std::ofstream(path) << "# test\nvol /dev/sda - force-inline\nbad\n";
  std::vector<CrypttabProblem> problems;
  auto entries = ParseCrypttabFile(path, &problems);
  ASSERT_TRUE(entries.ok());
  ASSERT_EQ(entries->size(), 1u);
  EXPECT_EQ((*entries)[0].line, 2);
  EXPECT_TRUE((*entries)[0].options.force_inline);
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0].line, 3);

  auto missing = ParseCrypttabFile(dir_ + "/nonexistent", &problems);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code(), ExitCode::kWrongParameters);
  EXPECT_NE(missing.error().message().find("nonexistent"), std::string::npos);
}

TEST(CrypttabDevice, NodeForEachTag) {
  EXPECT_EQ(CrypttabDeviceNode("/dev/sda1"), "/dev/sda1");
  EXPECT_EQ(CrypttabDeviceNode("/var/lib/images/vol.img"), "/var/lib/images/vol.img");
  EXPECT_EQ(CrypttabDeviceNode("UUID=0f1e-AB"), "/dev/disk/by-uuid/0f1e-AB");
  EXPECT_EQ(CrypttabDeviceNode("PARTUUID=ab-01"), "/dev/disk/by-partuuid/ab-01");
  EXPECT_EQ(CrypttabDeviceNode("LABEL=my disk/x\\y"),
            "/dev/disk/by-label/my\\x20disk\\x2fx\\x5cy");
  EXPECT_EQ(CrypttabDeviceNode("PARTLABEL=a#b+c@d=e:f_g.h"),
            "/dev/disk/by-partlabel/a#b+c@d=e:f_g.h");
  EXPECT_EQ(CrypttabDeviceNode("label=lowercase-is-a-path"), "label=lowercase-is-a-path");
}

TEST_F(CrypttabFile, ResolveAPathThatExists) {
  const std::string path = dir_ + "/device";
  std::ofstream(path) << "x";
  auto resolved = ResolveCrypttabDevice(path);
  ASSERT_TRUE(resolved.ok()) << resolved.error().message();
  EXPECT_EQ(*resolved, path);
}

TEST_F(CrypttabFile, ResolveAMissingPathIsWrongDevice) {
  auto resolved = ResolveCrypttabDevice(dir_ + "/no-such-device");
  ASSERT_FALSE(resolved.ok());
  EXPECT_EQ(resolved.error().code(), ExitCode::kWrongDevice);
}

TEST(CrypttabDevice, ResolveTagsNothingMatchesIsWrongDevice) {
  for (const char* spec : {"UUID=5a0cc0de-0000-4000-8000-00000000dead", "UUID=",
                           "PARTUUID=5a0cc0de-0000-4000-8000-00000000dead",
                           "LABEL=zcryptsetup-test-no-such-label"}) {
    auto resolved = ResolveCrypttabDevice(spec);
    ASSERT_FALSE(resolved.ok()) << spec << " -> " << *resolved;
    EXPECT_EQ(resolved.error().code(), ExitCode::kWrongDevice) << spec;
  }
}

}  // namespace
}  // namespace luks2ext
