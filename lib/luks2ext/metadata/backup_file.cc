#include "metadata/backup_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "base/i18n.h"
#include "luks2/image.h"
#include "luks2ext/fd_io.h"
#include "luks2ext/unique_fd.h"

namespace luks2ext {

Result<std::vector<uint8_t>> ReadBackupFile(const std::string& path) {
  const UniqueFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid())
    return Error::WrongParameters(
        FormatMsg(_("Cannot open header backup file {}: {}."), path, std::strerror(errno)));
  struct stat st {};
  if (fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode))
    return Error::WrongParameters(FormatMsg(_("{} is not a regular file."), path));
  if (static_cast<uint64_t>(st.st_size) > kMaxImageSize)
    return Error::WrongParameters(FormatMsg(
        _("Header backup file {} is {} bytes, larger than any LUKS2 header."), path, st.st_size));
  std::vector<uint8_t> bytes(static_cast<size_t>(st.st_size));
  // Ending early (the file shrank) is as unreadable as an I/O error.
  if (!ReadFull(fd.get(), bytes.data(), bytes.size()).complete())
    return Error::WrongParameters(FormatMsg(_("Cannot read header backup file {}."), path));
  return bytes;
}

Status WriteBackupFile(const std::string& path, const std::vector<uint8_t>& bytes) {
  UniqueFd fd(open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, S_IRUSR));
  if (!fd.valid()) {
    if (errno == EEXIST)
      return Error::Busy(FormatMsg(_("Requested header backup file {} already exists."), path));
    return Error::WrongParameters(
        FormatMsg(_("Cannot create header backup file {}: {}."), path, std::strerror(errno)));
  }
  const bool ok =
      WriteFull(fd.get(), bytes.data(), bytes.size()).complete() && fsync(fd.get()) == 0;
  fd.Reset();
  if (!ok) {
    unlink(path.c_str());  // a partial backup is worse than none
    return Error::WrongParameters(FormatMsg(_("Cannot write header backup file {}."), path));
  }
  return Status::Ok();
}

}  // namespace luks2ext
