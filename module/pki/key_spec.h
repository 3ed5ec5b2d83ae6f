#pragma once

#include "pki/result.h"

#include <string>
#include <string_view>

namespace lscgate {

enum class KeyType { Rsa, Ec };
enum class EcCurve { P256, P384, P521 };

// What key a phone is asked to generate (or a CAPF key): "rsa:2048", "ec:p256".
struct KeySpec {
    KeyType type = KeyType::Rsa;
    int rsa_bits = 2048;
    EcCurve curve = EcCurve::P256;

    std::string to_string() const;
    bool operator==(const KeySpec&) const = default;
};

Result<KeySpec> parse_key_spec(std::string_view text);

// CAPF wire codes (module/capf/PROTOCOL.md §4.5: KEY_TYPE 0/1, CURVE 0/1/2).
int curve_wire_code(EcCurve curve);
Result<EcCurve> curve_from_wire_code(int code);
int curve_nid(EcCurve curve);
const char* curve_name(EcCurve curve);  // "p256"
int curve_bits(EcCurve curve);

}  // namespace lscgate
