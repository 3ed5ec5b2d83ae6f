#include "decide/classifier.h"

#include "registry/device_name.h"

#include <algorithm>

namespace lscgate {

namespace {

Classification make(CertClass cls, std::string reason, std::string device = {}, std::optional<UnixTime> not_after = {}) {
    return Classification{cls, std::move(reason), std::move(device), not_after};
}

std::string time_window(UnixTime now, UnixTime not_before, UnixTime not_after, CertClass& cls) {
    if (now < not_before) {
        cls = CertClass::LscNotYetValid;
        return "not valid before " + format_utc(not_before);
    }
    if (now > not_after) {
        cls = CertClass::LscExpired;
        return "expired " + format_utc(not_after);
    }
    cls = CertClass::LscValid;
    return "valid until " + format_utc(not_after);
}

}  // namespace

Result<Classification> Classifier::classify_registered(const PresentedCertificate& cert, const TrustedAuthority& capf,
                                                       UnixTime now) const {
    auto row = registry_.by_serial(cert.serial_hex, cert.issuer_oneline, now);
    if (!row) return row.error();
    const std::string who = cert.common_name.empty() ? "certificate" : cert.common_name;
    if (!row->has_value())
        return make(CertClass::LscUnregistered,
                    who + " serial " + cert.serial_hex + " chains to " + capf.label + " but is not in the registry");
    const RegisteredCertificate& r = **row;
    // With the full certificate, the registry entry must be this very certificate.
    if (!cert.sha256.empty() && cert.sha256 != r.fingerprint)
        return make(CertClass::LscForeign, who + " reuses the serial of " + r.device_name + "'s LSC but is another certificate");
    // The stricter of the certificate's dates and the registry's (they agree for
    // certificates issued here; if they ever differ, the narrower window holds).
    const auto not_after = std::min(cert.not_after.value_or(r.not_after), r.not_after);
    const auto not_before = std::max(cert.not_before.value_or(r.not_before), r.not_before);
    switch (r.status) {
        case CertificateStatus::Revoked:
            return make(CertClass::LscRevoked, r.device_name + " LSC serial " + r.serial_hex + " is revoked", r.device_name, not_after);
        case CertificateStatus::Superseded:
        case CertificateStatus::Removed:
            return make(CertClass::LscSuperseded,
                        r.device_name + " LSC serial " + r.serial_hex + " was " +
                            (r.status == CertificateStatus::Removed ? "deleted from the phone" : "replaced by a newer LSC"),
                        r.device_name, not_after);
        case CertificateStatus::Fetched:
            return make(CertClass::LscUnregistered, who + " was only fetched from a phone, never issued here", r.device_name);
        case CertificateStatus::Unconfirmed:
            // Only the newest certificate of a device can be the one its phone keeps:
            // one issued before the active LSC was replaced by it.
            if (r.older_than_active)
                return make(CertClass::LscSuperseded,
                            r.device_name + " LSC serial " + r.serial_hex +
                                " was never confirmed and is older than the device's active LSC",
                            r.device_name, not_after);
            break;
        case CertificateStatus::Active: break;
    }
    CertClass cls = CertClass::LscValid;
    const std::string window = time_window(now, not_before, not_after, cls);
    if (r.status == CertificateStatus::Unconfirmed && cls == CertClass::LscValid)
        return make(CertClass::LscUnconfirmed,
                    r.device_name + " LSC serial " + r.serial_hex +
                        " is unconfirmed (issued, the phone's \"stored\" answer never recorded; the TLS handshake "
                        "proved the phone holds its key), " + window,
                    r.device_name, not_after);
    return make(cls, r.device_name + " LSC serial " + r.serial_hex + " " + window, r.device_name, not_after);
}

Result<Classification> Classifier::classify(const PresentedCertificate& cert, const TrustedAuthority* issuer,
                                            UnixTime now) const {
    if (cert.is_ca) return make(CertClass::UnknownIssuer, "client certificate is a CA certificate (basicConstraints CA:TRUE)");
    if (issuer == nullptr) {
        if (const TrustedAuthority* named = authorities_.capf_named(cert.issuer_oneline))
            return make(CertClass::LscForeign, "claims to be issued by " + named->label +
                                                   " but was signed by another key (another cluster's CAPF, or forged)");
        if (cert.issuer_oneline == cert.subject_oneline)
            return make(CertClass::UnknownIssuer, "self-signed certificate " + cert.subject_oneline);
        if (looks_like_phone_name(cert.common_name) || common_name_of_oneline(cert.issuer_oneline).rfind("CAPF", 0) == 0)
            return make(CertClass::LscForeign, "LSC-like certificate from an untrusted CAPF " + cert.issuer_oneline);
        return make(CertClass::UnknownIssuer, "issuer " + cert.issuer_oneline + " is not trusted");
    }
    if (issuer->role == AuthorityRole::ManufacturingRoot)
        return make(CertClass::Mic, "MIC " + cert.common_name + " from " + issuer->label, {}, cert.not_after);
    return classify_registered(cert, *issuer, now);
}

Result<Classification> Classifier::classify_verified_attributes(const PresentedCertificate& cert, UnixTime now) const {
    return classify(cert, authorities_.issuer_by_name_and_key(cert), now);
}

Result<Classification> Classifier::classify_certificate(const X509* cert, UnixTime now) const {
    auto presented = presented_from_x509(cert);
    if (!presented) return presented.error();
    return classify(*presented, authorities_.issuer_by_signature(cert), now);
}

Result<Classification> Classifier::classify_device(const std::string& device, UnixTime now) const {
    auto row = registry_.current_lsc(device, now);
    if (!row) return row.error();
    if (!row->has_value()) return make(CertClass::LscUnregistered, device + " has no LSC in the registry", device);
    const RegisteredCertificate& r = **row;
    // An LSC from a CAPF that is no longer trusted does not count any more.
    if (authorities_.capf_named(r.issuer_oneline) == nullptr)
        return make(CertClass::LscForeign, device + " LSC serial " + r.serial_hex + " was issued by " + r.issuer_oneline +
                                               ", which is no longer trusted", device);
    switch (r.status) {
        case CertificateStatus::Revoked:
            return make(CertClass::LscRevoked, device + " LSC serial " + r.serial_hex + " is revoked", device, r.not_after);
        case CertificateStatus::Active: break;
        case CertificateStatus::Unconfirmed:
            // No active LSC, the newest one unconfirmed: the phone may hold it, or
            // an older one (revoked, superseded) if it never received it. A device
            // name proves neither; the engine refuses this class on the VPN path.
            return make(CertClass::LscUnconfirmed,
                        device + " has no active LSC (latest serial " + r.serial_hex +
                            " is unconfirmed: which certificate the phone holds is unknown without it)",
                        device, r.not_after);
        default:
            return make(CertClass::LscSuperseded, device + " has no active LSC (latest serial " + r.serial_hex + " is " +
                                                      std::string(to_string(r.status)) + ")", device, r.not_after);
    }
    CertClass cls = CertClass::LscValid;
    const std::string window = time_window(now, r.not_before, r.not_after, cls);
    return make(cls, device + " LSC serial " + r.serial_hex + " " + window, device, r.not_after);
}

}  // namespace lscgate
