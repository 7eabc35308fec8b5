#include "base/memfd.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <vector>

#include "metadata/image_store.h"
#include "testing/memory_device.h"

namespace luks2ext {
namespace {

constexpr uint64_t kPage = 4096;

TEST(Memfd, BytesWrittenThroughAMappingAreTheFilesBytes) {
  auto memfd = Memfd::Create("memfd-test", 8 * kPage);
  ASSERT_TRUE(memfd.ok());
  {
    auto mapped = memfd->Map(2 * kPage, 3 * kPage);
    ASSERT_TRUE(mapped.ok()) << mapped.error().message();
    ASSERT_EQ(mapped->bytes().size(), 3 * kPage);
    std::fill(mapped->bytes().begin(), mapped->bytes().end(), std::uint8_t{0x5a});
  }
  // Unmapped now; the file keeps what was written, and only there.
  std::vector<std::uint8_t> all(8 * kPage);
  ASSERT_TRUE(memfd->ReadAt(0, all).ok());
  for (uint64_t i = 0; i < all.size(); ++i) {
    const bool inside = i >= 2 * kPage && i < 5 * kPage;
    ASSERT_EQ(all[i], inside ? 0x5a : 0) << "at byte " << i;
  }
}

TEST(Memfd, AMappingOffAPageBoundaryStartsAtItsOffset) {
  auto memfd = Memfd::Create("memfd-test", 4 * kPage);
  ASSERT_TRUE(memfd.ok());
  {
    auto mapped = memfd->Map(kPage + 512, 1024);
    ASSERT_TRUE(mapped.ok()) << mapped.error().message();
    ASSERT_EQ(mapped->bytes().size(), 1024u);
    std::fill(mapped->bytes().begin(), mapped->bytes().end(), std::uint8_t{0xa5});
  }
  std::vector<std::uint8_t> all(4 * kPage);
  ASSERT_TRUE(memfd->ReadAt(0, all).ok());
  for (uint64_t i = 0; i < all.size(); ++i) {
    const bool inside = i >= kPage + 512 && i < kPage + 512 + 1024;
    ASSERT_EQ(all[i], inside ? 0xa5 : 0) << "at byte " << i;
  }
}

TEST(Memfd, MapRefusesWhatTheFileCannotBack) {
  auto memfd = Memfd::Create("memfd-test", 4 * kPage);
  ASSERT_TRUE(memfd.ok());
  EXPECT_FALSE(memfd->Map(0, 0).ok()) << "nothing to map";
  EXPECT_FALSE(memfd->Map(0, 4 * kPage + 1).ok()) << "past the end";
  EXPECT_FALSE(memfd->Map(8 * kPage, kPage).ok()) << "an offset past the end";
  EXPECT_FALSE(memfd->Map(kPage, UINT64_MAX).ok()) << "a length that wraps";
}

// An unlock's keyslot area goes from the drive into the memfd at the area's own offset, and
// nothing else of the memfd changes.
TEST(Memfd, KeyslotAreaIsLoadedFromTheCopyIntoItsPlace) {
  auto device = MemoryZonedDevice::Create({});
  ASSERT_TRUE(device.ok());
  const CopySlot slot{CopyRole::kHome, 0, true, true};
  const KeyslotArea area{0, 8 * kPage, 5 * kPage};
  std::vector<std::uint8_t> written(slot.offset + area.offset + area.size);
  for (size_t i = 0; i < written.size(); ++i) written[i] = static_cast<std::uint8_t>(i * 7 + 1);
  ASSERT_TRUE((*device)->Write(0, written).ok());

  auto memfd = Memfd::Create("memfd-test", 32 * kPage);
  ASSERT_TRUE(memfd.ok());
  ASSERT_TRUE(LoadKeyslotArea(**device, slot, area, *memfd).ok());
  std::vector<std::uint8_t> image(32 * kPage);
  ASSERT_TRUE(memfd->ReadAt(0, image).ok());
  for (uint64_t i = 0; i < image.size(); ++i) {
    const bool inside = i >= area.offset && i < area.offset + area.size;
    ASSERT_EQ(image[i], inside ? written[slot.offset + i] : 0) << "at byte " << i;
  }
  // An area the memfd cannot hold is refused, not written short.
  const KeyslotArea too_far{1, 30 * kPage, 4 * kPage};
  EXPECT_FALSE(LoadKeyslotArea(**device, slot, too_far, *memfd).ok());
}

}  // namespace
}  // namespace luks2ext
