// erase on every kind of drive: what is left of the old keyslots. No passphrase opens the
// volume; the bytes of the old keyslot areas are nowhere in the metadata zones; each
// sequential metadata zone is full, its tail after the copy random rather than zeros; the
// data segment is untouched. (update_crash_test.cc cuts the power at each of erase's writes.)
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <vector>

#include "luks2/format.h"
#include "luks2ext/volume.h"
#include "support/crash_harness.h"
#include "support/update_scene.h"
#include "support/volume_fixture.h"
#include "testing/memory_device.h"

namespace luks2ext {
namespace {

using testing::AddSecondKey;
using testing::DriveKind;
using testing::DriveKindName;
using testing::DriveKinds;
using testing::ExpectDataUntouched;
using testing::kPassphrase;
using testing::kSecond;
using testing::MakeScene;
using testing::Observe;
using testing::Observed;
using testing::WithVolume;

class EraseTest : public ::testing::TestWithParam<DriveKind> {};

// Whether `needle` occurs anywhere in `haystack`.
bool Contains(const std::vector<uint8_t>& haystack, const std::vector<uint8_t>& needle) {
  return std::search(haystack.begin(), haystack.end(), needle.begin(), needle.end()) !=
         haystack.end();
}

TEST_P(EraseTest, LeavesNoKeyAndNoKeyslotBytesInAnyMetadataZone) {
  auto scene = MakeScene(GetParam().config);
  ASSERT_NE(scene, nullptr);
  ASSERT_TRUE(AddSecondKey(*scene).ok());
  MemoryZonedDevice& device = *scene->device;
  const Layout& layout = scene->layout;
  const std::vector<testing::KeyCase> keys = {{kPassphrase, true, false}, {kSecond, true, false}};

  const std::optional<Observed> before = Observe(device, layout, keys);
  ASSERT_TRUE(before.has_value());
  ASSERT_EQ(before->opens, std::vector<bool>({true, true}));
  // The key material as it lies on the drive: 4 KiB from the start and from the end of what
  // the two keyslots' areas hold (each is unique random-looking ciphertext).
  const std::vector<uint8_t>& material = before->keyslots_area;
  ASSERT_GE(material.size(), 8192u);
  const std::vector<uint8_t> head(material.begin(), material.begin() + 4096);
  const std::vector<uint8_t> tail(material.end() - 4096, material.end());
  const uint64_t first_op = device.op_log().size();

  std::vector<int> destroyed;
  const Status status = WithVolume(device, [&](Volume& v) -> Status {
    ASSIGN_OR_RETURN(destroyed, v.Erase());
    return Status::Ok();
  });
  ASSERT_TRUE(status.ok()) << status.error().message();
  EXPECT_EQ(destroyed, std::vector<int>({0, 1}));

  const std::optional<Observed> after = Observe(device, layout, keys);
  ASSERT_TRUE(after.has_value());
  EXPECT_TRUE(after->keyslots.empty()) << testing::Describe(*after);
  EXPECT_EQ(after->opens, std::vector<bool>({false, false}));
  EXPECT_EQ(after->uuid, before->uuid);
  EXPECT_TRUE(after->warnings.empty()) << after->warnings.front();
  ExpectDataUntouched(device, *scene, first_op);

  // Every byte before the data: both copies, and the rest of their zones.
  const std::vector<uint8_t> metadata = device.Contents(0, layout.data_offset);
  EXPECT_FALSE(Contains(metadata, head)) << "the old keyslot material is still on the drive";
  EXPECT_FALSE(Contains(metadata, tail)) << "the old keyslot material is still on the drive";

  if (!layout.is_zoned()) return;
  const uint64_t copy_size = layout.image_size() + kCommitRecordSize;
  std::vector<uint64_t> copies = {layout.home_offset};
  if (layout.journal_offset) copies.push_back(*layout.journal_offset);
  for (const uint64_t offset : copies) {
    SCOPED_TRACE(::testing::Message() << "copy at " << offset);
    const Zone& zone = device.ZoneAt(offset);
    if (!zone.is_sequential()) continue;  // conventional: rewritten in place, nothing behind
    EXPECT_EQ(zone.condition, ZoneCondition::kFull);
    EXPECT_EQ(zone.written(), zone.capacity) << "the zone was not written to its capacity";
    const uint64_t tail_start = offset + copy_size;
    const uint64_t tail_end = zone.start + zone.capacity;
    ASSERT_LT(tail_start, tail_end);
    const std::vector<uint8_t> zone_tail = device.Contents(tail_start, tail_end - tail_start);
    // Random bytes: about 1/256 of them zero; an unfilled or zero-filled tail is all zeros.
    const auto zeros = std::count(zone_tail.begin(), zone_tail.end(), uint8_t{0});
    EXPECT_LT(static_cast<uint64_t>(zeros), zone_tail.size() / 128)
        << "the zone's tail after the copy is not random";
  }
}

INSTANTIATE_TEST_SUITE_P(Drives, EraseTest, ::testing::ValuesIn(DriveKinds()), DriveKindName);

}  // namespace
}  // namespace luks2ext
