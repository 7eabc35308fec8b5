// The benchmark's kernel objects, each removed by its owner's destructor: a scratch RAM disk
// (brd, loaded for the benchmark and unloaded after it) and a dm-crypt mapping over a device
// in one of the benchmark's modes.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "luks2ext/activation.h"
#include "luks2ext/benchmark.h"
#include "luks2ext/secret.h"

namespace luks2ext {

class ScratchRamDisk {
 public:
  // Loads brd with one disk of `mib` MiB. brd already loaded is Error::Busy: its disks may
  // hold someone's data, and the benchmark writes to its scratch disk.
  static Result<ScratchRamDisk> Create(uint64_t mib);
  ScratchRamDisk(ScratchRamDisk&& other) noexcept : loaded_(other.loaded_) {
    other.loaded_ = false;
  }
  ScratchRamDisk& operator=(ScratchRamDisk&&) = delete;
  ~ScratchRamDisk();
  std::string path() const { return "/dev/ram0"; }

 private:
  ScratchRamDisk() = default;
  bool loaded_ = false;
};

// What a mapping is made of: the device, the cipher, the key, and whether it is read-only.
struct MappingSpec {
  std::string name;
  std::string device;
  uint64_t device_bytes = 0;
  std::string cipher;  // "aes-xts-plain64"
  const Secret* key = nullptr;
  bool read_only = true;
  CryptTargetVersion dm_crypt;
};

class BenchMapping {
 public:
  // kWorkqueue and kInline: a plain mapping through libcryptsetup (CRYPT_PLAIN,
  // crypt_activate_by_volume_key, with the no_*_workqueue flags for kInline). kNative: the
  // table built by hand with the native feature argument, the key in the kernel keyring. A
  // kernel that rejects the table is Error::WrongParameters and nothing is mapped.
  static Result<BenchMapping> Create(const MappingSpec& spec, BenchMode mode);
  BenchMapping(BenchMapping&& other) noexcept : name_(std::move(other.name_)) {
    other.name_.clear();
  }
  BenchMapping& operator=(BenchMapping&&) = delete;
  ~BenchMapping();
  std::string path() const { return "/dev/mapper/" + name_; }

 private:
  explicit BenchMapping(std::string name) : name_(std::move(name)) {}
  std::string name_;  // "" once moved from
};

// The size of the block device at `path` in bytes; not a block device is Error::WrongDevice.
Result<uint64_t> BlockDeviceBytes(const std::string& path);

}  // namespace luks2ext
