#include "decide/eap_tls_limits.h"

#include <openssl/x509v3.h>

namespace lscgate {

namespace {

// Bits of security OpenSSL requires at each level (SSL_CTX_set_security_level(3)).
constexpr int kLevelBits[] = {0, 80, 112, 128, 192, 256};
constexpr int kRequiredBits = kLevelBits[kAssumedTlsSecurityLevel];

std::string name_of(const X509* cert) {
    auto facts = describe_certificate(cert);
    return facts ? "\"" + facts->subject_oneline + "\"" : std::string("(unreadable certificate)");
}

const std::string kLevelHint = "OpenSSL security level " + std::to_string(kAssumedTlsSecurityLevel) +
                               " (Debian 12's default, inherited by eap's cipher_list = \"DEFAULT\")";

void validity_warnings(const Policy& policy, std::vector<std::string>& out) {
    if (policy.grace_seconds() > 0)
        out.push_back("policy [expiry] grace_days = " + std::to_string(policy.grace_seconds() / 86400) +
                      " cannot apply to 802.1X: the TLS layer refuses an LSC past its notAfter (\"certificate has "
                      "expired\") before rlm_lscgate runs, so only VPN authorization (lscgate-vpn) honours it. Re-key "
                      "phones before their LSCs expire (lscgate cert list), or set grace_days = 0 to silence this");
    struct Window {
        CertClass cls;
        const char* tls_error;
    };
    for (const Window w : {Window{CertClass::LscExpired, "certificate has expired"},
                           Window{CertClass::LscNotYetValid, "certificate is not yet valid"}}) {
        const PolicyAction& a = policy.action(w.cls);
        if (a.kind == PolicyAction::Kind::Reject) continue;
        std::string text = "policy [actions] " + std::string(to_string(w.cls)) + " = " + action_text(a) +
                           " cannot apply to 802.1X: the TLS layer refuses such an LSC (\"" + w.tls_error +
                           "\") before rlm_lscgate runs; ";
        text += a.kind == PolicyAction::Kind::Restrict
                    ? "and the VPN path treats restrict as reject, so it applies nowhere. Set it to \"reject\""
                    : "only VPN authorization (lscgate-vpn) honours it. Set it to \"reject\" to silence this";
        out.push_back(std::move(text));
    }
}

void mic_warnings(const Policy& policy, const std::vector<const X509*>& mic_roots, UnixTime now,
                  std::vector<std::string>& out) {
    const PolicyAction& a = policy.action(CertClass::Mic);
    if (a.kind == PolicyAction::Kind::Reject) return;
    const std::string setting = "policy [actions] mic = " + action_text(a);
    if (mic_roots.empty()) {
        out.push_back(setting + " can never apply: mic_roots is empty, so a MIC is classed unknown-issuer. Set "
                                "mic_roots to the manufacturing CA certificates (and add them to eap's ca_file)");
        return;
    }
    for (const X509* root : mic_roots) {
        const std::string problem = tls_layer_problem(root, true, now);
        if (!problem.empty())
            out.push_back(setting + " cannot apply to MICs under mic_roots certificate " + name_of(root) + ": " + problem +
                          ", so the TLS layer refuses every MIC it signed before rlm_lscgate runs. Enrol those phones "
                          "through the CAPF (lscgate op install NAME --auth mic), which checks MICs itself");
        int mdnid = 0, secbits = 0;
        if (problem.empty() && X509_get_signature_info(const_cast<X509*>(root), &mdnid, nullptr, &secbits, nullptr) == 1 &&
            secbits < kRequiredBits)
            out.push_back(setting + ": mic_roots certificate " + name_of(root) + " is signed with " +
                          OBJ_nid2sn(mdnid) + "; the MICs it issued most likely are too, and the TLS layer refuses "
                          "such signatures at " + kLevelHint + " (\"CA signature digest algorithm too weak\"). Enrol "
                          "those phones through the CAPF (lscgate op install NAME --auth mic)");
    }
    out.push_back(setting + " applies over 802.1X only to MICs the TLS layer accepts: unexpired, chaining to a root in "
                            "eap's ca_file, with keys and signatures that meet " + kLevelHint +
                            ". An expired or SHA-1-signed MIC is refused before rlm_lscgate runs; such phones get "
                            "an LSC through the CAPF (lscgate op install NAME --auth mic)");
}

void capf_warnings(const std::vector<const X509*>& capf, UnixTime now, std::vector<std::string>& out) {
    for (const X509* cert : capf) {
        const bool self_signed = (X509_get_extension_flags(const_cast<X509*>(cert)) & EXFLAG_SS) != 0;
        const std::string problem = tls_layer_problem(cert, self_signed, now);
        if (problem.empty()) continue;
        out.push_back("CAPF certificate " + name_of(cert) + ": " + problem +
                      ", so over 802.1X the TLS layer refuses every LSC it signed before rlm_lscgate runs (the VPN "
                      "path is not affected). Rotate to a CAPF with an RSA-2048 or P-256 key and SHA-256 signatures "
                      "(README: Rotating the CAPF certificate)");
    }
}

}  // namespace

std::string tls_layer_problem(const X509* cert, bool self_signed_trust_anchor, UnixTime now) {
    auto facts = describe_certificate(cert);
    if (!facts) return "unreadable (" + facts.message() + ")";
    if (now > facts->not_after) return "it expired " + format_utc(facts->not_after) + " (\"certificate has expired\")";
    if (now < facts->not_before)
        return "it is not valid before " + format_utc(facts->not_before) + " (\"certificate is not yet valid\")";
    const EVP_PKEY* key = X509_get0_pubkey(cert);
    const int key_bits = key != nullptr ? EVP_PKEY_get_security_bits(key) : 0;
    if (key_bits < kRequiredBits)
        return "its " + std::to_string(facts->key_bits) + "-bit " + facts->key_type + " key is below " + kLevelHint +
               " (\"CA certificate key too weak\")";
    int mdnid = 0, secbits = 0;
    if (!self_signed_trust_anchor &&
        X509_get_signature_info(const_cast<X509*>(cert), &mdnid, nullptr, &secbits, nullptr) == 1 && secbits < kRequiredBits)
        return std::string("it is signed with ") + OBJ_nid2sn(mdnid) + ", below " + kLevelHint +
               " (\"CA signature digest algorithm too weak\")";
    return {};
}

std::vector<std::string> eap_tls_policy_warnings(const Policy& policy, const std::vector<const X509*>& mic_roots,
                                                 const std::vector<const X509*>& capf_certificates, UnixTime now) {
    std::vector<std::string> out;
    validity_warnings(policy, out);
    mic_warnings(policy, mic_roots, now, out);
    capf_warnings(capf_certificates, now, out);
    return out;
}

}  // namespace lscgate
