// In-place updates through zcryptsetup's own writer (WriteInPlaceOrdered: codec changes on an
// ordinary disk, every change on the emulator, whose path() libcryptsetup cannot edit) write
// what stock cryptsetup writes for the same change (issue 12): the keyslot area that changed
// and both headers, no more, and read only the headers and the keyslot areas in use.
// docs/design.md#update-protocol. libcryptsetup's own in-place edits on a real file:
// libcryptsetup_in_place_test.cc.
#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "luks2/image.h"
#include "luks2ext/volume.h"
#include "support/forwarding_device.h"
#include "support/update_scene.h"
#include "support/volume_fixture.h"
#include "testing/memory_device.h"
#include "zoned/tallying_device.h"

namespace luks2ext {
namespace {

using testing::AsStatus;
using testing::FastPbkdf;
using testing::kPassphrase;
using testing::kSecond;

// Runs `verb` on a clone of the scene's drive through a tally; returns the tally and the
// drive after it.
struct TalliedRun {
  IoTally tally;
  std::unique_ptr<MemoryZonedDevice> device;
};

template <typename Verb>
TalliedRun RunTallied(const MemoryZonedDevice& base, Verb verb) {
  TalliedRun run;
  run.device = base.Clone();
  // TallyingDevice owns what it wraps: give it a forwarder to the clone, keep the clone.
  auto tallying = std::make_unique<TallyingDevice>(
      std::make_unique<testing::ForwardingDevice>(*run.device));
  {
    auto volume = Volume::Open(*tallying, Volume::ReadScope::kForOpen);
    EXPECT_TRUE(volume.ok()) << volume.error().message();
    if (volume.ok()) {
      const Status s = verb(**volume);
      EXPECT_TRUE(s.ok()) << s.error().message();
    }
  }
  run.tally = tallying->tally();
  return run;
}

uint64_t AreaSize(const MemoryZonedDevice& device, int keyslot) {
  std::vector<uint8_t> head(2 * kDefaultHeaderSize);
  EXPECT_TRUE(const_cast<MemoryZonedDevice&>(device).Read(0, head).ok());
  auto headers = Luks2Image::ParseHeaders(head);
  EXPECT_TRUE(headers.ok());
  for (const KeyslotArea& area : headers->keyslot_areas())
    if (area.keyslot == keyslot) return area.size;
  ADD_FAILURE() << "no keyslot " << keyslot;
  return 0;
}

TEST(InPlaceUpdateTest, AddKeyWritesTheNewKeyslotAndBothHeadersOnly) {
  auto scene = testing::MakeScene(testing::NotZoned());
  ASSERT_NE(scene, nullptr);
  const TalliedRun run = RunTallied(*scene->device, [](Volume& v) {
    return AsStatus(v.AddKey(Secret(kPassphrase), Secret(kSecond), -1, FastPbkdf()));
  });
  const uint64_t headers = 2 * scene->layout.header_size;
  const uint64_t new_area = AreaSize(*run.device, 1);
  const uint64_t old_area = AreaSize(*run.device, 0);
  // Stock cryptsetup writes the same: the new keyslot's area, then both headers.
  EXPECT_EQ(run.tally.bytes_written, new_area + headers) << run.tally.Describe(0);
  EXPECT_TRUE(run.tally.zones_reset.empty());
  // Read: the headers (one read of both at the default size) and the one keyslot in use,
  // never the whole keyslots area.
  EXPECT_LE(run.tally.bytes_read, 2 * headers + old_area) << run.tally.Describe(0);
  EXPECT_LT(run.tally.bytes_read, scene->layout.keyslots_size / 2);
}

TEST(InPlaceUpdateTest, RemoveKeyWritesTheWipeAndBothHeadersOnly) {
  auto scene = testing::MakeScene(testing::NotZoned());
  ASSERT_NE(scene, nullptr);
  ASSERT_TRUE(testing::AddSecondKey(*scene).ok());
  const uint64_t removed_area = AreaSize(*scene->device, 1);
  const TalliedRun run = RunTallied(*scene->device, [](Volume& v) {
    return AsStatus(v.RemoveKey(Secret(kSecond), /*allow_last=*/false));
  });
  const uint64_t headers = 2 * scene->layout.header_size;
  // The removed keyslot's area is overwritten (its key material must not stay on the disk).
  EXPECT_GT(run.tally.bytes_written, headers);
  EXPECT_LE(run.tally.bytes_written, removed_area + headers) << run.tally.Describe(0);
  std::vector<uint8_t> now(removed_area), before(removed_area);
  std::vector<uint8_t> head(2 * kDefaultHeaderSize);
  ASSERT_TRUE(scene->device->Read(0, head).ok());
  auto headers_before = Luks2Image::ParseHeaders(head);
  ASSERT_TRUE(headers_before.ok());
  for (const KeyslotArea& area : headers_before->keyslot_areas()) {
    if (area.keyslot != 1) continue;
    ASSERT_TRUE(scene->device->Read(area.offset, before).ok());
    ASSERT_TRUE(run.device->Read(area.offset, now).ok());
  }
  EXPECT_NE(now, before) << "the removed keyslot's area still holds its key material";
}

TEST(InPlaceUpdateTest, FlagChangeWritesOnlyTheHeaders) {
  auto scene = testing::MakeScene(testing::NotZoned());
  ASSERT_NE(scene, nullptr);
  const TalliedRun run = RunTallied(*scene->device, [](Volume& v) {
    return v.SetPersistentFlags(/*force_inline=*/true, std::nullopt);
  });
  EXPECT_EQ(run.tally.bytes_written, 2 * scene->layout.header_size) << run.tally.Describe(0);
}

}  // namespace
}  // namespace luks2ext
