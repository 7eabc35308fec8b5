#include "metadata/scratch_file.h"

#include <fcntl.h>
#include <linux/magic.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fmt/format.h>

#include "base/i18n.h"
#include "luks2ext/fd_io.h"

namespace luks2ext {
namespace {

bool InMemoryFileSystem(const std::string& path) {
  struct statfs fs {};
  if (statfs(path.c_str(), &fs) != 0) return false;
  return static_cast<unsigned long>(fs.f_type) == TMPFS_MAGIC ||
         static_cast<unsigned long>(fs.f_type) == RAMFS_MAGIC;
}

std::string ParentOf(const std::string& dir) {
  const size_t slash = dir.find_last_of('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : dir.substr(0, slash);
}

// Why `dir` cannot hold the file, or "" when it can (made if missing).
std::string PrepareDir(const std::string& dir) {
  if (dir.empty() || dir.front() != '/') return _("not an absolute path");
  if (!InMemoryFileSystem(ParentOf(dir))) return _("not on tmpfs or ramfs");
  if (mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) return std::strerror(errno);
  struct stat st {};
  if (lstat(dir.c_str(), &st) != 0) return std::strerror(errno);
  if (!S_ISDIR(st.st_mode)) return _("not a directory");
  if (st.st_uid != geteuid()) return _("owned by another user");
  if ((st.st_mode & 077) != 0) return _("open to other users");
  if (!InMemoryFileSystem(dir)) return _("not on tmpfs or ramfs");
  return "";
}

Result<std::string> RandomName() {
  unsigned char random[12];
  if (getrandom(random, sizeof random, 0) != static_cast<ssize_t>(sizeof random))
    return Error::OutOfMemory(_("Cannot get random bytes for a file name."));
  std::string name = "enroll-";
  for (const unsigned char byte : random) name += fmt::format("{:02x}", byte);
  return name + ".img";
}

void ZeroFile(int fd) {
  struct stat st {};
  if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) return;
  static const std::uint8_t kZeros[65536] = {};
  for (off_t at = 0; at < st.st_size; at += static_cast<off_t>(sizeof kZeros)) {
    const size_t n = static_cast<size_t>(std::min<off_t>(st.st_size - at, sizeof kZeros));
    if (!PwriteFull(fd, kZeros, n, static_cast<std::uint64_t>(at)).complete()) return;
  }
}

}  // namespace

Result<ScratchFile> ScratchFile::Create(std::span<const std::string> dirs,
                                        std::span<const std::uint8_t> bytes) {
  std::string refusals;
  for (const std::string& dir : dirs) {
    const std::string why = PrepareDir(dir);
    if (!why.empty()) {
      refusals += fmt::format("{}{}: {}", refusals.empty() ? "" : "; ", dir, why);
      continue;
    }
    ASSIGN_OR_RETURN(const std::string name, RandomName());
    const std::string path = dir + "/" + name;
    UniqueFd fd(open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
    if (!fd.valid())
      return Error::WrongParameters(
          FormatMsg(_("Cannot create the private file {}: {}."), path, std::strerror(errno)));
    ScratchFile file(path, std::move(fd));
    if (!PwriteFull(file.fd_.get(), bytes.data(), bytes.size(), 0).complete())
      return Error::OutOfMemory(
          FormatMsg(_("Cannot write the private file {}: {}."), path, std::strerror(errno)));
    return file;
  }
  return Error::WrongParameters(FormatMsg(
      _("No private directory in memory for the header image ({}). Nothing was changed."),
      refusals));
}

ScratchFile::ScratchFile(ScratchFile&& other) noexcept
    : path_(std::move(other.path_)),
      fd_(std::move(other.fd_)),
      replacement_(std::move(other.replacement_)) {
  other.path_.clear();
}

ScratchFile::~ScratchFile() { Wipe(); }

Result<std::vector<std::uint8_t>> ScratchFile::ReadBack(std::uint64_t expected_size) {
  UniqueFd now(open(path_.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
  if (!now.valid())
    return Error::WrongParameters(
        FormatMsg(_("The header image {} is gone: {}."), path_, std::strerror(errno)));
  struct stat st {}, original {};
  if (fstat(now.get(), &st) != 0 || !S_ISREG(st.st_mode))
    return Error::WrongParameters(FormatMsg(_("{} is not a regular file."), path_));
  if (fstat(fd_.get(), &original) == 0 &&
      (st.st_ino != original.st_ino || st.st_dev != original.st_dev)) {
    // Replaced: keep a descriptor on the new file too, so that Wipe reaches it.
    replacement_.Reset(open(path_.c_str(), O_RDWR | O_NOFOLLOW | O_CLOEXEC));
  }
  if (static_cast<std::uint64_t>(st.st_size) != expected_size)
    return Error::WrongParameters(FormatMsg(
        _("The tool left a header image of {} bytes where {} were: it must not change the "
          "metadata size."),
        st.st_size, expected_size));
  std::vector<std::uint8_t> bytes(expected_size);
  if (!PreadFull(now.get(), bytes.data(), bytes.size(), 0).complete())
    return Error::WrongParameters(FormatMsg(_("Cannot read the header image {}."), path_));
  return bytes;
}

void ScratchFile::Wipe() {
  if (path_.empty()) return;
  ZeroFile(fd_.get());
  ZeroFile(replacement_.get());
  unlink(path_.c_str());
  fd_.Reset();
  replacement_.Reset();
  path_.clear();
}

}  // namespace luks2ext
