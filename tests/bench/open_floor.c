/* open_floor: a yardstick for bench_ops, not a tool. The least an open of a zcryptsetup
 * volume on a host-managed drive must do, written as plainly as C allows, so that the bench
 * can print what such an open costs against stock cryptsetup in the same run
 * (docs/performance.md, "The floor"). zcryptsetup's own open can only cost more: it does all
 * of this, plus its command line, its checks of every byte it reads, and the uncommon cases
 * this program refuses.
 *
 * What it does, in zcryptsetup's order (docs/design.md#choosing-a-copy, the common case only):
 * cryptsetup's shared lock; a report of the leading zones; home's header area into a memfd;
 * libcryptsetup's load of that memfd (which checks magic, checksums and JSON); home proven
 * complete by its zone's write pointer; the journal's first 4 KiB, whose seqid must not be
 * newer than home's; cryptsetup's token attempt; keyslot 0's area into the memfd; the unlock
 * and activation by libcryptsetup. Anything else (conventional zones, a torn home, a newer
 * journal, another keyslot) exits 10: zcryptsetup would read further, this program does not.
 *
 * Usage: open_floor DEVICE NAME, the passphrase on standard input. Exit 0 when NAME is
 * mapped, 2 for a wrong passphrase, 4 for a device it cannot read, 10 as above. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <libcryptsetup.h>
#include <libzbd/zbd.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

enum { kReadError = 4, kNotCommonCase = 10 };
enum { kBinaryHeader = 4096, kCommitRecord = 4096, kZonesToReport = 64 };
enum { kDefaultHeaderSize = 16384 };
static const uint64_t kMaxHeaderSize = 4 << 20; /* LUKS2's largest hdr_size */
static const uint64_t kMaxImage = 256 << 20;    /* more than any metadata area */

static uint64_t BigEndian64(const unsigned char* p) {
  uint64_t value = 0;
  for (int i = 0; i < 8; i++) value = value << 8 | p[i];
  return value;
}

/* The seqid of a LUKS2 binary header in `block`, or 0 when the block holds none. */
static uint64_t Seqid(const unsigned char* block) {
  if (memcmp(block, "LUKS\xba\xbe", 6) != 0 || block[6] != 0 || block[7] != 2) return 0;
  return BigEndian64(block + 16);
}

/* Bytes written into a sequential zone: its capacity once finished (a full zone's write
 * pointer means nothing), else up to the write pointer. */
static uint64_t Written(const struct zbd_zone* zone) {
  if (zbd_zone_full(zone)) return zone->capacity;
  return zone->wp > zone->start ? zone->wp - zone->start : 0;
}

static int ReadAt(int fd, void* buffer, uint64_t length, uint64_t offset) {
  return pread(fd, buffer, length, (off_t)offset) == (ssize_t)length ? 0 : -1;
}

int main(int argc, char** argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: open_floor DEVICE NAME < passphrase\n");
    return 1;
  }
  const char* device = argv[1];
  const char* name = argv[2];
  struct zbd_info info;
  /* O_DIRECT, as zcryptsetup and libcryptsetup read: no readahead past what is asked for. */
  const int fd = zbd_open(device, O_RDONLY | O_DIRECT | O_CLOEXEC, &info);
  if (fd < 0) return kReadError;
  if (info.model != ZBD_DM_HOST_MANAGED) return kNotCommonCase;

  /* cryptsetup's lock file for the drive, held shared while the metadata is read. */
  struct stat st;
  if (fstat(fd, &st) != 0) return kReadError;
  char lock_path[64];
  snprintf(lock_path, sizeof lock_path, "/run/cryptsetup/L_%u:%u", major(st.st_rdev),
           minor(st.st_rdev));
  const int lock = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (lock < 0 || flock(lock, LOCK_SH) != 0) return kReadError;

  struct zbd_zone zones[kZonesToReport];
  unsigned int reported = kZonesToReport;
  if (zbd_report_zones(fd, 0, 0, ZBD_RO_ALL, zones, &reported) != 0 || reported < 2)
    return kReadError;
  if (zones[0].type != ZBD_ZONE_TYPE_SWR) return kNotCommonCase;

  /* The memfd libcryptsetup reads the header from: sparse, the size of the largest image.
   * Home's header area goes straight into it, in one read at the default header size (as
   * zcryptsetup reads it), more only when hdr_size says so. */
  const int memfd = memfd_create("open_floor", MFD_CLOEXEC);
  if (memfd < 0 || ftruncate(memfd, (off_t)kMaxImage) != 0) return kReadError;
  unsigned char* image = mmap(NULL, kMaxImage, PROT_READ | PROT_WRITE, MAP_SHARED, memfd, 0);
  if (image == MAP_FAILED) return kReadError;
  if (ReadAt(fd, image, 2 * kDefaultHeaderSize, 0) != 0) return kReadError;
  const uint64_t home_seqid = Seqid(image);
  const uint64_t hdr_size = BigEndian64(image + 8);
  if (home_seqid == 0 || hdr_size < kBinaryHeader || hdr_size > kMaxHeaderSize)
    return kNotCommonCase;
  if (hdr_size > kDefaultHeaderSize &&
      ReadAt(fd, image + 2 * kDefaultHeaderSize, 2 * (hdr_size - kDefaultHeaderSize),
             2 * kDefaultHeaderSize) != 0)
    return kReadError;

  char memfd_path[32];
  snprintf(memfd_path, sizeof memfd_path, "/proc/self/fd/%d", memfd);
  crypt_metadata_locking(NULL, 0); /* the lock above is cryptsetup's own */
  struct crypt_device* cd = NULL;
  if (crypt_init_data_device(&cd, memfd_path, device) < 0) return kReadError;
  if (crypt_load(cd, CRYPT_LUKS2, NULL) < 0) return kNotCommonCase;

  /* Home is complete when its zone's write pointer is past image and commit record. */
  uint64_t header_bytes = 0, keyslots_bytes = 0;
  if (crypt_get_metadata_size(cd, &header_bytes, &keyslots_bytes) < 0) return kReadError;
  const uint64_t image_size = 2 * header_bytes + keyslots_bytes;
  if (image_size > kMaxImage || Written(&zones[0]) < image_size + kCommitRecord)
    return kNotCommonCase;

  /* The journal: at the first zone boundary after home's copy. Only a newer one matters. */
  const uint64_t zone_size = zones[0].len;
  const uint64_t journal = (image_size + kCommitRecord + zone_size - 1) / zone_size * zone_size;
  if (journal / zone_size >= reported) return kNotCommonCase;
  const struct zbd_zone* journal_zone = &zones[journal / zone_size];
  if (Written(journal_zone) > 0) {
    static unsigned char peek[kBinaryHeader] __attribute__((aligned(kBinaryHeader)));
    if (ReadAt(fd, peek, sizeof peek, journal) != 0) return kReadError;
    if (Seqid(peek) > home_seqid) return kNotCommonCase;
  }

  /* As cryptsetup open: any token first (this header has none), then the passphrase. */
  crypt_activate_by_token_pin(cd, name, NULL, CRYPT_ANY_TOKEN, NULL, 0, NULL, 0);
  uint64_t area_offset = 0, area_length = 0;
  if (crypt_keyslot_area(cd, 0, &area_offset, &area_length) < 0) return kNotCommonCase;
  if (area_offset + area_length > image_size) return kNotCommonCase;
  if (ReadAt(fd, image + area_offset, area_length, area_offset) != 0) return kReadError;

  char passphrase[512];
  const ssize_t length = read(STDIN_FILENO, passphrase, sizeof passphrase);
  if (length <= 0) return 2;
  const int r = crypt_activate_by_passphrase(cd, name, 0, passphrase, (size_t)length, 0);
  explicit_bzero(passphrase, sizeof passphrase);
  crypt_free(cd);
  munmap(image, kMaxImage);
  close(memfd);
  close(lock);
  zbd_close(fd);
  if (r == -EPERM) return 2;
  return r < 0 ? kReadError : 0;
}
