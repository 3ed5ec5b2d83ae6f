#pragma once

// What an 802.1X (EAP-TLS) server's TLS layer refuses before rlm_lscgate runs,
// and so which promises of a policy can never be kept there.
//
// FreeRADIUS verifies the client's chain with OpenSSL (X509_verify_cert, called
// from rlm_eap_tls during the handshake) against eap's ca_file; a certificate it
// refuses ends the handshake with a TLS alert and an EAP-Failure, and the module
// (check-eap-tls, post-auth) never sees it. Among what OpenSSL 3 refuses:
//  - a certificate outside its validity: "certificate has expired" (X509 error 10),
//    "certificate is not yet valid" (error 9) - leaf and CA alike;
//  - at security level L (Debian 12 sets SECLEVEL=2 in /etc/ssl/openssl.cnf,
//    i.e. 112 bits): any key in the chain below it ("EE/CA certificate key too
//    weak": RSA < 2048 bits at level 2) and any signature whose digest is below it
//    ("CA signature digest algorithm too weak": SHA-1 counts as < 80 bits in
//    OpenSSL 3, so it fails from level 1 up). A trust anchor's self-signature is
//    not checked.
// The VPN path (lscgate-vpn) decides from the registry alone: the ASA did its own
// TLS, so expiry grace and the lsc-expired/-not-yet-valid actions apply there.

#include "pki/certificate.h"
#include "decide/policy.h"

#include <string>
#include <vector>

namespace lscgate {

// The security level FreeRADIUS's TLS layer is assumed to run at (Debian 12's
// system default, which eap's cipher_list = "DEFAULT" inherits).
inline constexpr int kAssumedTlsSecurityLevel = 2;

// One text per setting the TLS layer of an EAP-TLS server defeats, each naming the
// setting, why, and what to do:
//  - [expiry] grace_days > 0; lsc-expired / lsc-not-yet-valid actions other than reject;
//  - a MIC allowance (mic = accept / restrict / allow-until): no mic_roots at all
//    (never applies anywhere), expired or weak mic_roots (refused by TLS), and the
//    limit that remains even when the roots are fine (expired MICs are refused);
//  - CAPF certificates (registry and capf_certificates) that are expired, or have a
//    key or, when not self-issued, a signature below the security level: every
//    LSC under them is refused over 802.1X.
// `now` decides what counts as expired. Empty when nothing is out of reach.
std::vector<std::string> eap_tls_policy_warnings(const Policy& policy, const std::vector<const X509*>& mic_roots,
                                                 const std::vector<const X509*>& capf_certificates, UnixTime now);

// Why a certificate in a chain would be refused by the TLS layer (expired, not yet
// valid, key or signature below kAssumedTlsSecurityLevel), "" when it would not.
// `self_signed_trust_anchor`: its own signature is not checked.
std::string tls_layer_problem(const X509* cert, bool self_signed_trust_anchor, UnixTime now);

}  // namespace lscgate
