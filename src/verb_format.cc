// luksFormat: plan the layout, confirm, read the passphrase, write the volume.
#include <fmt/core.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <optional>

#include "actions.h"
#include "i18n.h"
#include "layout_text.h"
#include "luks2ext/format_volume.h"
#include "luks2ext/signature.h"
#include "luks2ext/volume.h"

namespace zcryptsetup {

using luks2ext::Error;
using luks2ext::Status;

luks2ext::PbkdfOptions PbkdfFrom(const Options& o) {
  luks2ext::PbkdfOptions p;
  p.type = o.pbkdf;
  p.hash = o.hash;
  p.iter_time_ms = o.iter_time;
  p.memory_kb = o.pbkdf_memory;
  p.parallel = o.pbkdf_parallel;
  p.iterations = o.pbkdf_force_iterations;
  return p;
}

Result<luks2ext::FormatOptions> FormatOptionsFrom(const Options& o) {
  luks2ext::FormatOptions f;
  f.cipher = o.cipher;
  f.key_bits = o.key_size;
  f.pbkdf = PbkdfFrom(o);
  f.sector_size = o.sector_size;
  f.label = o.label;
  f.subsystem = o.subsystem;
  f.uuid = o.uuid;
  f.keyslot = o.key_slot;
  f.force_inline = o.perf_force_inline == "flags";
  if (o.perf_force_inline == "off")
    return Error::WrongParameters(_("--perf-force_inline=off applies to config only."));
  if (o.perf_force_inline == "native")
    return Error::WrongParameters(
        _("luksFormat persists force_inline as the upstream table flags; =native applies to "
          "open only."));
  if (!o.luks2_metadata_size.empty()) {
    ASSIGN_OR_RETURN(f.layout.header_size,
                     ParseSize(o.luks2_metadata_size, "--luks2-metadata-size"));
  }
  if (!o.luks2_keyslots_size.empty()) {
    ASSIGN_OR_RETURN(f.layout.keyslots_size,
                     ParseSize(o.luks2_keyslots_size, "--luks2-keyslots-size"));
  }
  if (o.offset) f.layout.data_offset = *o.offset * 512;  // cryptsetup's unit: 512-byte sectors
  f.layout.zone_journal = !o.no_zone_journal;
  return f;
}

namespace {

// cryptsetup's warning before its question: what blkid finds on `path`.
Status WarnOfSignature(const std::string& path) {
  ASSIGN_OR_RETURN(auto signature, luks2ext::ProbeSignature(path));
  if (signature)
    fmt::print(stdout, "{}",
               FormatMsg(_("WARNING: Device {} already contains a '{}' superblock signature.\n"),
                         path, *signature));
  return Status::Ok();
}

// cryptsetup's questions, asked only when someone can answer them. `target` is where the
// metadata goes (the device, or the detached header).
Status Confirm(const Options& o, const std::string& target) {
  if (o.batch_mode || !InteractiveInput()) return Status::Ok();
  RETURN_IF_ERROR(WarnOfSignature(target));
  const std::string question = FormatMsg(
      _("\nWARNING!\n========\nThis will overwrite data on {} irrevocably.\n\nAre you sure? "
        "(Type 'yes' in capital letters): "),
      target);
  if (!ConfirmOnTerminal(question)) return Error::NoPermission(_("Operation aborted."));
  return Status::Ok();
}

// luksFormat --header: the header file or device, and whether this run creates the file.
struct DetachedHeader {
  std::string path;
  bool exists = false;
};

// A header file that does not exist yet is created, as cryptsetup does, after its question.
Status ConfirmDetached(const Options& o, const DetachedHeader& header, const std::string& data) {
  if (o.batch_mode || !InteractiveInput()) return Status::Ok();
  // The data drive is not written: what it holds stays readable until the mapping overwrites it.
  RETURN_IF_ERROR(WarnOfSignature(data));
  if (header.exists) return Confirm(o, header.path);
  if (!ConfirmOnTerminal(_("Header file does not exist, do you want to create it?\n\nAre you "
                           "sure? (Type 'yes' in capital letters): ")))
    return Error::NoPermission(_("Operation aborted."));
  return Status::Ok();
}

// The header file, created empty (mode 0600) when it does not exist; removed again by the
// destructor unless kept, so that a failed format leaves nothing behind.
class CreatedHeaderFile {
 public:
  static Result<CreatedHeaderFile> Create(const std::string& path) {
    const int fd = open(path.c_str(), O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, S_IRUSR | S_IWUSR);
    if (fd < 0)
      return Error::WrongDevice(
          FormatMsg(_("Cannot create header file {}: {}."), path, std::strerror(errno)));
    CreatedHeaderFile created(path);
    // One block, as cryptsetup's: libcryptsetup will not open an empty file as a device.
    const int r = posix_fallocate(fd, 0, 4096);
    close(fd);
    if (r != 0)
      return Error::WrongDevice(
          FormatMsg(_("Cannot create header file {}: {}."), path, std::strerror(r)));
    return created;
  }
  CreatedHeaderFile(CreatedHeaderFile&& other) noexcept : path_(std::move(other.path_)) {
    other.path_.clear();
  }
  CreatedHeaderFile(const CreatedHeaderFile&) = delete;
  CreatedHeaderFile& operator=(const CreatedHeaderFile&) = delete;
  ~CreatedHeaderFile() {
    if (!path_.empty()) unlink(path_.c_str());
  }
  void Keep() { path_.clear(); }

 private:
  explicit CreatedHeaderFile(std::string path) : path_(std::move(path)) {}
  std::string path_;
};

// The plan of a detached header for the data on `data`. An existing header device is checked
// (not zoned, writable); a file yet to be created is a regular file.
Result<luks2ext::Layout> PlanDetached(const DetachedHeader& header, luks2ext::BlockDevice& data,
                                      const luks2ext::FormatOptions& format) {
  if (!header.exists) return luks2ext::PlanDetachedLayout(data.geometry(), format.layout);
  ASSIGN_OR_RETURN(auto device, luks2ext::OpenBlockDevice(header.path, false,
                                                          luks2ext::Exclusive::kYes));
  return luks2ext::PlanFormat(*device, format, &data);
}

// Writes the header (libcryptsetup, in place) and nothing to the data drive.
Result<std::string> FormatDetached(const DetachedHeader& header, const std::string& data_path,
                                   const luks2ext::Layout& layout,
                                   const luks2ext::FormatOptions& format,
                                   const luks2ext::Secret& passphrase) {
  std::optional<CreatedHeaderFile> created;
  if (!header.exists) {
    ASSIGN_OR_RETURN(CreatedHeaderFile file, CreatedHeaderFile::Create(header.path));
    created.emplace(std::move(file));
  }
  ASSIGN_OR_RETURN(auto device, luks2ext::OpenBlockDevice(header.path, true));
  ASSIGN_OR_RETURN(auto data, luks2ext::OpenBlockDevice(data_path, false));
  ASSIGN_OR_RETURN(std::string uuid,
                   luks2ext::FormatVolume(*device, layout, format, passphrase, data.get()));
  if (created) created->Keep();
  return uuid;
}

void PrintDetachedPlan(const DetachedHeader& header, const std::string& data_path,
                       const luks2ext::BlockDevice& data, const luks2ext::Layout& layout) {
  const luks2ext::Geometry& geometry = data.geometry();
  fmt::print(stdout, "{}\n", FormatMsg(_("zcryptsetup placement on {} (planned):"), data_path));
  PrintRow(_("Header"),
           FormatMsg(_("{} ({} image, written in place){}"), header.path,
                     luks2ext::SizeText(layout.image_size()),
                     header.exists ? "" : _(", created")));
  PrintRow(_("Zone model"), luks2ext::ZoneModelName(geometry.model));
  if (geometry.is_zoned()) PrintRow(_("Zone size"), luks2ext::SizeText(geometry.zone_size));
  PrintRow(_("Data segment"), FormatMsg(_("offset {} of {} (nothing written there)"),
                                        layout.data_offset, data_path));
}

}  // namespace

Status ActionLuksFormat(const Invocation& call) {
  const Options& o = call.options;
  const std::string& path = call.args[0];
  ASSIGN_OR_RETURN(const luks2ext::FormatOptions format, FormatOptionsFrom(o));
  std::optional<DetachedHeader> detached;
  if (!o.header.empty()) {
    struct stat st {};
    detached = DetachedHeader{o.header, stat(o.header.c_str(), &st) == 0};
  }

  // Plan on a read-only handle: every refusal (read-only drive, bad offset, too small, a
  // device in use) comes before anything is asked or written. --dry-run writes nothing, so it
  // may look at a device in use.
  luks2ext::Layout layout;
  {
    ASSIGN_OR_RETURN(auto probe, luks2ext::OpenBlockDevice(path, false,
                                                           o.dry_run ? luks2ext::Exclusive::kNo
                                                                     : luks2ext::Exclusive::kYes));
    if (detached) {
      ASSIGN_OR_RETURN(layout, PlanDetached(*detached, *probe, format));
    } else {
      ASSIGN_OR_RETURN(layout, luks2ext::PlanFormat(*probe, format));
    }
    if (o.dry_run) {
      // What would happen, and nothing else: no question, no passphrase, no write.
      if (detached) {
        PrintDetachedPlan(*detached, path, *probe, layout);
        return Status::Ok();
      }
      ASSIGN_OR_RETURN(const luks2ext::DriveSummary drive, luks2ext::SummarizeDrive(*probe));
      PrintLayout(path, drive, layout, _("planned"), nullptr);
      return Status::Ok();
    }
  }
  RETURN_IF_ERROR(detached ? ConfirmDetached(o, *detached, path) : Confirm(o, path));

  PassphraseSource source = call.passphrase_source();
  if (call.args.size() > 1) source.key_file = call.args[1];
  ASSIGN_OR_RETURN(const luks2ext::Secret passphrase,
                   ReadDevicePassphrase(source, path, call.verify_new_passphrase()));

  std::string uuid;
  if (detached) {
    ASSIGN_OR_RETURN(uuid, FormatDetached(*detached, path, layout, format, passphrase));
  } else {
    // On an ordinary disk libcryptsetup formats the drive itself and opens it exclusively then
    // (a device in use is refused there, as stock's is); our own exclusive handle would make
    // it refuse us.
    ASSIGN_OR_RETURN(auto device, luks2ext::OpenBlockDevice(path, true,
                                                            layout.is_zoned()
                                                                ? luks2ext::Exclusive::kYes
                                                                : luks2ext::Exclusive::kNo));
    ASSIGN_OR_RETURN(uuid, luks2ext::FormatVolume(*device, layout, format, passphrase));
  }
  PrintVerbose(o, FormatMsg(_("Formatted {} as LUKS2 {} ({} placement, data at {})."), path, uuid,
                            luks2ext::PlacementName(layout.placement),
                            luks2ext::SizeText(layout.data_offset)));
  PrintVerbose(o, _("Key slot 0 created."));
  return Status::Ok();
}

}  // namespace zcryptsetup
