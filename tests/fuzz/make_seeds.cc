// Writes the binary seed corpora of the fuzz targets (tests/fuzz/corpus/<target>/) from real
// LUKS2 images that libcryptsetup formats in memory, laid out on the emulated drive by the
// library's own WriteCopy. The crypttab and number seeds are text, kept by hand.
//
//   fuzz_make_seeds CORPUS_DIR
//
// Seeds are kept small: 16 KiB header copies; a keyslots area that only holds keyslots where a
// target needs them (image and binary header seeds keep the headers only); images whose
// keyslots area is zero, so that seeds can leave out the all-zero tail (the targets read
// zeros past the input there).
#include <libcryptsetup.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "fuzz_device.h"
#include "luks2/commit_record.h"
#include "luks2/image.h"
#include "metadata/copy_reader.h"
#include "metadata/image_store.h"
#include "base/memfd.h"
#include "testing/memory_device.h"

using namespace luks2ext;
namespace fs = std::filesystem;

namespace {

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "fuzz_make_seeds: %s\n", what.c_str());
  std::exit(1);
}

template <typename T>
T Must(Result<T> result, const char* what) {
  if (!result.ok()) Die(std::string(what) + ": " + result.error().message());
  return std::move(result).value();
}

void Must(const Status& status, const char* what) {
  if (!status.ok()) Die(std::string(what) + ": " + status.error().message());
}

void MustCrypt(int r, const char* what) {
  if (r < 0) Die(std::string(what) + ": libcryptsetup error " + std::to_string(r));
}

void Quiet(int level, const char* message, void*) {
  if (std::getenv("SEEDS_VERBOSE")) std::fprintf(stderr, "[%d] %s", level, message);
}

struct ImageSpec {
  uint64_t hdr_size = 16 * KiB;
  uint64_t keyslots_size = 16 * KiB;
  uint64_t data_offset = 128 * KiB;
  int pbkdf2_keyslots = 0;
  int argon2_keyslots = 0;
  bool allow_discards = false;
  std::vector<std::string> extra_flags;  // added with our codec after libcryptsetup
  const char* label = nullptr;
  const char* subsystem = nullptr;
  const char* uuid = "9fd1a8a9-3c5a-4e0e-8a46-3c0f5e5b7a11";
};

// A LUKS2 image made by libcryptsetup on a memfd detached header (nothing else is written).
Luks2Image Format(const ImageSpec& spec) {
  const uint64_t image_size = 2 * spec.hdr_size + spec.keyslots_size;
  Memfd header = Must(Memfd::Create("seed-header", image_size), "header memfd");
  Memfd data = Must(Memfd::Create("seed-data", spec.data_offset + 1 * MiB), "data memfd");
  crypt_device* cd = nullptr;
  MustCrypt(crypt_init_data_device(&cd, header.path().c_str(), data.path().c_str()), "init");
  crypt_pbkdf_type pbkdf2{};
  pbkdf2.type = CRYPT_KDF_PBKDF2;
  pbkdf2.hash = "sha256";
  pbkdf2.iterations = 1000;
  pbkdf2.flags = CRYPT_PBKDF_NO_BENCHMARK;
  MustCrypt(crypt_set_pbkdf_type(cd, &pbkdf2), "pbkdf");
  MustCrypt(crypt_set_metadata_size(cd, spec.hdr_size, spec.keyslots_size), "metadata size");
  MustCrypt(crypt_set_data_offset(cd, spec.data_offset / 512), "data offset");
  crypt_params_luks2 params{};
  params.sector_size = 4096;
  params.label = spec.label;
  params.subsystem = spec.subsystem;
  const char key[64] = "zcryptsetup fuzz seed volume key, not secret at all............";
  MustCrypt(crypt_format(cd, CRYPT_LUKS2, "aes", "xts-plain64", spec.uuid, key, 64, &params),
            "format");
  const char passphrase[] = "seed";
  for (int i = 0; i < spec.pbkdf2_keyslots + spec.argon2_keyslots; ++i) {
    crypt_pbkdf_type argon2{};
    argon2.type = CRYPT_KDF_ARGON2ID;
    argon2.hash = "sha256";
    argon2.iterations = 4;
    argon2.max_memory_kb = 32;
    argon2.parallel_threads = 1;
    argon2.flags = CRYPT_PBKDF_NO_BENCHMARK;
    MustCrypt(crypt_set_pbkdf_type(cd, i < spec.pbkdf2_keyslots ? &pbkdf2 : &argon2), "pbkdf");
    MustCrypt(crypt_keyslot_add_by_volume_key(cd, CRYPT_ANY_SLOT, key, 64, passphrase,
                                              sizeof passphrase - 1),
              "keyslot");
  }
  if (spec.allow_discards)
    MustCrypt(crypt_persistent_flags_set(cd, CRYPT_FLAGS_ACTIVATION, CRYPT_ACTIVATE_ALLOW_DISCARDS),
              "flags");
  crypt_free(cd);

  const std::vector<std::uint8_t> bytes = Must(header.ReadAll(), "read header");
  std::vector<uint8_t> raw(bytes.size());
  std::memcpy(raw.data(), bytes.data(), bytes.size());
  Luks2Image image = Must(Luks2Image::Parse(std::move(raw)), "parse");
  for (const std::string& flag : spec.extra_flags) Must(image.AddConfigFlag(flag), "flag");
  return image;
}

std::vector<uint8_t> Bytes(std::span<const uint8_t> bytes) { return {bytes.begin(), bytes.end()}; }

// The image with its keyslots area zeroed (keyslot contents do not matter to the codec).
Luks2Image WithoutKeyslotData(const Luks2Image& image) {
  std::vector<uint8_t> bytes = Bytes(image.bytes());
  std::fill(bytes.begin() + 2 * image.hdr_size(), bytes.end(), 0);
  return Must(Luks2Image::Parse(std::move(bytes)), "reparse");
}

std::vector<uint8_t> TrimZeros(std::vector<uint8_t> bytes) {
  while (!bytes.empty() && bytes.back() == 0) bytes.pop_back();
  return bytes;
}

size_t total_bytes = 0;

void Write(const fs::path& dir, const std::string& name, std::span<const uint8_t> bytes) {
  fs::create_directories(dir);
  std::ofstream out(dir / name, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  if (!out) Die("cannot write " + (dir / name).string());
  total_bytes += bytes.size();
  std::printf("%-44s %7zu bytes\n", (dir.filename() / name).c_str(), bytes.size());
}

std::vector<uint8_t> Prefixed(uint8_t first, std::span<const uint8_t> rest) {
  std::vector<uint8_t> out = {first};
  out.insert(out.end(), rest.begin(), rest.end());
  return out;
}

std::vector<uint8_t> RecordThenImage(const Luks2Image& image) {
  const CommitRecord record = Must(MakeCommitRecord(image), "record");
  const EncodedCommitRecord encoded = Must(EncodeCommitRecord(record), "encode");
  std::vector<uint8_t> out(encoded.begin(), encoded.end());
  const std::vector<uint8_t> trimmed = TrimZeros(Bytes(image.bytes()));
  out.insert(out.end(), trimmed.begin(), trimmed.end());
  return out;
}

// A drive seed: the emulator's zones and contents as a FuzzDevice input. Checks that the copy
// reader accepts it, so that the seed starts the fuzzer on the interesting paths.
std::vector<uint8_t> DriveSeed(MemoryZonedDevice& drive) {
  const Geometry& g = drive.geometry();
  const std::vector<Zone> zones = Must(drive.ReportZones(0, kZonesToReport), "report");
  const std::vector<std::uint8_t> contents = drive.Contents(0, g.size);
  std::vector<uint8_t> raw(contents.size());
  std::memcpy(raw.data(), contents.data(), contents.size());
  const std::vector<uint8_t> seed = EncodeFuzzDevice(g, g.is_zoned() ? zones : std::vector<Zone>{},
                                                     TrimZeros(std::move(raw)));
  FuzzDevice replay(seed);
  (void)Must(ReadCopies(replay, InspectDepth::kFull), "the copy reader refuses a drive seed");
  return seed;
}

std::unique_ptr<MemoryZonedDevice> Drive(ZoneModel model, uint32_t lbs, uint64_t zone_capacity,
                                         uint32_t conventional) {
  MemoryZonedDevice::Config config;
  config.model = model;
  config.size = 1 * MiB;
  config.zone_size = 64 * KiB;
  config.zone_capacity = zone_capacity;
  config.nr_conventional_zones = conventional;
  config.logical_block_size = lbs;
  return Must(MemoryZonedDevice::Create(config), "emulator");
}

void WriteCopies(MemoryZonedDevice& drive, const Luks2Image& image, bool journal) {
  const std::vector<Zone> zones = Must(drive.ReportZones(0, kZonesToReport), "report");
  const bool zoned = drive.geometry().is_zoned();
  uint64_t conventional = 0;
  for (const Zone& zone : zones) {
    if (zone.is_sequential()) break;
    conventional += zone.length;
  }
  if (journal) {
    const uint64_t at = JournalOffsetFor(image.image_size(), drive.geometry().zone_size, conventional);
    Luks2Image copy = Must(image.Clone(), "clone");
    Must(copy.ResealWithFreshSalts(), "reseal");
    Must(WriteCopy(drive, SlotAt(CopyRole::kJournal, at, zones, zoned), copy), "write journal");
  }
  Must(WriteCopy(drive, SlotAt(CopyRole::kHome, 0, zones, zoned), image), "write home");
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) Die("usage: fuzz_make_seeds CORPUS_DIR");
  const fs::path corpus = argv[1];
  crypt_set_log_callback(nullptr, Quiet, nullptr);
  crypt_metadata_locking(nullptr, 0);

  // Headers with keyslots (one PBKDF2, one Argon2id), flags, label and subsystem.
  ImageSpec keyed;
  keyed.keyslots_size = 512 * KiB;
  keyed.data_offset = 1 * MiB;
  keyed.pbkdf2_keyslots = 1;
  keyed.argon2_keyslots = 1;
  keyed.allow_discards = true;
  keyed.extra_flags = {"no-read-workqueue", "no-write-workqueue", "force-inline"};
  keyed.label = "fuzz seed";
  keyed.subsystem = "zcryptsetup";
  const Luks2Image with_keys = Format(keyed);
  // No keyslot, 48 KiB; libcryptsetup fills the keyslots area with random bytes, zeroed here.
  const Luks2Image plain = WithoutKeyslotData(Format(ImageSpec{}));
  ImageSpec big_spec;
  big_spec.hdr_size = 32 * KiB;
  big_spec.pbkdf2_keyslots = 0;
  const Luks2Image big_header = Format(big_spec);

  const uint64_t h = with_keys.hdr_size();
  const std::span<const uint8_t> keyed_bytes = with_keys.bytes();

  // a. binary header: a selector byte (0 primary, 1 secondary at 16 KiB), then one copy.
  const fs::path bh = corpus / "binary_header";
  Write(bh, "primary-16k", Prefixed(0, keyed_bytes.subspan(0, h)));
  Write(bh, "secondary-16k", Prefixed(1, keyed_bytes.subspan(h, h)));
  Write(bh, "primary-32k", Prefixed(0, big_header.bytes().subspan(0, big_header.hdr_size())));

  // b. image: the leading bytes of a device, both copies.
  const fs::path im = corpus / "image";
  Write(im, "keyslots-and-flags", keyed_bytes.subspan(0, 2 * h));
  Write(im, "no-keyslots", plain.bytes().subspan(0, 2 * plain.hdr_size()));
  {
    // An update cut between the copies: the secondary is one seqid ahead of the primary.
    Luks2Image newer = Must(with_keys.Clone(), "clone");
    Must(newer.RemoveConfigFlag("force-inline"), "flag");
    std::vector<uint8_t> torn = Bytes(keyed_bytes.subspan(0, h));
    torn.insert(torn.end(), newer.bytes().begin() + h, newer.bytes().begin() + 2 * h);
    Write(im, "secondary-newer", torn);
    // A primary that fails its cheap checks: the parser scans for the secondary.
    std::vector<uint8_t> damaged = Bytes(keyed_bytes.subspan(0, 2 * h));
    std::fill_n(damaged.begin(), 8, 0);
    Write(im, "primary-damaged", damaged);
  }

  // c. commit record: the record, then the image it describes (all-zero tail left out).
  const fs::path cr = corpus / "commit_record";
  Write(cr, "no-keyslots", RecordThenImage(plain));
  Write(cr, "keyslots-zeroed", RecordThenImage(WithoutKeyslotData(with_keys)));

  // d. copy reader: drives with 64 KiB zones; the plain image has its data at 128 KiB.
  const fs::path cp = corpus / "copy_reader";
  {
    auto drive = Drive(ZoneModel::kHostManaged, 4096, 0, 0);
    WriteCopies(*drive, plain, true);
    Write(cp, "host-managed-4k-home-journal", DriveSeed(*drive));
  }
  {
    // ZNS-like: 512-byte blocks, zone capacity 56 KiB of 64 KiB. A power cut during the next
    // update: the journal is newer, home is torn at 20 KiB.
    auto drive = Drive(ZoneModel::kHostManaged, 512, 56 * KiB, 0);
    WriteCopies(*drive, plain, true);
    Luks2Image next = Must(plain.Clone(), "clone");
    Must(next.AddConfigFlag("force-inline"), "flag");
    WriteCopies(*drive, next, true);
    Must(drive->ResetZone(0), "reset");
    Must(drive->Write(0, next.bytes().subspan(0, 20 * KiB)), "torn write");
    Write(cp, "zns-512-torn-home", DriveSeed(*drive));
  }
  {
    auto drive = Drive(ZoneModel::kHostAware, 4096, 0, 2);
    WriteCopies(*drive, plain, true);
    Write(cp, "host-aware-conventional", DriveSeed(*drive));
  }
  {
    ImageSpec no_journal;
    no_journal.data_offset = 64 * KiB;
    auto drive = Drive(ZoneModel::kHostManaged, 4096, 0, 0);
    WriteCopies(*drive, WithoutKeyslotData(Format(no_journal)), false);
    Write(cp, "host-managed-no-journal", DriveSeed(*drive));
  }
  {
    auto drive = Drive(ZoneModel::kNone, 512, 0, 0);
    WriteCopies(*drive, plain, false);
    Write(cp, "ordinary-disk", DriveSeed(*drive));
  }
  // For the layout planner only (no contents): 256 KiB zones, where a 32 KiB keyslots area
  // (request byte 6) fits with its headers and record; sequential zones with a journal, then
  // two conventional zones at LBA 0 without one (request byte 7, bit 0).
  for (const uint32_t conventional : {0u, 2u}) {
    MemoryZonedDevice::Config config;
    config.model = ZoneModel::kHostManaged;
    config.size = 4 * MiB;
    config.zone_size = 256 * KiB;
    config.nr_conventional_zones = conventional;
    auto drive = Must(MemoryZonedDevice::Create(config), "emulator");
    std::vector<uint8_t> seed =
        EncodeFuzzDevice(drive->geometry(), Must(drive->ReportZones(0, kZonesToReport), "report"), {});
    seed[6] = 1;
    seed[7] = conventional ? 1 : 0;
    Write(cp, conventional ? "planner-conventional-no-journal" : "planner-256k-zones", seed);
  }
  std::printf("total: %zu bytes\n", total_bytes);
  return 0;
}
