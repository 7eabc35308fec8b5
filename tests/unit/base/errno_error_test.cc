#include "base/errno_error.h"

#include <gtest/gtest.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace luks2ext {
namespace {

// The caller's whole sentence, then the system's words: the text the CLI prints is unchanged
// from the days the sentence was glued from a fragment and the path.
TEST(ErrnoErrorTest, AppendsStrerrorToTheWholeSentence) {
  const Error error = ErrnoError(EIO, "Cannot read device /dev/x", "/dev/x");
  EXPECT_EQ(error.message(), std::string("Cannot read device /dev/x: ") + std::strerror(EIO));
}

TEST(ErrnoErrorTest, BusyIsCryptsetupsOwnSentence) {
  const Error error = ErrnoError(EBUSY, "Cannot open device /dev/x", "/dev/x");
  EXPECT_EQ(error.code(), ExitCode::kDeviceBusy);
  EXPECT_EQ(error.message(),
            "Cannot use device /dev/x which is in use (already mapped or mounted).");
}

}  // namespace
}  // namespace luks2ext
