// A LUKS2 volume on a drive, zoned or not: what the CLI formats, opens, dumps and updates.
// The only public entry to the metadata layer; it hides the codec, the memfd images and
// libcryptsetup.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "luks2ext/activation.h"
#include "luks2ext/block_device.h"
#include "luks2ext/format_options.h"
#include "luks2ext/layout.h"
#include "luks2ext/secret.h"

namespace luks2ext {

// Checks the drive and the options and plans the layout, without writing: the step before
// asking for confirmation and a passphrase. A read-only drive is refused here.
Result<Layout> PlanFormat(BlockDevice& device, const FormatOptions& options);

// Writes a new LUKS2 volume as planned: on zoned drives the journal copy first, then home,
// each reset, appended, finished and verified; on ordinary disks in place, like cryptsetup.
// Holds cryptsetup's device lock throughout. Returns the new volume's UUID.
Result<std::string> FormatVolume(BlockDevice& device, const Layout& layout,
                                 const FormatOptions& options, const Secret& passphrase);

// The filesystem/RAID/crypto signature blkid finds on the device ("ext4", "crypto_LUKS"...),
// or nullopt when there is none.
Result<std::optional<std::string>> ProbeSignature(const std::string& path);

struct OpenRequest {
  std::string name;                       // empty with test_passphrase
  bool read_only = false;
  bool allow_discards = false;
  std::optional<InlineMode> inline_mode;  // --perf-force_inline; nullopt: as the header says
  bool persistent = false;                // store the requested flags in the header
  int keyslot = -1;
};

// One metadata copy as found on the drive.
struct CopySummary {
  std::string name;  // "home", "journal"
  uint64_t offset = 0;
  bool headers_valid = false;
  bool image_present = false;  // the zone holds the whole image
  bool has_record = false;     // our commit record is there and matches
  uint64_t seqid = 0;
  bool chosen = false;
  std::string problem;
};

struct VolumeState;  // what Volume::Open read, private to the library

class Volume {
 public:
  enum class ReadScope {
    // What unlocking needs, reading no more than stock cryptsetup: home's headers (its record
    // only when the zone report cannot prove the copy complete) and the journal's seqid.
    kForOpen,
    // Every copy's headers and commit record: luksDump, isLuks, updates.
    kEverything,
  };

  // Reads the drive's metadata under cryptsetup's shared lock and chooses the newest
  // complete, valid copy. Not a LUKS2 device (or LUKS1): Error::WrongDevice.
  static Result<std::unique_ptr<Volume>> Open(BlockDevice& device,
                                              ReadScope scope = ReadScope::kEverything);
  ~Volume();

  const Layout& layout() const;
  const Geometry& geometry() const;
  const std::vector<CopySummary>& copies() const;
  // Things a user should know: a torn or older home copy, copies that disagree.
  const std::vector<std::string>& warnings() const;

  std::string uuid() const;
  std::string label() const;
  std::vector<std::string> config_flags() const;
  bool force_inline() const;
  std::string json_text(bool pretty) const;

  // libcryptsetup's own luksDump text for the chosen copy.
  Result<std::string> DumpText();

  // Unlocks and maps (or, with an empty name, only checks the passphrase). Inline mode comes
  // from the request, else from the header's force-inline flag. With `persistent`, the
  // requested flags are then stored through the update protocol.
  Status Activate(const OpenRequest& request, const Secret& passphrase);

  // Stores or clears force_inline (and its upstream flags) in the header, crash-safely.
  Status SetPersistentFlags(std::optional<bool> force_inline, std::optional<bool> allow_discards);

 private:
  explicit Volume(std::unique_ptr<VolumeState> state);
  std::unique_ptr<VolumeState> state_;
};

}  // namespace luks2ext
