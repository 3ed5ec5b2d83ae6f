#include "decide/cert_class.h"

#include <string>

namespace lscgate {

std::string_view to_string(CertClass c) {
    switch (c) {
        case CertClass::LscValid: return "lsc-valid";
        case CertClass::LscUnconfirmed: return "lsc-unconfirmed";
        case CertClass::LscRevoked: return "lsc-revoked";
        case CertClass::LscSuperseded: return "lsc-superseded";
        case CertClass::LscExpired: return "lsc-expired";
        case CertClass::LscNotYetValid: return "lsc-not-yet-valid";
        case CertClass::LscUnregistered: return "lsc-unregistered";
        case CertClass::LscForeign: return "lsc-foreign";
        case CertClass::Mic: return "mic";
        case CertClass::UnknownIssuer: return "unknown-issuer";
    }
    return "unknown-issuer";
}

Result<CertClass> parse_cert_class(std::string_view s) {
    for (CertClass c : kAllCertClasses)
        if (to_string(c) == s) return c;
    return fail("unknown certificate class '" + std::string(s) + "'");
}

}  // namespace lscgate
