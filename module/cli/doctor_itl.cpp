// doctor --itl: the trust list a phone gets (module/itl/FORMAT.md). Cisco's LSC
// troubleshooting: "No valid CAPF server" when the ITL has no CAPF entry, "LSC:
// Connection Failed" when its CAPF certificate is not the one in use, "Operation
// Pending" / "Trust List Update Failed" when the ITL is corrupt or not verifiable.

#include "cli/doctor_checks.h"
#include "itl/itl_capf_check.h"
#include "itl/itl_file.h"
#include "itl/itl_signature.h"
#include "pki/secure_file.h"

namespace lscgate::cli::doctor {

void check_itl(const Config& cfg, const std::string& path, Report& report) {
    auto bytes = read_text_file(path, itl::kMaxFileBytes);
    if (!bytes) {
        report.fail("itl.unreadable", "(none: doctor could not read the file)", bytes.message(), "give the ITLFile.tlv the TFTP server serves");
        return;
    }
    auto parsed = itl::parse(as_bytes(*bytes));
    if (!parsed) {
        report.fail("itl.corrupt", "\"Operation Pending\" never completes; phone log \"Trust List Update Failed\"",
                    path + " is not a valid ITL/CTL: " + parsed.fault.message(),
                    "regenerate the ITL on the TFTP server (CUCM: restart TFTP; 'utils itl reset' if phones are stuck)");
        return;
    }
    const auto sig = itl::verify_signature(*parsed.file, as_bytes(*bytes));
    if (sig.verdict == itl::SignatureVerdict::Unsigned)
        report.warn("itl.unsigned", "phone log \"Trust List Update Failed\"; \"Operation Pending\"", path + ": " + sig.detail,
                    "serve a signed ITL (phones with Security By Default refuse an unsigned one once they hold an ITL)");
    else if (sig.verdict != itl::SignatureVerdict::Valid)
        report.fail("itl.signature", "phone log \"Trust List Update Failed\"; \"Operation Pending\"",
                    path + ": signature " + itl::to_string(sig.verdict) + ": " + sig.detail,
                    "regenerate the ITL; if the signer changed, reset the phones' ITL (CUCM ITLRecovery)");
    else
        report.ok("itl.signature", path + ": signed with " + sig.digest + ", " + std::to_string(sig.signature_bits) +
                                       "-bit RSA, checks out with record " + std::to_string(*sig.signer_record + 1));
    auto cert = load_certificate(cfg.resolve(cfg.capf_cert));
    if (!cert) {
        report.fail("itl.capf", "(not checked)", "no CAPF certificate to compare with: " + cert.message(),
                    "run 'lscgate init' or 'lscgate capf import'");
        return;
    }
    const auto check = itl::check_capf(*parsed.file, certificate_der(cert->get()));
    switch (check.match) {
        case itl::CapfMatch::Missing:
            report.fail("itl.capf-missing", "phone shows \"No valid CAPF server\"",
                        path + " has no CAPF record (FUNCTION 4): the phone has no certificate to authenticate the CAPF with",
                        "add the CAPF certificate " + cfg.resolve(cfg.capf_cert).string() +
                            " to the ITL/CTL (CUCM: upload it to trust store CAPF-trust / Phone-SAST-trust and regenerate)");
            return;
        case itl::CapfMatch::Other: {
            std::string found;
            for (const auto& r : check.records)
                found += (found.empty() ? "" : "; ") + std::string("record ") + std::to_string(r.index + 1) + ": " + r.detail;
            report.fail("itl.capf-other", "phone shows \"LSC: Connection Failed\"; server log result=closed cause=\"TLS handshake failed …\"",
                        path + "'s CAPF record is not this CAPF certificate (SHA-256 " + check.expected_sha256 + "): " + found,
                        "put this CAPF certificate in the ITL/CTL, or import the CAPF the ITL names ('lscgate capf import')");
            return;
        }
        case itl::CapfMatch::Same:
            for (const auto& r : check.records)
                if (r.matches) {
                    report.ok("itl.capf", path + ": record " + std::to_string(r.index + 1) + " is this CAPF certificate");
                    break;
                }
            return;
    }
}

}  // namespace lscgate::cli::doctor
