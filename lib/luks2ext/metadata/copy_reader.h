// Finding a drive's metadata copies (home, journal), judging each, and choosing the one to
// use (docs/design.md#choosing-a-copy). Shared by the read-only verbs and the update protocol.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "luks2ext/block_device.h"
#include "luks2ext/layout.h"
#include "luks2ext/volume.h"
#include "metadata/image_store.h"

namespace luks2ext {

// What a read of the drive found.
struct VolumeState {
  BlockDevice* device = nullptr;
  BlockDevice* detached_data = nullptr;  // the data drive of a detached header, else nullptr
  Geometry geometry;
  std::vector<Zone> zones;  // the leading zones; empty when not zoned
  Layout layout;
  std::vector<CopyState> copies;  // home first, then the journal when there is one
  size_t chosen = 0;
  std::vector<CopySummary> summaries;
  std::vector<std::string> warnings;
  std::optional<uint64_t> journal_offset;  // known even when a cheap read skipped the journal

  const CopyState& chosen_copy() const { return copies[chosen]; }
  BlockDevice& data() const { return detached_data ? *detached_data : *device; }
  const Luks2Image& headers() const { return *chosen_copy().headers; }
};

// Finds and judges the copies of a drive; chooses the newest usable one (the highest seqid;
// home on a tie). kCheap reads what an open needs and no more than stock cryptsetup would:
// home's headers, and of the journal only its binary header's seqid, unless home is unusable
// or the journal is newer. Not LUKS2 at all: Error::WrongDevice.
// `judge`: kOnlyZoned leaves out libcryptsetup's load of an ordinary disk's headers, for a
// caller that has libcryptsetup load the drive itself next.
enum class LibcryptsetupJudge { kAlways, kOnlyZoned };
Result<std::unique_ptr<VolumeState>> ReadCopies(BlockDevice& device, InspectDepth depth,
                                                LibcryptsetupJudge judge =
                                                    LibcryptsetupJudge::kAlways);

// Where `image`'s copies go on this drive, as luksFormat would have put them for its size and
// data offset: for writing a restored header, whatever the drive holds now. Refuses
// (WrongParameters) an image whose copies do not fit the zones or whose data segment is not
// zone-aligned or overlaps the metadata. `copies` is left empty.
// With `detached_data`, `device` is a detached header (written in place) for the data there.
Result<std::unique_ptr<VolumeState>> StateForImage(BlockDevice& device, const Luks2Image& image,
                                                   BlockDevice* detached_data = nullptr);

// Whether `data`, the data drive of a detached header, holds a data segment from `offset`:
// dm-crypt maps whole zones of a zoned drive, and a table past the end of any drive is
// refused. Error::WrongDevice otherwise.
Status CheckDetachedData(const BlockDevice& data, uint64_t offset);

// The slot of a copy at `offset`: sequential when its zone is, with a record when zoned.
CopySlot SlotAt(CopyRole role, uint64_t offset, const std::vector<Zone>& zones, bool zoned);

}  // namespace luks2ext
