#include "capf/session_auth.h"

#include "capf/codec.h"
#include "pki/auth_secret.h"
#include "pki/certificate.h"
#include "pki/possession_proof.h"
#include "registry/device_name.h"

#include <optional>

namespace lscgate::capf {
namespace {

// A credential the phone sent that does not prove who it is: the only kind of
// error that counts toward the lockout.
Error refused(std::string message) { return fail(ErrorKind::AuthFailed, std::move(message)); }
// A phone-supplied element that does not even decode is refused the same way.
Error refused(const std::string& what, const Error& e) { return refused(what + e.message); }

// One AUTH_RESPONSE checked against one operation; run() fills the verdict.
class PhoneAuthenticator {
public:
    PhoneAuthenticator(SessionContext& ctx, const PhoneCredentials& phone) : ctx_(ctx), phone_(phone) {}

    AuthVerdict run(const Device& device, const Operation& op) {
        verdict_.status = authenticate(phone_.auth, device, op);
        return std::move(verdict_);
    }

private:
    Status authenticate(const Message& auth, const Device& device, const Operation& op);
    Status verify_certificate_proof(const Message& auth, const Device& device, AuthMode mode);
    Status verify_sudi(const Message& auth);
    void note(const std::string& text) {
        if (!verdict_.note.empty()) verdict_.note += "; ";
        verdict_.note += text;
    }

    SessionContext& ctx_;
    const PhoneCredentials& phone_;
    AuthVerdict verdict_;
};

Status PhoneAuthenticator::verify_sudi(const Message& auth) {
    const SudiPolicy policy = ctx_.settings.sudi;
    if (policy == SudiPolicy::Ignore) return {};
    const Bytes* raw = auth.find(Tag::SudiData);
    if (!ctx_.trust.has_mic_roots()) {
        // Nothing to check a SUDI against. Under `require` that is our configuration
        // (authenticate() refuses it before any credential is looked at); under
        // verify-if-present the data is ignored, never held against the phone.
        if (policy == SudiPolicy::Require)
            return fail(ErrorKind::Config, "[auth] sudi = \"require\" but no MIC roots are configured ([auth] mic_roots)");
        if (raw != nullptr) note("SUDI_DATA ignored: no MIC roots configured ([auth] mic_roots), it cannot be verified");
        return {};
    }
    if (raw == nullptr) {
        if (policy == SudiPolicy::Require) return refused("SUDI_DATA required but absent");
        return {};
    }
    auto sudi = decode_sudi(*raw);
    if (!sudi) return refused("", sudi.error());
    auto cert = parse_certificate_der(sudi->certificate);
    if (!cert) return refused("SUDI certificate: ", cert.error());
    EVP_PKEY* key = X509_get0_pubkey(cert->get());
    if (key == nullptr || EVP_PKEY_get_base_id(key) != EVP_PKEY_RSA) {
        if (policy == SudiPolicy::Require) return refused("SUDI key is not RSA");
        note("SUDI_DATA skipped: the SUDI key is not RSA");
        return {};  // §7.4: non-RSA SUDI keys are skipped
    }
    if (auto s = ctx_.trust.verify_mic(cert->get(), now_utc(), false); !s)
        return fail(s.kind(), "SUDI certificate: " + s.message());
    // M = session id (little-endian, §7.4) || DER(SUDI certificate)
    const std::uint32_t sid = phone_.session_id;
    Bytes m = {static_cast<std::uint8_t>(sid & 0xff), static_cast<std::uint8_t>((sid >> 8) & 0xff),
               static_cast<std::uint8_t>((sid >> 16) & 0xff), static_cast<std::uint8_t>(sid >> 24)};
    m.insert(m.end(), sudi->certificate.begin(), sudi->certificate.end());
    if (auto s = verify_proof(key, ProofHash::Sha1, m, sudi->sha1.signature); !s) return fail(s.kind(), "SUDI " + s.message());
    if (sudi->sha512.hash != hash_code::kSha512) return refused("SUDI SHA-2 block does not use SHA-512");
    if (auto s = verify_proof(key, ProofHash::Sha512, m, sudi->sha512.signature); !s)
        return fail(s.kind(), "SUDI " + s.message());
    return {};
}

Status PhoneAuthenticator::verify_certificate_proof(const Message& auth, const Device& device, AuthMode mode) {
    const Bytes* wrapped = auth.find(Tag::Certificate);
    if (wrapped == nullptr) return refused("certificate proof missing (no CERTIFICATE element)");
    auto w = unwrap_certificate(*wrapped);
    if (!w) return refused("", w.error());
    auto cert = parse_certificate_der(w->der);
    if (!cert) return refused("CERTIFICATE: ", cert.error());
    auto facts = describe_certificate(cert->get());
    if (!facts) return refused("CERTIFICATE: ", facts.error());

    const auto now = now_utc();
    const char* kind = nullptr;
    std::string lsc_why;
    std::optional<std::int64_t> unconfirmed_proof;
    if (auto s = ctx_.trust.verify_lsc(cert->get(), now); s) {
        kind = "LSC";
        if (!auth_mode_accepts_lsc(mode)) return refused("an LSC was presented but the operation requires a MIC");
        // Chain-valid is not enough: the LSC must be the one we issued to this device and still active.
        auto rec = ctx_.store.find_certificate_by_fingerprint(facts->sha256);
        if (!rec) return fail(rec.kind(), "registry read failed: " + rec.message());  // ours, not the phone's
        if (!rec->has_value()) return refused("LSC serial " + facts->serial_hex + " is not in the registry");
        if ((*rec)->device_name != device.name)
            return refused("LSC belongs to " + (*rec)->device_name + ", not " + device.name);
        // An unconfirmed LSC (its "stored" answer was never recorded) is the phone's
        // if it proves possession below; it then becomes active.
        if ((*rec)->status != CertificateStatus::Active && (*rec)->status != CertificateStatus::Unconfirmed)
            return refused("LSC serial " + facts->serial_hex + " is " + std::string(to_string((*rec)->status)));
        if ((*rec)->status == CertificateStatus::Unconfirmed) unconfirmed_proof = (*rec)->id;
        if (facts->common_name != device.name)
            return refused("LSC CN " + facts->common_name + " does not name " + device.name);
    } else {
        if (s.kind() != ErrorKind::AuthFailed) return s;  // the check itself failed
        lsc_why = s.message();
        auto m = ctx_.trust.verify_mic(cert->get(), now, !ctx_.settings.accept_expired_mic);
        if (!m) {
            // No MIC roots: for an LSC-only operation the certificate simply is not a
            // valid LSC; for a MIC-accepting one nobody could have passed (config).
            if (m.kind() == ErrorKind::Config && !auth_mode_accepts_mic(mode))
                return refused("certificate rejected: " + lsc_why);
            return fail(m.kind(), "certificate rejected: " + lsc_why + "; " + m.message());
        }
        kind = "MIC";
        if (!auth_mode_accepts_mic(mode)) return refused("a MIC was presented but the operation requires an LSC");
        // MIC CNs read like "CP-8841-SEP001122334455": the device name must be the
        // whole CN or its last dash-separated part, not merely a substring.
        const std::string& cn = facts->common_name;
        if (!mic_common_name_names_device(cn, device.name)) return refused("MIC CN " + cn + " does not name " + device.name);
    }

    EVP_PKEY* key = X509_get0_pubkey(cert->get());
    // §7.3 signs DEVICE_NAME as the phone sent it, before any normalisation.
    const Bytes message = certificate_proof_message(phone_.sent_name, w->der);
    bool proven = false;
    if (const Bytes* sha2 = auth.find(Tag::Sha2SignedData)) {
        auto hs = decode_hashed_signature(*sha2);
        if (!hs) return refused("", hs.error());
        if (hs->hash != hash_code::kSha512)
            return refused("SHA2_SIGNED_DATA uses hash code " + std::to_string(hs->hash) + ", not SHA-512");
        if (auto s = verify_proof(key, ProofHash::Sha512, message, hs->signature); !s)
            return fail(s.kind(), std::string(kind) + " " + s.message());
        proven = true;
    }
    if (const Bytes* sha1 = auth.find(Tag::SignedData)) {
        if (!proven && !ctx_.settings.allow_sha1_only_proof)
            return refused("only a SHA-1 proof was sent and [auth] allow_sha1_only_proof is off");
        if (auto s = verify_proof(key, ProofHash::Sha1, message, *sha1); !s)
            return fail(s.kind(), std::string(kind) + " " + s.message());
        proven = true;
    }
    if (!proven) return refused("certificate sent without SIGNED_DATA or SHA2_SIGNED_DATA");
    if (unconfirmed_proof) {
        // AuthFailed when the LSC is older than the active one; a registry fault otherwise.
        auto confirmed = ctx_.store.confirm_lsc_by_possession(*unconfirmed_proof);
        if (!confirmed) return fail(confirmed.kind(), "unconfirmed LSC serial " + facts->serial_hex + ": " + confirmed.message());
    }
    verdict_.authenticated_by = kind;
    return {};
}

// Errors of kind AuthFailed mean the phone did not prove who it is; any other kind
// is a fault on our side (configuration, registry, OpenSSL) and is reported as such.
Status PhoneAuthenticator::authenticate(const Message& auth, const Device& device, const Operation& op) {
    // Checked before any credential, so a misconfigured server never lets a phone
    // learn whether its guess was right.
    if (ctx_.settings.sudi == SudiPolicy::Require && !ctx_.trust.has_mic_roots())
        return fail(ErrorKind::Config, "[auth] sudi = \"require\" but no MIC roots are configured ([auth] mic_roots)");
    const AuthMode mode = op.request.auth_mode;
    if (mode == AuthMode::Null) return verify_sudi(auth);
    if (mode == AuthMode::String) {
        // The string's own refusals are "wrong string" (the person typing it); a
        // SUDI refused after a right string stays certificate-refused.
        verdict_.refused_as = SessionCause::WrongString;
        auto pw = auth.text(Tag::Password);
        if (!pw) return refused("PASSWORD: ", pw.error());
        if (!pw->has_value() || (*pw)->empty()) return refused("authentication string required but none was sent");
        auto match = check_auth_string(**pw, op.request.auth_secret_hash);
        if (!match) return match.error();
        if (!*match) return refused("wrong authentication string");
        verdict_.refused_as = SessionCause::CertificateRefused;
        return verify_sudi(auth);
    }
    if (auto s = verify_certificate_proof(auth, device, mode); !s) return s;
    return verify_sudi(auth);
}

}  // namespace

AuthVerdict authenticate_phone(SessionContext& ctx, const PhoneCredentials& phone, const Device& device,
                               const Operation& op) {
    return PhoneAuthenticator(ctx, phone).run(device, op);
}

}  // namespace lscgate::capf
