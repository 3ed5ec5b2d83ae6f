#include "pki/key_spec.h"

#include "pki/printable.h"

#include <openssl/obj_mac.h>

#include <charconv>

namespace lscgate {

std::string KeySpec::to_string() const {
    if (type == KeyType::Rsa) return "rsa:" + std::to_string(rsa_bits);
    return std::string("ec:") + curve_name(curve);
}

Result<KeySpec> parse_key_spec(std::string_view text) {
    const auto colon = text.find(':');
    const auto bad = [&] {
        return fail(ErrorKind::Input, "invalid key '" + escape_nonprintable(text) +
                    "': expected rsa:1024|rsa:2048|rsa:3072|rsa:4096 or ec:p256|ec:p384|ec:p521");
    };
    if (colon == std::string_view::npos) return bad();
    const auto kind = text.substr(0, colon);
    const auto param = text.substr(colon + 1);
    KeySpec spec;
    if (kind == "rsa") {
        int bits = 0;
        const auto [ptr, ec] = std::from_chars(param.data(), param.data() + param.size(), bits);
        if (ec != std::errc{} || ptr != param.data() + param.size()) return bad();
        if (bits != 1024 && bits != 2048 && bits != 3072 && bits != 4096) return bad();
        spec.type = KeyType::Rsa;
        spec.rsa_bits = bits;
        return spec;
    }
    if (kind == "ec") {
        spec.type = KeyType::Ec;
        if (param == "p256") spec.curve = EcCurve::P256;
        else if (param == "p384") spec.curve = EcCurve::P384;
        else if (param == "p521") spec.curve = EcCurve::P521;
        else return bad();
        return spec;
    }
    return bad();
}

int curve_wire_code(EcCurve curve) {
    switch (curve) {
        case EcCurve::P256: return 0;
        case EcCurve::P384: return 1;
        case EcCurve::P521: return 2;
    }
    return 0;
}

Result<EcCurve> curve_from_wire_code(int code) {
    switch (code) {
        case 0: return EcCurve::P256;
        case 1: return EcCurve::P384;
        case 2: return EcCurve::P521;
        default: return fail("unknown CURVE code " + std::to_string(code));
    }
}

int curve_nid(EcCurve curve) {
    switch (curve) {
        case EcCurve::P256: return NID_X9_62_prime256v1;
        case EcCurve::P384: return NID_secp384r1;
        case EcCurve::P521: return NID_secp521r1;
    }
    return NID_undef;
}

const char* curve_name(EcCurve curve) {
    switch (curve) {
        case EcCurve::P256: return "p256";
        case EcCurve::P384: return "p384";
        case EcCurve::P521: return "p521";
    }
    return "?";
}

int curve_bits(EcCurve curve) {
    switch (curve) {
        case EcCurve::P256: return 256;
        case EcCurve::P384: return 384;
        case EcCurve::P521: return 521;
    }
    return 0;
}

}  // namespace lscgate
