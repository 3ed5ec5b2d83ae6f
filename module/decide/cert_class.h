#pragma once

// What a client certificate (or a VPN user name) turned out to be. The CN alone
// never decides a class: a MIC and an LSC can carry the same CN.

#include "pki/result.h"

#include <array>
#include <string_view>

namespace lscgate {

enum class CertClass {
    LscValid,         // chains to a trusted CAPF, active in the registry, within validity
    LscUnconfirmed,   // as lsc-valid, but the phone's "stored" answer was never recorded
                      // (EAP-TLS proved the phone holds its key); newer than the active LSC
    LscRevoked,
    LscSuperseded,    // replaced by a newer LSC, or deleted from the phone
    LscExpired,
    LscNotYetValid,
    LscUnregistered,  // chains to a trusted CAPF but the registry does not know it
    LscForeign,       // looks like an LSC, but from a CAPF we do not trust
    Mic,              // chains to a configured manufacturing root
    UnknownIssuer,
};

inline constexpr std::array<CertClass, 10> kAllCertClasses = {
    CertClass::LscValid,        CertClass::LscUnconfirmed,  CertClass::LscRevoked,      CertClass::LscSuperseded,
    CertClass::LscExpired,      CertClass::LscNotYetValid,  CertClass::LscUnregistered,
    CertClass::LscForeign,      CertClass::Mic,             CertClass::UnknownIssuer,
};

std::string_view to_string(CertClass c);  // "lsc-valid", ...
Result<CertClass> parse_cert_class(std::string_view s);

}  // namespace lscgate
