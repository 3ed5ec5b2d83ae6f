// doctor: the CAPF certificate (README, Troubleshooting; Cisco's LSC section:
// "LSC: Connection Failed" when the phone cannot complete TLS with the CAPF).

#include "cli/doctor_checks.h"
#include "pki/issuer.h"
#include "pki/key_strength.h"
#include "pki/keys.h"

namespace lscgate::cli::doctor {
namespace {

constexpr UnixTime kExpiryWarningSeconds = 30 * 86400;

void check_extensions(X509* cert, Report& report) {
    if (X509_check_ca(cert) == 0) {
        report.fail("capf.not-ca", "FreeRADIUS: \"unable to get local issuer certificate\" / \"invalid CA certificate\" for every new LSC",
                    "the CAPF certificate lacks basicConstraints CA:TRUE, so the LSCs it signs do not chain to it",
                    "issue a CAPF certificate with CA:TRUE, pathlen:0 and keyCertSign ('lscgate init', or your CA), "
                    "then 'lscgate capf import'");
        return;
    }
    const long pathlen = X509_get_pathlen(cert);
    if (pathlen != 0)
        report.warn("capf.pathlen", "none yet: a CAPF that may sign sub-CAs",
                    pathlen < 0 ? "the CAPF certificate has no pathLenConstraint: it could sign intermediate CAs"
                                : "the CAPF certificate allows " + std::to_string(pathlen) + " intermediate CAs below it",
                    "issue the CAPF with pathlen:0 (it signs LSCs only)");
    if ((X509_get_extension_flags(cert) & EXFLAG_KUSAGE) != 0 && (X509_get_key_usage(cert) & KU_KEY_CERT_SIGN) == 0)
        report.fail("capf.key-usage", "FreeRADIUS: \"key usage does not include certificate signing\" for every LSC",
                    "the CAPF certificate's keyUsage lacks keyCertSign",
                    "issue a CAPF certificate with keyUsage keyCertSign, then 'lscgate capf import'");
    if ((X509_get_extension_flags(cert) & EXFLAG_KUSAGE) != 0 && (X509_get_key_usage(cert) & KU_CRL_SIGN) == 0)
        report.warn("capf.crl-sign", "the ASA (revocation-check crl) and FreeRADIUS check_crl refuse every CRL it signs",
                    "the CAPF certificate's keyUsage lacks cRLSign: 'lscgate crl' refuses to sign a CRL with it",
                    "issue a CAPF certificate with keyUsage keyCertSign, cRLSign ('lscgate init --force' does), then "
                    "'lscgate capf import'");
}

}  // namespace

void check_capf_certificate(const Config& cfg, UnixTime now, Report& report) {
    const auto cert_path = cfg.resolve(cfg.capf_cert);
    auto cert = load_certificate(cert_path);
    if (!cert) {
        report.fail("capf.certificate", "\"LSC: Connection Failed\": 'lscgate serve' cannot start",
                    cert.message(), "run 'lscgate init' or 'lscgate capf import' for " + cfg.dir.string());
        return;
    }
    auto facts = describe_certificate(cert->get());
    if (!facts) {
        report.fail("capf.certificate", "\"LSC: Connection Failed\"", facts.message(), "import a valid CAPF certificate");
        return;
    }
    if (auto key = load_private_key(cfg.resolve(cfg.capf_key)); !key)
        report.fail("capf.key", "\"LSC: Connection Failed\": 'lscgate serve' cannot start", key.message(),
                    "restore the CAPF key (mode 0600) or import the certificate with its key");
    else if (!same_public_key(X509_get0_pubkey(cert->get()), key->get()))
        report.fail("capf.key", "\"LSC: Connection Failed\": 'lscgate serve' cannot start",
                    "the CAPF key " + cfg.resolve(cfg.capf_key).string() + " does not belong to " + cert_path.string(),
                    "import the certificate together with its key ('lscgate capf import')");
    if (facts->not_after <= now)
        report.fail("capf.expired", "\"LSC: Connection Failed\"; FreeRADIUS: \"certificate has expired\" for every LSC",
                    "the CAPF certificate " + facts->subject + " expired at " + format_utc(facts->not_after),
                    "issue a new CAPF certificate, keep the old one trusted as previous until phones re-key "
                    "(README, Rotating the CAPF certificate), and put the new one in the ITL/CTL");
    else if (facts->not_after - now < kExpiryWarningSeconds)
        report.warn("capf.expiring", "soon \"LSC: Connection Failed\" and FreeRADIUS \"certificate has expired\"",
                    "the CAPF certificate expires at " + format_utc(facts->not_after) + ", in " +
                        std::to_string((facts->not_after - now) / 86400) + " days",
                    "rotate the CAPF now (README, Rotating the CAPF certificate)");
    else if (facts->not_before > now)
        report.fail("capf.not-yet-valid", "\"LSC: Connection Failed\"; FreeRADIUS \"certificate is not yet valid\"",
                    "the CAPF certificate is valid only from " + format_utc(facts->not_before), "fix this host's clock (NTP)");
    if (auto weak = weak_capf_certificate_reason(cert->get()); !weak.empty())
        report.fail("capf.weak", "FreeRADIUS: \"CA certificate key too weak\" / \"CA signature digest algorithm too weak\"",
                    "the CAPF certificate: " + weak, "rotate to an RSA-2048+ or EC P-256+ CAPF signed with SHA-256 (README, Weak keys)");
    check_extensions(cert->get(), report);
    report.ok("capf.certificate", facts->subject + ", " + facts->key_type + ":" + std::to_string(facts->key_bits) +
                                      ", valid until " + format_utc(facts->not_after) + ", SHA-256 " + facts->sha256);
}

}  // namespace lscgate::cli::doctor
