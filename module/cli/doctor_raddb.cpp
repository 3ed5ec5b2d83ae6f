// doctor --raddb: the FreeRADIUS traps seen in public reports that break EAP-TLS
// for phones before rlm_lscgate runs (README, FreeRADIUS, Wiring it into a raddb;
// Weak keys; Which path honours what).

#include "cli/doctor_checks.h"
#include "cli/doctor_raddb_tls.h"
#include "cli/raddb_reader.h"
#include "cli/registry_access.h"
#include "pki/key_strength.h"
#include "pki/trust_set.h"
#include "registry/database_kind.h"
#include "registry/store.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <regex>
#include <set>
#include <utility>
#include <string>
#include <vector>

namespace lscgate::cli::doctor {
namespace {

std::vector<const RaddbItem*> eap_items(const RaddbConfig& raddb, const std::string& key) {
    return module_items(raddb, "eap", key);
}

bool yes(const std::string& v) { return v == "yes" || v == "true" || v == "1"; }

// "3.2.1" from `freeradius -v` (Debian) or `radiusd -v`; "" when neither runs.
std::string freeradius_version() {
    for (const char* cmd : {"freeradius -v 2>/dev/null", "radiusd -v 2>/dev/null"}) {
        FILE* p = ::popen(cmd, "r");
        if (p == nullptr) continue;
        std::string out;
        char buf[512];
        while (std::fgets(buf, sizeof buf, p) != nullptr && out.size() < 8192) out += buf;
        ::pclose(p);
        std::smatch m;
        if (std::regex_search(out, m, std::regex("Version ([0-9]+)\\.([0-9]+)\\.([0-9]+)"))) return m[1].str() + "." + m[2].str() + "." + m[3].str();
    }
    return "";
}

bool older_than_3_2_7(const std::string& v) {
    int a = 0, b = 0, c = 0;
    if (std::sscanf(v.c_str(), "%d.%d.%d", &a, &b, &c) != 3) return false;
    return a < 3 || (a == 3 && (b < 2 || (b == 2 && c < 7)));
}

// An existing directory with no entries: as ca_path it adds no CA (radius-lab points
// Debian's ca_path = ${cadir} at one to switch it off).
bool is_empty_directory(const std::filesystem::path& dir) {
    std::error_code ec;
    return std::filesystem::is_directory(dir, ec) && std::filesystem::is_empty(dir, ec) && !ec;
}

void check_ca_file(const Config& cfg, const RaddbConfig& raddb, Store* store, Report& report) {
    for (const auto* p : eap_items(raddb, "ca_path"))
        if (!p->value.empty() && !is_empty_directory(resolve_path(raddb, p->value)))
            report.fail("raddb.ca-path", "phones with a certificate from any public CA pass TLS (then `reject [unknown-issuer]` at best)",
                        where(*p) + ": eap's ca_path = " + p->value + " trusts a whole CA directory",
                        "remove ca_path; set ca_file to 'lscgate capf bundle -o FILE'");
    const auto ca = eap_items(raddb, "ca_file");
    if (ca.empty()) {
        report.fail("raddb.ca-file-missing", "EAP fails with `unknown CA` in the FreeRADIUS log, no `lscgate` line",
                    "no ca_file in the eap module (mods-enabled)", "set ca_file = the output of 'lscgate capf bundle -o FILE'");
        return;
    }
    auto certs = load_certificate_bundle(ca.front()->value);
    if (!certs) {
        report.fail("raddb.ca-file-missing", "EAP fails with `unknown CA` in the FreeRADIUS log, no `lscgate` line",
                    where(*ca.front()) + ": ca_file: " + certs.message(), "write it with 'lscgate capf bundle -o FILE'");
        return;
    }
    std::set<std::string> trusted, retired;
    if (auto own = load_certificate(cfg.resolve(cfg.capf_cert)); own)
        if (auto f = describe_certificate(own->get()); f) trusted.insert(f->sha256);
    const std::string current = trusted.empty() ? "" : *trusted.begin();
    if (store != nullptr)
        if (auto all = store->list_capf_certificates(); all)
            for (const auto& r : *all) (r.status == CapfStatus::Retired ? retired : trusted).insert(r.facts.sha256);
    // The MIC roots of serve ([auth] mic_roots) and of the module (its mic_roots).
    std::vector<std::filesystem::path> mic_paths;
    if (!cfg.mic_roots.empty()) mic_paths.push_back(cfg.resolve(cfg.mic_roots));
    if (const auto m = module_setting(raddb, "lscgate", "mic_roots"); !m.empty()) mic_paths.push_back(resolve_path(raddb, m));
    for (const auto& p : mic_paths)
        if (auto roots = load_certificates_from(p); roots)
            for (const auto& c : *roots)
                if (auto f = describe_certificate(c.get()); f) trusted.insert(f->sha256);
    int foreign = 0, old = 0;
    bool has_current = false;
    for (const auto& c : *certs) {
        auto f = describe_certificate(c.get());
        if (!f) continue;
        has_current = has_current || f->sha256 == current;
        if (retired.count(f->sha256) != 0) ++old;
        else if (trusted.count(f->sha256) == 0) ++foreign;
    }
    const std::string file = where(*ca.front()) + ": ca_file " + ca.front()->value;
    if (foreign > 0)
        report.fail("raddb.ca-file-foreign", "a phone (or anything) with a certificate from another CA passes TLS: `reject [unknown-issuer]` or worse, an Accept by a site without lscgate",
                    file + " holds " + std::to_string(foreign) + " certificate(s) that are neither a trusted CAPF nor a MIC root" +
                        (foreign >= 10 ? " (a public CA bundle?)" : ""),
                    "ca_file = 'lscgate capf bundle -o FILE' (only the CAPF certificates and the MIC roots)");
    if (old > 0)
        report.warn("raddb.ca-file-retired", "LSCs of a retired CAPF pass TLS, then `reject [lsc-foreign] … no longer trusted`",
                    file + " still holds " + std::to_string(old) + " retired CAPF certificate(s)", "rebuild it with 'lscgate capf bundle -o FILE'");
    if (!has_current)
        report.fail("raddb.ca-file-no-capf", "EAP fails with `unknown CA` in the FreeRADIUS log, no `lscgate` line, for every new LSC",
                    file + " does not hold the current CAPF certificate " + cfg.resolve(cfg.capf_cert).string(),
                    "rebuild it with 'lscgate capf bundle -o FILE' and restart FreeRADIUS");
    if (foreign == 0 && old == 0 && has_current) report.ok("raddb.ca-file", file + " holds exactly trusted CAPF certificates and MIC roots");
}

void check_tls_settings(const RaddbConfig& raddb, const std::string& version, Report& report) {
    for (const auto* i : eap_items(raddb, "enable"))
        if (in_section(*i, "cache") && yes(i->value))
            report.fail("raddb.session-cache", "a revoked LSC keeps working: resumed EAP-TLS sessions show no `lscgate` line in the log",
                        where(*i) + ": eap's TLS session cache is on (resumption skips check-eap-tls)", "set cache { enable = no } in the eap module");
    for (const auto* i : eap_items(raddb, "reject_unknown_intermediate_ca"))
        if (yes(i->value) && (version.empty() || older_than_3_2_7(version)))
            report.fail("raddb.reject-unknown-intermediate", "every phone refused by EAP-TLS, no `lscgate` line in the log",
                        where(*i) + ": reject_unknown_intermediate_ca = yes on FreeRADIUS " + (version.empty() ? "(version unknown)" : version) +
                            ", older than 3.2.7, where it refuses chains it should accept",
                        "set reject_unknown_intermediate_ca = no (or upgrade FreeRADIUS to 3.2.7 or later)");
    const auto vs = eap_items(raddb, "virtual_server");
    const RaddbItem* site = nullptr;
    for (const auto* i : vs)
        if (in_section(*i, "tls")) site = i;
    if (site == nullptr) {
        report.fail("raddb.check-eap-tls", "a refused phone completes EAP-TLS (EAP-Success) and is only rejected after the tunnel, or not at all",
                    "the eap module's tls section names no virtual_server (check-eap-tls)",
                    "tls { virtual_server = check-eap-tls } and link sites-available/lscgate-check-eap-tls");
        return;
    }
    bool defined = false, calls = false;
    for (const auto& i : raddb.items)
        if (i.file.rfind("sites-enabled/", 0) == 0 && !i.sections.empty() && i.sections.front() == "server " + site->value) {
            defined = true;
            calls = calls || i.key.rfind("lscgate", 0) == 0;
        }
    if (!defined || !calls)
        report.fail("raddb.check-eap-tls", "a refused phone completes EAP-TLS (EAP-Success) and is only rejected after the tunnel, or not at all",
                    where(*site) + ": virtual_server = " + site->value + (defined ? " does not call the lscgate module" : " is not defined in sites-enabled/"),
                    "link sites-available/lscgate-check-eap-tls (it calls lscgate)");
    else
        report.ok("raddb.check-eap-tls", "eap's tls section sends every handshake through " + site->value + ", which calls lscgate");
}

void check_seclevel(const RaddbConfig& raddb, Store* store, Report& report) {
    const auto [level, from] = eap_security_level(raddb);
    if (store == nullptr || level < 2) return;
    int weak = 0;
    std::string example;
    (void)store->each_certificate(std::nullopt, [&](const CertificateRecord& r) -> Status {
        if (r.kind == CertificateKind::Lsc && r.status == CertificateStatus::Active &&
            ((r.facts.key_type == "rsa" && r.facts.key_bits < 2048) || (r.facts.key_type == "ec" && r.facts.key_bits < 224))) {
            if (++weak == 1) example = r.device_name + " (" + r.facts.key_type + ":" + std::to_string(r.facts.key_bits) + ")";
        }
        return {};
    });
    if (weak > 0)
        report.fail("raddb.seclevel", "FreeRADIUS `EE certificate key too weak`, no `lscgate` line",
                    std::to_string(weak) + " active LSC(s), e.g. " + example + ", are below OpenSSL security level " +
                        std::to_string(level) + " (" + from + ")",
                    "re-key them with --key rsa:2048 (lscgate op install NAME --auth lsc --key rsa:2048); README, Weak keys");
}

constexpr const char* kRegistryModes =
    "chown lscgate:lscgate DIR DIR/lscgate.db* && chmod 2750 DIR && chmod 640 DIR/lscgate.db* && adduser freerad lscgate";

// The paths of `a` a FreeRADIUS user may write (any one lets it change the registry).
std::string writable_paths(const RegistryAccess& a, const std::string& db) {
    std::string list;
    const std::filesystem::path p(db);
    const std::pair<bool, std::string> all[] = {{a.write_dir, p.has_parent_path() ? p.parent_path().string() : "."},
                                                {a.write_db, db},
                                                {a.write_wal, db + "-wal"},
                                                {a.write_shm, db + "-shm"}};
    for (const auto& [may, path] : all)
        if (may) list += (list.empty() ? "" : ", ") + path;
    return list;
}

void check_database_access(const RaddbConfig& raddb, Report& report) {
    constexpr const char* kStartup = "`rlm_lscgate (lscgate): …: cannot read the schema version` at startup";
    for (const auto& i : raddb.items) {
        if (i.key != "database" || i.file.rfind("mods-enabled/", 0) != 0 || !in_section(i, "lscgate")) continue;
        if (is_postgresql_database(i.value)) return;
        const std::string& user = raddb.run_user;
        struct stat st {};
        if (::stat(i.value.c_str(), &st) != 0) {
            report.fail("raddb.database", kStartup, where(i) + ": database " + i.value + ": does not exist",
                        "point database at the lscgate.db of 'lscgate serve'");
            return;
        }
        auto a = registry_access_of(user, i.value);
        if (!a) {
            report.fail("raddb.database", kStartup, where(i) + ": " + a.message(), "check radiusd.conf security { user }");
            return;
        }
        if (!a->read_db || !a->search_dir) {
            report.fail("raddb.database", kStartup, where(i) + ": " + user + " cannot read " + i.value, kRegistryModes);
            return;
        }
        // FreeRADIUS may create nothing beside the registry, so WAL mode needs
        // both companions to exist already, readable.
        if (!a->wal_present || !a->shm_present || !a->read_wal || !a->read_shm) {
            report.fail("raddb.database", "FreeRADIUS does not start: `rlm_lscgate (lscgate): …: unable to open database file`",
                        where(i) + ": " + i.value + "-wal/-shm " +
                            (!a->wal_present || !a->shm_present ? "are missing" : "are not readable by " + user) +
                            " (SQLite's WAL mode needs them; " + user + " may not create them)",
                        "sudo -u lscgate lscgate check (any lscgate command that opens the registry makes them)");
            return;
        }
        // FreeRADIUS only reads the registry: one that may write the file, its
        // companions or its directory (replace, delete) could make any
        // certificate active - the module's trust would be the weakest process's.
        if (const std::string w = writable_paths(*a, i.value); !w.empty()) {
            report.fail("raddb.database", "none at runtime: FreeRADIUS (or anything running as " + user + ") can change the registry",
                        where(i) + ": " + user + " may write " + w + (a->by_kernel ? "" : " (from the mode bits; run doctor as root to include ACLs)"),
                        kRegistryModes);
            return;
        }
        report.ok("raddb.database", user + " can read " + i.value + " and write neither it nor its directory" +
                                        (a->by_kernel ? "" : " (from the mode bits; run doctor as root to include ACLs)"));
        return;
    }
}

}  // namespace

void check_raddb(const Config& cfg, const std::string& dir, UnixTime now, Report& report) {
    auto raddb = read_raddb(dir);
    if (!raddb) {
        report.fail("raddb.read", "(not checked)", raddb.message(), "give the FreeRADIUS configuration directory");
        return;
    }
    auto store = Store::open(cfg.database_location());
    Store* s = store ? &*store : nullptr;
    const std::string version = freeradius_version();
    check_ca_file(cfg, *raddb, s, report);
    check_tls_settings(*raddb, version, report);
    check_seclevel(*raddb, s, report);
    check_lsc_expiry(s, now, report);
    check_mic_roots_and_policy(cfg, *raddb, now, report);
    check_database_access(*raddb, report);
}

}  // namespace lscgate::cli::doctor
