#include "support/luks2_fixture.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>

namespace luks2ext::testing {
namespace {

// libcryptsetup logs refusals to stderr; the tests check return codes instead.
void QuietLog(int level, const char* message, void*) {
  if (getenv("LUKS2_FIXTURE_VERBOSE") != nullptr) fprintf(stderr, "[%d] %s", level, message);
}

void ConfigureLibcryptsetupOnce() {
  static const bool configured = [] {
    crypt_set_log_callback(nullptr, QuietLog, nullptr);
    // Locks live in /run/cryptsetup, which a test must not need.
    crypt_metadata_locking(nullptr, 0);
    return true;
  }();
  (void)configured;
}

void WriteFile(const std::string& path, std::span<const std::uint8_t> bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()),
            static_cast<std::streamsize>(bytes.size()));
  ASSERT_TRUE(out.good()) << path;
}

// PBKDF2 at its minimum cost: keyslots in tests need not resist brute force.
crypt_pbkdf_type FastPbkdf() {
  crypt_pbkdf_type pbkdf{};
  pbkdf.type = CRYPT_KDF_PBKDF2;
  pbkdf.hash = "sha256";
  pbkdf.iterations = 1000;
  pbkdf.flags = CRYPT_PBKDF_NO_BENCHMARK;
  return pbkdf;
}

}  // namespace

std::vector<std::uint8_t> Luks2Fixture::ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::vector<std::uint8_t>(std::istreambuf_iterator<char>(in), {});
}

Luks2Fixture::Luks2Fixture() {
  ConfigureLibcryptsetupOnce();
  std::string pattern = (std::filesystem::temp_directory_path() / "luks2-fixture-XXXXXX").string();
  if (mkdtemp(pattern.data()) == nullptr) {
    ADD_FAILURE() << "mkdtemp: " << strerror(errno);
    return;
  }
  dir_ = pattern;
  data_path_ = dir_ + "/data";
  const int fd = open(data_path_.c_str(), O_CREAT | O_RDWR | O_CLOEXEC, 0600);
  if (fd < 0 || ftruncate(fd, static_cast<off_t>(kDataDeviceSize)) != 0) {
    ADD_FAILURE() << "data file: " << strerror(errno);
  }
  if (fd >= 0) close(fd);
}

Luks2Fixture::~Luks2Fixture() {
  std::error_code ignored;
  if (!dir_.empty()) std::filesystem::remove_all(dir_, ignored);
}

std::string Luks2Fixture::NewPath(const std::string& stem) {
  return dir_ + "/" + stem + "-" + std::to_string(files_made_++);
}

std::vector<std::uint8_t> Luks2Fixture::Format(const Luks2FormatOptions& options) {
  const std::string header_path = NewPath("header");
  // libcryptsetup refuses a detached header file smaller than the metadata it will write.
  const std::uint64_t image_size = 2 * options.metadata_size + options.keyslots_size;
  std::error_code error;
  { std::ofstream create(header_path, std::ios::binary); }
  std::filesystem::resize_file(header_path, image_size, error);
  if (error) {
    ADD_FAILURE() << "header file: " << error.message();
    return {};
  }

  crypt_device* raw = nullptr;
  int r = crypt_init_data_device(&raw, header_path.c_str(), data_path_.c_str());
  if (r < 0) {
    ADD_FAILURE() << "crypt_init_data_device: " << r;
    return {};
  }
  CryptDevicePtr cd(raw);

  crypt_pbkdf_type pbkdf = FastPbkdf();
  if ((r = crypt_set_pbkdf_type(cd.get(), &pbkdf)) < 0 ||
      (r = crypt_set_metadata_size(cd.get(), options.metadata_size, options.keyslots_size)) < 0 ||
      (r = crypt_set_data_offset(cd.get(), options.data_offset / 512)) < 0) {
    ADD_FAILURE() << "libcryptsetup setup: " << r;
    return {};
  }

  crypt_params_luks2 params{};
  params.pbkdf = &pbkdf;
  params.sector_size = 512;
  params.label = options.label.empty() ? nullptr : options.label.c_str();
  params.subsystem = options.subsystem.empty() ? nullptr : options.subsystem.c_str();
  r = crypt_format(cd.get(), CRYPT_LUKS2, "aes", "xts-plain64", nullptr, nullptr, 64, &params);
  if (r < 0) {
    ADD_FAILURE() << "crypt_format: " << r;
    return {};
  }
  for (int i = 0; i < options.keyslots; ++i) {
    r = crypt_keyslot_add_by_volume_key(cd.get(), CRYPT_ANY_SLOT, nullptr, 0, kPassphrase,
                                        sizeof(kPassphrase) - 1);
    if (r < 0) {
      ADD_FAILURE() << "crypt_keyslot_add_by_volume_key: " << r;
      return {};
    }
  }
  cd.reset();
  return ReadFile(header_path);
}

CryptDevicePtr Luks2Fixture::Load(std::span<const std::uint8_t> image, int* error) {
  const std::string header_path = NewPath("load");
  last_header_path_ = header_path;
  WriteFile(header_path, image);
  crypt_device* raw = nullptr;
  int r = crypt_init_data_device(&raw, header_path.c_str(), data_path_.c_str());
  CryptDevicePtr cd(raw);
  if (r >= 0) r = crypt_load(cd.get(), CRYPT_LUKS2, nullptr);
  // Keyslots a test adds after loading must be cheap too.
  crypt_pbkdf_type pbkdf = FastPbkdf();
  if (r >= 0) r = crypt_set_pbkdf_type(cd.get(), &pbkdf);
  if (error != nullptr) *error = r;
  if (r < 0) return nullptr;
  return cd;
}

bool Luks2Fixture::PassphraseUnlocks(crypt_device* cd) {
  // A NULL name only verifies the passphrase; no device-mapper device is made.
  return crypt_activate_by_passphrase(cd, nullptr, CRYPT_ANY_SLOT, kPassphrase,
                                      sizeof(kPassphrase) - 1, 0) >= 0;
}

}  // namespace luks2ext::testing
