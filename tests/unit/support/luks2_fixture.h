// Real LUKS2 images for codec tests, made and checked by libcryptsetup itself.
//
// Formats a detached header in a scratch file over a sparse data file, so no block device, root
// or device-mapper is needed. PBKDF2 with 1000 iterations and no benchmark keeps tests fast.
#pragma once

#include <libcryptsetup.h>

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace luks2ext::testing {

struct CryptDeviceFree {
  void operator()(crypt_device* cd) const { crypt_free(cd); }
};
using CryptDevicePtr = std::unique_ptr<crypt_device, CryptDeviceFree>;

struct Luks2FormatOptions {
  std::uint64_t metadata_size = 16 * 1024;  // hdr_size
  std::uint64_t keyslots_size = 1024 * 1024;
  std::uint64_t data_offset = 16 * 1024 * 1024;  // bytes
  std::string label;
  std::string subsystem;
  int keyslots = 1;  // how many keyslots to add, all with kPassphrase
};

class Luks2Fixture {
 public:
  static constexpr char kPassphrase[] = "zcryptsetup test passphrase";
  static constexpr std::uint64_t kDataDeviceSize = 256ull * 1024 * 1024;

  // Creates a scratch directory holding a sparse data file of kDataDeviceSize bytes.
  Luks2Fixture();
  ~Luks2Fixture();
  Luks2Fixture(const Luks2Fixture&) = delete;
  Luks2Fixture& operator=(const Luks2Fixture&) = delete;

  // Formats a LUKS2 image with libcryptsetup and returns the header file's bytes, [0, M).
  // Fails the current test (ADD_FAILURE) and returns empty on any libcryptsetup error.
  std::vector<std::uint8_t> Format(const Luks2FormatOptions& options = {});

  // Writes `image` to a fresh header file and crypt_load()s it as LUKS2 over the data file;
  // keyslots added through the result use the same fast PBKDF as Format().
  // Returns nullptr and sets *error to libcryptsetup's code when it refuses the image.
  CryptDevicePtr Load(std::span<const std::uint8_t> image, int* error = nullptr);

  // True when kPassphrase opens some keyslot of `cd` (checked only, nothing activated).
  static bool PassphraseUnlocks(crypt_device* cd);

  const std::string& data_path() const { return data_path_; }
  // The header file of the last Load(): read it back to see what libcryptsetup wrote.
  const std::string& last_header_path() const { return last_header_path_; }
  static std::vector<std::uint8_t> ReadFile(const std::string& path);

 private:
  std::string NewPath(const std::string& stem);

  std::string dir_;
  std::string data_path_;
  std::string last_header_path_;
  int files_made_ = 0;
};

}  // namespace luks2ext::testing
