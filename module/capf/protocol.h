#pragma once

// CAPF wire constants (module/capf/PROTOCOL.md §3, §4).

#include <cstdint>
#include <string>

namespace lscgate::capf {

inline constexpr std::uint8_t kProtocolId = 0x55;
inline constexpr std::size_t kHeaderSize = 8;
inline constexpr std::uint8_t kServerVersion = 3;
inline constexpr std::uint16_t kDefaultPort = 3804;

enum class Command : std::uint8_t {
    AuthRequest = 1,
    AuthResponse = 2,
    KeyGenerateRequest = 3,
    KeyGenerateResponse = 4,
    EncryptResponse = 5,
    EncryptRequest = 6,
    DecryptRequest = 7,
    DecryptResponse = 8,
    StoreCertificateRequest = 9,
    StoreCertificateResponse = 10,
    FetchCertificateRequest = 11,
    FetchCertificateResponse = 12,
    DeleteCertificateRequest = 13,
    DeleteCertificateResponse = 14,
    EndSession = 15,
    RetryLater = 16,
    RequestInProgress = 17,
    StatusRequest = 18,
    StatusResponse = 19,
    AbortRequest = 20,
    AbortResponse = 21,
    SignCertificateRequest = 22,
    SignCertificateResponse = 23,
};

enum class Tag : std::uint8_t {
    Reason = 1,
    ReasonInfo = 2,
    CertificateType = 3,
    Certificate = 4,
    CertificateId = 5,
    SignedData = 6,
    Version = 7,
    AuthType = 8,
    PublicKey = 9,
    KeySize = 10,
    Password = 11,
    RetryDelay = 12,
    DeviceName = 13,
    SudiData = 16,
    KeyType = 17,
    Curve = 18,
    DigestType = 19,
    Sha2SignedData = 20,
};

namespace reason {
inline constexpr std::uint8_t kNoAction = 0;
inline constexpr std::uint8_t kUpdateCertificate = 1;
inline constexpr std::uint8_t kInvalidElement = 7;
inline constexpr std::uint8_t kUnknownDevice = 9;
}  // namespace reason

namespace auth_type {
inline constexpr std::uint8_t kNone = 0;
}

namespace cert_type {
inline constexpr std::uint8_t kLsc = 1;
inline constexpr std::uint8_t kMic = 2;
}

namespace key_type {
inline constexpr std::uint8_t kRsa = 0;
inline constexpr std::uint8_t kEc = 1;
}

namespace hash_code {
inline constexpr std::uint8_t kSha1 = 1;
inline constexpr std::uint8_t kSha256 = 2;
inline constexpr std::uint8_t kSha512 = 3;
}

std::string command_name(std::uint8_t command);
std::string tag_name(std::uint8_t tag);

}  // namespace lscgate::capf
