// A private file in memory (tmpfs) that an outside program can open by path: how `enroll`
// hands a LUKS2 metadata image to systemd-cryptenroll or clevis. A memfd cannot serve (the
// tool is another process, often a script that runs several more), so the file lives in a
// directory only root can enter, on a file system that never writes to a disk, and it is
// overwritten with zeros before it is unlinked, on every path out.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "luks2ext/error.h"
#include "luks2ext/unique_fd.h"

namespace luks2ext {

class ScratchFile {
 public:
  // Creates a new file (mode 0600, a random name, O_EXCL) holding `bytes` in the first of
  // `dirs` whose parent is on tmpfs or ramfs. A missing dir is made (mode 0700); an existing one
  // must be a real directory (not a symlink) owned by this user and closed to everyone else.
  // No usable dir: Error::WrongParameters, nothing created.
  static Result<ScratchFile> Create(std::span<const std::string> dirs,
                                    std::span<const std::uint8_t> bytes);

  ScratchFile(ScratchFile&& other) noexcept;
  ScratchFile& operator=(ScratchFile&&) = delete;
  ScratchFile(const ScratchFile&) = delete;
  ScratchFile& operator=(const ScratchFile&) = delete;
  // Wipe().
  ~ScratchFile();

  const std::string& path() const { return path_; }

  // What is at path() now, exactly `expected_size` bytes: a regular file of another size (or
  // anything else there) is Error::WrongParameters. A tool may have replaced the file by a
  // rename; that one is read (and wiped too).
  Result<std::vector<std::uint8_t>> ReadBack(std::uint64_t expected_size);

  // Overwrites with zeros every file this object created or read back, then unlinks the path.
  // Idempotent.
  void Wipe();

 private:
  ScratchFile(std::string path, UniqueFd fd) : path_(std::move(path)), fd_(std::move(fd)) {}
  std::string path_;
  UniqueFd fd_;            // the file as created
  UniqueFd replacement_;   // a different file found at path_ by ReadBack, if any
};

}  // namespace luks2ext
