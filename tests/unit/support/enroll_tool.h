// Stand-ins for the tools `enroll` runs (systemd-cryptenroll, clevis): libcryptsetup itself,
// editing the exported header image file by path, as those tools do.
#pragma once

#include <string>
#include <vector>

#include "luks2ext/error.h"

namespace luks2ext::testing {

inline constexpr char kEnrollTokenType[] = "zcryptsetup-test-enroll";

// Where the unit tests' image files go: a per-process directory on /dev/shm (tmpfs).
const std::vector<std::string>& EnrollScratchDirs();

// As systemd-cryptenroll --password does, plus its token: unlocks with `existing`, adds
// `added` in a new keyslot (fast PBKDF), then a token of kEnrollTokenType naming that keyslot.
// Two header writes, each raising the seqid.
Status EnrollKeyWithToken(const std::string& image_path, const std::string& existing,
                          const std::string& added);

// Imports `token_json` as a new token, as `cryptsetup token import` would.
Status ImportToken(const std::string& image_path, const std::string& token_json);

}  // namespace luks2ext::testing
