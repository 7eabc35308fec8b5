#include "metadata/image_builder.h"

#include <gtest/gtest.h>
#include <libcryptsetup.h>

#include <string>
#include <vector>

#include "luks2/image.h"
#include "support/luks2_fixture.h"

namespace luks2ext {
namespace {

using testing::Luks2Fixture;

Luks2Image MustParse(std::vector<std::uint8_t> bytes) {
  auto parsed = Luks2Image::Parse(std::move(bytes));
  EXPECT_TRUE(parsed.ok()) << parsed.error().message();
  return std::move(parsed).value();
}

// cryptsetup open --persistent: what is stored afterwards is what was asked, nothing of before.
TEST(ReplaceActivationFlagsTest, StoresExactlyTheGivenFlagsAndKeepsUnknownOnes) {
  Luks2Fixture fixture;
  Luks2Image image = MustParse(fixture.Format({}));
  ASSERT_TRUE(image
                  .SetConfigFlags({"allow-discards", "no-read-workqueue", "no-write-workqueue",
                                   "force-inline", "a-flag-of-the-future"})
                  .ok());

  ASSERT_TRUE(ReplaceActivationFlags(image, {"same-cpu-crypt", "submit-from-crypt-cpus"}).ok());
  EXPECT_EQ(image.config_flags(), (std::vector<std::string>{"a-flag-of-the-future",
                                                            "same-cpu-crypt",
                                                            "submit-from-crypt-cpus"}));
  // libcryptsetup reads what stock cryptsetup would then apply.
  int error = 0;
  auto cd = fixture.Load(image.bytes(), &error);
  ASSERT_NE(cd, nullptr) << error;
  std::uint32_t flags = 0;
  ASSERT_EQ(crypt_persistent_flags_get(cd.get(), CRYPT_FLAGS_ACTIVATION, &flags), 0);
  EXPECT_EQ(flags, CRYPT_ACTIVATE_SAME_CPU_CRYPT | CRYPT_ACTIVATE_SUBMIT_FROM_CRYPT_CPUS);

  // No flags asked: every activation flag goes, as `cryptsetup open --persistent` clears them.
  ASSERT_TRUE(ReplaceActivationFlags(image, {}).ok());
  EXPECT_EQ(image.config_flags(), (std::vector<std::string>{"a-flag-of-the-future"}));
}

}  // namespace
}  // namespace luks2ext
