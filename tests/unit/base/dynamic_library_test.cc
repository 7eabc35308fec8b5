#include "base/dynamic_library.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <string>

namespace luks2ext {
namespace {

// libc is in every process, so opening it again finds the very functions the test links.
TEST(OpenLibraryFunctions, FillsEveryPointerFromTheLibrary) {
  decltype(&getpid) get_pid = nullptr;
  decltype(&getppid) get_ppid = nullptr;
  std::string why;
  ASSERT_TRUE(OpenLibraryFunctions("libc.so.6", why, std::pair{&get_pid, "getpid"},
                                   std::pair{&get_ppid, "getppid"}))
      << why;
  ASSERT_NE(get_pid, nullptr);
  ASSERT_NE(get_ppid, nullptr);
  EXPECT_EQ(get_pid(), getpid());
  EXPECT_EQ(get_ppid(), getppid());
  EXPECT_TRUE(why.empty());
}

TEST(OpenLibraryFunctions, AMissingLibraryIsReportedByTheLoader) {
  decltype(&getpid) get_pid = nullptr;
  std::string why;
  EXPECT_FALSE(OpenLibraryFunctions("libzcryptsetup-no-such-library.so.0", why,
                                    std::pair{&get_pid, "getpid"}));
  EXPECT_NE(why.find("libzcryptsetup-no-such-library.so.0"), std::string::npos) << why;
}

TEST(OpenLibraryFunctions, AMissingFunctionFailsTheWholeOpen) {
  decltype(&getpid) get_pid = nullptr;
  decltype(&getpid) missing = nullptr;
  std::string why;
  EXPECT_FALSE(OpenLibraryFunctions("libc.so.6", why, std::pair{&get_pid, "getpid"},
                                    std::pair{&missing, "zcryptsetup_no_such_function"}));
  EXPECT_EQ(why, "libc.so.6 lacks a function zcryptsetup needs");
}

}  // namespace
}  // namespace luks2ext
