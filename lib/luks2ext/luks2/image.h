// Luks2Image: a LUKS2 metadata image held in memory, as libcryptsetup builds it in a detached
// header and as zcryptsetup writes it sequentially to a zone.
//
// Bytes [0, M): primary copy (binary header + JSON area) at 0, secondary copy at hdr_size,
// keyslots area from 2 * hdr_size; M = 2 * hdr_size + config.keyslots_size.
//
// A sparse load reads no more than stock cryptsetup does:
//   1. read the first 4096 bytes; HeaderBytesNeeded() says how many leading bytes to read
//      (2 * hdr_size). If it fails, the primary is unusable: read 2 * kMaxHdrSize bytes (or to
//      the end of the metadata zone) and go on, ParseHeaders() scans for the secondary copy.
//   2. ParseHeaders(leading bytes) validates both copies and yields the JSON of the newest,
//      hence image_size() and keyslot_areas(); read only the keyslot areas needed.
//   3. For a full copy (update, repair, commit record check) read image_size() bytes and
//      Parse() them.
//
// Every error about the bytes themselves is Error::WrongDevice ("not a valid LUKS device").
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "luks2/binary_header.h"
#include "luks2/format.h"
#include "luks2/json.h"
#include "luks2ext/error.h"

namespace luks2ext {

// One keyslot's binary area (keyslots.N.area) inside the keyslots area, in image bytes.
struct KeyslotArea {
  int keyslot = 0;
  std::uint64_t offset = 0;
  std::uint64_t size = 0;
};

// What the parser found for one header copy.
struct HeaderCopyState {
  bool valid = false;
  std::uint64_t offset = 0;  // where the copy was (or was expected to be) read
  std::uint64_t seqid = 0;   // meaningful only when valid
  std::string problem;       // why it is not valid; empty when valid
};

class Luks2Image {
 public:
  // Step 1 of a sparse load: from the first 4096 bytes, the number of leading bytes that hold
  // both copies (2 * hdr_size). WrongDevice when the primary fails its cheap checks.
  static Result<std::uint64_t> HeaderBytesNeeded(std::span<const std::uint8_t> first_4096);

  // Header-only parse from the leading bytes of a device (at least 4096; copies that do not fit
  // count as invalid). Finds the secondary at the primary's hdr_size, or, when the primary is
  // unusable, at the first legal offset that holds a valid secondary. Keeps bytes
  // [0, 2 * hdr_size) (zero-filled past the input, and zero over a copy judged invalid, so the
  // bytes never hold a copy the parser refused); has_keyslots_area() is false.
  // Fails (WrongDevice) when neither copy is valid or the newest JSON is malformed.
  static Result<Luks2Image> ParseHeaders(std::span<const std::uint8_t> leading_bytes);

  // Full parse: as ParseHeaders, and `bytes` must also hold the keyslots area; it is trimmed
  // to image_size() (so a whole zone may be passed). Shorter input is WrongDevice.
  static Result<Luks2Image> Parse(std::vector<std::uint8_t> bytes);

  Luks2Image(Luks2Image&&) noexcept = default;
  Luks2Image& operator=(Luks2Image&&) noexcept = default;

  // An independent copy (same bytes, freshly parsed).
  Result<Luks2Image> Clone() const;

  // Per-copy verdicts. At least one is valid.
  const HeaderCopyState& primary() const { return primary_state_; }
  const HeaderCopyState& secondary() const { return secondary_state_; }
  bool both_copies_valid() const { return primary_state_.valid && secondary_state_.valid; }

  // The binary header of the newest valid copy (the one the getters below describe).
  const BinaryHeader& header() const { return newest_; }
  // The decoded binary header of one copy. REQUIRES: that copy is valid.
  const BinaryHeader& copy_header(HeaderCopy copy) const;

  std::uint64_t seqid() const { return newest_.seqid; }
  std::string_view uuid() const { return newest_.uuid.view(); }
  std::string_view label() const { return newest_.label.view(); }
  std::string_view subsystem() const { return newest_.subsystem.view(); }
  std::uint64_t hdr_size() const { return newest_.hdr_size; }
  std::uint64_t json_size() const { return newest_.json_size(); }
  std::uint64_t keyslots_size() const { return keyslots_size_; }
  // M: the primary and secondary areas plus the keyslots area.
  std::uint64_t image_size() const { return 2 * hdr_size() + keyslots_size_; }

  // segments."0".offset in bytes; WrongDevice when there is no segment 0.
  Result<std::uint64_t> data_segment_offset() const;
  // Every keyslot's area, by keyslot number; each lies inside [2 * hdr_size, M).
  const std::vector<KeyslotArea>& keyslot_areas() const { return keyslot_areas_; }
  // config.flags in stored order; empty when absent.
  const std::vector<std::string>& config_flags() const { return config_flags_; }
  bool HasConfigFlag(std::string_view flag) const;

  // The newest copy's JSON. Borrowed: valid while this image lives and is not mutated; the
  // caller must not modify it.
  json_object* json() const { return json_.get(); }
  std::string json_text() const { return SerializeJson(json_.get()); }

  // True after Parse(); false after ParseHeaders().
  bool has_keyslots_area() const { return has_keyslots_area_; }
  // [0, M) after Parse(), [0, 2 * hdr_size) after ParseHeaders().
  std::span<const std::uint8_t> bytes() const { return bytes_; }
  std::vector<std::uint8_t> TakeBytes() && { return std::move(bytes_); }

  // Mutators. Each rewrites the JSON area of BOTH copies from the newest JSON (zero-padded to
  // json_size), sets both seqids to seqid() + 1 and recomputes both checksums; a copy that was
  // invalid or stale is rewritten too. Each copy keeps its salt (an invalid copy gets a fresh
  // one). On failure the image is unchanged. Fails with WrongParameters when the JSON no longer
  // fits its area.
  // Replaces config.flags (duplicates dropped, order kept; an empty list removes the member).
  Status SetConfigFlags(const std::vector<std::string>& flags);
  // Appends `flag` unless present (then it still bumps seqid, as any write does).
  Status AddConfigFlag(std::string_view flag);
  // Removes every occurrence of `flag`.
  Status RemoveConfigFlag(std::string_view flag);

  // Gives both binary headers new random salts and recomputes the checksums; seqid and the JSON
  // area are unchanged (both copies take the newest copy's JSON area). This makes the journal
  // copy: the LUKS2 spec wants no two header sectors on a device to be identical.
  Status ResealWithFreshSalts();

  // Sets both copies' seqid (JSON and salts unchanged, checksums recomputed): a restored header
  // must be newer than every copy it replaces.
  Status SetSeqid(std::uint64_t new_seqid);

 private:
  Luks2Image() = default;

  // Validates `bytes` and fills every member. `full` requires and keeps the keyslots area.
  static Result<Luks2Image> ParseImpl(std::vector<std::uint8_t> bytes, bool full);
  // Parses both header copies of `all` into the *_state_ and *_header_ members.
  void FindHeaderCopies(std::span<const std::uint8_t> all);
  // Keeps bytes [0, 2 * hdr_size), zeroing any copy the parser refused.
  void KeepHeadersOnly();
  Status ReadJson();

  // Writes both copies with `json_area` (exactly json_size bytes), `seqid`, and salts as
  // described for the mutators (all fresh when `fresh_salts`), then re-parses.
  Status RewriteCopies(std::span<const std::uint8_t> json_area, std::uint64_t seqid,
                       bool fresh_salts);
  Status RewriteJson(json_object* new_json);

  std::vector<std::uint8_t> bytes_;
  bool has_keyslots_area_ = false;
  HeaderCopyState primary_state_;
  HeaderCopyState secondary_state_;
  BinaryHeader primary_header_;    // meaningful when primary_state_.valid
  BinaryHeader secondary_header_;  // meaningful when secondary_state_.valid
  BinaryHeader newest_;
  JsonPtr json_;
  std::uint64_t keyslots_size_ = 0;
  std::vector<KeyslotArea> keyslot_areas_;
  std::vector<std::string> config_flags_;
};

}  // namespace luks2ext
