#include "support/volume_fixture.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <utility>

#include "luks2/image.h"
#include "luks2ext/layout.h"

namespace luks2ext::testing {

const std::vector<std::string> kInlineFlags = {"no-read-workqueue", "no-write-workqueue",
                                               "force-inline"};

FormatOptions FastOptions(bool force_inline) {
  FormatOptions options;
  options.pbkdf.type = "pbkdf2";
  options.pbkdf.iterations = 1000;
  options.force_inline = force_inline;
  return options;
}

std::unique_ptr<MemoryZonedDevice> MakeDevice(const Config& config) {
  auto device = MemoryZonedDevice::Create(config);
  EXPECT_TRUE(device.ok()) << device.error().message();
  return device.ok() ? std::move(device).value() : nullptr;
}

Config HostManaged(uint32_t logical_block_size) {
  Config c;
  c.model = ZoneModel::kHostManaged;
  c.zone_size = 64 * MiB;
  c.size = 8 * c.zone_size;
  c.logical_block_size = logical_block_size;
  return c;
}
Config HostManagedConventional() {
  Config c = HostManaged(4096);
  c.size = 12 * c.zone_size;
  c.nr_conventional_zones = 4;
  return c;
}
Config ZnsLike() {
  Config c = HostManaged(4096);
  c.zone_capacity = 48 * MiB;
  c.max_open_zones = 4;
  c.max_active_zones = 4;
  return c;
}
Config HostAware() {
  Config c = HostManaged(4096);
  c.model = ZoneModel::kHostAware;
  return c;
}
Config NotZoned() {
  Config c;
  c.model = ZoneModel::kNone;
  c.size = 256 * MiB;
  c.logical_block_size = 4096;
  return c;
}

Formatted FormatNew(const Config& config, const FormatOptions& options) {
  Formatted f;
  auto device = MakeDevice(config);
  if (!device) return {};
  auto layout = PlanFormat(*device, options);
  if (!layout.ok()) {
    ADD_FAILURE() << "PlanFormat: " << layout.error().message();
    return {};
  }
  const Secret passphrase(kPassphrase);
  auto uuid = FormatVolume(*device, *layout, options, passphrase);
  if (!uuid.ok()) {
    ADD_FAILURE() << "FormatVolume: " << uuid.error().message();
    return {};
  }
  f.device = std::move(device);
  f.layout = *layout;
  f.uuid = *uuid;
  return f;
}

std::unique_ptr<Volume> MustOpen(BlockDevice& device) {
  auto volume = Volume::Open(device);
  EXPECT_TRUE(volume.ok()) << volume.error().message();
  return volume.ok() ? std::move(volume).value() : nullptr;
}

Status CheckPassphrase(Volume& volume, const char* passphrase) {
  return volume.Activate(ActivationRequest{}, Secret(passphrase));
}

void MirrorIntoStandIn(MemoryZonedDevice& device, uint64_t length) {
  const std::vector<std::uint8_t> bytes = device.Contents(0, length);
  const int fd = ::open(device.path().c_str(), O_WRONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0) << device.path();
  const ssize_t n = ::pwrite(fd, bytes.data(), bytes.size(), 0);
  ::close(fd);
  ASSERT_EQ(n, static_cast<ssize_t>(bytes.size()));
}

const char* OpName(Op::Kind kind) {
  switch (kind) {
    case Op::Kind::kWrite:
      return "write";
    case Op::Kind::kReset:
      return "reset";
    case Op::Kind::kFinish:
      return "finish";
  }
  return "?";
}

std::string DescribeOps(const MemoryZonedDevice& device, size_t first) {
  std::string s;
  const auto& log = device.op_log();
  for (size_t i = first; i < log.size(); ++i)
    s += std::to_string(i) + ":" + OpName(log[i].kind) + "@" + std::to_string(log[i].offset) + "+" +
         std::to_string(log[i].length) + (log[i].succeeded ? "" : "(refused)") + " ";
  return s;
}

void ExpectMetadataOps(const MemoryZonedDevice& device, const Layout& layout, size_t first) {
  const auto& log = device.op_log();
  const std::string ops = DescribeOps(device, first);
  ASSERT_GT(log.size(), first) << "nothing was written";
  for (size_t i = first; i < log.size(); ++i) {
    EXPECT_TRUE(log[i].succeeded) << "op " << i << " refused; " << ops;
    EXPECT_LE(log[i].offset + log[i].length, layout.data_offset)
        << "op " << i << " touches the data segment; " << ops;
  }
  if (!layout.is_zoned()) {
    for (size_t i = first; i < log.size(); ++i) EXPECT_EQ(log[i].kind, Op::Kind::kWrite) << ops;
    return;
  }

  const uint64_t copy_size = layout.image_size() + kCommitRecordSize;
  struct Copy {
    const char* name;
    uint64_t offset;
    std::vector<size_t> ops;
  };
  std::vector<Copy> copies = {{"home", layout.home_offset, {}}};
  if (layout.journal_offset) copies.push_back({"journal", *layout.journal_offset, {}});
  for (size_t i = first; i < log.size(); ++i) {
    bool owned = false;
    for (Copy& copy : copies) {
      if (log[i].offset >= copy.offset && log[i].offset < copy.offset + copy_size) {
        copy.ops.push_back(i);
        owned = true;
      }
    }
    EXPECT_TRUE(owned) << "op " << i << " is outside every metadata copy; " << ops;
  }

  for (const Copy& copy : copies) {
    SCOPED_TRACE(copy.name);
    ASSERT_FALSE(copy.ops.empty()) << ops;
    const Zone& zone = device.ZoneAt(copy.offset);
    size_t from = 0, to = copy.ops.size();
    if (zone.is_sequential()) {
      const Op& reset = log[copy.ops.front()];
      const Op& finish = log[copy.ops.back()];
      EXPECT_EQ(reset.kind, Op::Kind::kReset) << "first op is not a reset; " << ops;
      EXPECT_EQ(reset.offset, copy.offset);
      EXPECT_EQ(finish.kind, Op::Kind::kFinish) << "last op is not a finish; " << ops;
      EXPECT_EQ(finish.offset, copy.offset);
      EXPECT_EQ(zone.condition, ZoneCondition::kFull);
      from = 1;
      to = copy.ops.size() - 1;
    }
    const uint64_t hdr = layout.header_size;
    const uint64_t image = layout.image_size();
    if (zone.is_sequential()) {
      // A sequential zone is written in address order, image then record, exactly once.
      uint64_t next = copy.offset;
      for (size_t k = from; k < to; ++k) {
        const Op& op = log[copy.ops[k]];
        EXPECT_EQ(op.kind, Op::Kind::kWrite) << ops;
        EXPECT_EQ(op.offset, next) << "writes not in order; " << ops;
        next = op.offset + op.length;
      }
      EXPECT_EQ(next, copy.offset + copy_size) << "copy not written exactly; " << ops;
      continue;
    }
    // In place, the order that keeps the old or the new state at every cut: the keyslot areas
    // the new header uses, the secondary header, the primary header, the rest of the keyslots
    // area (wipes of dropped keyslots), the record. Every byte exactly once.
    const std::vector<std::uint8_t> raw = device.Contents(copy.offset, 2 * hdr);
    std::vector<uint8_t> leading(raw.size());
    for (size_t i = 0; i < raw.size(); ++i) leading[i] = static_cast<uint8_t>(raw[i]);
    auto written = Luks2Image::ParseHeaders(leading);
    ASSERT_TRUE(written.ok()) << written.error().message();
    // Covered block by block by the union of the areas (adjacent areas go in one write).
    auto in_used_area = [&](uint64_t begin, uint64_t end) {
      for (uint64_t at = begin; at < end; at += 4096) {
        bool inside = false;
        for (const KeyslotArea& area : written->keyslot_areas())
          inside = inside || (at >= area.offset && at < area.offset + area.size);
        if (!inside) return false;
      }
      return true;
    };
    auto overlaps_used_area = [&](uint64_t begin, uint64_t end) {
      for (const KeyslotArea& area : written->keyslot_areas())
        if (begin < area.offset + area.size && area.offset < end) return true;
      return false;
    };
    enum Phase { kUsedKeyslots, kSecondary, kPrimary, kOtherKeyslots, kRecord };
    int last_phase = kUsedKeyslots;
    uint64_t covered = 0;
    std::vector<std::pair<uint64_t, uint64_t>> seen;
    for (size_t k = from; k < to; ++k) {
      const Op& op = log[copy.ops[k]];
      EXPECT_EQ(op.kind, Op::Kind::kWrite) << ops;
      const uint64_t begin = op.offset - copy.offset, end = begin + op.length;
      int phase = -1;
      if (end <= hdr) phase = kPrimary;
      else if (begin >= hdr && end <= 2 * hdr) phase = kSecondary;
      else if (begin >= 2 * hdr && end <= image && in_used_area(begin, end)) phase = kUsedKeyslots;
      else if (begin >= 2 * hdr && end <= image && !overlaps_used_area(begin, end)) phase = kOtherKeyslots;
      else if (begin >= image && layout.has_commit_record()) phase = kRecord;
      ASSERT_NE(phase, -1) << "a write straddles two parts of the copy; " << ops;
      EXPECT_GE(phase, last_phase) << "in-place writes out of the safe order; " << ops;
      last_phase = std::max(last_phase, phase);
      for (const auto& [b, e] : seen)
        EXPECT_FALSE(begin < e && b < end) << "a byte written twice; " << ops;
      seen.emplace_back(begin, end);
      covered += op.length;
    }
    EXPECT_EQ(covered, layout.has_commit_record() ? copy_size : image)
        << "copy not written exactly; " << ops;
  }
  if (copies.size() == 2) {
    EXPECT_LT(copies[1].ops.back(), copies[0].ops.front())
        << "home written before the journal is complete; " << ops;
  }
}

bool HasAll(const std::vector<std::string>& flags, const std::vector<std::string>& wanted) {
  return std::all_of(wanted.begin(), wanted.end(), [&](const std::string& w) {
    return std::find(flags.begin(), flags.end(), w) != flags.end();
  });
}
bool HasAny(const std::vector<std::string>& flags, const std::vector<std::string>& wanted) {
  return std::any_of(wanted.begin(), wanted.end(), [&](const std::string& w) {
    return std::find(flags.begin(), flags.end(), w) != flags.end();
  });
}

}  // namespace luks2ext::testing
