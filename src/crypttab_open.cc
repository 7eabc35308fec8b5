#include "crypttab_open.h"

#include <fmt/core.h>
#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <optional>
#include <thread>

#include "actions.h"
#include "ask_password.h"
#include "i18n.h"
#include "luks2ext/activation.h"
#include "luks2ext/volume.h"
#include "passphrase.h"

namespace zcryptsetup {

using luks2ext::CrypttabEntry;
using luks2ext::Error;
using luks2ext::Result;
using luks2ext::Secret;
using luks2ext::Status;
using Clock = std::chrono::steady_clock;

namespace {

// Longer waits are cut to this (over a century), so a deadline cannot overflow the clock.
constexpr uint64_t kLongestWait = 1ULL << 32;

luks2ext::ActivationRequest RequestFor(const CrypttabEntry& entry, bool test_passphrase) {
  luks2ext::ActivationRequest request;
  // No name: only check the passphrase (--test-passphrase).
  if (!test_passphrase) request.name = entry.name;
  request.read_only = entry.options.read_only;
  request.allow_discards = entry.options.discard;
  if (entry.options.force_inline) request.inline_mode = luks2ext::InlineMode::kWorkqueueFlags;
  request.no_read_workqueue = entry.options.no_read_workqueue;
  request.no_write_workqueue = entry.options.no_write_workqueue;
  request.same_cpu_crypt = entry.options.same_cpu_crypt;
  request.submit_from_crypt_cpus = entry.options.submit_from_crypt_cpus;
  return request;
}

// keyfile-timeout=: a key file that does not exist yet (a USB stick not plugged in) is waited
// for, polling. True when it exists in time.
bool KeyFileAppears(const std::string& path, uint64_t seconds) {
  const auto deadline = Clock::now() + std::chrono::seconds(std::min(seconds, kLongestWait));
  for (;;) {
    struct stat st {};
    if (stat(path.c_str(), &st) == 0) return true;
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(
        std::min<Clock::duration>(std::chrono::milliseconds(100), deadline - Clock::now()));
  }
}

// Asks, then tries what the answer holds, until a passphrase unlocks, the error is not a wrong
// passphrase, or the entry's tries (0: no limit) are spent. One answer is one try, even when it
// holds several passphrases (those cached in the kernel keyring), as in systemd-cryptsetup.
template <typename Ask>
Status UnlockWithTries(luks2ext::Volume& volume, const luks2ext::ActivationRequest& request,
                       unsigned tries, Ask ask) {
  for (unsigned attempt = 1;; ++attempt) {
    ASSIGN_OR_RETURN(const std::vector<Secret> passphrases, ask(attempt));
    Status status = Error::NoPermission(_("No key available with this passphrase."));
    for (const Secret& passphrase : passphrases) {
      status = volume.Activate(request, passphrase);
      if (status.ok() || status.error().code() != luks2ext::ExitCode::kNoPermission)
        return status;
    }
    if (tries != 0 && attempt >= tries) return status;
    fmt::print(stderr, "{}\n", status.error().message());
  }
}

// One passphrase read from a key file, standard input or the terminal, as the one answer.
Result<std::vector<Secret>> OneAnswer(Result<Secret> passphrase) {
  if (!passphrase.ok()) return passphrase.error();
  std::vector<Secret> answer;
  answer.push_back(std::move(*passphrase));
  return answer;
}

// The question systemd-cryptsetup asks (its get_password()): the deadline of timeout= spans
// every attempt; only the first takes a passphrase cached in the kernel keyring.
Result<std::vector<Secret>> AskAgent(const CrypttabEntry& entry, unsigned attempt,
                        std::optional<Clock::time_point> deadline) {
  AgentQuestion question;
  question.message = FormatMsg(_("Please enter passphrase for disk {}:"), entry.name);
  question.id = "cryptsetup:" + luks2ext::CrypttabDeviceNode(entry.device);
  question.accept_cached = attempt == 1;
  if (deadline) {
    const auto left = std::chrono::ceil<std::chrono::seconds>(*deadline - Clock::now()).count();
    if (left <= 0)
      return Error::NoPermission(FormatMsg(_("{}: no passphrase within timeout={} s."), entry.name,
                                           entry.options.timeout_sec));
    question.timeout_sec = static_cast<uint64_t>(left);
  }
  return AskPasswordAgent(question);
}

// A token's PIN, asked as systemd-cryptsetup 252 asks it: through the agents (its message and
// keyring name), or on the terminal. A stream holds the passphrase, not a PIN: nothing is
// asked from it.
Result<Secret> AskPin(const CrypttabEntry& entry) {
  switch (StandardInputKind()) {
    case InputKind::kNone: {
      AgentQuestion question;
      question.message = _("Please enter LUKS2 token PIN:");
      question.id = "cryptsetup:" + luks2ext::CrypttabDeviceNode(entry.device);
      question.keyname = "luks2-pin";
      question.timeout_sec = entry.options.timeout_sec;
      ASSIGN_OR_RETURN(std::vector<Secret> answer, AskPasswordAgent(question));
      return std::move(answer.front());
    }
    case InputKind::kTerminal:
      return ReadPassphrase({}, FormatMsg(_("Enter token PIN for {}: "), entry.name), false);
    case InputKind::kStream:
      break;
  }
  return Error::NoPermission(_("No PIN can be asked for: standard input holds the passphrase."));
}

// One token attempt; a token that needs a PIN gets one asked for, up to tries= times, unless
// headless=. A PIN that cannot be asked for leaves the token's own failure.
Status TryToken(luks2ext::Volume& volume, const luks2ext::ActivationRequest& request,
                const CrypttabEntry& entry, luks2ext::TokenRequest token,
                luks2ext::TokenFailure& why) {
  Status status = volume.ActivateByToken(request, token, &why);
  if (status.ok() || why != luks2ext::TokenFailure::kPinRequired || entry.options.headless)
    return status;
  const unsigned tries = entry.options.tries;
  for (unsigned attempt = 1;
       why == luks2ext::TokenFailure::kPinRequired && (tries == 0 || attempt <= tries); ++attempt) {
    Result<Secret> pin = AskPin(entry);
    if (!pin.ok()) {
      fmt::print(stderr, "{}: {}\n", entry.name, pin.error().message());
      return status;
    }
    token.pin = &*pin;
    status = volume.ActivateByToken(request, token, &why);
    token.pin = nullptr;
    if (!status.ok()) fmt::print(stderr, "{}: {}\n", entry.name, status.error().message());
  }
  return status;
}

// systemd-cryptsetup 252's token stage: every token (any type) first; then the types
// tpm2-device=auto & co. name, again while their device is missing, up to token-timeout=.
// Returns the final status, or nullopt when the passphrase comes next.
std::optional<Status> UnlockWithTokens(luks2ext::Volume& volume,
                                       const luks2ext::ActivationRequest& request,
                                       const CrypttabEntry& entry) {
  const luks2ext::CrypttabOptions& o = entry.options;
  luks2ext::TokenFailure why = luks2ext::TokenFailure::kNone;
  Status status = TryToken(volume, request, entry, {}, why);
  if (status.ok() || why == luks2ext::TokenFailure::kNone) return status;
  const auto deadline =
      Clock::now() + std::chrono::seconds(std::min(o.token_timeout_sec, kLongestWait));
  for (bool waiting = !o.token_types.empty(); waiting;) {
    bool missing = false;
    for (const std::string& type : o.token_types) {
      status = TryToken(volume, request, entry, {-1, type, nullptr}, why);
      if (status.ok() || why == luks2ext::TokenFailure::kNone) return status;
      missing |= why == luks2ext::TokenFailure::kMissingResource;
    }
    waiting = missing && Clock::now() < deadline;
    if (waiting) std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  if (!o.token_types.empty() || o.headless)
    fmt::print(stderr, "{}\n",
               FormatMsg(_("{}: no token unlocked it: {}"), entry.name, status.error().message()));
  return std::nullopt;
}

// Checked before it is opened: a missing header is named as the entry's (exit 4, as a missing
// device), and anything but a regular file or a block device is refused, since open(2) of a
// FIFO would wait for a writer and so hold up the boot.
Status CheckHeaderPath(const CrypttabEntry& entry) {
  struct stat st {};
  if (stat(entry.options.header.c_str(), &st) != 0)
    return Error::WrongDevice(FormatMsg(_("{}: header {} does not exist or access denied."),
                                        entry.name, entry.options.header));
  if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode))
    return Error::WrongDevice(FormatMsg(_("{}: header {} is not a regular file or block device."),
                                        entry.name, entry.options.header));
  return Status::Ok();
}

// An entry's volume and the drives it reads. With header= (a detached header, as
// `open --header`) the metadata is read from the header and `device_path` is the data drive.
Result<MappableVolume> OpenEntryVolume(const CrypttabEntry& entry, const std::string& device_path) {
  if (!entry.options.header.empty()) RETURN_IF_ERROR(CheckHeaderPath(entry));
  return OpenMappableVolume(device_path, entry.options.header, false);
}

}  // namespace

Status PrepareCrypttabJob(const CrypttabEntry& entry, CrypttabJob& job) {
  job.entry = &entry;
  RETURN_IF_ERROR(luks2ext::CheckZcryptsetupOpens(entry));
  ASSIGN_OR_RETURN(job.device, luks2ext::ResolveCrypttabDevice(entry.device));
  ASSIGN_OR_RETURN(const MappableVolume opened, OpenEntryVolume(entry, job.device));
  job.memory = std::max<uint64_t>(opened.volume->unlock_memory_kib() * 1024, 1ULL << 20);
  job.tries_tokens = entry.key_file.empty() && opened.volume->HasToken({});
  return Status::Ok();
}

bool AsksThroughAgent(const CrypttabEntry& entry) {
  return entry.key_file.empty() && StandardInputKind() == InputKind::kNone;
}

Status OpenCrypttabEntry(const CrypttabEntry& entry, const std::string& device_path,
                         const std::optional<Secret>& given, bool test_passphrase) {
  ASSIGN_OR_RETURN(MappableVolume opened, OpenEntryVolume(entry, device_path));
  luks2ext::Volume* volume = opened.volume.get();
  PrintWarnings(*volume, entry.name + ": ");
  const luks2ext::ActivationRequest request = RequestFor(entry, test_passphrase);
  if (given) return volume->Activate(request, *given);
  const luks2ext::CrypttabOptions& o = entry.options;
  PassphraseSource source{entry.key_file, o.keyfile_offset, o.keyfile_size};
  if (!source.key_file.empty() && o.keyfile_timeout_sec &&
      !KeyFileAppears(source.key_file, *o.keyfile_timeout_sec)) {
    fmt::print(stderr, "{}\n",
               FormatMsg(_("{}: key file {} did not appear within keyfile-timeout={} s; asking for "
                           "the passphrase instead."),
                         entry.name, source.key_file, *o.keyfile_timeout_sec));
    source.key_file.clear();
  }
  if (source.key_file.empty() && entry.key_file.empty()) {
    if (auto done = UnlockWithTokens(*volume, request, entry)) return *done;
    if (o.headless)
      return Error::NoPermission(
          FormatMsg(_("{}: no token unlocked it, and headless= forbids asking for a passphrase."),
                    entry.name));
  }
  if (!source.key_file.empty())  // a key file is read once: asking again gives the same key
    return UnlockWithTries(*volume, request, 1,
                           [&](unsigned) { return OneAnswer(ReadPassphrase(source, "", false)); });
  if (StandardInputKind() == InputKind::kNone) {
    std::optional<Clock::time_point> deadline;
    if (o.timeout_sec)
      deadline = Clock::now() + std::chrono::seconds(std::min(o.timeout_sec, kLongestWait));
    return UnlockWithTries(*volume, request, o.tries,
                           [&](unsigned attempt) { return AskAgent(entry, attempt, deadline); });
  }
  // A terminal is asked up to tries times; a stream gives one line.
  const unsigned tries = InteractiveInput() ? o.tries : 1;
  const std::string prompt =
      FormatMsg(_("Enter passphrase for {} ({}): "), entry.name, device_path);
  return UnlockWithTries(*volume, request, tries,
                         [&](unsigned) { return OneAnswer(ReadPassphrase(source, prompt, false)); });
}

}  // namespace zcryptsetup
