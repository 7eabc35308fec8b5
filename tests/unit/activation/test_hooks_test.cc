// Test-only switches exist only in builds configured with -DZCRYPTSETUP_TEST_HOOKS=ON: a build
// without them ignores ZCRYPTSETUP_NATIVE_FEATURE_ARG and does not even contain its name.
// Both configurations run these tests; each checks what its own build must do.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "activation/activate.h"

namespace luks2ext {
namespace {

// The variable's name, built at run time so that this file does not put it into the test
// binary itself (the binary is searched for it below).
std::string VariableName() {
  std::string name = "ZCRYPTSETUP_NATIVE_FEATURE_";
  name += "ARG";
  return name;
}

class TestHooksTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_EQ(::setenv(VariableName().c_str(), "no_read_workqueue", 1), 0); }
  void TearDown() override { ::unsetenv(VariableName().c_str()); }
};

TEST_F(TestHooksTest, NativeFeatureArgumentFollowsTheBuildConfiguration) {
  if (TestHooksCompiledIn()) {
    EXPECT_EQ(NativeFeatureArg(), "no_read_workqueue") << "a test build ignores its hook";
    ::unsetenv(VariableName().c_str());
    EXPECT_EQ(NativeFeatureArg(), "force_inline");
  } else {
    EXPECT_EQ(NativeFeatureArg(), "force_inline")
        << "a build without ZCRYPTSETUP_TEST_HOOKS takes the feature argument from the "
           "environment";
  }
}

// The library is linked into this test program as into zcryptsetup: without hooks, no code
// that reads the variable is left in it.
TEST_F(TestHooksTest, ReleaseBuildDoesNotContainTheVariableName) {
  if (TestHooksCompiledIn()) GTEST_SKIP() << "built with ZCRYPTSETUP_TEST_HOOKS=ON";
  std::ifstream self("/proc/self/exe", std::ios::binary);
  ASSERT_TRUE(self) << "cannot read /proc/self/exe";
  const std::vector<char> bytes((std::istreambuf_iterator<char>(self)),
                                std::istreambuf_iterator<char>());
  const std::string name = VariableName();
  const bool named =
      std::search(bytes.begin(), bytes.end(), name.begin(), name.end()) != bytes.end();
  EXPECT_FALSE(named) << "the binary still names " << name;
}

}  // namespace
}  // namespace luks2ext
