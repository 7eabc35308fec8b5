// `zcryptsetup benchmark`: what libcryptsetup's cipher and PBKDF benchmarks measure in memory,
// and the inline benchmark, which answers "does force_inline help here?" by timing 4 KiB
// O_DIRECT random I/O through dm-crypt mappings that differ only in how dm-crypt runs its
// crypto (kcryptd workqueues, the upstream no_*_workqueue flags, the RFC's force_inline).
// Nothing here prints: the CLI formats the results (text or JSON).
#pragma once

#include <csignal>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "luks2ext/error.h"

namespace luks2ext {

// ---- In-memory benchmarks (libcryptsetup's crypt_benchmark, crypt_benchmark_pbkdf) ----

struct CipherSpeed {
  std::string cipher;  // "aes"
  std::string mode;    // "xts" (what crypt_benchmark takes; the IV generator does not matter)
  uint32_t key_bits = 0;
  bool available = false;  // the kernel's crypto API has it
  double encrypt_mib_s = 0, decrypt_mib_s = 0;
};

// Encrypts and decrypts 1 MiB buffers in memory for about a second each way. A cipher the
// kernel lacks is `available = false`, not an error; an interrupted run (`stop` set) is one.
Result<CipherSpeed> BenchmarkCipher(const std::string& cipher, const std::string& mode,
                                    uint32_t key_bits, const volatile sig_atomic_t* stop);

struct PbkdfSpeed {
  std::string kdf;   // "pbkdf2", "argon2i", "argon2id"
  std::string hash;  // pbkdf2 only
  uint32_t key_bits = 256;
  bool available = false;
  uint32_t iterations = 0;  // per second for pbkdf2, per unlock for argon2
  uint32_t memory_kib = 0, threads = 0, time_ms = 0;  // argon2
};

// PBKDF2 for one second, Argon2 for `argon2_time_ms`; as cryptsetup benchmark does.
Result<PbkdfSpeed> BenchmarkPbkdf(const std::string& kdf, const std::string& hash,
                                  uint32_t argon2_time_ms, const volatile sig_atomic_t* stop);

// "aes-xts-plain64" -> {"aes", "xts"}; nullopt for a spec without a mode.
std::optional<std::pair<std::string, std::string>> SplitCipherSpec(const std::string& spec);

// ---- The I/O measuring engine (liburing) and its statistics ----

// One workload: 4 KiB (block_bytes) O_DIRECT reads or writes at random aligned offsets in
// [0, span_bytes), `queue_depth` in flight, for `seconds`.
struct IoWorkload {
  bool write = false;
  uint32_t queue_depth = 1;
  uint32_t block_bytes = 4096;
  double seconds = 4;
  std::string Label() const;  // "randread-qd1"
};

// System-wide CPU time from /proc/stat's "cpu" line, in clock ticks.
struct CpuTicks {
  uint64_t busy = 0;   // user + nice + system + irq + softirq + steal
  uint64_t total = 0;  // busy + idle + iowait
};
// Parses /proc/stat's text; nullopt when it has no readable "cpu " line.
std::optional<CpuTicks> ParseProcStat(const std::string& text);

// What one run (or several, merged) measured.
struct IoRun {
  uint64_t ios = 0;
  double elapsed_s = 0;
  double cpu_busy_s = 0;               // system-wide busy time during the run
  std::vector<uint64_t> latencies_ns;  // one per completed I/O
  void Merge(IoRun&& other);
};

struct IoStats {
  uint64_t ios = 0;
  double iops = 0;
  double mean_us = 0;
  double p99_us = 0;
  double cpu_us_per_io = 0;
};

// The nearest-rank percentile (0 < p <= 100) of `values` (sorted in place); 0 when empty.
uint64_t Percentile(std::vector<uint64_t>& values, double p);
IoStats Summarize(IoRun run);

// Runs `workload` on the open O_DIRECT descriptor `fd` (a block device or a file of at least
// one block). Stops early, with Error::WrongParameters ("interrupted"), when `*stop` becomes
// non-zero. A failed I/O is Error::WrongDevice. `progress` (may be empty) is called about
// once a second with the fraction done.
Result<IoRun> RunIoWorkload(int fd, uint64_t span_bytes, const IoWorkload& workload,
                            const volatile sig_atomic_t* stop,
                            const std::function<void(double)>& progress);

// ---- The inline benchmark ----

enum class BenchMode { kWorkqueue, kInline, kNative };
const char* BenchModeName(BenchMode mode);  // "workqueue", "inline", "native"
// "workqueue,inline,native" -> modes, in that order, each once. Unknown names, repeats or an
// empty list: Error::WrongParameters. "auto" (the default) is workqueue,inline plus native
// when the kernel takes it.
struct ModeSelection {
  std::vector<BenchMode> modes;
  bool native_if_supported = false;  // "auto": probe native, add it when the kernel takes it
};
Result<ModeSelection> ParseBenchModes(const std::string& text);

struct InlineBenchOptions {
  std::string device;  // "" : a scratch RAM disk (brd) created and removed here
  std::string cipher = "aes-xts-plain64";
  uint32_t key_bits = 512;
  double seconds = 4;
  uint32_t rounds = 3;
  ModeSelection modes{{BenchMode::kWorkqueue, BenchMode::kInline}, true};
};
// Seconds and rounds within bounds, a cipher spec with a mode: else Error::WrongParameters.
Status CheckInlineBenchOptions(const InlineBenchOptions& options);

struct WorkloadResult {
  IoWorkload workload;
  IoStats stats;
  // How far the rounds' IOPS lie apart: (max - min) / mean, in percent; 0 with one round.
  double round_spread_pct = 0;
};

// (max - min) / mean of `values` in percent; 0 for fewer than two values or a zero mean.
double RelativeSpreadPct(const std::vector<double>& values);
struct ModeResult {
  BenchMode mode = BenchMode::kWorkqueue;
  bool supported = true;
  std::string note;  // why not supported
  std::vector<WorkloadResult> workloads;
};
struct InlineBenchReport {
  std::string device;
  bool scratch = false;  // a RAM disk of our own (writes measured)
  std::string cipher;
  uint32_t key_bits = 0;
  double seconds = 0;
  uint32_t rounds = 0;
  std::vector<ModeResult> modes;
  std::string verdict;
};

// Where the benchmark is, for a progress line: mode, workload, round, fraction of it done.
struct BenchProgress {
  BenchMode mode;
  std::string workload;
  uint32_t round, rounds;
  double fraction;
};

// Runs the benchmark. A given device is opened and mapped read-only (only reads measured, the
// device is never written); the scratch RAM disk gets reads and writes. Every mapping is
// removed before this returns, also after an error or an interruption (`stop`).
Result<InlineBenchReport> RunInlineBenchmark(
    const InlineBenchOptions& options, const volatile sig_atomic_t* stop,
    const std::function<void(const BenchProgress&)>& progress);

// The one-line answer from `candidate` against `baseline` (same workloads): "inline helps:
// random writes QD1 +25% IOPS, ...", "inline hurts: ...", "mixed: ..." or "no clear difference
// (within 5%)". `name` is the candidate's ("inline", "native"). A difference counts when it
// passes `threshold_pct` and the round-to-round spread of both modes for that workload, so
// that noise is not reported as a finding.
std::string Verdict(const std::string& name, const ModeResult& baseline,
                    const ModeResult& candidate, double threshold_pct = 5);

// The report as one JSON object (json-c, pretty-printed).
std::string InlineBenchJson(const InlineBenchReport& report);

}  // namespace luks2ext
