// The LUKS2 image (luks2/image.h): both header copies and the JSON metadata, as read from the
// leading bytes of a device, then every getter and, on clones, every mutator.
//
// Input: the leading bytes of a device (the seeds hold both copies, 2 * hdr_size bytes).
// A custom mutator mutates either anywhere or inside one copy's JSON text, and then recomputes
// both copies' checksums (as cryptsetup's own LUKS2 fuzzer does), so that mutated JSON gets
// past the checksum into the JSON checks.
//
// Oracles: no crash or sanitizer report; at least one copy of an accepted image is valid and
// the newest one is described; keyslot areas lie inside [2 * hdr_size, M); Parse() of the same
// bytes (padded with zeros to M) agrees with ParseHeaders(); Clone() of an accepted image
// succeeds; each mutator keeps its contract (seqid + 1, both copies valid, flags as asked;
// ResealWithFreshSalts keeps seqid and JSON, with distinct salts) or leaves the image unchanged.
#include <algorithm>
#include <cstring>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "fuzz_check.h"
#include "luks2/binary_header.h"
#include "luks2/image.h"
#include "luks2ext/units.h"

using namespace luks2ext;

namespace {

// Parse() pads the input to M only up to this: a 136 MiB image per run would be all zeros.
constexpr uint64_t kMaxPaddedImage = 4 * MiB;

struct CopyAt {
  uint64_t offset = 0;
  BinaryHeader header;
};

// The copies whose binary header passes the cheap checks and that fit in the input.
std::vector<CopyAt> FindCopies(std::span<const uint8_t> bytes) {
  std::vector<CopyAt> copies;
  std::vector<uint64_t> offsets = {0};
  if (auto primary = DecodeBinaryHeader(bytes, 0); primary.ok()) {
    offsets.push_back(primary->hdr_size);
  } else {
    offsets.insert(offsets.end(), kSecondaryHeaderOffsets.begin(), kSecondaryHeaderOffsets.end());
  }
  for (uint64_t offset : offsets) {
    if (offset >= bytes.size()) continue;
    auto header = DecodeBinaryHeader(bytes.subspan(offset), offset);
    if (header.ok() && bytes.size() - offset >= header->hdr_size) {
      copies.push_back({offset, *header});
    }
  }
  return copies;
}

void FixChecksums(std::span<uint8_t> bytes) {
  for (const CopyAt& copy : FindCopies(bytes)) {
    auto area = bytes.subspan(copy.offset, copy.header.hdr_size);
    auto csum = ComputeHeaderChecksum(area, copy.header.hdr_size, copy.header.csum_alg.view());
    if (csum.ok()) std::copy(csum->begin(), csum->end(), area.begin() + kCsumOffset);
  }
}

// Mutates the JSON text of one copy in place, keeping the area NUL-terminated and zero-padded;
// sometimes copies the result into the other copy, so that both agree.
bool MutateJson(std::span<uint8_t> bytes, std::minstd_rand& rng) {
  const std::vector<CopyAt> copies = FindCopies(bytes);
  if (copies.empty()) return false;
  const CopyAt& target = copies[rng() % copies.size()];
  const uint64_t json_size = target.header.json_size();
  uint8_t* json = bytes.data() + target.offset + kBinaryHeaderSize;
  const size_t length = strnlen(reinterpret_cast<const char*>(json), json_size);
  size_t mutated = LLVMFuzzerMutate(json, length, json_size - 1);
  mutated = std::min<size_t>(mutated, json_size - 1);
  std::fill(json + mutated, json + json_size, 0);
  if (rng() % 2 == 0) {
    for (const CopyAt& other : copies) {
      if (other.offset != target.offset && other.header.hdr_size == target.header.hdr_size)
        std::copy(json, json + json_size, bytes.data() + other.offset + kBinaryHeaderSize);
    }
  }
  return true;
}

bool SameView(const Luks2Image& a, const Luks2Image& b) {
  const auto same_areas = [](const std::vector<KeyslotArea>& x, const std::vector<KeyslotArea>& y) {
    return std::equal(x.begin(), x.end(), y.begin(), y.end(), [](const auto& p, const auto& q) {
      return p.keyslot == q.keyslot && p.offset == q.offset && p.size == q.size;
    });
  };
  return a.seqid() == b.seqid() && a.uuid() == b.uuid() && a.label() == b.label() &&
         a.subsystem() == b.subsystem() && a.hdr_size() == b.hdr_size() &&
         a.keyslots_size() == b.keyslots_size() && a.config_flags() == b.config_flags() &&
         same_areas(a.keyslot_areas(), b.keyslot_areas()) && a.json_text() == b.json_text();
}

void CheckGetters(const Luks2Image& image) {
  FUZZ_CHECK(image.primary().valid || image.secondary().valid);
  FUZZ_CHECK(image.both_copies_valid() == (image.primary().valid && image.secondary().valid));
  FUZZ_CHECK(IsValidHdrSize(image.hdr_size()));
  FUZZ_CHECK(image.keyslots_size() <= kMaxKeyslotsSize && image.keyslots_size() % 4096 == 0);
  FUZZ_CHECK(image.image_size() == 2 * image.hdr_size() + image.keyslots_size());
  FUZZ_CHECK(image.bytes().size() ==
             (image.has_keyslots_area() ? image.image_size() : 2 * image.hdr_size()));
  if (image.primary().valid) {
    FUZZ_CHECK(image.copy_header(HeaderCopy::kPrimary).seqid == image.primary().seqid);
    FUZZ_CHECK(image.seqid() >= image.primary().seqid);
  }
  if (image.secondary().valid) {
    FUZZ_CHECK(image.copy_header(HeaderCopy::kSecondary).seqid == image.secondary().seqid);
    FUZZ_CHECK(image.seqid() >= image.secondary().seqid);
  }
  int previous = -1;
  for (const KeyslotArea& area : image.keyslot_areas()) {
    FUZZ_CHECK(area.keyslot >= previous);
    previous = area.keyslot;
    FUZZ_CHECK(area.offset >= 2 * image.hdr_size());
    FUZZ_CHECK(area.offset <= image.image_size() && area.size <= image.image_size() - area.offset);
  }
  for (const std::string& flag : image.config_flags()) FUZZ_CHECK(image.HasConfigFlag(flag));
  (void)image.data_segment_offset();
  (void)image.json_text();
  FUZZ_CHECK(image.json() != nullptr);
}

std::vector<std::string> Unique(const std::vector<std::string>& flags) {
  std::vector<std::string> unique;
  for (const auto& flag : flags)
    if (std::find(unique.begin(), unique.end(), flag) == unique.end()) unique.push_back(flag);
  return unique;
}

// A mutator either keeps its contract or fails and leaves the image as it was. `complete`: the
// input held all of the image's bytes (see LLVMFuzzerTestOneInput).
void CheckMutators(const Luks2Image& original, std::string_view extra_flag, bool complete) {
  // Clone() re-parses bytes(); a header-only image keeps no bytes of a copy the parser
  // refused, so the clone sees the same image (corpus/image/clone-of-truncated-copy was a
  // zero-filled cut copy that re-parsed as a valid newer one).
  (void)complete;
  auto base = original.Clone();
  FUZZ_CHECK(base.ok());
  FUZZ_CHECK(SameView(*base, original));
  const Luks2Image& image = *base;
  const uint64_t seqid = image.seqid();
  const bool can_bump = seqid != UINT64_MAX;

  auto set = image.Clone();
  FUZZ_CHECK(set.ok());
  std::vector<std::string> flags = image.config_flags();
  flags.emplace_back("force-inline");
  flags.emplace_back(extra_flag);
  flags.emplace_back("allow-discards");
  if (Status s = set->SetConfigFlags(flags); s.ok()) {
    FUZZ_CHECK(can_bump);
    FUZZ_CHECK(set->both_copies_valid() && set->seqid() == seqid + 1);
    FUZZ_CHECK(set->config_flags() == Unique(flags));
    CheckGetters(*set);
    // The rewritten image reads back the same from its bytes.
    auto reread = image.has_keyslots_area()
                      ? Luks2Image::Parse({set->bytes().begin(), set->bytes().end()})
                      : Luks2Image::ParseHeaders(set->bytes());
    FUZZ_CHECK(reread.ok() && SameView(*reread, *set));
    FUZZ_CHECK(set->RemoveConfigFlag("force-inline").ok() == (seqid + 1 != UINT64_MAX));
    FUZZ_CHECK(!set->HasConfigFlag("force-inline"));
  } else {
    FUZZ_CHECK(SameView(*set, image));
  }

  auto add = image.Clone();
  FUZZ_CHECK(add.ok());
  if (add->AddConfigFlag(extra_flag).ok()) {
    FUZZ_CHECK(add->HasConfigFlag(extra_flag) && add->seqid() == seqid + 1);
  } else {
    FUZZ_CHECK(SameView(*add, image));
  }

  auto resealed = image.Clone();
  FUZZ_CHECK(resealed.ok());
  if (resealed->ResealWithFreshSalts().ok()) {
    FUZZ_CHECK(resealed->both_copies_valid() && resealed->seqid() == seqid);
    FUZZ_CHECK(resealed->json_text() == image.json_text());
    FUZZ_CHECK(resealed->copy_header(HeaderCopy::kPrimary).salt !=
               resealed->copy_header(HeaderCopy::kSecondary).salt);
    CheckGetters(*resealed);
  } else {
    FUZZ_CHECK(SameView(*resealed, image));
  }

  auto renumbered = image.Clone();
  FUZZ_CHECK(renumbered.ok());
  const uint64_t new_seqid = seqid ^ 0x5a5a;
  if (renumbered->SetSeqid(new_seqid).ok()) {
    FUZZ_CHECK(renumbered->both_copies_valid() && renumbered->seqid() == new_seqid);
  } else {
    FUZZ_CHECK(SameView(*renumbered, image));
  }
}

}  // namespace

extern "C" size_t LLVMFuzzerCustomMutator(uint8_t* data, size_t size, size_t max_size,
                                          unsigned int seed) {
  std::minstd_rand rng(seed);
  if (rng() % 4 == 0 || !MutateJson({data, size}, rng)) {
    size = LLVMFuzzerMutate(data, size, max_size);
  }
  // Mostly fixed, sometimes not: a bad checksum must still be refused.
  if (rng() % 16 != 0) FixChecksums({data, size});
  return size;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::span<const uint8_t> input = fuzz::Bytes(data, size);
  // A flag name from the input's tail, to exercise the JSON writer with odd strings.
  const std::string extra_flag(fuzz::Text(data + size - std::min<size_t>(size, 12), std::min<size_t>(size, 12)));

  auto needed = Luks2Image::HeaderBytesNeeded(input.first(std::min<size_t>(size, 4096)));
  auto headers = Luks2Image::ParseHeaders(input);
  if (needed.ok()) FUZZ_CHECK(*needed >= 2 * kMinHdrSize && *needed <= 2 * kMaxHdrSize);
  if (!headers.ok()) return 0;
  FUZZ_CHECK(!headers->has_keyslots_area());
  CheckGetters(*headers);
  CheckMutators(*headers, extra_flag, size >= 2 * headers->hdr_size());

  // The full parse of the same bytes, padded to M, sees the same image.
  const uint64_t image_size = headers->image_size();
  if (image_size > kMaxPaddedImage && size < image_size) return 0;
  std::vector<uint8_t> bytes(input.begin(), input.end());
  if (bytes.size() < image_size) bytes.resize(image_size, 0);
  auto full = Luks2Image::Parse(std::move(bytes));
  if (size >= 2 * headers->hdr_size()) {
    // The input held both copies, so the padding changed nothing the header parse saw. (A
    // copy cut short by the input end is invalid to ParseHeaders, but the zeros may complete
    // it for Parse: a real JSON area ends in zeros.)
    FUZZ_CHECK(full.ok());
    FUZZ_CHECK(SameView(*full, *headers));
    FUZZ_CHECK(full->primary().valid == headers->primary().valid);
    FUZZ_CHECK(full->secondary().valid == headers->secondary().valid);
  }
  if (!full.ok()) return 0;
  FUZZ_CHECK(full->has_keyslots_area() && full->bytes().size() == full->image_size());
  CheckGetters(*full);
  CheckMutators(*full, extra_flag, /*complete=*/true);  // Clone re-parses the very same bytes
  return 0;
}
