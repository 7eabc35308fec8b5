// One error type for the whole library. Every failure carries the cryptsetup exit code the CLI
// must return for it, and a message already translated for the user. Nothing in the library
// prints or exits: errors travel up as values to the one place in src/ that prints them.
#pragma once

#include <cassert>
#include <string>
#include <utility>
#include <variant>

namespace luks2ext {

// cryptsetup's documented exit codes (cryptsetup(8), "RETURN CODES").
enum class ExitCode : int {
  kOk = 0,
  kWrongParameters = 1,
  kNoPermission = 2,  // also: bad passphrase
  kOutOfMemory = 3,
  kWrongDevice = 4,
  kDeviceBusy = 5,  // busy or already exists
};

class Error {
 public:
  Error(ExitCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Error WrongParameters(std::string m) { return {ExitCode::kWrongParameters, std::move(m)}; }
  static Error NoPermission(std::string m) { return {ExitCode::kNoPermission, std::move(m)}; }
  static Error OutOfMemory(std::string m) { return {ExitCode::kOutOfMemory, std::move(m)}; }
  static Error WrongDevice(std::string m) { return {ExitCode::kWrongDevice, std::move(m)}; }
  static Error Busy(std::string m) { return {ExitCode::kDeviceBusy, std::move(m)}; }

  ExitCode code() const { return code_; }
  const std::string& message() const { return message_; }

  // Adds context in front of the message, keeping the code: "Cannot write journal: <cause>".
  Error WithContext(const std::string& context) const {
    return {code_, context + ": " + message_};
  }

 private:
  ExitCode code_;
  std::string message_;
};

// A value or an Error; a small stand-in for C++23 std::expected.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT(google-explicit-constructor)
  Result(Error error) : v_(std::move(error)) {}  // NOLINT(google-explicit-constructor)

  bool ok() const { return std::holds_alternative<T>(v_); }
  explicit operator bool() const { return ok(); }

  T& value() & {
    assert(ok());
    return std::get<T>(v_);
  }
  const T& value() const& {
    assert(ok());
    return std::get<T>(v_);
  }
  T&& value() && {
    assert(ok());
    return std::get<T>(std::move(v_));
  }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  const Error& error() const {
    assert(!ok());
    return std::get<Error>(v_);
  }

 private:
  std::variant<T, Error> v_;
};

// Success or an Error.
class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(Error error) : error_(std::move(error)), ok_(false) {}  // NOLINT(google-explicit-constructor)

  static Status Ok() { return {}; }
  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const Error& error() const {
    assert(!ok_);
    return error_;
  }

 private:
  Error error_{ExitCode::kOk, {}};
  bool ok_ = true;
};

}  // namespace luks2ext

// Propagation helpers: stop at the first failure, as leveldb's call sites do.
#define LUKS2EXT_CONCAT_INNER(a, b) a##b
#define LUKS2EXT_CONCAT(a, b) LUKS2EXT_CONCAT_INNER(a, b)

// Returns the error of a Status or Result expression from the enclosing function. Each use
// gets its own variable, so uses may nest (a lambda inside the expression may use it too).
#define RETURN_IF_ERROR(expr) \
  RETURN_IF_ERROR_IMPL(LUKS2EXT_CONCAT(luks2ext_status_, __COUNTER__), expr)
#define RETURN_IF_ERROR_IMPL(var, expr)  \
  do {                                   \
    auto&& var = (expr);                 \
    if (!var.ok()) return var.error();   \
  } while (0)

// `ASSIGN_OR_RETURN(auto x, MakeX());` declares x from a Result or returns its error.
#define ASSIGN_OR_RETURN(lhs, expr) \
  ASSIGN_OR_RETURN_IMPL(LUKS2EXT_CONCAT(luks2ext_result_, __COUNTER__), lhs, expr)
#define ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                          \
  if (!tmp.ok()) return tmp.error();          \
  lhs = std::move(tmp).value()
