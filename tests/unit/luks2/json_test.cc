// The JSON number readers of luks2/json.h: every number goes through luks2ext/number.h.
#include "luks2/json.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <optional>

namespace luks2ext {
namespace {

JsonPtr Parse(const char* text) {
  std::optional<JsonPtr> root = ParseJsonText(text);
  EXPECT_TRUE(root.has_value()) << text;
  return root ? std::move(*root) : nullptr;
}

TEST(JsonIntegerMemberTest, ReadsANonNegativeIntegerUpToTheBound) {
  const JsonPtr kdf = Parse(R"({"memory": 1048576, "zero": 0, "big": 18446744073709551615})");
  EXPECT_EQ(JsonIntegerMember(kdf.get(), "memory", UINT64_MAX), 1048576u);
  EXPECT_EQ(JsonIntegerMember(kdf.get(), "zero", UINT64_MAX), 0u);
  EXPECT_EQ(JsonIntegerMember(kdf.get(), "memory", 1048576), 1048576u);
  EXPECT_EQ(JsonIntegerMember(kdf.get(), "memory", 1048575), std::nullopt);
  EXPECT_EQ(JsonIntegerMember(kdf.get(), "big", UINT64_MAX), UINT64_MAX);
}

TEST(JsonIntegerMemberTest, RefusesWhatACastWouldWrapOrJsonCWouldConvert) {
  const JsonPtr kdf =
      Parse(R"({"negative": -1, "string": "1024", "real": 1024.0, "null": null, "list": [1]})");
  for (const char* key : {"negative", "string", "real", "null", "list", "absent"})
    EXPECT_EQ(JsonIntegerMember(kdf.get(), key, UINT64_MAX), std::nullopt) << key;
  EXPECT_EQ(JsonIntegerMember(nullptr, "memory", UINT64_MAX), std::nullopt);
}

TEST(JsonDecimalMemberTest, ReadsOnlyStringsOfDigits) {
  const JsonPtr area = Parse(R"({"offset": "32768", "number": 32768, "signed": "-1"})");
  EXPECT_EQ(JsonDecimalMember(area.get(), "offset"), 32768u);
  EXPECT_EQ(JsonDecimalMember(area.get(), "number"), std::nullopt);
  EXPECT_EQ(JsonDecimalMember(area.get(), "signed"), std::nullopt);
}

}  // namespace
}  // namespace luks2ext
