// The update protocol (docs/design.md#update-protocol): every metadata change on any drive
// goes through here.
//
//  1. cryptsetup's exclusive device lock for the whole read-modify-write;
//  2. read every copy and choose the newest complete one; read it whole and check it against
//     its commit record;
//  3. apply the change to that in-memory image (libcryptsetup on a memfd, or the codec);
//  4. write the copies one at a time, the source copy LAST: every other copy is reset,
//     rewritten, finished and verified first, so at every instant one complete, valid copy
//     exists: the untouched source while the others are rewritten, a rewritten copy while the
//     source is.
// On an ordinary disk there is one copy area, rewritten in place as cryptsetup does
// (keyslots, secondary header, flush, then primary); a change libcryptsetup makes runs there
// in libcryptsetup itself (UpdateWithLibcryptsetup).
#pragma once

#include <functional>
#include <optional>

#include "luks2/image.h"
#include "luks2ext/block_device.h"
#include "metadata/copy_reader.h"
#include "metadata/header_edit.h"

namespace luks2ext {

using MetadataChange = std::function<Status(Luks2Image& image, const VolumeState& state)>;

// Step 2's read: the chosen copy whole, checked against its commit record when it has one.
Result<Luks2Image> ReadChosenImage(BlockDevice& device, const VolumeState& state);

// Steps 1-4 with `change` at step 3. A failing change writes nothing. `tail`: what each
// sequential metadata zone holds after its copy (ZoneTail::kRandomFill for erase).
Status UpdateMetadata(BlockDevice& device, const MetadataChange& change,
                      ZoneTail tail = ZoneTail::kUntouched);

// A change libcryptsetup makes (keyslots, tokens, label). On an ordinary disk libcryptsetup
// makes it on the drive itself (EditInPlaceWithLibcryptsetup): stock cryptsetup's reads,
// writes and order, and no image-sized buffer in between. Elsewhere (zoned drives, the
// emulator) UpdateMetadata runs it on the chosen copy in memory and writes the copies.
Status UpdateWithLibcryptsetup(BlockDevice& device, const CryptEdit& edit,
                               ZoneTail tail = ZoneTail::kUntouched);

// Writes `image` to every copy of `state`'s layout, never the copy at index `source` (the one
// the image was read from; nullopt when it came from elsewhere, e.g. a backup file) before all
// the others are complete. On an ordinary disk, `before` (the image the disk holds, when
// known) limits the writes to what differs from it (WriteInPlaceOrdered).
Status WriteCopies(BlockDevice& device, const VolumeState& state, const Luks2Image& image,
                   std::optional<size_t> source, const Luks2Image* before = nullptr,
                   ZoneTail tail = ZoneTail::kUntouched);

// Writes `image` as a new volume's copies (format): journal, then home.
Status WriteNewCopies(BlockDevice& device, const Layout& layout, const std::vector<Zone>& zones,
                      const Luks2Image& image);

}  // namespace luks2ext
