#include "activation/crypt_table.h"

#include <limits>
#include <optional>

#include "base/i18n.h"
#include "luks2ext/number.h"

namespace luks2ext {
namespace {

// Far above any real key (LUKS2 volume keys are at most 512 bytes); bounds key_bytes so that a
// caller's key_bytes * 8 cannot overflow.
constexpr uint64_t kMaxKeyBytes = 4096;

Error Malformed(const char* what) {
  return Error::WrongDevice(
      FormatMsg(_("The kernel's dm-crypt table is malformed ({}); it is not one zcryptsetup "
                  "can read."),
                what));
}

// Splits at single spaces, as the kernel writes the line; an empty field (two spaces, a space
// at either end) is malformed, never skipped.
class Fields {
 public:
  explicit Fields(std::string_view text) : rest_(text) {}
  // The next field, or nullopt at the end of the line. Sets malformed() on an empty field.
  std::optional<std::string_view> Next() {
    if (done_) return std::nullopt;
    const size_t space = rest_.find(' ');
    const std::string_view field = rest_.substr(0, space);
    if (space == std::string_view::npos) {
      done_ = true;
    } else {
      rest_.remove_prefix(space + 1);
    }
    if (field.empty()) malformed_ = true;
    return field;
  }
  bool malformed() const { return malformed_; }

 private:
  std::string_view rest_;
  bool done_ = false;
  bool malformed_ = false;
};

bool IsHex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

// The key field, read in place: its length and form only.
Status ParseKey(std::string_view key, CryptTable& table) {
  if (key == "-") return Status::Ok();  // cipher_null: no key at all
  if (key.front() == ':') {             // ":<bytes>:<type>:<description>"
    const size_t type_at = key.find(':', 1);
    if (type_at == std::string_view::npos) return Malformed("keyring key without a type");
    const std::optional<uint64_t> bytes =
        ParseDecimalAtMost(key.substr(1, type_at - 1), kMaxKeyBytes);
    if (!bytes) return Malformed("keyring key size");
    const size_t description_at = key.find(':', type_at + 1);
    if (description_at == std::string_view::npos || description_at == type_at + 1 ||
        description_at + 1 == key.size())
      return Malformed("keyring key type or description");
    table.key_bytes = *bytes;
    table.key_in_keyring = true;
    return Status::Ok();
  }
  if (key.size() % 2 != 0 || key.size() / 2 > kMaxKeyBytes) return Malformed("key length");
  for (const char c : key)
    if (!IsHex(c)) return Malformed("key is neither hex nor a keyring reference");
  table.key_bytes = key.size() / 2;
  return Status::Ok();
}

// "sector_size:<n>": dm-crypt takes powers of two from 512 to 4096.
Status ParseSectorSize(std::string_view value, CryptTable& table) {
  const std::optional<uint64_t> size = ParseDecimalAtMost(value, 4096);
  if (!size || *size < 512 || (*size & (*size - 1)) != 0) return Malformed("sector_size");
  table.sector_size = static_cast<uint32_t>(*size);
  return Status::Ok();
}

}  // namespace

Result<CryptTable> ParseCryptTable(std::string_view params) {
  Fields fields(params);
  CryptTable table;
  const std::optional<std::string_view> cipher = fields.Next();
  const std::optional<std::string_view> key = fields.Next();
  const std::optional<std::string_view> iv_offset = fields.Next();
  const std::optional<std::string_view> device = fields.Next();
  const std::optional<std::string_view> offset = fields.Next();
  if (!offset || fields.malformed()) return Malformed("a required field is missing or empty");
  table.cipher = *cipher;
  RETURN_IF_ERROR(ParseKey(*key, table));
  const std::optional<uint64_t> iv = ParseDecimal(*iv_offset);
  if (!iv) return Malformed("iv_offset");
  table.iv_offset = *iv;
  table.device = *device;
  const std::optional<uint64_t> start = ParseDecimal(*offset);
  if (!start) return Malformed("offset");
  table.offset_sectors = *start;

  const std::optional<std::string_view> count_field = fields.Next();
  if (!count_field) return table;
  // More arguments than a line of this length could hold is junk too.
  const std::optional<uint64_t> count = ParseDecimalAtMost(*count_field, params.size());
  if (!count || *count == 0) return Malformed("optional argument count");
  for (uint64_t i = 0; i < *count; ++i) {
    const std::optional<std::string_view> arg = fields.Next();
    if (!arg) return Malformed("fewer optional arguments than counted");
    if (arg->starts_with("sector_size:")) RETURN_IF_ERROR(ParseSectorSize(arg->substr(12), table));
    table.feature_args.emplace_back(*arg);
  }
  if (fields.Next() || fields.malformed()) return Malformed("more optional arguments than counted");
  return table;
}

}  // namespace luks2ext
