#include "capf/crl_scope.h"

#include "pki/keys.h"

#include <openssl/x509.h>

#include <algorithm>
#include <map>
#include <set>
#include <utility>

namespace lscgate::capf {

namespace {

// A previous CAPF's key: the configured key when the certificate carries the
// same public key (a renewal that kept its key), else the one settings.key_dir
// holds for it.
EvpPkeyPtr find_key(CrlIssuer& issuer, const CrlSettings& settings, EVP_PKEY* current_key) {
    if (current_key != nullptr && X509_check_private_key(issuer.cert.get(), current_key) == 1) return share(current_key);
    const auto path =
        kept_capf_key_file(settings.key_dir.empty() ? settings.file.parent_path() : settings.key_dir, issuer.facts);
    std::error_code ec;
    const std::string why = "its key is not available (" + path.string();
    const bool exists = std::filesystem::exists(path, ec);
    if (ec) {  // e.g. EACCES on the directory: say so, not "no such file"
        issuer.problem = why + ": " + ec.message() + ")";
        return nullptr;
    }
    if (!exists) {
        issuer.problem = why + ": no such file); a CRL must be signed by the CAPF that issued the LSCs";
        return nullptr;
    }
    auto key = load_private_key(path);
    if (!key) {
        issuer.problem = why + ": " + key.message() + ")";
        return nullptr;
    }
    if (X509_check_private_key(issuer.cert.get(), key->get()) != 1) {
        issuer.problem = why + " is the key of another certificate)";
        return nullptr;
    }
    return std::move(*key);
}

// The CRL's own order (X509_CRL_sort: by serial as a number), so a list read
// back from a CRL compares equal.
void sort_as_in_a_crl(std::vector<ListedLsc>& list) {
    std::sort(list.begin(), list.end(), [](const ListedLsc& a, const ListedLsc& b) {
        const auto& x = a.entry.serial_hex;
        const auto& y = b.entry.serial_hex;
        if (x.size() != y.size()) return x.size() < y.size();
        return x < y;
    });
}

// What the CRL walk keeps of an LSC that may be listed (revoked, or superseded
// when asked, and not expired).
struct Lsc {
    std::int64_t id;
    std::string device_name;
    bool superseded;  // listed as superseded: dated when the next LSC was recorded
    CrlEntry entry;  // revocationDate and reason filled in for a candidate
    std::string pem;
    UnixTime created_at;
};

// The LSCs that may be listed: revoked (or superseded, when asked) and not
// expired, a superseded one dated when its device's next LSC (the lowest id
// above its own, whichever CAPF issued it) was recorded. What is kept is in
// proportion to what may be listed, not to the fleet: a list of every LSC with a
// map of every device, built at every check (each minute in `lscgate serve`),
// made serve's heap grow with the registry (issue 9 item 4).
Result<std::vector<Lsc>> read_lscs(Store& store, bool include_superseded, UnixTime now) {
    std::vector<Lsc> lscs;
    auto walked = store.each_certificate(std::nullopt, [&](const CertificateRecord& c) -> Status {
        if (c.kind != CertificateKind::Lsc) return {};
        const bool revoked = c.status == CertificateStatus::Revoked;
        const bool superseded = c.status == CertificateStatus::Superseded && include_superseded;
        if (c.facts.not_after < now || !(revoked || superseded)) return {};
        CrlEntry entry{c.facts.serial_hex, c.revoked_at.value_or(c.created_at),
                       revoked ? crl_reason_from_name(c.revocation_reason) : CrlReason::Superseded};
        lscs.push_back({c.id, c.device_name, !revoked, std::move(entry), c.pem, c.created_at});
        return {};
    });
    if (!walked) return walked.error();
    std::map<std::string, std::vector<std::size_t>> superseded_of;  // device -> its superseded candidates
    for (std::size_t i = 0; i < lscs.size(); ++i)
        if (lscs[i].superseded) superseded_of[lscs[i].device_name].push_back(i);
    std::vector<std::int64_t> next_id(lscs.size(), 0);
    for (const auto& of_device : superseded_of) {
        // Not a structured binding: clang 14 (the fuzz build) cannot capture one in a lambda.
        const std::vector<std::size_t>& candidates = of_device.second;
        walked = store.each_certificate(of_device.first, [&](const CertificateRecord& c) -> Status {
            if (c.kind != CertificateKind::Lsc) return {};
            for (std::size_t i : candidates)
                if (c.id > lscs[i].id && (next_id[i] == 0 || c.id < next_id[i])) {
                    next_id[i] = c.id;
                    lscs[i].entry.revoked_at = c.created_at;
                }
            return {};
        });
        if (!walked) return walked.error();
    }
    std::sort(lscs.begin(), lscs.end(), [](const Lsc& a, const Lsc& b) { return a.id < b.id; });
    return lscs;
}

}  // namespace

std::string capf_name_stem(const CertificateFacts& capf) { return "capf-" + capf.sha256.substr(0, 16); }

std::filesystem::path kept_capf_key_file(const std::filesystem::path& key_dir, const CertificateFacts& capf) {
    return key_dir / (capf_name_stem(capf) + ".key");
}

std::filesystem::path previous_crl_file(const CrlSettings& settings, const CertificateFacts& capf) {
    // capf.crl -> capf-<SHA16>.crl: a renamed [crl] file keeps its name.
    const std::string stem = settings.file.stem().string();
    return settings.file.parent_path() / (stem + "-" + capf.sha256.substr(0, 16) + settings.file.extension().string());
}

std::string CrlIssuer::label() const {
    return std::string(current ? "current" : newer ? "new current (not loaded here)" : "previous") + " CAPF " +
           facts.subject + " (SHA-256 " + facts.sha256.substr(0, 16) + ")";
}

Result<std::vector<CrlIssuer>> crl_issuers(Store& store, const CapfAuthority& current, const CrlSettings& settings) {
    std::vector<CrlIssuer> out;
    auto own = describe_certificate(current.certificate());
    if (!own) return own.error();
    const std::string first_subject = own->subject;
    CrlIssuer first{share(current.certificate()), share(current.key()), std::move(*own), true, settings.file, {}};
    first.problem = crl_signer_problem(first.cert.get());
    std::set<std::string> seen{first.facts.sha256};
    out.push_back(std::move(first));
    auto registry = store.list_capf_certificates();
    if (!registry) return registry.error();
    for (const auto& r : *registry) {
        if (r.status == CapfStatus::Retired || !seen.insert(r.facts.sha256).second) continue;
        auto cert = parse_certificate_pem(r.pem);
        if (!cert) return fail(cert.kind(), "CAPF certificate " + r.facts.subject + " in the registry: " + cert.message());
        CrlIssuer issuer{std::move(*cert), nullptr, r.facts, false, previous_crl_file(settings, r.facts), {}};
        issuer.newer = r.status == CapfStatus::Current;
        issuer.key = find_key(issuer, settings, current.key());
        // The registry's current CAPF is not the one this process runs: a
        // rotation (`init --force`, `capf import`) that `serve` has not been
        // reloaded for. Its key is in [capf] key, not kept: say what to do.
        if (issuer.newer && !issuer.key)
            issuer.problem = "this process still runs the CAPF it replaced (" + first_subject +
                             "): reload it (SIGHUP, systemctl reload lscgate) to sign this CAPF's CRL";
        if (issuer.problem.empty()) issuer.problem = crl_signer_problem(issuer.cert.get());
        out.push_back(std::move(issuer));
    }
    return out;
}

Result<std::vector<std::vector<ListedLsc>>> crl_listings(Store& store, const std::vector<const X509*>& capfs,
                                                         bool include_superseded, UnixTime now,
                                                         std::vector<UnlistedLsc>* unlisted) {
    auto lscs = read_lscs(store, include_superseded, now);
    if (!lscs) return lscs.error();
    std::vector<std::vector<ListedLsc>> out(capfs.size());
    for (auto it = lscs->rbegin(); it != lscs->rend(); ++it) {
        const Lsc& c = *it;
        auto cert = parse_certificate_pem(c.pem);
        if (!cert) {  // listed nowhere: no serial can be trusted from an unreadable row
            if (unlisted != nullptr) unlisted->push_back({{c.entry, c.device_name}, "unreadable in the registry"});
            continue;
        }
        bool listed = false;
        for (std::size_t i = 0; i < capfs.size(); ++i)
            if (certificate_issued_by(cert->get(), capfs[i])) {
                out[i].push_back({c.entry, c.device_name});
                listed = true;
            }
        if (!listed && unlisted != nullptr)
            unlisted->push_back({{c.entry, c.device_name}, "issued by no CAPF that is current or previous"});
    }
    for (auto& list : out) sort_as_in_a_crl(list);
    return out;
}

Result<std::vector<CrlEntry>> crl_entries(Store& store, const X509* capf, bool include_superseded, UnixTime now) {
    auto listings = crl_listings(store, {capf}, include_superseded, now);
    if (!listings) return listings.error();
    std::vector<CrlEntry> entries;
    for (auto& l : listings->front()) entries.push_back(std::move(l.entry));
    return entries;
}

}  // namespace lscgate::capf
