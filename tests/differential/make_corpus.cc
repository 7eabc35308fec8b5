// make_corpus: a deterministic corpus of malformed LUKS2 images for the differential test
// against stock cryptsetup (issue 8). Every variant starts from one valid image and changes
// one thing; its name says what.
//
// Usage:
//   make_corpus plain BASE OUTDIR [--seed N]
//       BASE: a regular file holding a LUKS2 volume (zcryptsetup luksFormat on a file: the image
//       [0, M) followed by padding and a data area). Writes OUTDIR/<variant>.img, each the size
//       of BASE unless the variant is a truncation.
//   make_corpus zoned HOME JOURNAL OUTDIR [--seed N]
//       HOME, JOURNAL: the leading bytes of the home zone (zone 0) and the journal zone (zone 1)
//       of a drive zcryptsetup formatted (at least M + 4096 bytes each: image + commit record).
//       Writes OUTDIR/<variant>.home and OUTDIR/<variant>.journal: the bytes to write into each
//       zone from its start after a reset (an empty file leaves the zone empty).
// Both modes write OUTDIR/MANIFEST, one line per variant, tab separated:
//   plain:  name  key  description
//   zoned:  name  key  home_finish  journal_finish  description
// key is "good" (the passphrase the base was formatted with opens it, unless the variant broke
// that) or "wrong" (the runner must use a wrong passphrase); *_finish is 1 when the zone holds
// a complete copy and should be FINISHED as zcryptsetup leaves it, 0 when it is torn.
// The first MANIFEST line is a comment: "# mode M=<image size> hdr=<hdr_size> seed=<seed>".
//
// The same seed gives byte-identical output. Exit status 0 on success, 1 on bad input.
#include <json-c/json.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <iterator>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "luks2/big_endian.h"
#include "luks2/binary_header.h"
#include "luks2/commit_record.h"
#include "luks2/digest.h"
#include "luks2/image.h"
#include "luks2/json.h"

namespace {

using luks2ext::kBinaryHeaderSize;
using Bytes = std::vector<std::uint8_t>;

[[noreturn]] void Die(const std::string& why) {
  std::cerr << "make_corpus: " << why << '\n';
  std::exit(1);
}

Bytes ReadFileBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) Die("cannot read " + path);
  return Bytes(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// Writes `bytes` as a sparse file: 4 KiB blocks of zeros become holes (the data area of a
// plain variant is all zeros), so the corpus takes a fraction of its apparent size.
void WriteFileBytes(const std::string& path, const Bytes& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  constexpr std::size_t kBlock = 4096;
  for (std::size_t at = 0; at < bytes.size(); at += kBlock) {
    const std::size_t n = std::min(kBlock, bytes.size() - at);
    const auto* p = bytes.data() + at;
    if (std::all_of(p, p + n, [](std::uint8_t c) { return c == 0; })) continue;
    out.seekp(static_cast<std::streamoff>(at));
    out.write(reinterpret_cast<const char*>(p), static_cast<std::streamsize>(n));
  }
  out.close();
  if (!out) Die("cannot write " + path);
  std::filesystem::resize_file(path, bytes.size());
}

// Which header copies a mutation touches.
enum Which : unsigned { kPrimary = 1, kSecondary = 2, kBoth = 3 };
const char* WhichName(Which w) { return w == kPrimary ? "p" : w == kSecondary ? "s" : "both"; }

// ---------------------------------------------------------------------------------------------
// Editing one image: bytes [0, M) of a volume (a plain file may hold more after M).

class Editor {
 public:
  Editor(std::uint64_t hdr, std::uint64_t image_size) : hdr_(hdr), m_(image_size) {}

  std::uint64_t hdr() const { return hdr_; }
  std::uint64_t image_size() const { return m_; }
  std::uint64_t json_size() const { return hdr_ - kBinaryHeaderSize; }
  std::uint64_t Off(Which one) const { return one == kPrimary ? 0 : hdr_; }

  template <typename F>
  void ForEach(Which which, F f) const {
    if (which & kPrimary) f(Off(kPrimary));
    if (which & kSecondary) f(Off(kSecondary));
  }

  // Recomputes the checksum of the copy at `off` from its (intact) binary header fields.
  void Reseal(Bytes& b, std::uint64_t off) const {
    auto header = luks2ext::DecodeBinaryHeader(std::span<const std::uint8_t>(b).subspan(off), off);
    if (!header.ok())
      Die("reseal: copy at " + std::to_string(off) + ": " + header.error().message());
    auto status = luks2ext::WriteHeaderCopy(*header, std::span<std::uint8_t>(b).subspan(off, hdr_));
    if (!status.ok()) Die("reseal: " + status.error().message());
  }
  void Reseal(Bytes& b, Which which) const {
    ForEach(which, [&](std::uint64_t off) { Reseal(b, off); });
  }

  // Stores the checksum of whatever the copy at `off` now holds, computed with `alg` over a JSON
  // area of `area` bytes: a damaged field with a correct checksum.
  void RawReseal(Bytes& b, std::uint64_t off, std::uint64_t area, const std::string& alg) const {
    auto csum =
        luks2ext::ComputeHeaderChecksum(std::span<const std::uint8_t>(b).subspan(off), area, alg);
    if (!csum.ok()) Die("raw reseal: " + csum.error().message());
    std::copy(csum->begin(), csum->end(),
              b.begin() + static_cast<long>(off + luks2ext::kCsumOffset));
  }

  // Puts `text` (NUL-padded to the JSON area) into the chosen copies, resealed or not.
  void SetJsonText(Bytes& b, Which which, const std::string& text, bool reseal = true) const {
    if (text.size() > json_size()) Die("JSON text does not fit the area");
    ForEach(which, [&](std::uint64_t off) {
      auto area = b.begin() + static_cast<long>(off + kBinaryHeaderSize);
      std::fill_n(area, json_size(), 0);
      std::copy(text.begin(), text.end(), area);
      if (reseal) Reseal(b, off);
    });
  }
  // The whole JSON area, byte for byte (no terminating NUL is added).
  void SetJsonArea(Bytes& b, Which which, const Bytes& area_bytes) const {
    if (area_bytes.size() != json_size()) Die("JSON area size mismatch");
    ForEach(which, [&](std::uint64_t off) {
      std::copy(area_bytes.begin(), area_bytes.end(),
                b.begin() + static_cast<long>(off + kBinaryHeaderSize));
      Reseal(b, off);
    });
  }

  static std::uint64_t SeqidAt(const Bytes& b, std::uint64_t off) {
    return luks2ext::LoadBigEndian<std::uint64_t>(b.data() + off + luks2ext::kSeqidOffset);
  }
  static void SetU64(Bytes& b, std::uint64_t off, std::uint64_t v) {
    luks2ext::StoreBigEndian<std::uint64_t>(b.data() + off, v);
  }
  static void SetU16(Bytes& b, std::uint64_t off, std::uint16_t v) {
    luks2ext::StoreBigEndian<std::uint16_t>(b.data() + off, v);
  }
  void AddSeqid(Bytes& b, Which which, std::uint64_t delta, bool reseal) const {
    ForEach(which, [&](std::uint64_t off) {
      SetU64(b, off + luks2ext::kSeqidOffset, SeqidAt(b, off) + delta);
      if (reseal) Reseal(b, off);
    });
  }

 private:
  std::uint64_t hdr_;
  std::uint64_t m_;
};

// ---------------------------------------------------------------------------------------------
// JSON edits through json-c (the result is serialized the way libcryptsetup writes it).

struct JsonDeleter {
  void operator()(json_object* o) const { json_object_put(o); }
};

json_object* At(json_object* root, std::initializer_list<const char*> path) {
  json_object* cur = root;
  for (const char* key : path) {
    cur = luks2ext::JsonMember(cur, key);
    if (cur == nullptr) Die(std::string("JSON path element missing: ") + key);
  }
  return cur;
}

void SetString(json_object* obj, const char* key, const std::string& value) {
  json_object_object_add(obj, key, json_object_new_string(value.c_str()));
}
void SetInt(json_object* obj, const char* key, std::int64_t value) {
  json_object_object_add(obj, key, json_object_new_int64(value));
}
// Parses `text` (a JSON fragment) and stores it under `key`.
void SetRaw(json_object* obj, const char* key, const std::string& text) {
  json_object* value = json_tokener_parse(text.c_str());
  if (value == nullptr) Die("bad JSON fragment: " + text);
  json_object_object_add(obj, key, value);
}

std::string EditJson(const std::string& base, const std::function<void(json_object*)>& edit) {
  std::unique_ptr<json_object, JsonDeleter> root(json_tokener_parse(base.c_str()));
  if (!root) Die("base JSON does not parse");
  edit(root.get());
  return luks2ext::SerializeJson(root.get());
}

// Replaces the first occurrence of `from` in `text` (which must hold it).
std::string ReplaceOnce(std::string text, const std::string& from, const std::string& to) {
  const auto pos = text.find(from);
  if (pos == std::string::npos) Die("text edit: '" + from + "' not found");
  return text.replace(pos, from.size(), to);
}

// ---------------------------------------------------------------------------------------------
// The corpus: variant files and the manifest.

class Corpus {
 public:
  explicit Corpus(std::string dir) : dir_(std::move(dir)) {
    std::filesystem::create_directories(dir_);
    manifest_.open(dir_ + "/MANIFEST", std::ios::trunc);
    if (!manifest_) Die("cannot write " + dir_ + "/MANIFEST");
  }
  void Comment(const std::string& text) { manifest_ << "# " << text << '\n'; }

  void AddPlain(const std::string& name, const std::string& what, const Bytes& bytes,
                const std::string& key = "good") {
    Register(name);
    WriteFileBytes(dir_ + "/" + name + ".img", bytes);
    manifest_ << name << '\t' << key << '\t' << what << '\n';
  }
  void AddZoned(const std::string& name, const std::string& what, const Bytes& home,
                const Bytes& journal, bool home_finish, bool journal_finish,
                const std::string& key = "good") {
    Register(name);
    WriteFileBytes(dir_ + "/" + name + ".home", home);
    WriteFileBytes(dir_ + "/" + name + ".journal", journal);
    manifest_ << name << '\t' << key << '\t' << (home_finish ? 1 : 0) << '\t'
              << (journal_finish ? 1 : 0) << '\t' << what << '\n';
  }
  std::size_t size() const { return names_.size(); }
  void Close() {
    manifest_.close();
    if (!manifest_) Die("cannot finish the manifest");
  }

 private:
  void Register(const std::string& name) {
    if (name.empty() ||
        name.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_-") != std::string::npos)
      Die("bad variant name " + name);
    if (!names_.insert(name).second) Die("duplicate variant name " + name);
  }
  std::string dir_;
  std::ofstream manifest_;
  std::set<std::string> names_;
};

// Deterministic randomness: raw mt19937_64 output (its sequence is fixed by the standard; the
// <random> distributions are not, so none is used).
class Rng {
 public:
  explicit Rng(std::uint64_t seed) : engine_(seed) {}
  std::uint64_t Below(std::uint64_t n) { return engine_() % n; }

 private:
  std::mt19937_64 engine_;
};

// What a valid base looks like, read from its primary copy.
struct Base {
  Bytes image;  // [0, M)
  std::uint64_t hdr = 0;
  std::uint64_t m = 0;
  std::string json;  // the primary's JSON text
  std::string uuid;
  std::uint64_t seqid = 0;
  std::uint64_t keyslot_offset = 0, keyslot_size = 0;
};

Base ParseBase(const Bytes& bytes, const std::string& what) {
  // Find hdr_size from the primary, then parse the whole image.
  auto need = luks2ext::Luks2Image::HeaderBytesNeeded(std::span<const std::uint8_t>(bytes).first(
      std::min<std::size_t>(bytes.size(), kBinaryHeaderSize)));
  if (!need.ok()) Die(what + ": " + need.error().message());
  auto headers = luks2ext::Luks2Image::ParseHeaders(bytes);
  if (!headers.ok()) Die(what + ": " + headers.error().message());
  if (!headers->both_copies_valid()) Die(what + ": both header copies must be valid in the base");
  Base base;
  base.hdr = headers->hdr_size();
  base.m = headers->image_size();
  if (bytes.size() < base.m) Die(what + " is shorter than its image");
  auto full =
      luks2ext::Luks2Image::Parse(Bytes(bytes.begin(), bytes.begin() + static_cast<long>(base.m)));
  if (!full.ok()) Die(what + ": " + full.error().message());
  base.image = Bytes(bytes.begin(), bytes.begin() + static_cast<long>(base.m));
  base.json = full->json_text();
  base.uuid = full->uuid();
  base.seqid = full->seqid();
  if (full->keyslot_areas().empty()) Die(what + ": the base needs a keyslot");
  base.keyslot_offset = full->keyslot_areas().front().offset;
  base.keyslot_size = full->keyslot_areas().front().size;
  // Our JSON edits re-serialize; the base must already be in that form.
  const auto* area = reinterpret_cast<const char*>(base.image.data() + kBinaryHeaderSize);
  if (std::string(area, strnlen(area, base.hdr - kBinaryHeaderSize)) != base.json)
    Die(what + ": the primary's JSON is not in libcryptsetup's serialized form");
  return base;
}

// ---------------------------------------------------------------------------------------------
// Mutations shared by both modes. Each takes the image [0, M) and changes it in place.

struct Mutation {
  std::string name;
  std::string what;
  std::function<void(Bytes&)> apply;
  std::string key = "good";
};

// Checksum-valid JSON edits (in `which` copies), by name.
std::vector<Mutation> JsonMutations(const Editor& ed, const Base& base, Which which) {
  const std::string w = WhichName(which);
  const std::string& json = base.json;
  std::vector<Mutation> out;
  auto edit = [&](const std::string& name, const std::string& what,
                  std::function<void(json_object*)> f) {
    const std::string text = EditJson(json, f);
    out.push_back({"json_" + w + "_" + name, what + " (" + w + ", checksum valid)",
                   [&ed, which, text](Bytes& b) { ed.SetJsonText(b, which, text); }});
  };
  auto text_edit = [&](const std::string& name, const std::string& what, const std::string& text) {
    out.push_back({"json_" + w + "_" + name, what + " (" + w + ", checksum valid)",
                   [&ed, which, text](Bytes& b) { ed.SetJsonText(b, which, text); }});
  };
  auto del = [](std::initializer_list<const char*> path, const char* key) {
    return [path, key](json_object* root) { json_object_object_del(At(root, path), key); };
  };
  const std::string ks_off = std::to_string(base.keyslot_offset);

  // Whole sections.
  edit("no_digests", "digests object removed", del({}, "digests"));
  edit("digests_empty", "\"digests\": {}", [](json_object* r) { SetRaw(r, "digests", "{}"); });
  edit("no_segments", "segments object removed", del({}, "segments"));
  edit("segments_empty", "\"segments\": {}", [](json_object* r) { SetRaw(r, "segments", "{}"); });
  edit("no_keyslots", "keyslots object removed", del({}, "keyslots"));
  edit("keyslots_empty", "\"keyslots\": {}", [](json_object* r) { SetRaw(r, "keyslots", "{}"); });
  edit("no_config", "config object removed", del({}, "config"));
  edit("no_tokens", "tokens object removed", del({}, "tokens"));
  edit("tokens_array", "\"tokens\": []", [](json_object* r) { SetRaw(r, "tokens", "[]"); });
  edit("keyslots_array", "\"keyslots\": []", [](json_object* r) { SetRaw(r, "keyslots", "[]"); });
  // Keyslot areas.
  edit("ks_area_offset_0", "keyslot 0 area offset \"0\" (inside the headers)", [](json_object* r) {
    SetString(At(r, {"keyslots", "0", "area"}), "offset", "0");
  });
  edit("ks_area_offset_past_m", "keyslot 0 area offset at M (past the keyslots area)",
       [&base](json_object* r) {
         SetString(At(r, {"keyslots", "0", "area"}), "offset", std::to_string(base.m));
       });
  edit("ks_area_size_huge", "keyslot 0 area size 2^64-1", [](json_object* r) {
    SetString(At(r, {"keyslots", "0", "area"}), "size", "18446744073709551615");
  });
  edit("ks_area_size_zero", "keyslot 0 area size \"0\"", [](json_object* r) {
    SetString(At(r, {"keyslots", "0", "area"}), "size", "0");
  });
  edit("ks_area_past_m", "keyslot 0 area runs 4 KiB past M", [&base](json_object* r) {
    SetString(At(r, {"keyslots", "0", "area"}), "size",
              std::to_string(base.m - base.keyslot_offset + 4096));
  });
  edit("ks_area_offset_number", "keyslot 0 area offset a JSON number, not a string",
       [&base](json_object* r) {
         SetInt(At(r, {"keyslots", "0", "area"}), "offset",
                static_cast<std::int64_t>(base.keyslot_offset));
       });
  edit("ks_area_offset_plus", "keyslot 0 area offset \"+N\"", [ks_off](json_object* r) {
    SetString(At(r, {"keyslots", "0", "area"}), "offset", "+" + ks_off);
  });
  edit("ks_area_offset_unaligned", "keyslot 0 area offset not 4 KiB aligned",
       [&base](json_object* r) {
         SetString(At(r, {"keyslots", "0", "area"}), "offset",
                   std::to_string(base.keyslot_offset + 1));
       });
  edit("ks_area_offset_nan", "keyslot 0 area offset \"abc\"", [](json_object* r) {
    SetString(At(r, {"keyslots", "0", "area"}), "offset", "abc");
  });
  edit("ks_overlap", "keyslot 1 added, a copy of keyslot 0 on the same area (overlap)",
       [](json_object* r) {
         json_object* copy = nullptr;
         json_object_deep_copy(At(r, {"keyslots", "0"}), &copy, nullptr);
         json_object_object_add(At(r, {"keyslots"}), "1", copy);
       });
  edit("ks_name_nan", "keyslot named \"x\" instead of \"0\"", [](json_object* r) {
    json_object* ks = At(r, {"keyslots"});
    json_object* zero = json_object_get(At(r, {"keyslots", "0"}));
    json_object_object_del(ks, "0");
    json_object_object_add(ks, "x", zero);
  });
  edit("ks_type_unknown", "keyslot 0 type \"luks3\"", [](json_object* r) {
    SetString(At(r, {"keyslots", "0"}), "type", "luks3");
  });
  edit("ks_no_kdf", "keyslot 0 kdf removed", del({"keyslots", "0"}, "kdf"));
  edit("ks_af_stripes_zero", "keyslot 0 af.stripes 0", [](json_object* r) {
    SetInt(At(r, {"keyslots", "0", "af"}), "stripes", 0);
  });
  edit("ks_key_size_huge", "keyslot 0 key_size 2^31-1", [](json_object* r) {
    SetInt(At(r, {"keyslots", "0"}), "key_size", 2147483647);
  });
  // Segments.
  edit("seg_offset_nan", "segment 0 offset \"abc\"", [](json_object* r) {
    SetString(At(r, {"segments", "0"}), "offset", "abc");
  });
  edit("seg_offset_huge", "segment 0 offset 2^64-1", [](json_object* r) {
    SetString(At(r, {"segments", "0"}), "offset", "18446744073709551615");
  });
  edit("seg_offset_zero", "segment 0 offset \"0\" (over the metadata)", [](json_object* r) {
    SetString(At(r, {"segments", "0"}), "offset", "0");
  });
  edit("seg_offset_unaligned", "segment 0 offset not sector aligned", [](json_object* r) {
    json_object* seg = At(r, {"segments", "0"});
    const auto v = luks2ext::JsonDecimalMember(seg, "offset");
    SetString(seg, "offset", std::to_string(v.value_or(0) + 1));
  });
  edit("seg_offset_number", "segment 0 offset a JSON number", [](json_object* r) {
    json_object* seg = At(r, {"segments", "0"});
    const auto v = luks2ext::JsonDecimalMember(seg, "offset");
    SetInt(seg, "offset", static_cast<std::int64_t>(v.value_or(0)));
  });
  edit("seg_offset_past_device", "segment 0 offset 1 GiB (past the device end)",
       [](json_object* r) {
         SetString(At(r, {"segments", "0"}), "offset", "1073741824");
       });
  edit("seg_size_bad", "segment 0 size \"dyn\" instead of \"dynamic\"", [](json_object* r) {
    SetString(At(r, {"segments", "0"}), "size", "dyn");
  });
  edit("seg_size_unaligned", "segment 0 size \"1000\" (not a sector multiple)", [](json_object* r) {
    SetString(At(r, {"segments", "0"}), "size", "1000");
  });
  edit("seg_size_huge", "segment 0 size 1 TiB (past the device end)", [](json_object* r) {
    SetString(At(r, {"segments", "0"}), "size", "1099511627776");
  });
  edit("seg_type_unknown", "segment 0 type \"foo\"", [](json_object* r) {
    SetString(At(r, {"segments", "0"}), "type", "foo");
  });
  edit("seg_renamed", "segment \"0\" renamed \"1\"", [](json_object* r) {
    json_object* segs = At(r, {"segments"});
    json_object* zero = json_object_get(At(r, {"segments", "0"}));
    json_object_object_del(segs, "0");
    json_object_object_add(segs, "1", zero);
  });
  edit("seg_sector_size_3", "segment 0 sector_size 3", [](json_object* r) {
    SetInt(At(r, {"segments", "0"}), "sector_size", 3);
  });
  // config.
  edit("cfg_json_size_wrong", "config.json_size 4096 smaller than the area",
       [](json_object* r) { SetString(At(r, {"config"}), "json_size", "4096"); });
  edit("cfg_json_size_nan", "config.json_size \"abc\"",
       [](json_object* r) { SetString(At(r, {"config"}), "json_size", "abc"); });
  edit("cfg_keyslots_size_huge", "config.keyslots_size 1 TiB",
       [](json_object* r) { SetString(At(r, {"config"}), "keyslots_size", "1099511627776"); });
  edit("cfg_keyslots_size_unaligned", "config.keyslots_size not a 4 KiB multiple",
       [&base](json_object* r) {
         SetString(At(r, {"config"}), "keyslots_size", std::to_string(base.m - 2 * base.hdr + 1));
       });
  edit("cfg_keyslots_size_zero", "config.keyslots_size \"0\" (keyslot 0 then lies outside)",
       [](json_object* r) { SetString(At(r, {"config"}), "keyslots_size", "0"); });
  edit("cfg_keyslots_size_over_data", "config.keyslots_size reaching past the data offset",
       [](json_object* r) { SetString(At(r, {"config"}), "keyslots_size", "4194304"); });
  edit("cfg_flags_string", "config.flags a string, not an array",
       [](json_object* r) { SetString(At(r, {"config"}), "flags", "allow-discards"); });
  edit("cfg_flags_number", "config.flags [1]",
       [](json_object* r) { SetRaw(At(r, {"config"}), "flags", "[1]"); });
  edit("cfg_requirements_unknown", "config.requirements.mandatory [\"zc-unknown\"]",
       [](json_object* r) {
         SetRaw(At(r, {"config"}), "requirements", "{\"mandatory\":[\"zc-unknown\"]}");
       });
  // Digests and tokens.
  edit("digest_type_unknown", "digest 0 type \"foo\"", [](json_object* r) {
    SetString(At(r, {"digests", "0"}), "type", "foo");
  });
  edit("digest_keyslot_missing", "digest 0 names keyslot 5, which does not exist",
       [](json_object* r) {
         SetRaw(At(r, {"digests", "0"}), "keyslots", "[\"5\"]");
       });
  edit("digest_segments_empty", "digest 0 segments []", [](json_object* r) {
    SetRaw(At(r, {"digests", "0"}), "segments", "[]");
  });
  edit("token_unknown_type", "a token of unknown external type \"zc-foo\"", [](json_object* r) {
    SetRaw(r, "tokens", "{\"0\":{\"type\":\"zc-foo\",\"keyslots\":[\"0\"]}}");
  });
  edit("token_bad_keyslot", "a token naming keyslot 7, which does not exist", [](json_object* r) {
    SetRaw(r, "tokens", "{\"0\":{\"type\":\"zc-foo\",\"keyslots\":[\"7\"]}}");
  });
  edit("unknown_top_member", "an unknown top-level member",
       [](json_object* r) { SetRaw(r, "zc_extra", "{\"a\":\"b\"}"); });
  // Nesting.
  auto nested = [](int depth) {
    return std::string(static_cast<std::size_t>(depth), '[') +
           std::string(static_cast<std::size_t>(depth), ']');
  };
  text_edit("nest_10", "10 nested arrays under an unknown member",
            ReplaceOnce(json, "{\"keyslots\"", "{\"zc_deep\":" + nested(10) + ",\"keyslots\""));
  text_edit("nest_40", "40 nested arrays under an unknown member (past json-c's depth limit)",
            ReplaceOnce(json, "{\"keyslots\"", "{\"zc_deep\":" + nested(40) + ",\"keyslots\""));
  text_edit("nest_5000", "5000 nested arrays under an unknown member",
            ReplaceOnce(json, "{\"keyslots\"", "{\"zc_deep\":" + nested(5000) + ",\"keyslots\""));
  // Text-level: duplicates, encodings, framing.
  text_edit("dup_digests_last", "a second \"digests\": {} after the real one",
            json.substr(0, json.size() - 1) + ",\"digests\":{}}");
  text_edit("dup_digests_first", "a \"digests\": {} before the real one",
            "{\"digests\":{}," + json.substr(1));
  text_edit("dup_keyslots_last", "a second \"keyslots\": {} after the real one",
            json.substr(0, json.size() - 1) + ",\"keyslots\":{}}");
  text_edit("non_utf8", "bytes 0xff 0xfe in a string of an unknown member",
            ReplaceOnce(json, "{\"keyslots\"", "{\"zc_x\":\"\xff\xfe\",\"keyslots\""));
  text_edit("non_utf8_key", "bytes 0xc3 0x28 (bad UTF-8) as a member name",
            ReplaceOnce(json, "{\"keyslots\"", "{\"\xc3\x28\":1,\"keyslots\""));
  text_edit("control_char", "a raw 0x01 inside a string",
            ReplaceOnce(json, "\"luks2\"", "\"lu\x01ks2\""));
  text_edit("escaped_key", "keyslot name written \"\\u0030\" (decodes to \"0\")",
            ReplaceOnce(json, "{\"keyslots\":{\"0\"", "{\"keyslots\":{\"\\u0030\""));
  text_edit("huge_number", "pbkdf2 iterations 1e400",
            ReplaceOnce(json, "\"iterations\":", "\"iterations\":1e400,\"zc_i\":"));
  text_edit("leading_space", "a space before the opening brace", " " + json);
  text_edit("trailing_space", "a space after the closing brace, then NULs", json + " ");
  text_edit("trailing_newline", "a newline after the closing brace, then NULs", json + "\n");
  text_edit("two_objects", "a second object after the first", json + "{}");
  text_edit("cut_half", "JSON cut in half (unterminated object)", json.substr(0, json.size() / 2));
  text_edit("empty_text", "empty JSON text (area all NUL)", "");
  text_edit("array_root", "the JSON text is [] instead of an object", "[]");
  {
    // After the NUL that ends the text: garbage (stock wants NULs to the end of the area).
    Bytes area(ed.json_size(), 0);
    std::copy(json.begin(), json.end(), area.begin());
    const std::string junk = "zc-garbage";
    std::copy(junk.begin(), junk.end(), area.begin() + static_cast<long>(json.size() + 1));
    out.push_back({"json_" + w + "_garbage_after_nul",
                   "text, NUL, then garbage in the JSON area (" + w + ", checksum valid)",
                   [&ed, which, area](Bytes& b) { ed.SetJsonArea(b, which, area); }});
    // No NUL anywhere in the area.
    Bytes full(ed.json_size(), ' ');
    std::copy(json.begin(), json.end(), full.begin());
    out.push_back(
        {"json_" + w + "_no_nul",
         "JSON area not NUL-terminated (text then spaces to the end; " + w + ", checksum valid)",
         [&ed, which, full](Bytes& b) { ed.SetJsonArea(b, which, full); }});
  }
  // Unlock material: the header parses, the passphrase no longer opens.
  edit("digest_value_changed", "digest 0 value changed (checksum-valid; unlock must fail)",
       [](json_object* r) {
         json_object* d = At(r, {"digests", "0"});
         std::string v = json_object_get_string(luks2ext::JsonMember(d, "digest"));
         v[0] = v[0] == 'A' ? 'B' : 'A';
         SetString(d, "digest", v);
       });
  edit("kdf_iterations_changed", "keyslot 0 pbkdf2 iterations changed (unlock must fail)",
       [](json_object* r) {
         json_object* kdf = At(r, {"keyslots", "0", "kdf"});
         SetInt(kdf, "iterations",
                json_object_get_int64(luks2ext::JsonMember(kdf, "iterations")) + 1);
       });
  return out;
}

// Binary-header field damage in `which` copies, each with and without a correct checksum.
std::vector<Mutation> BinaryMutations(const Editor& ed, Which which) {
  using namespace luks2ext;
  const std::string w = WhichName(which);
  std::vector<Mutation> out;
  // damage(bytes, copy offset) -> (alg, JSON area size) to reseal with.
  struct Field {
    std::string name, what;
    std::function<void(Bytes&, std::uint64_t)> damage;
    std::string reseal_alg = "sha256";
    std::uint64_t reseal_area = 0;  // 0: the copy's real hdr_size
    bool resealed_too = true;
  };
  const std::uint64_t hdr = ed.hdr();
  std::vector<Field> fields = {
      {"magic", "magic byte changed", [](Bytes& b, std::uint64_t off) { b[off] = 'X'; }},
      {"version1", "version 1",
       [](Bytes& b, std::uint64_t off) { Editor::SetU16(b, off + kVersionOffset, 1); }},
      {"version3", "version 3",
       [](Bytes& b, std::uint64_t off) { Editor::SetU16(b, off + kVersionOffset, 3); }},
      {"hdr_size_double", "hdr_size doubled (legal value, wrong)",
       [hdr](Bytes& b, std::uint64_t off) { Editor::SetU64(b, off + kHdrSizeOffset, 2 * hdr); },
       "sha256", 2 * hdr},
      {"hdr_size_odd", "hdr_size 12345 (illegal)",
       [](Bytes& b, std::uint64_t off) { Editor::SetU64(b, off + kHdrSizeOffset, 12345); }},
      {"hdr_size_huge", "hdr_size 2^62",
       [](Bytes& b, std::uint64_t off) { Editor::SetU64(b, off + kHdrSizeOffset, 1ull << 62); }},
      {"seqid_plus1", "seqid + 1 (this copy newer)",
       [](Bytes& b, std::uint64_t off) {
         Editor::SetU64(b, off + kSeqidOffset, Editor::SeqidAt(b, off) + 1);
       }},
      {"seqid_max", "seqid 2^64-1",
       [](Bytes& b, std::uint64_t off) { Editor::SetU64(b, off + kSeqidOffset, ~0ull); }},
      {"hdr_offset", "hdr_offset wrong (4096 / 2*hdr_size)",
       [hdr](Bytes& b, std::uint64_t off) {
         Editor::SetU64(b, off + kHdrOffsetOffset, off == 0 ? 4096 : 2 * hdr);
       }},
      {"csum_alg_sha1", "csum_alg \"sha1\"",
       [](Bytes& b, std::uint64_t off) {
         std::fill_n(b.begin() + static_cast<long>(off + kCsumAlgOffset), kCsumAlgSize, 0);
         std::memcpy(b.data() + off + kCsumAlgOffset, "sha1", 4);
       },
       "sha1"},
      {"csum_alg_bogus", "csum_alg \"zc-bogus\" (checksum computed with sha256)",
       [](Bytes& b, std::uint64_t off) {
         std::fill_n(b.begin() + static_cast<long>(off + kCsumAlgOffset), kCsumAlgSize, 0);
         std::memcpy(b.data() + off + kCsumAlgOffset, "zc-bogus", 8);
       }},
      {"csum_alg_nonterm", "csum_alg 32 bytes, no NUL",
       [](Bytes& b, std::uint64_t off) {
         std::fill_n(b.begin() + static_cast<long>(off + kCsumAlgOffset), kCsumAlgSize, 'a');
       }},
      {"uuid_nonterm", "uuid 40 bytes, no NUL",
       [](Bytes& b, std::uint64_t off) {
         std::fill_n(b.begin() + static_cast<long>(off + kUuidOffset), kUuidSize, 'a');
       }},
      {"uuid_other", "another well-formed uuid",
       [](Bytes& b, std::uint64_t off) {
         const char* u = "11111111-2222-4333-8444-555555555555";
         std::fill_n(b.begin() + static_cast<long>(off + kUuidOffset), kUuidSize, 0);
         std::memcpy(b.data() + off + kUuidOffset, u, std::strlen(u));
       }},
      {"label_nonterm", "label 48 bytes, no NUL",
       [](Bytes& b, std::uint64_t off) {
         std::fill_n(b.begin() + static_cast<long>(off + kLabelOffset), kLabelSize, 'L');
       }},
      {"subsystem_nonterm", "subsystem 48 bytes, no NUL",
       [](Bytes& b, std::uint64_t off) {
         std::fill_n(b.begin() + static_cast<long>(off + kSubsystemOffset), kSubsystemSize, 'S');
       }},
      {"salt", "salt changed", [](Bytes& b, std::uint64_t off) { b[off + kSaltOffset] ^= 0x5a; }},
      {"padding", "a padding byte set (offset 300)",
       [](Bytes& b, std::uint64_t off) { b[off + 300] = 0x77; }},
      {"csum", "checksum byte flipped",
       [](Bytes& b, std::uint64_t off) { b[off + kCsumOffset] ^= 0x01; }, "sha256", 0,
       /*resealed_too=*/false},
  };
  // Fields checked only through the checksum: with a stale checksum they are the same case as
  // "csum" (a checksum mismatch), so only their checksum-valid variant is written.
  const std::set<std::string> checksum_only = {
      "csum_alg_sha1",     "csum_alg_bogus", "csum_alg_nonterm",
      "uuid_nonterm",      "uuid_other",     "label_nonterm",
      "subsystem_nonterm", "salt",           "padding"};
  for (const Field& f : fields) {
    for (bool reseal : {false, true}) {
      if (reseal && !f.resealed_too) continue;
      if (!reseal && checksum_only.count(f.name)) continue;
      const std::string name = std::string("bin_") + w + "_" + f.name + (reseal ? "_csumok" : "");
      const std::string what =
          f.what + " (" + w + (reseal ? ", checksum recomputed)" : ", checksum left stale)");
      out.push_back({name, what, [&ed, which, f, reseal](Bytes& b) {
                       ed.ForEach(which, [&](std::uint64_t off) {
                         f.damage(b, off);
                         if (reseal)
                           ed.RawReseal(b, off, f.reseal_area ? f.reseal_area : ed.hdr(),
                                        f.reseal_alg);
                       });
                     }});
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// plain mode

int RunPlain(const std::string& base_path, const std::string& dir, std::uint64_t seed) {
  const Bytes file = ReadFileBytes(base_path);
  const Base base = ParseBase(file, base_path);
  const Editor ed(base.hdr, base.m);
  Rng rng(seed);
  Corpus corpus(dir);
  corpus.Comment("plain M=" + std::to_string(base.m) + " hdr=" + std::to_string(base.hdr) +
                 " size=" + std::to_string(file.size()) + " seed=" + std::to_string(seed));

  auto add = [&](const Mutation& m) {
    Bytes b = file;
    m.apply(b);
    corpus.AddPlain(m.name, m.what, b, m.key);
  };

  corpus.AddPlain("control_base", "the unmodified base (both must accept)", file);
  corpus.AddPlain("control_wrong_key", "the unmodified base, wrong passphrase", file, "wrong");

  // Truncations: inside the binary header, the JSON area, the secondary, the keyslots area,
  // the gap before the data, and at the data offset.
  const std::uint64_t h = base.hdr;
  std::vector<std::uint64_t> cuts = {0,
                                     512,
                                     4095,
                                     4096,
                                     8192,
                                     h - 1,
                                     h,
                                     h + 4096,
                                     2 * h - 1,
                                     2 * h,
                                     base.keyslot_offset + 4096,
                                     base.keyslot_offset + base.keyslot_size / 2,
                                     base.m - 1,
                                     base.m};
  auto segment_offset = [&]() -> std::uint64_t {
    auto img = luks2ext::Luks2Image::ParseHeaders(base.image);
    auto off = img->data_segment_offset();
    return off.ok() ? *off : 0;
  }();
  if (segment_offset > base.m) {
    cuts.push_back((base.m + segment_offset) / 2);
    cuts.push_back(segment_offset - 512);
    cuts.push_back(segment_offset);
    cuts.push_back(segment_offset + 4096);
  }
  for (int i = 0; i < 4; ++i)
    cuts.push_back(rng.Below(std::min<std::uint64_t>(file.size(), base.m + 4096)));
  std::sort(cuts.begin(), cuts.end());
  cuts.erase(std::unique(cuts.begin(), cuts.end()), cuts.end());
  for (std::uint64_t cut : cuts) {
    if (cut >= file.size()) continue;
    const std::string where = cut < kBinaryHeaderSize       ? "primary binary header"
                              : cut < h                     ? "primary JSON area"
                              : cut < h + kBinaryHeaderSize ? "secondary binary header"
                              : cut < 2 * h                 ? "secondary JSON area"
                              : cut < base.m                ? "keyslots area"
                              : cut < segment_offset        ? "gap before the data segment"
                                                            : "data segment";
    corpus.AddPlain("trunc_" + std::to_string(cut),
                    "file truncated to " + std::to_string(cut) + " bytes (in the " + where + ")",
                    Bytes(file.begin(), file.begin() + static_cast<long>(cut)));
  }

  // Binary header damage: primary, secondary, both; stale and recomputed checksums.
  for (Which which : {kPrimary, kSecondary, kBoth})
    for (const Mutation& m : BinaryMutations(ed, which)) add(m);

  // Checksum-valid JSON mutations in both copies, and a few in one copy only.
  for (const Mutation& m : JsonMutations(ed, base, kBoth)) add(m);
  const std::set<std::string> one_copy = {"no_digests",        "ks_overlap",     "seg_offset_nan",
                                          "garbage_after_nul", "trailing_space", "ks_area_past_m",
                                          "keyslots_empty"};
  for (Which which : {kPrimary, kSecondary})
    for (const Mutation& m : JsonMutations(ed, base, which)) {
      const std::string prefix = std::string("json_") + WhichName(which) + "_";
      if (one_copy.count(m.name.substr(prefix.size()))) add(m);
    }

  // Copies that disagree, with different seqids.
  const std::string no_keyslots =
      EditJson(base.json, [](json_object* r) { SetRaw(r, "keyslots", "{}"); });
  const std::string no_digests =
      EditJson(base.json, [](json_object* r) { json_object_object_del(r, "digests"); });
  const std::string bad_area = EditJson(base.json, [](json_object* r) {
    SetString(At(r, {"keyslots", "0", "area"}), "offset", "0");
  });
  struct Mismatch {
    const char* name;
    const char* what;
    Which newer;
    const std::string* json;  // nullptr: JSON unchanged
    bool reseal;
  };
  const std::vector<Mismatch> mismatches = {
      {"seq_p_newer_no_keyslots", "primary seqid+1 with keyslots {}, secondary the old valid copy",
       kPrimary, &no_keyslots, true},
      {"seq_s_newer_no_keyslots", "secondary seqid+1 with keyslots {}, primary the old valid copy",
       kSecondary, &no_keyslots, true},
      {"seq_p_newer_no_digests", "primary seqid+1 without digests, secondary the old valid copy",
       kPrimary, &no_digests, true},
      {"seq_s_newer_no_digests", "secondary seqid+1 without digests, primary the old valid copy",
       kSecondary, &no_digests, true},
      {"seq_p_newer_bad_area", "primary seqid+1 with keyslot area offset 0, secondary valid",
       kPrimary, &bad_area, true},
      {"seq_s_newer_bad_area", "secondary seqid+1 with keyslot area offset 0, primary valid",
       kSecondary, &bad_area, true},
      {"seq_p_newer_stale_csum", "primary seqid+1, checksum stale", kPrimary, nullptr, false},
      {"seq_s_newer_valid", "secondary seqid+1, same JSON, checksum valid", kSecondary, nullptr,
       true},
  };
  for (const Mismatch& mm : mismatches) {
    Bytes b = file;
    if (mm.json) ed.SetJsonText(b, mm.newer, *mm.json, /*reseal=*/false);
    ed.AddSeqid(b, mm.newer, 1, mm.reseal);
    corpus.AddPlain(mm.name, mm.what, b);
  }
  {
    Bytes b = file;
    ed.SetJsonText(b, kPrimary, no_keyslots);
    corpus.AddPlain("seq_equal_p_no_keyslots",
                    "same seqid, primary has keyslots {} (checksum valid), secondary intact", b);
  }
  {
    Bytes b = file;
    const std::string other_uuid = "11111111-2222-4333-8444-555555555555";
    std::fill_n(b.begin() + static_cast<long>(h + luks2ext::kUuidOffset), luks2ext::kUuidSize, 0);
    std::memcpy(b.data() + h + luks2ext::kUuidOffset, other_uuid.data(), other_uuid.size());
    ed.AddSeqid(b, kSecondary, 1, true);
    corpus.AddPlain("seq_s_newer_other_uuid", "secondary seqid+1 with another uuid, checksum valid",
                    b);
  }

  // Keyslot area damage: headers intact, the passphrase cannot open.
  {
    Bytes b = file;
    std::fill_n(b.begin() + static_cast<long>(base.keyslot_offset), 4096, 0);
    corpus.AddPlain("ks_data_zero_4k", "first 4 KiB of keyslot 0's area zeroed", b);
  }
  {
    Bytes b = file;
    const std::uint64_t at = base.keyslot_offset + rng.Below(base.keyslot_size);
    b[at] ^= 0x80;
    corpus.AddPlain("ks_data_bitflip",
                    "one bit flipped in keyslot 0's area at " + std::to_string(at), b);
  }
  {
    Bytes b = file;
    std::fill(b.begin() + static_cast<long>(2 * h), b.begin() + static_cast<long>(base.m), 0);
    corpus.AddPlain("ks_data_all_zero", "the whole keyslots area zeroed", b);
  }
  {
    Bytes b = file;
    for (std::uint64_t i = base.keyslot_offset; i < base.keyslot_offset + base.keyslot_size; ++i)
      b[i] = static_cast<std::uint8_t>(rng.Below(256));
    corpus.AddPlain("ks_data_random", "keyslot 0's area overwritten with random bytes", b);
  }

  // Seeded fuzz: random bytes in the JSON text (checksum recomputed, both copies) and in the
  // binary header fields (checksum recomputed).
  for (int i = 0; i < 12; ++i) {
    std::string text = base.json;
    const char alphabet[] = "{}[]\":,0123456789abcxyz \\-";
    const int flips = 1 + static_cast<int>(rng.Below(3));
    std::string where;
    for (int k = 0; k < flips; ++k) {
      const std::uint64_t pos = rng.Below(text.size());
      const char was = text[pos];
      text[pos] = alphabet[rng.Below(sizeof(alphabet) - 1)];
      where +=
          (where.empty() ? "" : ", ") + std::to_string(pos) + " '" + was + "'->'" + text[pos] + "'";
    }
    Bytes b = file;
    ed.SetJsonText(b, kBoth, text);
    corpus.AddPlain("fuzz_json_" + std::to_string(i),
                    "JSON text bytes replaced: " + where + " (both, checksum valid)", b);
  }
  for (int i = 0; i < 8; ++i) {
    Bytes b = file;
    const Which which = i % 2 ? kSecondary : kBoth;
    std::string where;
    const std::uint64_t pos = rng.Below(luks2ext::kCsumOffset);  // a field, not the checksum
    const auto value = static_cast<std::uint8_t>(rng.Below(256));
    ed.ForEach(which, [&](std::uint64_t off) {
      b[off + pos] = value;
      ed.RawReseal(b, off, ed.hdr(), "sha256");
    });
    corpus.AddPlain("fuzz_bin_" + std::to_string(i),
                    "binary header byte " + std::to_string(pos) + " set to " +
                        std::to_string(value) + " (" + WhichName(which) + ", checksum recomputed)",
                    b);
  }
  corpus.Close();
  std::cout << "make_corpus: wrote " << corpus.size() << " plain variants to " << dir << '\n';
  return 0;
}

// ---------------------------------------------------------------------------------------------
// zoned mode

struct ZonedBase {
  Base base;
  Bytes journal;  // the journal image [0, M) (fresh salts, same JSON)
};

// Image + a commit record describing it (seqid: the highest raw seqid of its two copies).
Bytes WithRecord(const Bytes& image, const Base& base, const Editor& ed) {
  luks2ext::CommitRecord record;
  record.seqid = std::max(Editor::SeqidAt(image, 0), Editor::SeqidAt(image, ed.hdr()));
  record.image_size = base.m;
  record.uuid = base.uuid;
  auto sha = luks2ext::Sha256Of({std::span<const std::uint8_t>(image)});
  if (!sha.ok()) Die(sha.error().message());
  record.image_sha256 = *sha;
  auto encoded = luks2ext::EncodeCommitRecord(record);
  if (!encoded.ok()) Die(encoded.error().message());
  Bytes out = image;
  out.insert(out.end(), encoded->begin(), encoded->end());
  return out;
}

Bytes Prefix(const Bytes& b, std::uint64_t n) {
  return Bytes(b.begin(), b.begin() + static_cast<long>(std::min<std::uint64_t>(n, b.size())));
}

int RunZoned(const std::string& home_path, const std::string& journal_path, const std::string& dir,
             std::uint64_t seed) {
  const Bytes home_zone = ReadFileBytes(home_path);
  const Bytes journal_zone = ReadFileBytes(journal_path);
  const Base base = ParseBase(home_zone, home_path);
  const Base jbase = ParseBase(journal_zone, journal_path);
  if (jbase.m != base.m || jbase.json != base.json || jbase.seqid != base.seqid)
    Die("home and journal do not hold the same image");
  for (const auto* z : {&home_zone, &journal_zone}) {
    if (z->size() < base.m + luks2ext::kCommitRecordSize)
      Die("a zone dump lacks its commit record");
    auto rec = luks2ext::DecodeCommitRecord(std::span<const std::uint8_t>(*z).subspan(base.m));
    if (!rec.ok()) Die("zone dump: " + rec.error().message());
  }
  const Editor ed(base.hdr, base.m);
  const Bytes& home = base.image;
  const Bytes& journal = jbase.image;
  const std::uint64_t full = base.m + luks2ext::kCommitRecordSize;
  Rng rng(seed);
  Corpus corpus(dir);
  corpus.Comment("zoned M=" + std::to_string(base.m) + " hdr=" + std::to_string(base.hdr) +
                 " seed=" + std::to_string(seed));

  // A variant from (home image or bytes, journal image or bytes). Images get a fresh record.
  auto rec = [&](const Bytes& img) { return WithRecord(img, base, ed); };
  auto add = [&](const std::string& name, const std::string& what, const Bytes& h, const Bytes& j,
                 const std::string& key = "good") {
    corpus.AddZoned(name, what, h, j, h.size() == full, j.size() == full, key);
  };
  auto mutate = [&](const Bytes& img, const std::function<void(Bytes&)>& f) {
    Bytes b = img;
    f(b);
    return b;
  };
  const std::string no_digests =
      EditJson(base.json, [](json_object* r) { json_object_object_del(r, "digests"); });
  const std::string no_keyslots =
      EditJson(base.json, [](json_object* r) { SetRaw(r, "keyslots", "{}"); });
  const std::string bad_area = EditJson(base.json, [](json_object* r) {
    SetString(At(r, {"keyslots", "0", "area"}), "offset", "0");
  });
  const std::string overlap = EditJson(base.json, [](json_object* r) {
    json_object* copy = nullptr;
    json_object_deep_copy(At(r, {"keyslots", "0"}), &copy, nullptr);
    json_object_object_add(At(r, {"keyslots"}), "1", copy);
  });
  auto bad_csum = [&](Bytes& b, Which w) {
    ed.ForEach(w, [&](std::uint64_t off) { b[off + luks2ext::kCsumOffset] ^= 0x01; });
  };
  auto bad_magic = [&](Bytes& b) {
    b[0] = 'X';
    b[ed.hdr()] = 'X';
  };
  auto set_json = [&](const std::string& text) {
    return [&ed, text](Bytes& b) { ed.SetJsonText(b, kBoth, text); };
  };
  auto garbage_after_nul = [&](Bytes& b) {
    Bytes area(ed.json_size(), 0);
    std::copy(base.json.begin(), base.json.end(), area.begin());
    const std::string junk = "zc-garbage";
    std::copy(junk.begin(), junk.end(), area.begin() + static_cast<long>(base.json.size() + 1));
    ed.SetJsonArea(b, kBoth, area);
  };
  auto zero_keyslots = [&](Bytes& b) {
    std::fill(b.begin() + static_cast<long>(2 * ed.hdr()), b.end(), 0);
  };
  auto newer = [&](const std::function<void(Bytes&)>& f, bool reseal) {
    return [&ed, f, reseal](Bytes& b) {
      if (f) f(b);
      ed.AddSeqid(b, kBoth, 1, reseal);
    };
  };
  auto with_bad_record = [&](const Bytes& img, int how) {
    Bytes b = rec(img);
    auto* r = b.data() + base.m;
    if (how == 0) {  // image digest wrong, record checksum right
      luks2ext::CommitRecord record;
      record.seqid = Editor::SeqidAt(img, 0);
      record.image_size = base.m;
      record.uuid = base.uuid;
      record.image_sha256.fill(0x5a);
      auto e = luks2ext::EncodeCommitRecord(record);
      std::copy(e->begin(), e->end(), r);
    } else if (how == 1) {  // seqid wrong, record checksum right
      luks2ext::CommitRecord record;
      record.seqid = Editor::SeqidAt(img, 0) + 5;
      record.image_size = base.m;
      record.uuid = base.uuid;
      record.image_sha256 = *luks2ext::Sha256Of({std::span<const std::uint8_t>(img)});
      auto e = luks2ext::EncodeCommitRecord(record);
      std::copy(e->begin(), e->end(), r);
    } else {  // random bytes
      for (std::uint64_t i = 0; i < luks2ext::kCommitRecordSize; ++i)
        r[i] = static_cast<std::uint8_t>(rng.Below(256));
    }
    return b;
  };
  const Bytes H = rec(home), J = rec(journal), none;

  add("z_control", "home and journal intact (both must accept)", H, J);
  add("z_control_wrong_key", "home and journal intact, wrong passphrase", H, J, "wrong");
  // Home damaged, journal intact: stock reads home only; zcryptsetup may use the journal.
  add("z_home_empty", "home zone empty", none, J);
  add("z_home_torn_4k", "home torn: only the first 4 KiB written", Prefix(home, 4096), J);
  add("z_home_torn_primary", "home torn: the primary copy only (hdr_size bytes)",
      Prefix(home, ed.hdr()), J);
  add("z_home_torn_headers", "home torn: both header copies, no keyslots area",
      Prefix(home, 2 * ed.hdr()), J);
  add("z_home_no_record", "home image complete, no commit record (zone open at M)", home, J);
  add("z_home_p_bad_csum", "home primary checksum flipped (secondary valid)",
      rec(mutate(home, [&](Bytes& b) { bad_csum(b, kPrimary); })), J);
  add("z_home_both_bad_csum", "home: both checksums flipped",
      rec(mutate(home, [&](Bytes& b) { bad_csum(b, kBoth); })), J);
  add("z_home_bad_magic", "home: both magics damaged", rec(mutate(home, bad_magic)), J);
  add("z_home_no_digests", "home: both copies without digests (checksum valid)",
      rec(mutate(home, set_json(no_digests))), J);
  add("z_home_garbage_after_nul", "home: garbage after the JSON's NUL (checksum valid)",
      rec(mutate(home, garbage_after_nul)), J);
  add("z_home_ks_overlap", "home: two keyslots on one area (checksum valid)",
      rec(mutate(home, set_json(overlap))), J);
  add("z_home_keyslots_zeroed", "home: keyslots area zeroed (record matches)",
      rec(mutate(home, zero_keyslots)), J);
  add("z_home_newer_stale_csum", "home: seqid+1 in both copies, checksums stale",
      rec(mutate(home, newer(nullptr, false))), J);
  add("z_home_newer_no_digests",
      "home: seqid+1 and no digests (checksum valid); journal older, valid",
      rec(mutate(home, newer(set_json(no_digests), true))), J);
  add("z_home_record_bad_sha", "home: commit record with a wrong image digest",
      with_bad_record(home, 0), J);
  add("z_home_record_bad_seqid", "home: commit record with another seqid", with_bad_record(home, 1),
      J);
  add("z_home_record_garbage", "home: commit record random bytes", with_bad_record(home, 2), J);
  // Journal damaged, home intact: both must go by home.
  add("z_journal_empty", "journal zone empty", H, none);
  add("z_journal_torn_4k", "journal torn: the first 4 KiB only", H, Prefix(journal, 4096));
  add("z_journal_both_bad_csum", "journal: both checksums flipped", H,
      rec(mutate(journal, [&](Bytes& b) { bad_csum(b, kBoth); })));
  add("z_journal_record_garbage", "journal: commit record random bytes", H,
      with_bad_record(journal, 2));
  add("z_journal_no_digests", "journal: no digests (checksum valid), same seqid", H,
      rec(mutate(journal, set_json(no_digests))));
  add("z_journal_newer_stale_csum", "journal: seqid+1, checksums stale (invalid)", H,
      rec(mutate(journal, newer(nullptr, false))));
  add("z_journal_newer_no_digests", "journal: seqid+1 without digests (checksum valid)", H,
      rec(mutate(journal, newer(set_json(no_digests), true))));
  add("z_journal_newer_no_keyslots", "journal: seqid+1 with keyslots {} (a newer valid image)", H,
      rec(mutate(journal, newer(set_json(no_keyslots), true))));
  add("z_journal_newer_bad_area", "journal: seqid+1, keyslot area offset 0 (checksum valid)", H,
      rec(mutate(journal, newer(set_json(bad_area), true))));
  add("z_journal_newer_garbage_after_nul", "journal: seqid+1, garbage after the JSON's NUL", H,
      rec(mutate(journal, newer(garbage_after_nul, true))));
  add("z_journal_newer_torn", "journal: seqid+1, torn at half the image", H,
      Prefix(mutate(journal, newer(nullptr, true)), (base.m / 2) / 4096 * 4096));
  add("z_journal_newer_no_record", "journal: seqid+1 valid image, no commit record", H,
      mutate(journal, newer(nullptr, true)));
  add("z_journal_newer_valid", "journal: seqid+1 valid image with its record", H,
      rec(mutate(journal, newer(nullptr, true))));
  add("z_journal_newer_record_bad_sha", "journal: seqid+1 valid image, record digest wrong", H,
      with_bad_record(mutate(journal, newer(nullptr, true)), 0));
  add("z_journal_newer_keyslots_zeroed", "journal: seqid+1 valid headers, keyslots area zeroed", H,
      rec(mutate(journal, [&](Bytes& b) {
        newer(nullptr, true)(b);
        zero_keyslots(b);
      })));
  // Both damaged: stock rejects, and zcryptsetup must too.
  add("z_both_empty", "both zones empty", none, none);
  add("z_both_bad_csum", "both copies in both zones: checksums flipped",
      rec(mutate(home, [&](Bytes& b) { bad_csum(b, kBoth); })),
      rec(mutate(journal, [&](Bytes& b) { bad_csum(b, kBoth); })));
  add("z_both_torn_4k", "home and journal torn at 4 KiB", Prefix(home, 4096),
      Prefix(journal, 4096));
  add("z_home_torn_journal_bad_csum", "home torn at 4 KiB, journal checksums flipped",
      Prefix(home, 4096), rec(mutate(journal, [&](Bytes& b) { bad_csum(b, kBoth); })));
  add("z_home_bad_magic_journal_torn", "home magics damaged, journal torn at 4 KiB",
      rec(mutate(home, bad_magic)), Prefix(journal, 4096));
  add("z_both_no_digests", "home and journal without digests (checksum valid)",
      rec(mutate(home, set_json(no_digests))), rec(mutate(journal, set_json(no_digests))));
  add("z_both_garbage_after_nul", "home and journal: garbage after the JSON's NUL",
      rec(mutate(home, garbage_after_nul)), rec(mutate(journal, garbage_after_nul)));
  add("z_both_ks_overlap", "home and journal: two keyslots on one area",
      rec(mutate(home, set_json(overlap))), rec(mutate(journal, set_json(overlap))));
  add("z_both_keyslots_zeroed", "home and journal: keyslots areas zeroed",
      rec(mutate(home, zero_keyslots)), rec(mutate(journal, zero_keyslots)));
  add("z_home_torn_journal_keyslots_zeroed", "home torn at 4 KiB, journal keyslots zeroed",
      Prefix(home, 4096), rec(mutate(journal, zero_keyslots)));
  add("z_home_empty_journal_newer_no_digests", "home empty, journal seqid+1 without digests", none,
      rec(mutate(journal, newer(set_json(no_digests), true))));
  add("z_home_empty_journal_trailing_space", "home empty, journal JSON followed by a space", none,
      rec(mutate(journal, set_json(base.json + " "))));
  corpus.Close();
  std::cout << "make_corpus: wrote " << corpus.size() << " zoned variants to " << dir << '\n';
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  std::uint64_t seed = 8;  // issue 8
  for (std::size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--seed" && i + 1 < args.size()) {
      seed = std::strtoull(args[i + 1].c_str(), nullptr, 10);
      args.erase(args.begin() + static_cast<long>(i), args.begin() + static_cast<long>(i + 2));
      break;
    }
  }
  if (args.size() == 3 && args[0] == "plain") return RunPlain(args[1], args[2], seed);
  if (args.size() == 4 && args[0] == "zoned") return RunZoned(args[1], args[2], args[3], seed);
  std::cerr << "usage: make_corpus plain BASE OUTDIR [--seed N]\n"
               "       make_corpus zoned HOME JOURNAL OUTDIR [--seed N]\n";
  return 1;
}
