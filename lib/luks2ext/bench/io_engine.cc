// The measuring engine: 4 KiB O_DIRECT random I/O at a fixed queue depth through io_uring,
// one latency per I/O, system-wide CPU time from /proc/stat around the run.
#include <liburing.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <random>

#include "base/dynamic_library.h"
#include "base/i18n.h"
#include "luks2ext/benchmark.h"
#include "luks2ext/fd_io.h"

namespace luks2ext {
namespace {

// liburing is opened when a benchmark runs (base/dynamic_library.h says why). These four are
// the library's only entry points the engine uses; the rest of liburing's API is inline in its
// header. The library is not linked (lib/luks2ext/CMakeLists.txt), so a call to any other
// would fail the build. The package depends on liburing2 by name (debian/control), as
// shlibdeps cannot see this.
struct Uring {
  decltype(&io_uring_queue_init) queue_init;
  decltype(&io_uring_queue_exit) queue_exit;
  decltype(&io_uring_submit) submit;
  decltype(&__io_uring_get_cqe) get_cqe;  // what the inline io_uring_wait_cqe calls
};

// The entry points, kept open for the process's life, or the error saying why not.
Result<const Uring*> OpenUring() {
  static Uring uring;
  static bool opened = false;
  if (opened) return &uring;
  std::string why;
  opened = OpenLibraryFunctions(
      "liburing.so.2", why, std::pair{&uring.queue_init, "io_uring_queue_init"},
      std::pair{&uring.queue_exit, "io_uring_queue_exit"},
      std::pair{&uring.submit, "io_uring_submit"}, std::pair{&uring.get_cqe, "__io_uring_get_cqe"});
  if (!opened) return Error::WrongDevice(FormatMsg(_("Cannot set up io_uring: {}."), why));
  return &uring;
}

class Ring {
 public:
  Ring() = default;
  Ring(const Ring&) = delete;
  Ring& operator=(const Ring&) = delete;
  ~Ring() {
    if (uring_) uring_->queue_exit(&ring_);
  }
  Status Init(uint32_t entries) {
    ASSIGN_OR_RETURN(const Uring* uring, OpenUring());
    const int r = uring->queue_init(entries, &ring_, 0);
    if (r < 0)
      return Error::WrongDevice(FormatMsg(_("Cannot set up io_uring: {}."), std::strerror(-r)));
    uring_ = uring;
    return Status::Ok();
  }
  io_uring* get() { return &ring_; }
  void Submit() { uring_->submit(&ring_); }

  // Waits for one completion, as io_uring_wait_cqe does: one already there, else the
  // library's wait. -EINTR (a signal) comes back as null.
  Result<io_uring_cqe*> WaitOne() {
    io_uring_cqe* cqe = nullptr;
    int r = __io_uring_peek_cqe(&ring_, &cqe, nullptr);
    if (r == 0 && cqe) return cqe;
    r = uring_->get_cqe(&ring_, &cqe, 0, 1, nullptr);
    if (r == -EINTR) return static_cast<io_uring_cqe*>(nullptr);
    if (r < 0)
      return Error::WrongDevice(FormatMsg(_("io_uring wait failed: {}."), std::strerror(-r)));
    return cqe;
  }

 private:
  io_uring ring_{};
  const Uring* uring_ = nullptr;  // set once the ring is set up
};

struct FreeDeleter {
  void operator()(void* p) const { std::free(p); }
};

uint64_t NowNs() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ULL + static_cast<uint64_t>(ts.tv_nsec);
}

CpuTicks ReadCpuTicks() {
  return ParseProcStat(ReadKernelText("/proc/stat", 1 << 20).value_or("")).value_or(CpuTicks{});
}

// The I/O slots: one aligned buffer and one submit time each.
struct Slots {
  std::unique_ptr<char, FreeDeleter> buffers;
  std::vector<uint64_t> submitted_ns;
};

Result<Slots> MakeSlots(const IoWorkload& w) {
  void* memory = nullptr;
  const size_t bytes = static_cast<size_t>(w.block_bytes) * w.queue_depth;
  if (posix_memalign(&memory, 4096, bytes) != 0)
    return Error::OutOfMemory(_("Cannot allocate the benchmark's I/O buffers."));
  Slots slots{std::unique_ptr<char, FreeDeleter>(static_cast<char*>(memory)),
              std::vector<uint64_t>(w.queue_depth)};
  std::mt19937_64 random(12345);
  for (size_t i = 0; i < bytes; i += 8) {
    const uint64_t v = random();
    std::memcpy(slots.buffers.get() + i, &v, 8);
  }
  return slots;
}

class Submitter {
 public:
  Submitter(io_uring* ring, int fd, uint64_t span_bytes, const IoWorkload& w, Slots& slots)
      : ring_(ring),
        fd_(fd),
        blocks_(span_bytes / w.block_bytes),
        w_(w),
        slots_(slots),
        random_(std::random_device{}()) {}
  void Prepare(uint32_t slot) {
    io_uring_sqe* sqe = io_uring_get_sqe(ring_);
    const uint64_t offset = (random_() % blocks_) * w_.block_bytes;
    char* buffer = slots_.buffers.get() + static_cast<size_t>(slot) * w_.block_bytes;
    if (w_.write)
      io_uring_prep_write(sqe, fd_, buffer, w_.block_bytes, offset);
    else
      io_uring_prep_read(sqe, fd_, buffer, w_.block_bytes, offset);
    io_uring_sqe_set_data64(sqe, slot);
    slots_.submitted_ns[slot] = NowNs();
  }

 private:
  io_uring* ring_;
  int fd_;
  uint64_t blocks_;
  const IoWorkload& w_;
  Slots& slots_;
  std::mt19937_64 random_;
};

Error Interrupted() { return Error::WrongParameters(_("Benchmark interrupted.")); }

}  // namespace

Result<IoRun> RunIoWorkload(int fd, uint64_t span_bytes, const IoWorkload& w,
                            const volatile sig_atomic_t* stop,
                            const std::function<void(double)>& progress) {
  if (w.queue_depth == 0 || w.block_bytes == 0 || span_bytes < w.block_bytes)
    return Error::WrongParameters(_("The benchmark needs at least one block and one I/O."));
  // The buffers outlive the ring: its teardown waits for any I/O still in flight.
  ASSIGN_OR_RETURN(Slots slots, MakeSlots(w));
  Ring ring;
  RETURN_IF_ERROR(ring.Init(w.queue_depth));
  Submitter submitter(ring.get(), fd, span_bytes, w, slots);
  IoRun run;
  run.latencies_ns.reserve(1 << 16);
  const CpuTicks cpu_before = ReadCpuTicks();
  const uint64_t start = NowNs();
  const uint64_t deadline = start + static_cast<uint64_t>(w.seconds * 1e9);
  uint64_t next_progress = start + 1000000000ULL;
  for (uint32_t slot = 0; slot < w.queue_depth; ++slot) submitter.Prepare(slot);
  uint32_t in_flight = w.queue_depth;
  ring.Submit();
  bool stopping = false;
  while (in_flight > 0) {
    ASSIGN_OR_RETURN(io_uring_cqe * cqe, ring.WaitOne());
    if (stop && *stop) stopping = true;
    if (!cqe) continue;
    const uint64_t now = NowNs();
    const auto slot = static_cast<uint32_t>(io_uring_cqe_get_data64(cqe));
    const int res = cqe->res;
    io_uring_cqe_seen(ring.get(), cqe);
    --in_flight;
    if (res != static_cast<int>(w.block_bytes))
      return Error::WrongDevice(FormatMsg(_("A benchmark {} failed: {}."),
                                          w.write ? "write" : "read",
                                          res < 0 ? std::strerror(-res) : "short transfer"));
    run.latencies_ns.push_back(now - slots.submitted_ns[slot]);
    ++run.ios;
    if (now >= next_progress && progress) {
      progress(static_cast<double>(now - start) / static_cast<double>(deadline - start));
      next_progress += 1000000000ULL;
    }
    if (now < deadline && !stopping) {
      submitter.Prepare(slot);
      ++in_flight;
      ring.Submit();
    }
  }
  if (stopping) return Interrupted();
  run.elapsed_s = static_cast<double>(NowNs() - start) / 1e9;
  const CpuTicks cpu_after = ReadCpuTicks();
  run.cpu_busy_s = static_cast<double>(cpu_after.busy - cpu_before.busy) /
                   static_cast<double>(sysconf(_SC_CLK_TCK));
  return run;
}

}  // namespace luks2ext
