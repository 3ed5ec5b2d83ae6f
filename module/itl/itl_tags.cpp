#include "itl/itl_tags.h"

#include <array>

namespace lscgate::itl {

const char* tag_label(std::uint8_t tag, Where where) {
    if (where == Where::Header) {
        switch (tag) {
            case 1: return "VERSION";
            case 2: return "HEADERLENGTH";
            case 3: return "SIGNERID";
            case 4: return "SIGNERNAME";
            case 5: return "SERIALNUMBER";
            case 6: return "CANAME";
            case 7: return "SIGNATUREINFO";
            case 8: return "DIGESTALGORITHM";
            case 9: return "SIGNATUREALGOINFO";
            case 10: return "SIGNATUREALGORITHM";
            case 11: return "SIGNATUREMODULUS";
            case 12: return "SIGNATURE";
            case 13: return "PADDING";
            case 14: return "FILENAME";
            case 15: return "TIMESTAMP";
            case 28: return "SIGNERVERSION";
            default: return "UNKNOWN";
        }
    }
    switch (tag) {
        case 1: return "RECORDLENGTH";
        case 2: return "DNSNAME";
        case 3: return "SUBJECTNAME";
        case 4: return "FUNCTION";
        case 5: return "ISSUERNAME";
        case 6: return "SERIALNUMBER";
        case 7: return "PUBLICKEY";
        case 8: return "SIGNATURE";
        case 9: return "CERTIFICATE";
        case 10: return "IPADDRESS";
        case 11: return "CERTHASH";
        case 12: return "HASHALGORITHM";
        default: return "UNKNOWN";
    }
}

ValueKind value_kind(std::uint8_t tag, Where where) {
    if (where == Where::Header) {
        switch (tag) {
            case 1: case 28: return ValueKind::Version;
            case 2: case 8: case 10: case 11: case 15: return ValueKind::Number;
            case 3: case 7: case 9: return ValueKind::Container;
            case 4: case 6: case 14: return ValueKind::Text;
            case 13: return ValueKind::Padding;
            default: return ValueKind::Bytes;  // 5 serial, 12 signature, unknown tags
        }
    }
    switch (tag) {
        case 1: case 4: case 12: return ValueKind::Number;
        case 2: case 3: case 5: return ValueKind::Text;
        case 9: return ValueKind::Certificate;
        case 10: return ValueKind::Address;
        default: return ValueKind::Bytes;  // 6 serial, 7 key, 8 signature, 11 hash, unknown tags
    }
}

bool is_container(std::uint8_t tag) {
    return tag == tags::kSignerId || tag == tags::kSignatureInfo || tag == tags::kSignatureAlgoInfo;
}

std::span<const std::size_t> fixed_sizes(std::uint8_t tag, Where where) {
    static constexpr std::array<std::size_t, 1> one{1};
    static constexpr std::array<std::size_t, 1> two{2};
    static constexpr std::array<std::size_t, 1> four{4};
    static constexpr std::array<std::size_t, 2> one_or_two{1, 2};
    if (where == Where::Header) {
        switch (tag) {
            case 1: case 2: case 28: return two;
            case 8: case 10: case 11: return one;
            case 15: return four;
            default: return {};
        }
    }
    switch (tag) {
        case 1: return two;
        case 4: return one_or_two;  // u16 as written; a 1-byte FUNCTION is read too
        case 12: return one;
        default: return {};
    }
}

std::string role_name(std::uint16_t function) {
    switch (function) {
        case 0: return "SAST";
        case 1: return "CCM";
        case 2: return "CCM+TFTP";
        case 3: return "TFTP";
        case 4: return "CAPF";
        case 5: return "SRST";
        case 7: return "APP-SERVER";
        case 21: return "TVS";
        default: return "";
    }
}

std::optional<std::string> hash_name(std::uint8_t code) {
    switch (code) {
        case 1: return "SHA1";
        case 2: return "SHA256";
        case 3: case 4: return "SHA512";
        default: return std::nullopt;
    }
}

std::optional<int> modulus_bits(std::uint8_t code) {
    switch (code) {
        case 0: return 512;
        case 1: return 1024;
        case 2: return 2048;
        case 3: return 4096;
        default: return std::nullopt;
    }
}

}  // namespace lscgate::itl
