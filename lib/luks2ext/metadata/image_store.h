// One copy of the metadata on a drive: the LUKS2 image followed (on zoned drives) by the
// commit record. Writing a copy, judging a copy, and reading it back, through BlockDevice.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>

#include "luks2/commit_record.h"
#include "luks2/image.h"
#include "luks2ext/block_device.h"
#include "base/memfd.h"

namespace luks2ext {

struct LoadedHeaders;  // metadata/header_edit.h

// Which copy: home holds the primary header at offset 0, where stock cryptsetup reads it; the
// journal, at the next zone boundary, is written first so that a cut never leaves none.
enum class CopyRole { kHome, kJournal };
// "home", "journal": the names messages and luksDump use.
const char* CopyRoleName(CopyRole role);

// Where a copy lives and how it must be written.
struct CopySlot {
  CopyRole role = CopyRole::kHome;
  uint64_t offset = 0;
  bool sequential = false;    // in a sequential zone: reset, append, finish
  bool with_record = false;   // a commit record follows the image
};

// What a copy's write leaves after the copy in its zone.
enum class ZoneTail {
  kUntouched,
  // Random bytes from the end of the copy (image and record) to the zone's capacity, before
  // the zone is finished (erase): a zone reset only moves the write pointer, and on an SMR
  // disk the old sectors stay on the medium until written over.
  kRandomFill,
};

// Writes image (+ record) to the slot. Sequential: reset the zone, append in chunks, flush,
// finish the zone (so it holds no open/active resource). In place: write, flush. Then reads
// the copy back and checks it byte for byte (by SHA-256) before returning.
Status WriteCopy(BlockDevice& device, const CopySlot& slot, const Luks2Image& image,
                 ZoneTail tail = ZoneTail::kUntouched);

// Writes an image over an existing one in place (conventional zones, ordinary disks) so that
// a cut at any write leaves the old state or the new one: the keyslot areas the new header
// uses, then the secondary header, then the primary, then the rest of the keyslots area
// (wipes of dropped keyslots), flushing between the steps. With `before`, the image the
// device holds now (as read: areas it did not use may be zeros), only the 4 KiB blocks of
// keyslot areas that differ from it are written, and the headers: what stock cryptsetup
// writes for the same change.
Status WriteInPlaceOrdered(BlockDevice& device, uint64_t offset, const Luks2Image& image,
                           const Luks2Image* before);

// What a cheap look at a copy found: headers (and, when present, the record).
struct CopyState {
  CopySlot slot;
  std::optional<Luks2Image> headers;  // set when at least one header copy is valid
  std::optional<CommitRecord> record;  // set when a record decodes and matches the seqid
  bool record_read = false;            // kCheap may skip it
  bool image_present = false;  // the write pointer (or in-place storage) covers the image
  // libcryptsetup's own load refuses the headers (its JSON rules are stricter than the
  // codec's, which reads only what placement needs): such a copy is never chosen.
  bool refused_by_libcryptsetup = false;
  // Kept from that load, for the activation or dump that follows.
  std::shared_ptr<LoadedHeaders> loaded;
  std::string problem;          // why the copy is unusable or suspect; empty when fine

  bool usable() const { return headers.has_value() && image_present && !refused_by_libcryptsetup; }
  uint64_t seqid() const { return headers ? headers->seqid() : 0; }
};

enum class InspectDepth {
  // What an open needs: the headers; the record only when no zone report proves the copy
  // complete (the write pointer past image and record).
  kCheap,
  // Also the record wherever one should be (dump, updates, repair).
  kFull,
};

// Reads the headers and the record of the copy at `slot`; `zone` is the zone it starts in
// (nullopt on a non-zoned device). Never fails for bad content: that goes into the state.
Result<CopyState> InspectCopy(BlockDevice& device, const CopySlot& slot,
                              const std::optional<Zone>& zone, InspectDepth depth);

// The seqid in the binary header at `offset` after its cheap checks (4 KiB read, no checksum):
// enough to tell whether a copy could be newer than another. nullopt when there is none.
Result<std::optional<uint64_t>> PeekSeqid(BlockDevice& device, uint64_t offset);

// Reads the whole copy [offset, offset + M) and parses it.
Result<Luks2Image> ReadFullCopy(BlockDevice& device, const CopySlot& slot, uint64_t image_size);

// Fills `memfd` (sized to the image) with the copy's two header areas; keyslot areas are
// loaded one by one, just before an unlock tries them, as stock cryptsetup reads them.
Status LoadHeaders(const Luks2Image& headers, Memfd& memfd);
Status LoadKeyslotArea(BlockDevice& device, const CopySlot& slot, const KeyslotArea& area,
                       Memfd& memfd);


}  // namespace luks2ext
