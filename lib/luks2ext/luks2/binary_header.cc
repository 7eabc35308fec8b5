#include "luks2/binary_header.h"

#include <algorithm>
#include <cstring>

#include "base/i18n.h"
#include "luks2/big_endian.h"
#include "luks2/digest.h"

namespace luks2ext {
namespace {

constexpr std::uint8_t kPrimaryMagic[kMagicSize] = {'L', 'U', 'K', 'S', 0xba, 0xbe};
constexpr std::uint8_t kSecondaryMagic[kMagicSize] = {'S', 'K', 'U', 'L', 0xba, 0xbe};

Error NotLuks2(std::uint64_t offset, const std::string& why) {
  return Error::WrongDevice(FormatMsg(_("No valid LUKS2 header at offset {}: {}."), offset, why));
}

Status WriteStringField(std::uint8_t* field, std::size_t size, std::string_view value,
                        const char* name) {
  // The field must keep a terminating NUL, as libcryptsetup expects.
  if (value.size() >= size || value.find('\0') != std::string_view::npos) {
    return Error::WrongParameters(
        FormatMsg(_("LUKS2 header field {} is too long: {}."), name, value));
  }
  std::memset(field, 0, size);
  std::memcpy(field, value.data(), value.size());
  return Status::Ok();
}

}  // namespace

Result<BinaryHeader> DecodeBinaryHeader(std::span<const std::uint8_t> binary_header,
                                        std::uint64_t read_offset) {
  if (binary_header.size() < kBinaryHeaderSize) {
    return NotLuks2(read_offset, _("header is truncated"));
  }
  const std::uint8_t* p = binary_header.data();
  BinaryHeader header;

  // Cheap checks first, so that garbage is rejected before any hashing.
  const bool expect_primary = read_offset == 0;
  const std::uint8_t* magic = expect_primary ? kPrimaryMagic : kSecondaryMagic;
  if (std::memcmp(p + kMagicOffset, magic, kMagicSize) != 0) {
    return NotLuks2(read_offset, _("bad magic"));
  }
  header.copy = expect_primary ? HeaderCopy::kPrimary : HeaderCopy::kSecondary;

  header.version = LoadBigEndian<std::uint16_t>(p + kVersionOffset);
  if (header.version != kLuks2Version) {
    return NotLuks2(read_offset, FormatMsg(_("unsupported version {}"), header.version));
  }

  header.hdr_size = LoadBigEndian<std::uint64_t>(p + kHdrSizeOffset);
  if (!IsValidHdrSize(header.hdr_size)) {
    return NotLuks2(read_offset, FormatMsg(_("invalid header size {}"), header.hdr_size));
  }

  header.hdr_offset = LoadBigEndian<std::uint64_t>(p + kHdrOffsetOffset);
  if (header.hdr_offset != read_offset) {
    return NotLuks2(read_offset, FormatMsg(_("header claims offset {}"), header.hdr_offset));
  }
  // The secondary copy sits right after the primary area, whose size both copies share.
  if (!expect_primary && header.hdr_size != read_offset) {
    return NotLuks2(read_offset, FormatMsg(_("secondary header size {} does not match its offset"),
                                           header.hdr_size));
  }

  header.seqid = LoadBigEndian<std::uint64_t>(p + kSeqidOffset);
  // A string field ends at its first NUL; an unterminated field keeps all of its bytes.
  header.label = FieldString<kLabelSize>::FromField(p + kLabelOffset);
  header.csum_alg = FieldString<kCsumAlgSize>::FromField(p + kCsumAlgOffset);
  std::copy_n(p + kSaltOffset, kSaltSize, header.salt.begin());
  header.uuid = FieldString<kUuidSize>::FromField(p + kUuidOffset);
  header.subsystem = FieldString<kSubsystemSize>::FromField(p + kSubsystemOffset);
  std::copy_n(p + kCsumOffset, kCsumSize, header.csum.begin());
  return header;
}

Result<std::array<std::uint8_t, kCsumSize>> ComputeHeaderChecksum(
    std::span<const std::uint8_t> copy_area, std::uint64_t hdr_size, std::string_view csum_alg) {
  // The checksum is taken with its own field zeroed.
  std::array<std::uint8_t, kBinaryHeaderSize> zeroed_csum;
  std::copy_n(copy_area.begin(), kBinaryHeaderSize, zeroed_csum.begin());
  std::fill_n(zeroed_csum.begin() + kCsumOffset, kCsumSize, 0);
  const auto json_area = copy_area.subspan(kBinaryHeaderSize, hdr_size - kBinaryHeaderSize);

  ASSIGN_OR_RETURN(std::vector<std::uint8_t> digest, DigestOf(csum_alg, {zeroed_csum, json_area}));
  // DigestOf never returns more than kMaxDigestSize == kCsumSize bytes; the rest stays zero.
  std::array<std::uint8_t, kCsumSize> csum{};
  std::copy(digest.begin(), digest.end(), csum.begin());
  return csum;
}

Result<BinaryHeader> ParseHeaderCopy(std::span<const std::uint8_t> copy_area,
                                     std::uint64_t read_offset) {
  ASSIGN_OR_RETURN(BinaryHeader header, DecodeBinaryHeader(copy_area, read_offset));
  if (copy_area.size() < header.hdr_size) {
    return NotLuks2(read_offset, _("JSON area is truncated"));
  }
  const auto json_area = copy_area.subspan(kBinaryHeaderSize, header.json_size());
  if (std::find(json_area.begin(), json_area.end(), std::uint8_t{0}) == json_area.end()) {
    return NotLuks2(read_offset, _("JSON area is not terminated"));
  }

  auto computed = ComputeHeaderChecksum(copy_area, header.hdr_size, header.csum_alg.view());
  if (!computed.ok()) {
    return NotLuks2(read_offset,
                    FormatMsg(_("unusable checksum algorithm {}"), header.csum_alg.view()));
  }
  if (*computed != header.csum) return NotLuks2(read_offset, _("checksum mismatch"));
  return header;
}

Status WriteHeaderCopy(const BinaryHeader& header, std::span<std::uint8_t> copy_area) {
  if (!IsValidHdrSize(header.hdr_size)) {
    return Error::WrongParameters(FormatMsg(_("Invalid LUKS2 header size {}."), header.hdr_size));
  }
  assert(copy_area.size() >= header.hdr_size);
  std::uint8_t* p = copy_area.data();
  std::memset(p, 0, kBinaryHeaderSize);

  std::memcpy(p + kMagicOffset,
              header.copy == HeaderCopy::kPrimary ? kPrimaryMagic : kSecondaryMagic, kMagicSize);
  StoreBigEndian<std::uint16_t>(p + kVersionOffset, header.version);
  StoreBigEndian<std::uint64_t>(p + kHdrSizeOffset, header.hdr_size);
  StoreBigEndian<std::uint64_t>(p + kSeqidOffset, header.seqid);
  RETURN_IF_ERROR(WriteStringField(p + kLabelOffset, kLabelSize, header.label.view(), "label"));
  RETURN_IF_ERROR(WriteStringField(p + kCsumAlgOffset, kCsumAlgSize, header.csum_alg.view(),
                                   "checksum_algorithm"));
  std::copy(header.salt.begin(), header.salt.end(), p + kSaltOffset);
  RETURN_IF_ERROR(WriteStringField(p + kUuidOffset, kUuidSize, header.uuid.view(), "uuid"));
  RETURN_IF_ERROR(
      WriteStringField(p + kSubsystemOffset, kSubsystemSize, header.subsystem.view(), "subsystem"));
  StoreBigEndian<std::uint64_t>(p + kHdrOffsetOffset, header.hdr_offset);

  ASSIGN_OR_RETURN(auto csum,
                   ComputeHeaderChecksum(copy_area, header.hdr_size, header.csum_alg.view()));
  std::copy(csum.begin(), csum.end(), p + kCsumOffset);
  return Status::Ok();
}

std::optional<std::uint16_t> LuksMagicVersion(std::span<const std::uint8_t> first_bytes) {
  if (first_bytes.size() < kVersionOffset + 2 ||
      !std::equal(std::begin(kPrimaryMagic), std::end(kPrimaryMagic), first_bytes.begin()))
    return std::nullopt;
  return LoadBigEndian<std::uint16_t>(first_bytes.data() + kVersionOffset);
}

bool IsLuks1Header(std::span<const std::uint8_t> first_bytes) {
  return first_bytes.size() >= kVersionOffset + 2 &&
         std::equal(std::begin(kPrimaryMagic), std::end(kPrimaryMagic), first_bytes.begin()) &&
         LoadBigEndian<std::uint16_t>(first_bytes.data() + kVersionOffset) == 1;
}

}  // namespace luks2ext
