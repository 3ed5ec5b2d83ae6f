#pragma once

// Tag numbers, labels and codes of ITL/CTL files (FORMAT.md). Labels are those
// CUCM's `show itl` prints, with its spelling fixed (DIGESTALGORITHM).

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>

namespace lscgate::itl {

namespace tags {
// Header
inline constexpr std::uint8_t kVersion = 1;
inline constexpr std::uint8_t kHeaderLength = 2;
inline constexpr std::uint8_t kSignerId = 3;
inline constexpr std::uint8_t kSignerName = 4;
inline constexpr std::uint8_t kSignerSerial = 5;
inline constexpr std::uint8_t kCaName = 6;
inline constexpr std::uint8_t kSignatureInfo = 7;
inline constexpr std::uint8_t kDigestAlgorithm = 8;
inline constexpr std::uint8_t kSignatureAlgoInfo = 9;
inline constexpr std::uint8_t kSignatureAlgorithm = 10;
inline constexpr std::uint8_t kSignatureModulus = 11;
inline constexpr std::uint8_t kSignature = 12;
inline constexpr std::uint8_t kPadding = 13;
inline constexpr std::uint8_t kFileName = 14;
inline constexpr std::uint8_t kTimestamp = 15;
inline constexpr std::uint8_t kSignerVersion = 28;
// Records
inline constexpr std::uint8_t kRecordLength = 1;
inline constexpr std::uint8_t kDnsName = 2;
inline constexpr std::uint8_t kSubjectName = 3;
inline constexpr std::uint8_t kFunction = 4;
inline constexpr std::uint8_t kIssuerName = 5;
inline constexpr std::uint8_t kSerialNumber = 6;
inline constexpr std::uint8_t kPublicKey = 7;
inline constexpr std::uint8_t kCertSignature = 8;
inline constexpr std::uint8_t kCertificate = 9;
inline constexpr std::uint8_t kIpAddress = 10;
inline constexpr std::uint8_t kCertHash = 11;
inline constexpr std::uint8_t kHashAlgorithm = 12;
}  // namespace tags

/// Header and records number their tags independently.
enum class Where { Header, Record };

/// The `show itl` label of a tag ("SIGNERNAME", "CERTIFICATE"), or "UNKNOWN".
const char* tag_label(std::uint8_t tag, Where where);

/// How a tag's value reads: text (NUL-terminated), a number, raw bytes, or special.
enum class ValueKind { Text, Number, Bytes, Version, Container, Padding, Certificate, Address };
ValueKind value_kind(std::uint8_t tag, Where where);

/// Header tags 3, 7 and 9 hold nested TLVs.
bool is_container(std::uint8_t tag);

/// The sizes a fixed-size value may have (empty: any size).
std::span<const std::size_t> fixed_sizes(std::uint8_t tag, Where where);

/// FUNCTION role name as `show itl` prints it ("SAST", "CAPF", "TVS"); "" when unknown.
std::string role_name(std::uint16_t function);

inline constexpr std::uint16_t kRoleSast = 0;
inline constexpr std::uint16_t kRoleCapf = 4;

/// Hash codes of header tag 8 and record tag 12: 1 SHA-1, 2 SHA-256, 3 SHA-512
/// (4: an early tlvfile's SHA-512). OpenSSL digest name, or empty when unknown.
std::optional<std::string> hash_name(std::uint8_t code);

/// SIGNATUREMODULUS code: 0..3 = 512, 1024, 2048, 4096 bits; empty when unknown.
std::optional<int> modulus_bits(std::uint8_t code);

}  // namespace lscgate::itl
