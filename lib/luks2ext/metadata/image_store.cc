#include "metadata/image_store.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include "base/i18n.h"
#include "luks2/digest.h"
#include "luks2ext/layout.h"
#include "luks2ext/units.h"

namespace luks2ext {
namespace {

// Large enough for throughput, small enough that a crash test can cut between chunks.
constexpr uint64_t kWriteChunk = 1 * MiB;

Result<std::vector<uint8_t>> ReadBytes(BlockDevice& device, uint64_t offset, uint64_t length) {
  std::vector<uint8_t> bytes(length);
  RETURN_IF_ERROR(device.Read(offset, std::span<std::uint8_t>(bytes)));
  return bytes;
}

Status WriteAll(BlockDevice& device, uint64_t offset, std::span<const uint8_t> bytes) {
  for (uint64_t done = 0; done < bytes.size(); done += kWriteChunk) {
    const uint64_t length = std::min<uint64_t>(kWriteChunk, bytes.size() - done);
    RETURN_IF_ERROR(device.Write(offset + done, bytes.subspan(done, length)));
  }
  return Status::Ok();
}

Status VerifyWritten(BlockDevice& device, const CopySlot& slot, const Luks2Image& image,
                     const std::optional<EncodedCommitRecord>& record) {
  const uint64_t length = image.image_size() + (record ? kCommitRecordSize : 0);
  ASSIGN_OR_RETURN(std::vector<uint8_t> back, ReadBytes(device, slot.offset, length));
  const bool same =
      std::equal(image.bytes().begin(), image.bytes().end(), back.begin()) &&
      (!record || std::equal(record->begin(), record->end(), back.begin() + image.image_size()));
  if (!same)
    return Error::WrongDevice(FormatMsg(
        _("The {} metadata copy at offset {} reads back different from what was written."),
        CopyRoleName(slot.role), slot.offset));
  return Status::Ok();
}

}  // namespace

const char* CopyRoleName(CopyRole role) {
  return role == CopyRole::kHome ? "home" : "journal";
}

namespace {

using ByteRanges = std::vector<std::pair<uint64_t, uint64_t>>;  // [begin, end), sorted, disjoint

ByteRanges MergedAreas(const Luks2Image& image) {
  ByteRanges used;
  for (const KeyslotArea& area : image.keyslot_areas())
    used.emplace_back(area.offset, area.offset + area.size);
  std::sort(used.begin(), used.end());
  ByteRanges merged;
  for (const auto& range : used) {
    if (!merged.empty() && range.first <= merged.back().second)
      merged.back().second = std::max(merged.back().second, range.second);
    else
      merged.push_back(range);
  }
  return merged;
}

// Parts of `ranges` outside `minus`.
ByteRanges Subtract(const ByteRanges& ranges, const ByteRanges& minus) {
  ByteRanges out;
  for (auto [begin, end] : ranges) {
    for (const auto& [m_begin, m_end] : minus) {
      if (m_end <= begin || m_begin >= end) continue;
      if (m_begin > begin) out.emplace_back(begin, m_begin);
      begin = std::max(begin, m_end);
      if (begin >= end) break;
    }
    if (begin < end) out.emplace_back(begin, end);
  }
  return out;
}

// Within [begin, end): the runs of 4 KiB blocks whose bytes differ between the two images; all
// of it when there is nothing to compare with.
ByteRanges ChangedRuns(const Luks2Image* before, const Luks2Image& image, uint64_t begin,
                       uint64_t end) {
  if (!before) return {{begin, end}};
  constexpr uint64_t kBlock = 4096;
  const std::span<const uint8_t> old_bytes = before->bytes();
  const std::span<const uint8_t> new_bytes = image.bytes();
  ByteRanges runs;
  for (uint64_t at = begin; at < end; at += kBlock) {
    const uint64_t stop = std::min(at + kBlock, end);
    const bool same = stop <= old_bytes.size() &&
                      std::memcmp(old_bytes.data() + at, new_bytes.data() + at, stop - at) == 0;
    if (same) continue;
    if (!runs.empty() && runs.back().second == at)
      runs.back().second = stop;
    else
      runs.emplace_back(at, stop);
  }
  return runs;
}

}  // namespace

Status WriteInPlaceOrdered(BlockDevice& device, uint64_t offset, const Luks2Image& image,
                           const Luks2Image* before) {
  const std::span<const uint8_t> bytes = image.bytes();
  const uint64_t hdr = image.hdr_size();
  const uint64_t end = image.image_size();
  auto write_changed = [&](uint64_t begin, uint64_t stop) -> Status {
    for (const auto& [run_begin, run_end] : ChangedRuns(before, image, begin, stop))
      RETURN_IF_ERROR(
          WriteAll(device, offset + run_begin, bytes.subspan(run_begin, run_end - run_begin)));
    return Status::Ok();
  };
  // The keyslot areas the new header uses, merged, in address order.
  const ByteRanges used = MergedAreas(image);
  // 1. The new header's keyslots: the old header never points there (libcryptsetup puts a
  //    new or changed keyslot in a free area), so the old state still opens meanwhile.
  for (const auto& [begin, stop] : used) RETURN_IF_ERROR(write_changed(begin, stop));
  RETURN_IF_ERROR(device.Flush());
  // 2. The headers, secondary first: whichever copy a reader then picks finds its keyslots.
  RETURN_IF_ERROR(WriteAll(device, offset + hdr, bytes.subspan(hdr, hdr)));
  RETURN_IF_ERROR(device.Flush());
  RETURN_IF_ERROR(WriteAll(device, offset, bytes.subspan(0, hdr)));
  RETURN_IF_ERROR(device.Flush());
  // 3. Only now the rest of the keyslots area: wipes of keyslots the new header dropped. Over
  //    a known old image, only the areas it used can differ (libcryptsetup writes nothing
  //    else: a new keyslot goes into a used area of the new header, a wipe into a dropped one),
  //    so only what changed there is written, as stock cryptsetup writes no more.
  const ByteRanges rest =
      before ? Subtract(MergedAreas(*before), used) : Subtract({{2 * hdr, end}}, used);
  for (const auto& [begin, stop] : rest) RETURN_IF_ERROR(write_changed(begin, stop));
  return device.Flush();
}

// Random bytes from `from` to the capacity end of the sequential zone holding `from`.
Status FillZoneTailWithRandom(BlockDevice& device, uint64_t from) {
  ASSIGN_OR_RETURN(const std::vector<Zone> zones, device.ReportZones(from, 1));
  if (zones.empty() || from < zones[0].start)
    return Error::WrongDevice(FormatMsg(_("No zone reported at offset {}."), from));
  const uint64_t end = zones[0].start + zones[0].capacity;
  // Larger than the copy's chunks (a 256 MiB zone takes 16 writes): what a cut between them
  // leaves is the same wherever it falls, past a complete copy.
  constexpr uint64_t kFillChunk = 16 * MiB;
  // No more than the tail: most tails past a copy are far smaller than a chunk.
  std::vector<uint8_t> noise(from < end ? std::min<uint64_t>(kFillChunk, end - from) : 0);
  for (uint64_t offset = from; offset < end;) {
    const size_t length = static_cast<size_t>(std::min<uint64_t>(noise.size(), end - offset));
    RETURN_IF_ERROR(RandomBytes(std::span<uint8_t>(noise).first(length)));
    RETURN_IF_ERROR(device.Write(offset, std::span<const uint8_t>(noise).first(length)));
    offset += length;
  }
  return Status::Ok();
}

Status WriteCopy(BlockDevice& device, const CopySlot& slot, const Luks2Image& image,
                 ZoneTail tail) {
  std::optional<EncodedCommitRecord> record;
  if (slot.with_record) {
    ASSIGN_OR_RETURN(const CommitRecord made, MakeCommitRecord(image));
    ASSIGN_OR_RETURN(record, EncodeCommitRecord(made));
  }
  auto context = [&](const Error& e) {
    return e.WithContext(FormatMsg(_("Cannot write the {} metadata copy"), CopyRoleName(slot.role)));
  };
  if (slot.sequential) {
    // A sequential zone takes the copy only in order: reset, append, record, flush, finish.
    if (Status s = device.ResetZone(slot.offset); !s.ok()) return context(s.error());
    if (Status s = WriteAll(device, slot.offset, image.bytes()); !s.ok())
      return context(s.error());
    if (record) {
      if (Status s = WriteAll(device, slot.offset + image.image_size(), *record); !s.ok())
        return context(s.error());
    }
    if (tail == ZoneTail::kRandomFill) {
      const uint64_t copy_end = slot.offset + image.image_size() + (record ? record->size() : 0);
      if (Status s = FillZoneTailWithRandom(device, copy_end); !s.ok()) return context(s.error());
    }
    if (Status s = device.Flush(); !s.ok()) return context(s.error());
    if (Status s = device.FinishZone(slot.offset); !s.ok()) return context(s.error());
  } else {
    // In place (WriteInPlaceOrdered), then the record. A cut leaves either the old headers
    // (an older seqid) or new headers without a matching record, which loses a seqid tie
    // against a complete copy.
    if (Status s = WriteInPlaceOrdered(device, slot.offset, image, nullptr); !s.ok())
      return context(s.error());
    if (record) {
      if (Status s = WriteAll(device, slot.offset + image.image_size(), *record); !s.ok())
        return context(s.error());
      if (Status s = device.Flush(); !s.ok()) return context(s.error());
    }
  }
  return VerifyWritten(device, slot, image, record);
}

namespace {

// What may be read of a copy at slot.offset: never past the device, nor past what the zone can
// hold from this offset; whole logical blocks only (every read below is a multiple of 4096,
// which such a block divides).
uint64_t ReadableBytes(BlockDevice& device, const CopySlot& slot, const std::optional<Zone>& zone) {
  const uint64_t device_size = device.geometry().size;
  uint64_t readable = slot.offset < device_size ? device_size - slot.offset : 0;
  if (zone) {
    const uint64_t into_zone = slot.offset - zone->start;
    readable = std::min(readable, into_zone < zone->capacity ? zone->capacity - into_zone : 0);
  }
  const uint64_t block = device.geometry().logical_block_size;
  return readable / block * block;
}

// The leading bytes that hold both header copies: one read at the default header size, more
// only when hdr_size says so. Empty, with `problem` set, for a LUKS header of another version.
Result<std::vector<uint8_t>> ReadHeaderArea(BlockDevice& device, const CopySlot& slot,
                                            uint64_t readable, std::string& problem) {
  std::vector<uint8_t> head;
  ASSIGN_OR_RETURN(head, ReadBytes(device, slot.offset,
                                   std::min<uint64_t>(2 * kDefaultHeaderSize, readable)));
  // LUKS's magic with another version is another format, not a damaged primary: stock
  // cryptsetup refuses it ("Unsupported LUKS version") rather than look for a secondary.
  if (const auto version = LuksMagicVersion(head); version && *version != kLuks2Version) {
    problem = FormatMsg(_("the header at offset {} is LUKS version {}, not LUKS2"), slot.offset,
                        *version);
    return std::vector<uint8_t>();
  }
  uint64_t needed = 2 * kMaxHdrSize;  // primary unusable: let the parser scan for a secondary
  if (auto bytes = Luks2Image::HeaderBytesNeeded(std::span(head).first(kBinaryHeaderSize));
      bytes.ok())
    needed = *bytes;
  needed = std::min(needed, readable);
  if (needed > head.size()) {
    ASSIGN_OR_RETURN(std::vector<uint8_t> rest,
                     ReadBytes(device, slot.offset + head.size(), needed - head.size()));
    head.insert(head.end(), rest.begin(), rest.end());
  }
  return head;
}

// The commit record after the image, when the slot has one and the depth asks for it (an open
// trusts a write pointer past image and record instead).
Status InspectRecord(BlockDevice& device, uint64_t written, bool record_proven_by_zone,
                     InspectDepth depth, CopyState& state) {
  const uint64_t image_size = state.headers->image_size();
  const bool want_record = state.slot.with_record && written >= image_size + kCommitRecordSize &&
                           (depth == InspectDepth::kFull || !record_proven_by_zone);
  if (!want_record) return Status::Ok();
  state.record_read = true;
  ASSIGN_OR_RETURN(std::vector<uint8_t> bytes,
                   ReadBytes(device, state.slot.offset + image_size, kCommitRecordSize));
  auto record = DecodeCommitRecord(bytes);
  if (record.ok() && record->seqid == state.seqid() && record->image_size == image_size)
    state.record = *record;
  else if (state.problem.empty())
    state.problem = _("no matching commit record (written by another tool, or torn)");
  return Status::Ok();
}

}  // namespace

Result<CopyState> InspectCopy(BlockDevice& device, const CopySlot& slot,
                              const std::optional<Zone>& zone, InspectDepth depth) {
  CopyState state;
  state.slot = slot;
  const bool sequential = zone && zone->is_sequential();
  const uint64_t written = zone ? zone->written() : UINT64_MAX;
  if (sequential && written == 0) {
    state.problem = _("empty zone");
    return state;
  }
  const uint64_t readable = ReadableBytes(device, slot, zone);
  if (readable < kBinaryHeaderSize) {
    state.problem = _("too small to hold a LUKS2 header");
    return state;
  }
  ASSIGN_OR_RETURN(const std::vector<uint8_t> head,
                   ReadHeaderArea(device, slot, readable, state.problem));
  if (head.empty()) return state;
  auto headers = Luks2Image::ParseHeaders(head);
  if (!headers.ok()) {
    state.problem = headers.error().message();
    return state;
  }
  state.headers.emplace(std::move(headers).value());
  const uint64_t image_size = state.headers->image_size();
  // As stock cryptsetup refuses it ("Device is too small"): a header whose own metadata areas
  // run past the end of the device describes no volume this device can hold.
  if (image_size > device.geometry().size - slot.offset) {
    state.problem = FormatMsg(_("the device is too small: its metadata needs at least {} bytes"),
                              slot.offset + image_size);
    return state;
  }
  // A sequential zone's write pointer says, without reading, how much of the copy is there.
  state.image_present = !sequential || written >= image_size;
  if (!state.image_present)
    state.problem = FormatMsg(_("torn: {} of {} bytes written"), written, image_size);
  const bool record_proven_by_zone = sequential && written >= image_size + kCommitRecordSize;
  RETURN_IF_ERROR(InspectRecord(device, written, record_proven_by_zone, depth, state));
  return state;
}

Result<std::optional<uint64_t>> PeekSeqid(BlockDevice& device, uint64_t offset) {
  if (device.geometry().size < offset + kBinaryHeaderSize) return std::optional<uint64_t>();
  ASSIGN_OR_RETURN(std::vector<uint8_t> first, ReadBytes(device, offset, kBinaryHeaderSize));
  auto header = DecodeBinaryHeader(first, 0);
  if (!header.ok()) return std::optional<uint64_t>();
  return std::optional<uint64_t>(header->seqid);
}

Result<Luks2Image> ReadFullCopy(BlockDevice& device, const CopySlot& slot, uint64_t image_size) {
  if (device.geometry().size < slot.offset + image_size)
    return Error::WrongDevice(FormatMsg(_("The {} copy claims {} bytes, past the device end."),
                                        CopyRoleName(slot.role), image_size));
  ASSIGN_OR_RETURN(std::vector<uint8_t> bytes, ReadBytes(device, slot.offset, image_size));
  return Luks2Image::Parse(std::move(bytes));
}

Status LoadHeaders(const Luks2Image& headers, Memfd& memfd) {
  return memfd.WriteAt(0, headers.bytes());
}

Status LoadKeyslotArea(BlockDevice& device, const CopySlot& slot, const KeyslotArea& area,
                       Memfd& memfd) {
  // Straight from the drive into the image libcryptsetup reads: no buffer of our own to fault
  // in, fill and copy again (what stock cryptsetup's own read of the area costs, no more).
  ASSIGN_OR_RETURN(MemfdMapping mapped, memfd.Map(area.offset, area.size));
  return device.Read(slot.offset + area.offset, mapped.bytes());
}

}  // namespace luks2ext
