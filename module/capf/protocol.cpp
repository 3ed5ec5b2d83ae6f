#include "capf/protocol.h"

#include <array>

namespace lscgate::capf {

std::string command_name(std::uint8_t command) {
    static constexpr std::array<const char*, 24> kNames = {
        "?",                        "AUTH_REQUEST",
        "AUTH_RESPONSE",            "KEY_GENERATE_REQUEST",
        "KEY_GENERATE_RESPONSE",    "ENCRYPT_RESPONSE",
        "ENCRYPT_REQUEST",          "DECRYPT_REQUEST",
        "DECRYPT_RESPONSE",         "STORE_CERTIFICATE_REQUEST",
        "STORE_CERTIFICATE_RESPONSE", "FETCH_CERTIFICATE_REQUEST",
        "FETCH_CERTIFICATE_RESPONSE", "DELETE_CERTIFICATE_REQUEST",
        "DELETE_CERTIFICATE_RESPONSE", "END_SESSION",
        "RETRY_LATER",              "REQUEST_IN_PROGRESS",
        "STATUS_REQUEST",           "STATUS_RESPONSE",
        "ABORT_REQUEST",            "ABORT_RESPONSE",
        "SIGN_CERTIFICATE_REQUEST", "SIGN_CERTIFICATE_RESPONSE",
    };
    if (command >= 1 && command < kNames.size()) return kNames[command];
    return "command " + std::to_string(command);
}

std::string tag_name(std::uint8_t tag) {
    switch (static_cast<Tag>(tag)) {
        case Tag::Reason: return "REASON";
        case Tag::ReasonInfo: return "REASON_INFO";
        case Tag::CertificateType: return "CERTIFICATE_TYPE";
        case Tag::Certificate: return "CERTIFICATE";
        case Tag::CertificateId: return "CERTIFICATE_ID";
        case Tag::SignedData: return "SIGNED_DATA";
        case Tag::Version: return "VERSION";
        case Tag::AuthType: return "AUTH_TYPE";
        case Tag::PublicKey: return "PUBLIC_KEY";
        case Tag::KeySize: return "KEY_SIZE";
        case Tag::Password: return "PASSWORD";
        case Tag::RetryDelay: return "RETRY_DELAY";
        case Tag::DeviceName: return "DEVICE_NAME";
        case Tag::SudiData: return "SUDI_DATA";
        case Tag::KeyType: return "KEY_TYPE";
        case Tag::Curve: return "CURVE";
        case Tag::DigestType: return "DIGEST_TYPE";
        case Tag::Sha2SignedData: return "SHA2_SIGNED_DATA";
    }
    return "tag " + std::to_string(tag);
}

}  // namespace lscgate::capf
