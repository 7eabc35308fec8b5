// The volume façade: reading the drive's copies and choosing one
// (docs/design.md#choosing-a-copy), activation, and flag updates through the update protocol
// (docs/design.md#update-protocol). Key updates are in volume_updates.cc.
#include "luks2ext/volume.h"

#include <json-c/json.h>
#include <libcryptsetup.h>

#include <algorithm>
#include <cstring>
#include <functional>
#include <optional>

#include "activation/activate.h"
#include "activation/token_unlock.h"
#include "base/i18n.h"
#include "cryptsetup/crypt_device.h"
#include "luks2ext/format_volume.h"
#include "metadata/device_lock.h"
#include "metadata/header_edit.h"
#include "metadata/image_builder.h"
#include "metadata/image_store.h"
#include "luks2/json.h"
#include "luks2/keyslot_order.h"
#include "metadata/update_protocol.h"
#include "metadata/copy_reader.h"
#include "base/memfd.h"

namespace luks2ext {

// ---------------------------------------------------------------------------------------------
// Reading


Volume::Volume(std::unique_ptr<VolumeState> state, std::unique_ptr<DeviceLock> unlock_lock)
    : state_(std::move(state)), unlock_lock_(std::move(unlock_lock)) {}
Volume::~Volume() = default;

Result<std::unique_ptr<Volume>> Volume::Open(BlockDevice& device, ReadScope scope,
                                             BlockDevice* detached_data) {
  if (detached_data) RETURN_IF_ERROR(CheckDetachedHeaderDevice(device, *detached_data));
  auto with_data = [&](std::unique_ptr<VolumeState> state) -> Result<std::unique_ptr<VolumeState>> {
    if (!detached_data) return state;
    state->detached_data = detached_data;
    RETURN_IF_ERROR(CheckDetachedData(*detached_data, state->layout.data_offset));
    return state;
  };
  if (scope == ReadScope::kEverything) {
    ASSIGN_OR_RETURN(DeviceLock lock, DeviceLock::Acquire(device.path(), LockMode::kShared));
    ASSIGN_OR_RETURN(auto read, ReadCopies(device, InspectDepth::kFull));
    ASSIGN_OR_RETURN(auto state, with_data(std::move(read)));
    return std::unique_ptr<Volume>(new Volume(std::move(state), nullptr));
  }
  // Kept until Activate has read the keyslot areas of the headers read now; yielding, so that
  // an update this process makes next (open --persistent, luksAddKey) does not wait for it.
  ASSIGN_OR_RETURN(DeviceLock lock, DeviceLock::AcquireYielding(device.path()));
  // On an ordinary disk both an open and a key change hand the drive itself to libcryptsetup
  // next (ActivateWith, EditInPlaceWithLibcryptsetup), which loads and checks the headers as
  // stock cryptsetup does; a load of our own first would be a second one (and on open, a whole
  // libcryptsetup context more than stock's).
  ASSIGN_OR_RETURN(auto read,
                   ReadCopies(device, InspectDepth::kCheap,
                              scope == ReadScope::kJudgedHeaders ? LibcryptsetupJudge::kAlways
                                                                 : LibcryptsetupJudge::kOnlyZoned));
  ASSIGN_OR_RETURN(auto state, with_data(std::move(read)));
  return std::unique_ptr<Volume>(
      new Volume(std::move(state), std::make_unique<DeviceLock>(std::move(lock))));
}

const Layout& Volume::layout() const { return state_->layout; }
const Geometry& Volume::geometry() const { return state_->geometry; }
const BlockDevice& Volume::data_device() const { return state_->data(); }
bool Volume::detached_header() const { return state_->detached_data != nullptr; }
const std::vector<CopySummary>& Volume::copies() const { return state_->summaries; }
const std::vector<Zone>& Volume::zones() const { return state_->zones; }
const std::vector<std::string>& Volume::warnings() const { return state_->warnings; }
std::string Volume::uuid() const { return std::string(state_->headers().uuid()); }
std::string Volume::label() const { return std::string(state_->headers().label()); }
std::vector<std::string> Volume::config_flags() const {
  return state_->headers().config_flags();
}
bool Volume::force_inline() const { return state_->headers().HasConfigFlag(kForceInlineFlag); }

uint64_t Volume::unlock_memory_kib() const {
  uint64_t most = 0;
  json_object* keyslots = nullptr;
  if (!json_object_object_get_ex(state_->headers().json(), "keyslots", &keyslots)) return 0;
  json_object_object_foreach(keyslots, number, keyslot) {
    (void)number;
    // At most what its size in bytes can be, so the callers' KiB-to-bytes product cannot wrap.
    const auto memory = JsonIntegerMember(JsonMember(keyslot, "kdf"), "memory", UINT64_MAX >> 10);
    if (memory) most = std::max(most, *memory);
  }
  return most;
}

std::string Volume::json_text(bool pretty) const {
  if (!pretty) return state_->headers().json_text();
  return json_object_to_json_string_ext(state_->headers().json(),
                                        JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE);
}

Result<std::string> Volume::DumpText() {
  // The context the read judged the chosen copy with; a dump reads no keyslot area.
  std::shared_ptr<LoadedHeaders> loaded = state_->chosen_copy().loaded;
  if (!loaded) {
    ASSIGN_OR_RETURN(loaded, LoadInLibcryptsetup(state_->headers()));
  }
  const CryptDevice& cd = loaded->cd;
  std::string text;
  crypt_set_log_callback(
      cd.get(),
      [](int level, const char* message, void* out) {
        if (level == CRYPT_LOG_NORMAL && message) static_cast<std::string*>(out)->append(message);
      },
      &text);
  const int r = crypt_dump(cd.get());
  if (r < 0) return CryptError(r, _("Cannot dump the header"));
  return text;
}

// ---------------------------------------------------------------------------------------------
// Activation

// One way to unlock. On a zoned drive the keyslot areas each try needs are loaded into the
// memfd just before it: `tries` lists them, in order.
struct Volume::Unlock {
  struct Try {
    std::vector<KeyslotArea> areas;  // loaded before the try
    int keyslot = -1;                // passed as the request's keyslot when >= 0
  };
  std::function<Result<std::vector<Try>>(crypt_device*, const Luks2Image&, int keyslot)> tries;
  std::function<Status(crypt_device*, const ActivationRequest&)> attempt;
  // The error when `tries` is empty, made only then: an open that succeeds builds no message.
  Error (*nothing_to_try)();
};

Status Volume::Activate(const ActivationRequest& request, const Secret& passphrase,
                        FlagStorage storage) {
  Unlock unlock{
      // libcryptsetup's order, one keyslot a try.
      [](crypt_device*, const Luks2Image& headers, int keyslot) -> Result<std::vector<Unlock::Try>> {
        ASSIGN_OR_RETURN(const std::vector<KeyslotArea> order, KeyslotTryOrder(headers, keyslot));
        std::vector<Unlock::Try> tries;
        for (const KeyslotArea& area : order) tries.push_back({{area}, area.keyslot});
        return tries;
      },
      [&](crypt_device* cd, const ActivationRequest& activation) {
        return ActivateByPassphrase(cd, activation, passphrase, state_->data().path(),
                                    state_->data().geometry().size);
      },
      NoUsableKeyslot};
  return ActivateWith(request, unlock, storage);
}

bool Volume::HasToken(const TokenRequest& token) const {
  return !MatchingTokens(state_->headers().json(), token).empty();
}

Status Volume::ActivateByToken(const ActivationRequest& request, const TokenRequest& token,
                               TokenFailure* failure, FlagStorage storage) {
  if (failure) *failure = TokenFailure::kNone;
  if (!HasToken(token)) {
    // What libcryptsetup answers, without a memfd or a read of the drive.
    if (failure) *failure = TokenFailure::kNoUsableToken;
    if (!token.token_type.empty())
      return Error::WrongParameters(
          FormatMsg(_("No usable token (type {}) is available."), token.token_type));
    return Error::WrongParameters(_("No usable token is available."));
  }
  Unlock unlock{
      // One try: libcryptsetup goes through the tokens itself. It needs the keyslot areas of
      // every token it may try (selected, with a handler here), and no other.
      [&](crypt_device* cd, const Luks2Image& headers, int) -> Result<std::vector<Unlock::Try>> {
        std::vector<int> keyslots;
        for (const int id : MatchingTokens(headers.json(), token)) {
          if (!TokenHandlerAvailable(cd, id)) continue;
          for (const int keyslot : TokenKeyslots(headers.json(), id))
            if (std::find(keyslots.begin(), keyslots.end(), keyslot) == keyslots.end())
              keyslots.push_back(keyslot);
        }
        Unlock::Try all;
        for (const KeyslotArea& area : headers.keyslot_areas())
          if (std::find(keyslots.begin(), keyslots.end(), area.keyslot) != keyslots.end())
            all.areas.push_back(area);
        return std::vector<Unlock::Try>{std::move(all)};
      },
      [&](crypt_device* cd, const ActivationRequest& activation) {
        return luks2ext::ActivateByToken(cd, activation, token, failure);
      },
      [] { return Error::WrongParameters(_("No usable token is available.")); }};
  return ActivateWith(request, unlock, storage);
}

Status Volume::ActivateWith(const ActivationRequest& request, const Unlock& unlock,
                            FlagStorage storage) {
  // A header whose data segment starts inside its own metadata is a detached header opened
  // without its data drive: mapping it would hand the header itself out as data.
  if (!state_->detached_data && !request.name.empty() &&
      state_->layout.data_offset < state_->layout.image_size())
    return Error::WrongParameters(
        _("Reduced data offset is allowed only for detached LUKS header."));
  ActivationRequest activation = request;
  if (!activation.inline_mode && force_inline())
    activation.inline_mode = InlineMode::kWorkqueueFlags;

  BlockDevice& device = *state_->device;
  if (state_->layout.placement == Placement::kStandard) {
    // An ordinary disk: libcryptsetup works on it directly, exactly as cryptsetup does,
    // reading the header and keyslots again under its own locks. Ours goes first: when a
    // header copy needs repair, libcryptsetup takes the exclusive lock, which would wait for
    // our shared one forever.
    unlock_lock_.reset();
    ASSIGN_OR_RETURN(CryptDevice cd,
                     state_->detached_data
                         ? CryptDevice::InitDetached(device.path(), state_->detached_data->path())
                         : CryptDevice::Init(device.path()));
    RETURN_IF_ERROR(cd.LoadLuks2(device.path()));
    RETURN_IF_ERROR(unlock.attempt(cd.get(), activation));
  } else {
    // A zoned drive: libcryptsetup sees the chosen copy in a memfd as a detached header and
    // the drive only as the data device, so it can never write to a sequential zone. Each
    // keyslot area is read just before it is tried, in libcryptsetup's order, under the lock
    // the headers were read with (or, for a Volume opened for everything or whose lock gave
    // way to an update, under a fresh one).
    std::optional<DeviceLock> fresh_lock;
    if (!unlock_lock_ || !unlock_lock_->held()) {
      ASSIGN_OR_RETURN(DeviceLock lock, DeviceLock::Acquire(device.path(), LockMode::kShared));
      fresh_lock.emplace(std::move(lock));
    }
    // The context the read judged the copy with, when it kept one: loading it again would
    // cost an open what stock cryptsetup does not spend. Used once (tries fill its memfd).
    std::shared_ptr<LoadedHeaders> loaded = std::move(state_->copies[state_->chosen].loaded);
    if (!loaded) {
      ASSIGN_OR_RETURN(loaded, LoadInLibcryptsetup(state_->headers()));
    }
    RETURN_IF_ERROR(loaded->SetDataDevice(device.path()));
    Memfd& memfd = loaded->memfd;
    const CryptDevice& cd = loaded->cd;
    ASSIGN_OR_RETURN(const std::vector<Unlock::Try> tries,
                     unlock.tries(cd.get(), state_->headers(), request.keyslot));
    if (tries.empty()) return unlock.nothing_to_try();
    Status unlocked = Status::Ok();
    for (const Unlock::Try& attempt : tries) {
      for (const KeyslotArea& area : attempt.areas)
        RETURN_IF_ERROR(LoadKeyslotArea(device, state_->chosen_copy().slot, area, memfd));
      if (attempt.keyslot >= 0) activation.keyslot = attempt.keyslot;
      unlocked = unlock.attempt(cd.get(), activation);
      if (unlocked.ok() || unlocked.error().code() != ExitCode::kNoPermission) break;
    }
    RETURN_IF_ERROR(unlocked);
    // Unlocked: the metadata has served its purpose; writers need not wait for the rest of
    // this process (a wrong passphrase returned above and kept the lock for --tries).
    unlock_lock_.reset();
  }
  if (storage != FlagStorage::kPersistent || request.name.empty()) return Status::Ok();
  return StoreRequestedFlags(request);
}

Status Volume::StoreRequestedFlags(const ActivationRequest& request) {
  // cryptsetup --persistent: the flags of this command line the mapping now has replace the
  // stored ones (no flags clears them). What the header already held or the kernel added on
  // its own (no_write_workqueue on a host-managed drive) is not asked for, so not stored.
  ASSIGN_OR_RETURN(const ActiveMapping mapping, QueryMapping(request.name));
  const bool inline_flags = request.inline_mode == InlineMode::kWorkqueueFlags;
  std::vector<std::string> flags;
  auto store_if = [&](bool asked, const char* table_arg, const char* config_flag) {
    if (asked && mapping.HasFeature(table_arg)) flags.emplace_back(config_flag);
  };
  store_if(request.allow_discards, "allow_discards", kAllowDiscardsFlag);
  store_if(request.same_cpu_crypt, "same_cpu_crypt", kSameCpuCryptFlag);
  store_if(request.submit_from_crypt_cpus, "submit_from_crypt_cpus", kSubmitFromCryptCpusFlag);
  store_if(inline_flags || request.no_read_workqueue, "no_read_workqueue", kNoReadWorkqueueFlag);
  store_if(inline_flags || request.no_write_workqueue, "no_write_workqueue",
           kNoWriteWorkqueueFlag);
  if (inline_flags && mapping.RunsInline()) flags.emplace_back(kForceInlineFlag);
  Status stored = UpdateMetadata(*state_->device, [&](Luks2Image& image, const VolumeState&) {
    return ReplaceActivationFlags(image, flags);
  });
  if (!stored.ok())
    return Error(stored.error().code(),
                 FormatMsg(_("Device activated but cannot make flags persistent: {}"),
                           stored.error().message()));
  return Status::Ok();
}

// ---------------------------------------------------------------------------------------------
// Writing through the update protocol

Status Volume::SetPersistentFlags(std::optional<bool> force_inline,
                                  std::optional<bool> allow_discards) {
  return UpdateMetadata(*state_->device, [&](Luks2Image& image, const VolumeState&) -> Status {
    if (force_inline) RETURN_IF_ERROR(PersistForceInline(image, *force_inline));
    if (allow_discards) {
      if (*allow_discards)
        RETURN_IF_ERROR(image.AddConfigFlag(kAllowDiscardsFlag));
      else
        RETURN_IF_ERROR(image.RemoveConfigFlag(kAllowDiscardsFlag));
    }
    return Status::Ok();
  });
}

}  // namespace luks2ext
