// doctor: the keys a CAPF rotation keeps for the CRLs of previous CAPFs
// (capf/crl_scope.h): capf-<SHA16>.key beside [capf] key. A kept key of a CAPF
// that is retired, or that the registry does not know, signs nothing any more
// and is only a risk (whoever reads it can issue LSCs under that name); a
// previous CAPF without its key gets no CRL, so the ASA and FreeRADIUS
// check_crl never learn its LSCs' revocations.

#include "capf/crl_scope.h"
#include "cli/doctor_checks.h"
#include "pki/keys.h"
#include "registry/store.h"

#include <sys/stat.h>

#include <filesystem>
#include <map>
#include <regex>

namespace lscgate::cli::doctor {
namespace {

// The kept keys in `dir` by their SHA16 (upper-case hex, as capf_name_stem writes it).
std::map<std::string, std::filesystem::path> kept_keys_in(const std::filesystem::path& dir) {
    static const std::regex kName("capf-([0-9A-F]{16})\\.key");
    std::map<std::string, std::filesystem::path> out;
    std::error_code ec;
    for (std::filesystem::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
        std::smatch m;
        const std::string name = it->path().filename().string();
        if (std::regex_match(name, m, kName)) out.emplace(m[1].str(), it->path());
    }
    return out;
}

void check_mode(const std::filesystem::path& file, Report& report) {
    struct stat st {};
    if (::stat(file.c_str(), &st) != 0 || (st.st_mode & 077) == 0) return;
    report.fail("capf.kept-key-mode", "none yet: anyone who can read it can issue LSCs RADIUS accepts",
                file.string() + " can be read by others than its owner (mode " +
                    std::to_string((st.st_mode >> 6) & 7) + std::to_string((st.st_mode >> 3) & 7) +
                    std::to_string(st.st_mode & 7) + ")",
                "chmod 600 " + file.string());
}

}  // namespace

void check_kept_capf_keys(const Config& cfg, Report& report) {
    const auto key_dir = cfg.resolve(cfg.capf_key).parent_path();
    auto kept = kept_keys_in(key_dir);
    auto store = Store::open(cfg.database_location());
    if (!store) return;  // the device and raddb checks report an unreadable registry
    auto capfs = store->list_capf_certificates();
    if (!capfs) return;
    auto current_key = load_private_key(cfg.resolve(cfg.capf_key));
    for (const auto& r : *capfs) {
        const std::string sha16 = r.facts.sha256.substr(0, 16);
        const auto found = kept.find(sha16);
        const bool has_kept = found != kept.end();
        if (has_kept) {
            check_mode(found->second, report);
            if (r.status == CapfStatus::Retired)
                report.warn("capf.kept-key-retired", "none: a key that signs nothing any more",
                            found->second.string() + " is the key of the retired CAPF " + r.facts.subject +
                                " (a retired CAPF gets no CRL); it can still sign LSCs",
                            "delete it (shred -u " + found->second.string() + ")");
            kept.erase(found);
            continue;
        }
        if (r.status != CapfStatus::Previous) continue;
        auto cert = parse_certificate_pem(r.pem);
        if (cert && current_key && X509_check_private_key(cert->get(), current_key->get()) == 1) continue;  // same key
        report.warn("capf.previous-key-missing",
                    "the ASA (revocation-check crl) and FreeRADIUS check_crl keep accepting its revoked LSCs",
                    "the previous CAPF " + r.facts.subject + " (SHA-256 " + sha16 + ") has no kept key " +
                        capf::capf_name_stem(r.facts) + ".key in " + key_dir.string() + ", so it gets no CRL",
                    "put its key there (0600), or re-key its phones and 'lscgate capf retire " + sha16 + "'");
    }
    for (const auto& [sha16, file] : kept) {
        check_mode(file, report);
        report.warn("capf.kept-key-unknown", "none: a key that signs nothing",
                    file.string() + " is the key of no CAPF certificate in the registry",
                    "delete it if no registry of yours uses it (shred -u " + file.string() + ")");
    }
}

}  // namespace lscgate::cli::doctor
