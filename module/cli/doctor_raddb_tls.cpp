// doctor --raddb: the TLS layer's own refusals (doctor_raddb_tls.h). Sources:
// OpenSSL 3 X509_verify_cert (validity of every certificate in the chain, then
// the security level: SSL_CTX_set_security_level(3), "DEFAULT CALLBACK
// BEHAVIOUR"), FreeRADIUS rlm_eap_tls (ca_file / ca_path), README "Which path
// honours what".

#include "cli/doctor_raddb_tls.h"

#include "decide/policy.h"
#include "pki/certificate.h"
#include "pki/printable.h"
#include "pki/trust_set.h"

#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/x509.h>

#include <filesystem>
#include <set>
#include <string>
#include <vector>

namespace lscgate::cli::doctor {
namespace {

constexpr UnixTime kExpiringSeconds = 30 * 86400;

std::string days(UnixTime seconds) { return std::to_string(seconds / 86400) + " day(s)"; }

bool same_file(const std::filesystem::path& a, const std::filesystem::path& b) {
    std::error_code ec;
    return !a.empty() && !b.empty() && std::filesystem::equivalent(a, b, ec) && !ec;
}

// Whether `path` is `dir` itself or a file directly inside it.
bool is_or_inside(const std::filesystem::path& path, const std::filesystem::path& dir) {
    if (same_file(path, dir)) return true;
    std::error_code ec;
    return !path.empty() && std::filesystem::is_regular_file(path, ec) && same_file(path.parent_path(), dir);
}

struct MicRoots {
    std::string setting;                  // "mods-enabled/lscgate:4: mic_roots = …", for findings
    std::vector<std::filesystem::path> paths;  // the module's and lscgate.toml's
    std::vector<X509Ptr> certs;           // the module's (what rlm_lscgate classes MICs with)
};

// The roots as rlm_lscgate loads them (its mic_roots), plus where lscgate.toml's
// [auth] mic_roots points (serve's), for the ca_file/ca_path comparison.
Result<MicRoots> load_mic_roots(const Config& cfg, const RaddbConfig& raddb) {
    MicRoots out;
    if (!cfg.mic_roots.empty()) out.paths.push_back(cfg.resolve(cfg.mic_roots));
    const auto items = module_items(raddb, "lscgate", "mic_roots");
    if (items.empty() || items.front()->value.empty()) return out;
    const auto path = resolve_path(raddb, items.front()->value);
    out.setting = where(*items.front()) + ": mic_roots = " + items.front()->value;
    out.paths.push_back(path);
    auto certs = load_certificates_from(path);
    if (!certs) return fail(ErrorKind::Config, out.setting + ": " + certs.message());
    out.certs = std::move(*certs);
    return out;
}

void check_root(const X509* root, const MicRoots& roots, const SecurityLevel& level, bool mic_allowed,
                const std::string& policy_text, UnixTime now, Report& report) {
    auto facts = describe_certificate(root);
    if (!facts) return;
    const std::string name = roots.setting + ": certificate \"" + escape_nonprintable(facts->subject) + "\"";
    const std::string stake = mic_allowed ? "; so policy " + policy_text + " never applies to them"
                                          : " (refused either way, but by TLS: no `lscgate` line, nothing in last-seen)";
    const auto add = [&](const char* check, const std::string& symptom, const std::string& cause, const std::string& fix) {
        if (mic_allowed) report.fail(check, symptom + stake, cause, fix);
        else report.warn(check, symptom + stake, cause, fix);
    };
    const std::string enrol = "enrol those phones through the CAPF (lscgate op install NAME --auth mic), which checks MICs itself";
    if (now > facts->not_after)
        add("raddb.mic-root-expired", "phones presenting a MIC: FreeRADIUS log `certificate has expired`, no `lscgate` line",
            name + " expired " + format_utc(facts->not_after) + ": OpenSSL checks notAfter of every certificate in the chain before rlm_lscgate runs",
            "put the manufacturing CA's current certificate in mic_roots and eap's ca_file; " + enrol);
    else if (facts->not_after - now < kExpiringSeconds)
        report.warn("raddb.mic-root-expiring", "soon: phones presenting a MIC get FreeRADIUS `certificate has expired`, no `lscgate` line",
                    name + " expires " + format_utc(facts->not_after) + ", in " + days(facts->not_after - now),
                    "put the manufacturing CA's new certificate in mic_roots and eap's ca_file before then; " + enrol);
    const int required = security_bits_required(level.level);
    const EVP_PKEY* key = X509_get0_pubkey(root);
    if (key != nullptr && EVP_PKEY_get_security_bits(key) < required)
        add("raddb.mic-root-weak", "phones presenting a MIC: FreeRADIUS log `CA certificate key too weak`, no `lscgate` line",
            name + " has a " + std::to_string(facts->key_bits) + "-bit " + facts->key_type + " key, below OpenSSL security level " +
                std::to_string(level.level) + " (" + level.from + ")",
            enrol + "; only lowering cipher_list to @SECLEVEL=1 would let these MICs through TLS (README, Weak keys)");
    int mdnid = 0, secbits = 0;
    if (X509_get_signature_info(const_cast<X509*>(root), &mdnid, nullptr, &secbits, nullptr) == 1 && secbits < required)
        add("raddb.mic-root-weak", "phones presenting a MIC: FreeRADIUS log `CA signature digest algorithm too weak`, no `lscgate` line",
            name + " is signed with " + OBJ_nid2sn(mdnid) + "; the MICs it issued most likely are too, below OpenSSL security level " +
                std::to_string(level.level) + " (" + level.from + ")",
            enrol + " (README, Weak keys)");
}

void check_trust_of_mic_roots(const RaddbConfig& raddb, const MicRoots& roots, Report& report) {
    for (const auto* p : module_items(raddb, "eap", "ca_path")) {
        if (p->value.empty()) continue;
        const auto dir = resolve_path(raddb, p->value);
        for (const auto& r : roots.paths)
            if (is_or_inside(r, dir)) {
                report.fail("raddb.ca-path-mic-roots",
                            "any Cisco phone, yours or not, completes EAP-TLS with its MIC; wherever check-eap-tls does not run "
                            "(another virtual server, a site without lscgate) it is let in",
                            where(*p) + ": eap's ca_path = " + p->value + " is the MIC roots directory (" + r.string() +
                                "): TLS trusts everything the manufacturing CA ever signed, and whatever is added there later",
                            "remove ca_path; ca_file = 'lscgate capf bundle -o FILE' (the CAPF certificates and the MIC roots, "
                            "so rlm_lscgate classes a MIC as mic and the policy decides)");
                break;
            }
    }
    for (const auto* f : module_items(raddb, "eap", "ca_file")) {
        if (f->value.empty()) continue;
        const auto file = resolve_path(raddb, f->value);
        for (const auto& r : roots.paths)
            if (is_or_inside(file, r)) {
                report.fail("raddb.ca-file-mic-roots",
                            "every LSC refused: FreeRADIUS log `unable to get local issuer certificate`, no `lscgate` line; "
                            "phones presenting their MIC pass TLS instead",
                            where(*f) + ": eap's ca_file = " + f->value + " is the MIC roots bundle (" + r.string() +
                                "): TLS trusts the manufacturing CA, not this CAPF",
                            "ca_file = 'lscgate capf bundle -o FILE' (the CAPF certificates and the MIC roots)");
                break;
            }
    }
}

// Whether eap's ca_file holds every certificate of `roots` (by SHA-256).
bool ca_file_holds(const RaddbConfig& raddb, const std::vector<X509Ptr>& roots) {
    const auto items = module_items(raddb, "eap", "ca_file");
    if (items.empty()) return false;
    auto certs = load_certificate_bundle(resolve_path(raddb, items.front()->value));
    if (!certs) return false;
    std::set<std::string> have;
    for (const auto& c : *certs)
        if (auto f = describe_certificate(c.get()); f) have.insert(f->sha256);
    for (const auto& r : roots)
        if (auto f = describe_certificate(r.get()); !f || have.count(f->sha256) == 0) return false;
    return true;
}

void check_policy(const Config& cfg, const RaddbConfig& raddb, const Policy& policy, const std::string& origin,
                  const MicRoots& roots, Report& report) {
    if (policy.grace_seconds() > 0)
        report.warn("raddb.policy-grace", "an LSC past its notAfter: FreeRADIUS log `certificate has expired`, EAP-Failure, "
                                          "no `lscgate` line, although the policy grants a grace",
                    origin + ": [expiry] grace_days = " + std::to_string(policy.grace_seconds() / 86400) +
                        ": TLS refuses an expired client certificate before rlm_lscgate runs, so the grace holds for VPN "
                        "authorization (lscgate-vpn) only",
                    "re-key phones before their LSCs expire ('lscgate check' warns 30 days ahead); grace_days = 0 unless a VPN path needs it");
    for (const auto cls : {CertClass::LscExpired, CertClass::LscNotYetValid}) {
        const PolicyAction& a = policy.action(cls);
        if (a.kind == PolicyAction::Kind::Reject) continue;
        report.warn("raddb.policy-lsc-expired",
                    std::string("an LSC outside its validity: FreeRADIUS log `") +
                        (cls == CertClass::LscExpired ? "certificate has expired" : "certificate is not yet valid") +
                        "`, no `lscgate` line, although the policy accepts it",
                    origin + ": [actions] " + std::string(to_string(cls)) + " = " + action_text(a) +
                        ": TLS refuses such a certificate before rlm_lscgate runs (VPN authorization only)",
                    "re-key before expiry; set it to \"reject\" unless a VPN path needs it");
    }
    const PolicyAction& mic = policy.action(CertClass::Mic);
    if (mic.kind == PolicyAction::Kind::Reject) return;
    const std::string setting = origin + ": [actions] mic = " + action_text(mic);
    if (roots.certs.empty()) {
        report.warn("raddb.policy-mic-no-roots", "phones presenting a MIC: `reject [unknown-issuer]` (or `unknown CA`), never the MIC action",
                    setting + ", but the lscgate module has no mic_roots: a MIC is classed unknown-issuer",
                    "set mic_roots in mods-enabled/lscgate to the manufacturing CA bundle, and add it to eap's ca_file");
        return;
    }
    if (!ca_file_holds(raddb, roots.certs))
        report.fail("raddb.policy-mic-untrusted", "phones presenting a MIC: FreeRADIUS log `unable to get local issuer certificate`, "
                                                  "no `lscgate` line; the MIC action never applies",
                    setting + ", but eap's ca_file lacks the mic_roots certificate(s) of " + roots.setting,
                    "ca_file = 'lscgate capf bundle -o FILE' (it adds [auth] mic_roots)");
    if (cfg.accept_expired_mic)
        report.warn("raddb.accept-expired-mic", "a phone with an expired MIC: FreeRADIUS log `certificate has expired`, no `lscgate` "
                                                "line, never the MIC action",
                    "lscgate.toml [auth] accept_expired_mic = true applies to CAPF enrolment only (serve checks the MIC itself); "
                    "over 802.1X OpenSSL checks notAfter first, so " + setting + " only reaches unexpired MICs",
                    "enrol those phones (lscgate op install NAME --auth mic): the CAPF takes the expired MIC, the LSC then passes 802.1X");
}

}  // namespace

void check_lsc_expiry(Store* store, UnixTime now, Report& report) {
    if (store == nullptr) return;
    int expired = 0, expiring = 0;
    std::string expired_example, expiring_example;
    (void)store->each_certificate(std::nullopt, [&](const CertificateRecord& r) -> Status {
        if (r.kind != CertificateKind::Lsc || r.status != CertificateStatus::Active) return {};
        const std::string what = escape_nonprintable(r.device_name) + " (serial " + r.facts.serial_hex + ", notAfter " +
                                 format_utc(r.facts.not_after) + ")";
        if (r.facts.not_after < now) {
            if (++expired == 1) expired_example = what;
        } else if (r.facts.not_after - now < kExpiringSeconds) {
            if (++expiring == 1) expiring_example = what;
        }
        return {};
    });
    if (expired > 0)
        report.fail("raddb.lsc-expired", "FreeRADIUS log `certificate has expired` (TLS alert, EAP-Failure), no `lscgate` line: "
                                         "the switch port stays unauthorized or falls to the guest VLAN",
                    std::to_string(expired) + " active LSC(s) are past notAfter, e.g. " + expired_example +
                        ": OpenSSL refuses them in eap's handshake before rlm_lscgate or any policy (grace_days) runs",
                    "re-key them: lscgate op install NAME --auth mic (or null/string) and reset the phone; "
                    "'lscgate check' lists them");
    if (expiring > 0)
        report.warn("raddb.lsc-expiring", "soon FreeRADIUS `certificate has expired`, no `lscgate` line",
                    std::to_string(expiring) + " active LSC(s) expire within 30 days, e.g. " + expiring_example,
                    "re-key them now while the LSC still authenticates: lscgate op install NAME --auth lsc --by +7d");
    if (expired == 0 && expiring == 0) report.ok("raddb.lsc-expiry", "no active LSC is expired or expires within 30 days");
}

void check_mic_roots_and_policy(const Config& cfg, const RaddbConfig& raddb, UnixTime now, Report& report) {
    auto roots = load_mic_roots(cfg, raddb);
    if (!roots) {
        report.fail("raddb.mic-roots", "FreeRADIUS does not start (rlm_lscgate cannot load mic_roots)", roots.message(),
                    "point mic_roots at the manufacturing CA bundle (PEM file or directory of *.pem)");
        return;
    }
    const std::string policy_file = module_setting(raddb, "lscgate", "policy");
    Policy policy = Policy::defaults();
    std::string origin = "the built-in policy (mods-enabled/lscgate sets no policy)";
    if (!policy_file.empty()) {
        auto loaded = Policy::load(resolve_path(raddb, policy_file));
        if (!loaded) {
            report.fail("raddb.policy", "FreeRADIUS does not start (rlm_lscgate cannot load its policy)", loaded.message(),
                        "fix the policy file (policy/lscgate-policy.toml shows every key)");
            return;
        }
        policy = std::move(*loaded);
        origin = "policy " + policy_file;
    }
    check_trust_of_mic_roots(raddb, *roots, report);
    const bool mic_allowed = policy.action(CertClass::Mic).kind != PolicyAction::Kind::Reject;
    const SecurityLevel level = eap_security_level(raddb);
    const std::string mic_text = "mic = " + action_text(policy.action(CertClass::Mic));
    for (const auto& root : roots->certs) check_root(root.get(), *roots, level, mic_allowed, mic_text, now, report);
    check_policy(cfg, raddb, policy, origin, *roots, report);
}

}  // namespace lscgate::cli::doctor
