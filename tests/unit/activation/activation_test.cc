#include <gtest/gtest.h>
#include <libcryptsetup.h>

#include "activation/activate.h"

namespace luks2ext {
namespace {

// Each of cryptsetup's --perf-* flags reaches libcryptsetup as its own activation flag, and
// force_inline as both workqueue flags.
TEST(ActivationFlagsTest, EachPerformanceFlagMapsToItsLibcryptsetupFlag) {
  EXPECT_EQ(ActivationFlags({}), 0u);
  ActivationRequest request;
  request.same_cpu_crypt = true;
  EXPECT_EQ(ActivationFlags(request), CRYPT_ACTIVATE_SAME_CPU_CRYPT);
  request = {};
  request.submit_from_crypt_cpus = true;
  EXPECT_EQ(ActivationFlags(request), CRYPT_ACTIVATE_SUBMIT_FROM_CRYPT_CPUS);
  request = {};
  request.no_read_workqueue = true;
  EXPECT_EQ(ActivationFlags(request), CRYPT_ACTIVATE_NO_READ_WORKQUEUE);
  request = {};
  request.no_write_workqueue = true;
  EXPECT_EQ(ActivationFlags(request), CRYPT_ACTIVATE_NO_WRITE_WORKQUEUE);
  request = {};
  request.inline_mode = InlineMode::kWorkqueueFlags;
  EXPECT_EQ(ActivationFlags(request),
            CRYPT_ACTIVATE_NO_READ_WORKQUEUE | CRYPT_ACTIVATE_NO_WRITE_WORKQUEUE);
  request = {};
  request.refresh = true;
  request.allow_discards = true;
  request.read_only = true;
  EXPECT_EQ(ActivationFlags(request), CRYPT_ACTIVATE_REFRESH | CRYPT_ACTIVATE_ALLOW_DISCARDS |
                                          CRYPT_ACTIVATE_READONLY);
}

}  // namespace
}  // namespace luks2ext
