#include "support/update_scene.h"

#include <stdlib.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "luks2/image.h"

namespace luks2ext::testing {

PbkdfOptions FastPbkdf() { return FastOptions().pbkdf; }

Status WithVolume(BlockDevice& device, const std::function<Status(Volume&)>& verb) {
  auto volume = Volume::Open(device);
  if (!volume.ok()) return volume.error();
  return verb(**volume);
}

ScratchDir::ScratchDir() {
  std::string pattern =
      (std::filesystem::temp_directory_path() / "zcryptsetup-update-XXXXXX").string();
  if (mkdtemp(pattern.data()) == nullptr) {
    ADD_FAILURE() << "mkdtemp: " << std::strerror(errno);
    return;
  }
  path_ = pattern;
}

ScratchDir::~ScratchDir() {
  std::error_code ignored;
  if (!path_.empty()) std::filesystem::remove_all(path_, ignored);
}

std::vector<uint8_t> ReadWholeFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), {});
}

void WriteWholeFile(const std::string& path, const std::vector<uint8_t>& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()),
            static_cast<std::streamsize>(bytes.size()));
  ASSERT_TRUE(out.good()) << path;
}

// ---------------------------------------------------------------------------------------------
// A formatted drive with a data pattern

FormatOptions CrashOptions() {
  FormatOptions options = FastOptions();
  options.layout.keyslots_size = 1 * MiB;
  return options;
}

namespace {

std::vector<std::uint8_t> Pattern(uint64_t length) {
  std::vector<std::uint8_t> bytes(length);
  for (uint64_t i = 0; i < length; ++i) bytes[i] = static_cast<std::uint8_t>((i * 131 + 7 + i / 4096) & 0xff);
  return bytes;
}

}  // namespace

std::unique_ptr<Scene> MakeScene(const Config& config) {
  auto f = FormatNew(config, CrashOptions());
  if (!f.device) return nullptr;
  auto scene = std::make_unique<Scene>();
  scene->device = std::move(f.device);
  scene->layout = f.layout;
  scene->uuid = f.uuid;
  scene->pattern = Pattern(kPatternBytes);
  if (Status s = scene->device->Write(scene->layout.data_offset, scene->pattern); !s.ok()) {
    ADD_FAILURE() << "data pattern: " << s.error().message();
    return nullptr;
  }
  return scene;
}

Status AddSecondKey(Scene& scene) {
  return WithVolume(*scene.device, [](Volume& v) {
    auto slot = v.AddKey(Secret(kPassphrase), Secret(kSecond), -1, FastPbkdf());
    if (slot.ok() && *slot != 1) return Status(Error::WrongParameters("B not in keyslot 1"));
    return AsStatus(slot);
  });
}

void ExpectDataUntouched(const MemoryZonedDevice& device, const Scene& scene, uint64_t first) {
  const auto& log = device.op_log();
  for (uint64_t i = first; i < log.size(); ++i)
    EXPECT_LE(log[i].offset + log[i].length, scene.layout.data_offset)
        << "op " << i << " reaches the data segment; " << DescribeOps(device, first);
  EXPECT_TRUE(device.Contents(scene.layout.data_offset, scene.pattern.size()) == scene.pattern)
      << "the data segment changed";
  if (scene.layout.is_zoned() && device.ZoneAt(scene.layout.data_offset).is_sequential()) {
    EXPECT_EQ(device.ZoneAt(scene.layout.data_offset).written(), scene.pattern.size());
  }
}

// ---------------------------------------------------------------------------------------------
// What a drive opens as

std::string Describe(const Observed& o) {
  std::string s = "seqid " + std::to_string(o.seqid) + " (copy " + std::to_string(o.chosen) +
                  ") uuid " + o.uuid + " label '" + o.label + "' flags " + ::testing::PrintToString(o.flags) +
                  " keyslots " + ::testing::PrintToString(o.keyslots) + " opens [";
  for (bool b : o.opens) s += b ? " yes" : " no";
  return s + " ]";
}

bool SameMetadata(const Observed& a, const Observed& b) {
  return a.seqid == b.seqid && a.uuid == b.uuid && a.label == b.label && a.flags == b.flags && a.keyslots == b.keyslots;
}

bool SameBytes(const Observed& a, const Observed& b) {
  return SameMetadata(a, b) && a.json == b.json && a.keyslots_area == b.keyslots_area;
}

std::optional<Observed> Observe(MemoryZonedDevice& device, const Layout& layout,
                                const std::vector<KeyCase>& keys, Unlock unlock) {
  auto volume = Volume::Open(device);
  if (!volume.ok()) {
    ADD_FAILURE() << "Volume::Open: " << volume.error().message();
    return std::nullopt;
  }
  Observed o;
  o.copies = (*volume)->copies().size();
  for (size_t i = 0; i < (*volume)->copies().size(); ++i)
    if ((*volume)->copies()[i].chosen) {
      o.chosen = i;
      o.seqid = (*volume)->copies()[i].seqid;
    }
  o.label = (*volume)->label();
  o.uuid = (*volume)->uuid();
  o.flags = (*volume)->config_flags();
  std::sort(o.flags.begin(), o.flags.end());
  o.keyslots = (*volume)->active_keyslots();
  o.json = (*volume)->json_text(false);
  o.warnings = (*volume)->warnings();
  const uint64_t copy = (*volume)->copies()[o.chosen].offset;
  const Layout& chosen = (*volume)->layout();
  // The key material the chosen header uses: its keyslot areas, in keyslot order. Bytes of the
  // keyslots area no keyslot refers to (a dropped keyslot not yet wiped) are not state.
  {
    const std::vector<std::uint8_t> raw = device.Contents(copy, 2 * chosen.header_size);
    std::vector<uint8_t> leading(raw.size());
    for (size_t i = 0; i < raw.size(); ++i) leading[i] = static_cast<uint8_t>(raw[i]);
    auto headers = Luks2Image::ParseHeaders(leading);
    if (!headers.ok()) {
      ADD_FAILURE() << "the chosen copy's headers: " << headers.error().message();
      return std::nullopt;
    }
    for (const KeyslotArea& area : headers->keyslot_areas()) {
      const std::vector<std::uint8_t> bytes = device.Contents(copy + area.offset, area.size);
      o.keyslots_area.insert(o.keyslots_area.end(), bytes.begin(), bytes.end());
    }
  }
  if (unlock == Unlock::kNone) return o;
  // On an ordinary disk libcryptsetup unlocks from device.path(), the emulator's stand-in.
  if (layout.placement == Placement::kStandard) MirrorIntoStandIn(device, layout.data_offset);
  for (const KeyCase& key : keys) {
    if (o.keyslots.empty()) {  // erased: libcryptsetup has no keyslot to try
      o.opens.push_back(false);
      continue;
    }
    const Status s = CheckPassphrase(**volume, key.passphrase);
    if (!s.ok() && s.error().code() != ExitCode::kNoPermission)
      ADD_FAILURE() << "checking '" << key.passphrase << "': " << s.error().message();
    o.opens.push_back(s.ok());
  }
  return o;
}

std::vector<bool> Expected(const std::vector<KeyCase>& keys, bool after) {
  std::vector<bool> v;
  for (const KeyCase& key : keys) v.push_back(after ? key.after : key.before);
  return v;
}

}  // namespace luks2ext::testing
