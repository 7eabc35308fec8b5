#include "zoned/tallying_device.h"

#include <algorithm>
#include <optional>
#include <string>
#include <string_view>

#include "base/i18n.h"
#include "luks2ext/fd_io.h"
#include "luks2ext/log.h"
#include "luks2ext/number.h"

namespace luks2ext {
namespace {

std::string ZoneList(const std::vector<uint64_t>& starts, uint64_t zone_size) {
  if (starts.empty()) return "none";
  std::string list;
  for (const uint64_t start : starts)
    list += FormatMsg("{}{}", list.empty() ? "" : ", ",
                      zone_size ? FormatMsg("{} (offset {})", start / zone_size, start)
                                : FormatMsg("offset {}", start));
  return list;
}

struct StorageBytes {
  uint64_t read = 0, written = 0;
};

// read_bytes and write_bytes of /proc/self/io; nullopt where the kernel has no task I/O
// accounting.
std::optional<StorageBytes> ReadStorageBytes() {
  const std::optional<std::string> io = ReadKernelText("/proc/self/io");
  if (!io) return std::nullopt;
  // Lines of "key: value".
  auto value_of = [&](std::string_view key) -> std::optional<uint64_t> {
    const std::optional<std::string_view> field = KernelTextField(*io, key);
    if (!field) return std::nullopt;
    return ParseDecimalAtMost(*field, UINT64_MAX);
  };
  const std::optional<uint64_t> read = value_of("read_bytes: ");
  const std::optional<uint64_t> written = value_of("write_bytes: ");
  if (!read || !written) return std::nullopt;
  return StorageBytes{*read, *written};
}

}  // namespace

ProcessIoTally::ProcessIoTally(std::string device_path) : device_path_(std::move(device_path)) {
  if (!DebugLogging()) return;
  if (const std::optional<StorageBytes> now = ReadStorageBytes()) {
    counting_ = true;
    read_bytes_ = now->read;
    write_bytes_ = now->written;
  }
}

ProcessIoTally::~ProcessIoTally() {
  if (!counting_) return;
  const std::optional<StorageBytes> now = ReadStorageBytes();
  if (!now) return;
  Log(LogLevel::kDebug,
      FormatMsg("I/O by libcryptsetup in place on {}: read {} bytes, wrote {} bytes (this "
                "process's storage I/O, /proc/self/io)",
                device_path_, now->read - read_bytes_, now->written - write_bytes_));
}

std::string IoTally::Describe(uint64_t zone_size) const {
  return FormatMsg(
      "read {} bytes ({} reads), wrote {} bytes ({} writes), {} flushes, {} zone reports; "
      "zones reset: {}; zones finished: {}",
      bytes_read, reads, bytes_written, writes, flushes, zone_reports,
      ZoneList(zones_reset, zone_size), ZoneList(zones_finished, zone_size));
}

TallyingDevice::~TallyingDevice() {
  Log(LogLevel::kDebug, FormatMsg("I/O on {}: {}", inner_->path(),
                                  tally_.Describe(inner_->geometry().zone_size)));
}

Result<std::vector<Zone>> TallyingDevice::ReportZones(uint64_t offset, uint32_t max_zones) {
  ++tally_.zone_reports;
  return inner_->ReportZones(offset, max_zones);
}

Status TallyingDevice::Read(uint64_t offset, std::span<std::uint8_t> out) {
  ++tally_.reads;
  tally_.bytes_read += out.size();
  return inner_->Read(offset, out);
}

Status TallyingDevice::Write(uint64_t offset, std::span<const std::uint8_t> data) {
  ++tally_.writes;
  tally_.bytes_written += data.size();
  return inner_->Write(offset, data);
}

Status TallyingDevice::ResetZone(uint64_t zone_start) {
  tally_.zones_reset.push_back(zone_start);
  return inner_->ResetZone(zone_start);
}

Status TallyingDevice::FinishZone(uint64_t zone_start) {
  tally_.zones_finished.push_back(zone_start);
  return inner_->FinishZone(zone_start);
}

Status TallyingDevice::Flush() {
  ++tally_.flushes;
  return inner_->Flush();
}

}  // namespace luks2ext
