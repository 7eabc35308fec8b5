// benchmark: libcryptsetup's in-memory cipher and PBKDF benchmarks, in stock cryptsetup's
// shape, and --inline, which measures whether force_inline helps on this machine.
#include <fmt/core.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>

#include "actions.h"
#include "i18n.h"
#include "luks2ext/benchmark.h"
#include "scoped_signal.h"

namespace zcryptsetup {

using luks2ext::Error;
using luks2ext::Status;

namespace {

volatile sig_atomic_t g_stop = 0;
void OnStopSignal(int) { g_stop = 1; }

// SIGINT and SIGTERM only set a flag (no SA_RESTART, so a wait returns EINTR): the benchmark
// stops at the next I/O completion and every mapping is removed on the way out.
struct StopOnSignals {
  StopOnSignals() { g_stop = 0; }
  ScopedSignalDisposition interrupt{SIGINT, OnStopSignal};
  ScopedSignalDisposition terminate{SIGTERM, OnStopSignal};
};

struct CipherRow {
  const char* cipher;
  const char* mode;
  uint32_t key_bits;
};

// The ciphers stock cryptsetup benchmark lists, in its order.
constexpr CipherRow kCipherRows[] = {
    {"aes", "cbc", 128}, {"serpent", "cbc", 128}, {"twofish", "cbc", 128},
    {"aes", "cbc", 256}, {"serpent", "cbc", 256}, {"twofish", "cbc", 256},
    {"aes", "xts", 256}, {"serpent", "xts", 256}, {"twofish", "xts", 256},
    {"aes", "xts", 512}, {"serpent", "xts", 512}, {"twofish", "xts", 512},
};

constexpr const char* kPbkdf2Hashes[] = {"sha1", "sha256", "sha512", "ripemd160", "whirlpool"};

std::string CipherLine(const luks2ext::CipherSpeed& s) {
  const std::string name = s.cipher + "-" + s.mode;
  if (!s.available) return fmt::format("{:>15}{:>11}b{:>12}{:>17}", name, s.key_bits, "N/A", "N/A");
  return fmt::format("{:>15}{:>11}b{:>12.1f} MiB/s{:>12.1f} MiB/s", name, s.key_bits,
                     s.encrypt_mib_s, s.decrypt_mib_s);
}

std::string PbkdfLine(const luks2ext::PbkdfSpeed& s) {
  if (s.kdf == "pbkdf2") {
    if (!s.available) return FormatMsg(_("PBKDF2-{:<9}     N/A"), s.hash);
    return FormatMsg(_("PBKDF2-{:<9} {:>7} iterations per second for {}-bit key"), s.hash,
                     s.iterations, s.key_bits);
  }
  if (!s.available) return FormatMsg(_("{:<10} N/A"), s.kdf);
  return FormatMsg(_("{:<10} {:>4} iterations, {:>5} memory, {} parallel threads (CPUs) for "
                     "{}-bit key (requested {} ms time)"),
                   s.kdf, s.iterations, s.memory_kib, s.threads, s.key_bits, s.time_ms);
}

Status PrintCipher(const std::string& cipher, const std::string& mode, uint32_t bits,
                   bool& header_done) {
  ASSIGN_OR_RETURN(luks2ext::CipherSpeed speed,
                   luks2ext::BenchmarkCipher(cipher, mode, bits, &g_stop));
  if (!header_done)
    fmt::print(stdout, "{}\n",
               _("#     Algorithm |       Key |      Encryption |      Decryption"));
  header_done = true;
  fmt::print(stdout, "{}\n", CipherLine(speed));
  std::fflush(stdout);
  return Status::Ok();
}

// Without --cipher: the PBKDFs and the cipher list; with it, that cipher only.
Status CipherBenchmark(const Options& o) {
  StopOnSignals stop;
  fmt::print(stdout, "{}\n", _("# Tests are approximate using memory only (no storage IO)."));
  std::fflush(stdout);
  bool header_done = false;
  if (o.given_cipher) {
    const auto parts = luks2ext::SplitCipherSpec(o.cipher);
    if (!parts)
      return Error::WrongParameters(FormatMsg(
          _("Invalid cipher '{}': use cipher-mode[-iv], e.g. aes-xts-plain64."), o.cipher));
    const uint32_t bits = o.given_key_size ? o.key_size : parts->second == "xts" ? 512 : 256;
    if (bits == 0 || bits % 8 != 0)
      return Error::WrongParameters(_("--key-size must be a multiple of 8."));
    return PrintCipher(parts->first, parts->second, bits, header_done);
  }
  for (const char* hash : kPbkdf2Hashes) {
    ASSIGN_OR_RETURN(auto speed, luks2ext::BenchmarkPbkdf("pbkdf2", hash, 0, &g_stop));
    fmt::print(stdout, "{}\n", PbkdfLine(speed));
    std::fflush(stdout);
  }
  for (const char* kdf : {"argon2i", "argon2id"}) {
    ASSIGN_OR_RETURN(auto speed,
                     luks2ext::BenchmarkPbkdf(kdf, "", o.iter_time ? o.iter_time : 2000, &g_stop));
    fmt::print(stdout, "{}\n", PbkdfLine(speed));
    std::fflush(stdout);
  }
  for (const CipherRow& row : kCipherRows)
    RETURN_IF_ERROR(PrintCipher(row.cipher, row.mode, row.key_bits, header_done));
  return Status::Ok();
}

// The progress line: on a terminal, one line rewritten in place; with -v and no terminal, one
// line per workload as it starts.
class Progress {
 public:
  explicit Progress(const Options& o)
      : terminal_(isatty(STDERR_FILENO) == 1), verbose_(o.verbose || o.debug) {}
  ~Progress() {
    if (shown_) {
      fmt::print(stderr, "\r\033[K");
      std::fflush(stderr);
    }
  }
  void operator()(const luks2ext::BenchProgress& p) {
    const std::string line =
        FormatMsg(_("round {}/{}: {} {} {:3.0f}%"), p.round, p.rounds,
                  luks2ext::BenchModeName(p.mode), p.workload, p.fraction * 100);
    if (terminal_) {
      fmt::print(stderr, "\r\033[K{}", line);
      std::fflush(stderr);
      shown_ = true;
    } else if (verbose_ && p.fraction == 0) {
      fmt::print(stderr, "{}\n", line);
    }
  }

 private:
  bool terminal_, verbose_, shown_ = false;
};

void PrintModeRows(const luks2ext::ModeResult& m) {
  if (!m.supported) {
    fmt::print(stdout, "{}\n", FormatMsg(_("{:>9}: {}"), luks2ext::BenchModeName(m.mode), m.note));
    return;
  }
  for (const luks2ext::WorkloadResult& w : m.workloads)
    fmt::print(
        stdout, "{}",
        fmt::format("{:>9}  {:>15}  {:>11.0f}  {:>11.1f}  {:>11.1f}  {:>10.2f}  {:>5.0f}%\n",
                    luks2ext::BenchModeName(m.mode), w.workload.Label(), w.stats.iops,
                    w.stats.mean_us, w.stats.p99_us, w.stats.cpu_us_per_io, w.round_spread_pct));
}

void PrintInlineReport(const luks2ext::InlineBenchReport& r) {
  fmt::print(stdout, "{}\n",
             FormatMsg(_("# Inline benchmark on {} ({}), {} {}-bit random key, {} round(s) of "
                         "{:.0f} s per workload, 4 KiB O_DIRECT I/O"),
                       r.device, r.scratch ? _("scratch RAM disk") : _("read-only"), r.cipher,
                       r.key_bits, r.rounds, r.seconds));
  fmt::print(
      stdout, "{}\n",
      _("#    Mode |       Workload |       IOPS |  Mean (us) |   p99 (us) | CPU us/IO | Spread"));
  for (const luks2ext::ModeResult& m : r.modes) PrintModeRows(m);
  fmt::print(stdout, "{}\n", FormatMsg(_("Verdict: {}"), r.verdict));
  std::fflush(stdout);
}

Result<luks2ext::InlineBenchOptions> InlineOptionsFrom(const Invocation& call) {
  const Options& o = call.options;
  luks2ext::InlineBenchOptions options;
  if (!call.args.empty()) options.device = call.args[0];
  options.cipher = o.cipher;
  options.key_bits = o.key_size;
  if (o.benchmark_seconds) options.seconds = o.benchmark_seconds;
  if (o.rounds) options.rounds = o.rounds;
  ASSIGN_OR_RETURN(options.modes, luks2ext::ParseBenchModes(o.benchmark_modes));
  RETURN_IF_ERROR(luks2ext::CheckInlineBenchOptions(options));
  return options;
}

Status InlineBenchmark(const Invocation& call) {
  const Options& o = call.options;
  ASSIGN_OR_RETURN(luks2ext::InlineBenchOptions options, InlineOptionsFrom(call));
  if (geteuid() != 0)
    return Error::NoPermission(_("The inline benchmark maps devices: run it as root."));
  StopOnSignals stop;
  Result<luks2ext::InlineBenchReport> report = [&] {
    Progress progress(o);
    return luks2ext::RunInlineBenchmark(options, &g_stop,
                                        [&](const luks2ext::BenchProgress& p) { progress(p); });
  }();
  if (!report.ok()) return report.error();
  if (o.json)
    fmt::print(stdout, "{}\n", luks2ext::InlineBenchJson(*report));
  else
    PrintInlineReport(*report);
  std::fflush(stdout);
  return Status::Ok();
}

}  // namespace

Status ActionBenchmark(const Invocation& call) {
  const Options& o = call.options;
  if (!o.inline_bench) {
    if (!call.args.empty() || o.json || o.benchmark_seconds || o.rounds ||
        !o.benchmark_modes.empty())
      return Error::WrongParameters(
          _("A device, --json, --benchmark-seconds, --rounds and --benchmark-modes need "
            "--inline."));
    return CipherBenchmark(o);
  }
  return InlineBenchmark(call);
}

}  // namespace zcryptsetup
