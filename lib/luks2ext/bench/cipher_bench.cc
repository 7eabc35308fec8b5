// The in-memory benchmarks, through libcryptsetup (as cryptsetup benchmark measures them).
#include <libcryptsetup.h>

#include <cerrno>

#include "base/i18n.h"
#include "cryptsetup/crypt_device.h"
#include "luks2ext/benchmark.h"

namespace luks2ext {
namespace {

Error Interrupted() { return Error::WrongParameters(_("Benchmark interrupted.")); }

// libcryptsetup calls this between PBKDF benchmark steps; non-zero stops it.
int PbkdfCallback(uint32_t time_ms, void* stop) {
  (void)time_ms;
  const auto* flag = static_cast<const volatile sig_atomic_t*>(stop);
  return flag && *flag ? 1 : 0;
}

}  // namespace

Result<CipherSpeed> BenchmarkCipher(const std::string& cipher, const std::string& mode,
                                    uint32_t key_bits, const volatile sig_atomic_t* stop) {
  CipherSpeed speed{cipher, mode, key_bits};
  size_t buffer = 1024 * 1024;
  int r = 0;
  // libcryptsetup returns -ERANGE when a buffer was too quick to time; a bigger one is tried.
  do {
    if (stop && *stop) return Interrupted();
    r = crypt_benchmark(nullptr, cipher.c_str(), mode.c_str(), key_bits / 8, 0, buffer,
                        &speed.encrypt_mib_s, &speed.decrypt_mib_s);
    buffer *= 2;
  } while (r == -ERANGE && buffer <= 512 * 1024 * 1024);
  if (stop && *stop) return Interrupted();
  // No AF_ALG at all fails the benchmark, as it fails cryptsetup's; one cipher missing is N/A.
  if (r == -ENOTSUP)
    return Error::WrongParameters(
        _("Required kernel crypto interface not available (load the "
          "algif_skcipher kernel module)."));
  if (r == -ENOENT || r == -EINVAL) return speed;
  if (r < 0) return CryptError(r, FormatMsg(_("Cannot benchmark {}-{}"), cipher, mode));
  speed.available = true;
  return speed;
}

Result<PbkdfSpeed> BenchmarkPbkdf(const std::string& kdf, const std::string& hash,
                                  uint32_t argon2_time_ms, const volatile sig_atomic_t* stop) {
  PbkdfSpeed speed{kdf, hash};
  crypt_pbkdf_type pbkdf{};
  pbkdf.type = kdf.c_str();
  const bool pbkdf2 = kdf == CRYPT_KDF_PBKDF2;
  if (pbkdf2) {
    pbkdf.hash = hash.c_str();
    pbkdf.time_ms = 1000;
  } else {
    // libcryptsetup's LUKS2 defaults: at most 1 GiB, 4 threads (fewer on fewer CPUs).
    pbkdf.time_ms = argon2_time_ms;
    pbkdf.max_memory_kb = 1024 * 1024;
    pbkdf.parallel_threads = 4;
  }
  // The passphrase and salt only need to be fixed; their value does not change the timing.
  static constexpr char kSalt[] = "0123456789abcdef0123456789abcdef";
  const int r =
      crypt_benchmark_pbkdf(nullptr, &pbkdf, "zcryptsetup", 11, kSalt, pbkdf2 ? 16 : 32,
                            speed.key_bits / 8, PbkdfCallback, const_cast<sig_atomic_t*>(stop));
  if (stop && *stop) return Interrupted();
  if (r < 0) return speed;  // shown as N/A, as cryptsetup shows it
  speed.available = true;
  speed.iterations = pbkdf.iterations;
  speed.memory_kib = pbkdf.max_memory_kb;
  speed.threads = pbkdf.parallel_threads;
  speed.time_ms = pbkdf.time_ms;
  return speed;
}

}  // namespace luks2ext
