// Activation of a loaded LUKS2 header (libcryptsetup context) as a dm-crypt mapping.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

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

// The feature argument InlineMode::kNative adds to the table: the RFC's `force_inline`. Only a
// build configured with ZCRYPTSETUP_TEST_HOOKS (CMake option, off by default) takes
// ZCRYPTSETUP_NATIVE_FEATURE_ARG from the environment instead, so that the VM tests can prove
// the hand-built table equals libcryptsetup's on a kernel without the patch; an installed
// release binary never reads that variable.
std::string NativeFeatureArg();
// Whether this build honours test-only switches (ZCRYPTSETUP_TEST_HOOKS).
bool TestHooksCompiledIn();

}  // namespace luks2ext
