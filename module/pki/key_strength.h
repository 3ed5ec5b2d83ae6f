#pragma once

// Keys and signatures that a stock Debian 12 TLS stack refuses. Debian builds
// OpenSSL with a default security level of 2 (OPENSSL_TLS_SECURITY_LEVEL=2 in
// debian/rules, since Debian 10), so OpenSSL 3 — FreeRADIUS's EAP-TLS and
// `lscgate serve` — demands 112-bit security of every certificate in a
// handshake: RSA/DSA keys of 2048 bits or more, EC keys of 224 bits or more,
// and no signature with SHA-1 or weaker (SHA-1 counts as < 80 bits and is
// refused from level 1 on; a trust anchor's own self-signature is not checked).
// Source: OpenSSL 3.0 SSL_CTX_set_security_level(3), "DEFAULT CALLBACK BEHAVIOUR".

#include "pki/key_spec.h"
#include "pki/openssl_handles.h"

#include <string>

namespace lscgate {

/// The default security level of Debian 12's OpenSSL build.
inline constexpr int kDebianSecurityLevel = 2;

/// Why an LSC with a key of `spec` would be refused by FreeRADIUS's TLS layer
/// on Debian 12 ("EE certificate key too weak"), with the fix; "" when it is
/// not (rsa:2048 and up, every EC curve lscgate offers).
std::string weak_lsc_key_reason(const KeySpec& spec);

/// Why a CAPF key of `spec` is refused: "" for rsa:2048 and up and EC P-256 and up.
std::string weak_capf_key_spec_reason(const KeySpec& spec);

/// What is weak in a CAPF certificate — a key below 2048-bit RSA or 256-bit EC,
/// a signature with SHA-1 or weaker (by OpenSSL's own security-bits figure for
/// the signature) — and what that breaks; "" when neither.
std::string weak_capf_certificate_reason(const X509* cert);

}  // namespace lscgate
