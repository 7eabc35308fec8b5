// A measuring aid, never part of the product: preloaded (LD_PRELOAD) into zcryptsetup and into
// stock cryptsetup alike, it notes when each process reaches the libcryptsetup calls both make
// on an open, so that bench_ops can say where an open's time goes, phase by phase, for both
// tools in the same run (tests/vm/guest/phases.sh reads its line).
//
// With ZC_PHASE_LOG=FILE it appends one line to FILE as the process exits:
//   ctor=US lib=US load<=US load>=US unlock<=US unlock>=US dtor=US
// in CLOCK_MONOTONIC microseconds (the clock of the guest's /proc/timer_list): this library's
// start (the process's libraries are loaded), the first crypt_init*, the first crypt_load's
// start and the last one's end, the same for crypt_activate_by_passphrase, and exit. A mark
// never reached is left out. Without ZC_PHASE_LOG the wrappers only pass the calls on.
//
// Only libc is used (no libstdc++): the hook must not change what the process loads beyond
// itself. Each wrapper costs a clock read, a few hundred nanoseconds against phases of
// milliseconds.
#include <dlfcn.h>
#include <libcryptsetup.h>
#include <time.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>

namespace {

enum Mark { kCtor, kLib, kLoadStart, kLoadEnd, kUnlockStart, kUnlockEnd, kDtor, kMarkCount };
const char* const kMarkNames[kMarkCount] = {"ctor",    "lib",       "load<", "load>",
                                            "unlock<", "unlock>", "dtor"};
long long g_marks[kMarkCount];  // 0: not reached

long long NowUs() {
  timespec t{};
  clock_gettime(CLOCK_MONOTONIC, &t);
  return static_cast<long long>(t.tv_sec) * 1000000 + t.tv_nsec / 1000;
}

// `first`: keep the first time the mark is reached (starts); otherwise the last (ends).
void Note(Mark mark, bool first) {
  if (first && g_marks[mark] != 0) return;
  g_marks[mark] = NowUs();
}

// The wrapped function, found once. A plain pointer rather than an initialised local static:
// that would need libstdc++'s guard functions, and the hook loads nothing but libc. Finding it
// twice in a race finds the same address.
template <typename Function>
Function Next(Function& cached, const char* name) {
  if (!cached) cached = reinterpret_cast<Function>(dlsym(RTLD_NEXT, name));
  return cached;
}

__attribute__((constructor)) void Start() { Note(kCtor, true); }

__attribute__((destructor)) void Finish() {
  Note(kDtor, false);
  const char* path = std::getenv("ZC_PHASE_LOG");
  if (!path || !*path) return;
  FILE* log = std::fopen(path, "a");
  if (!log) return;
  for (int m = 0; m < kMarkCount; ++m)
    if (g_marks[m] != 0) std::fprintf(log, "%s=%lld ", kMarkNames[m], g_marks[m]);
  std::fputc('\n', log);
  std::fclose(log);
}

}  // namespace

extern "C" {

int crypt_init(struct crypt_device** cd, const char* device) {
  static decltype(&crypt_init) next_crypt_init;
  const auto next = Next(next_crypt_init, "crypt_init");
  Note(kLib, true);
  return next(cd, device);
}

int crypt_init_data_device(struct crypt_device** cd, const char* device,
                           const char* data_device) {
  static decltype(&crypt_init_data_device) next_crypt_init_data_device;
  const auto next = Next(next_crypt_init_data_device, "crypt_init_data_device");
  Note(kLib, true);
  return next(cd, device, data_device);
}

int crypt_load(struct crypt_device* cd, const char* requested_type, void* params) {
  static decltype(&crypt_load) next_crypt_load;
  const auto next = Next(next_crypt_load, "crypt_load");
  Note(kLoadStart, true);
  const int r = next(cd, requested_type, params);
  Note(kLoadEnd, false);
  return r;
}

int crypt_activate_by_passphrase(struct crypt_device* cd, const char* name, int keyslot,
                                 const char* passphrase, size_t passphrase_size,
                                 uint32_t flags) {
  static decltype(&crypt_activate_by_passphrase) next_crypt_activate_by_passphrase;
  const auto next = Next(next_crypt_activate_by_passphrase, "crypt_activate_by_passphrase");
  Note(kUnlockStart, true);
  const int r = next(cd, name, keyslot, passphrase, passphrase_size, flags);
  Note(kUnlockEnd, false);
  return r;
}

}  // extern "C"
