// Activation of a loaded LUKS2 header (libcryptsetup context) as a dm-crypt mapping.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "activation/kernel_keyring.h"
#include "luks2ext/activation.h"
#include "luks2ext/secret.h"

struct crypt_device;

namespace luks2ext {

// Activates `cd` (loaded, data device set). `data_path` and `data_size` describe the data
// device, needed to build the table by hand for InlineMode::kNative. A wrong passphrase is
// Error::NoPermission and maps nothing; on any failure nothing is left mapped.
Status ActivateByPassphrase(crypt_device* cd, const ActivationRequest& request,
                            const Secret& passphrase, const std::string& data_path,
                            uint64_t data_size);

// No keyslot to try (an erased volume, or -S naming an empty one): cryptsetup's words for
// libcryptsetup's -ENOENT, and its exit code 1. The zoned unlock, which tries keyslots one by
// one, gives the same answer when it has none to try.
Error NoUsableKeyslot();

// What every activation checks first: for InlineMode::kNative, whose table is built here, no
// mapping of that name exists (Error::Busy; libcryptsetup checks it itself for the others);
// for a refresh or resize, it must exist (Error::WrongDevice); and the kernel's dm-crypt runs
// the inline mode asked for; `dm_crypt` gets its version when it was needed. An empty name
// (only check the key) needs none of it.
Status CheckActivation(const ActivationRequest& request,
                       std::optional<CryptTargetVersion>* dm_crypt);
// libcryptsetup's activation flags for the request: readonly, discards, the workqueue flags of
// InlineMode::kWorkqueueFlags or of one direction, the other performance flags, refresh.
uint32_t ActivationFlags(const ActivationRequest& request);

// Unlocks (and, with a name, maps) with a LUKS2 token: crypt_activate_by_token_pin with the
// same flags as a passphrase. InlineMode::kNative with a name is refused (WrongParameters,
// nothing mapped): libcryptsetup then builds the table itself and cannot add the argument.
// `failure` (may be null) says why a token did not unlock; the Status has cryptsetup's exit
// code for it.
Status ActivateByToken(crypt_device* cd, const ActivationRequest& request,
                       const TokenRequest& token, TokenFailure* failure);

// Appends a hand-built dm-crypt table's key field to `params`: a kernel keyring reference (a
// logon key named `keyring_description`, held in `keyring_key` until the caller drops it once
// the table is loaded) when this kernel's dm-crypt takes one and `use_keyring`, so that the
// key never travels in a table; else the key in hex, in wiped memory.
Status AppendTableKeyField(const Secret& volume_key, const std::string& keyring_description,
                           const CryptTargetVersion& dm_crypt, bool use_keyring, Secret& params,
                           std::optional<KeyringKey>& keyring_key);
// crypt_resize of request.name to request.resize_sectors through `cd`, whose volume key is
// loaded (an unlock with CRYPT_ACTIVATE_KEYRING_KEY came first).
Status ResizeLoaded(crypt_device* cd, const ActivationRequest& request);
// cryptsetup --disable-keyring: libcryptsetup puts the volume key into the table, not the
// kernel keyring, for activations through `cd`.
void DisableKeyringIfAsked(crypt_device* cd, const ActivationRequest& request);

// The feature argument InlineMode::kNative adds to the table: the RFC's `force_inline`. Only a
// build configured with ZCRYPTSETUP_TEST_HOOKS (CMake option, off by default) takes
// ZCRYPTSETUP_NATIVE_FEATURE_ARG from the environment instead, so that the VM tests can prove
// the hand-built table equals libcryptsetup's on a kernel without the patch; an installed
// release binary never reads that variable.
std::string NativeFeatureArg();
// Whether this build honours test-only switches (ZCRYPTSETUP_TEST_HOOKS).
bool TestHooksCompiledIn();

}  // namespace luks2ext
