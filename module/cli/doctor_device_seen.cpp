// doctor --device, the RADIUS side: what the last-seen records (registry/
// last_seen_sink.h, written by rlm_lscgate for every decision) say the phone
// presented last. A phone that holds an active LSC but was last seen with its
// MIC does not use the LSC for 802.1X: the switch puts it in the MIC (restrict)
// VLAN or rejects it, however healthy its CAPF side is.

#include "cli/doctor_checks.h"
#include "cli/raddb_reader.h"
#include "decide/cert_class.h"
#include "pki/printable.h"
#include "registry/database_kind.h"
#include "registry/last_seen_sink.h"
#include "registry/postgresql/pg_last_seen.h"

#include <algorithm>

namespace lscgate::cli::doctor {
namespace {

struct SeenRows {
    std::string source;  // where they came from, for findings
    std::vector<SeenRecord> rows;
};

// `location`: a PostgreSQL conninfo (its lscgate.last_seen) or a SQLite last-seen file.
Result<SeenRows> read_rows(const std::string& location, const std::string& device) {
    if (is_postgresql_database(location)) {
        auto rows = read_pg_last_seen(location, device);
        if (!rows) return rows.error();
        return SeenRows{"the PostgreSQL registry's lscgate.last_seen", std::move(*rows)};
    }
    auto all = read_sqlite_last_seen(location);
    if (!all) return fail(ErrorKind::Config, "last-seen file " + location + ": " + all.message());
    SeenRows out{"last-seen file " + location, {}};
    for (auto& r : *all)
        if (r.last.device == device) out.rows.push_back(std::move(r));
    return out;
}

// Where to read: --last-seen, else the module's last_seen_database (or its
// PostgreSQL registry) from --raddb, else a PostgreSQL registry of lscgate.toml.
// nullopt with `why` set when there is nothing to read.
Result<std::optional<SeenRows>> find_rows(const Config& cfg, const SeenSource& src, const std::string& device, std::string& why) {
    std::string location = src.file;
    if (location.empty() && !src.raddb.empty()) {
        auto raddb = read_raddb(src.raddb);
        if (!raddb) return raddb.error();
        const std::string setting = module_setting(*raddb, "lscgate", "last_seen_database");
        if (setting == "none") {
            why = "the lscgate module records no last-seen (last_seen_database = none)";
            return std::optional<SeenRows>();
        }
        if (!setting.empty()) location = is_postgresql_database(setting) ? setting : resolve_path(*raddb, setting).string();
        else if (const auto db = module_setting(*raddb, "lscgate", "database"); is_postgresql_database(db)) location = db;
        else {
            why = "the lscgate module sets no last_seen_database and reads a SQLite registry: nothing is recorded";
            return std::optional<SeenRows>();
        }
    }
    if (location.empty() && is_postgresql_database(cfg.database_location())) location = cfg.database_location();
    if (location.empty()) {
        why = "the registry is a SQLite file, which keeps no last-seen: give --last-seen FILE (the module's "
              "last_seen_database) or --raddb DIR";
        return std::optional<SeenRows>();
    }
    auto rows = read_rows(location, device);
    if (!rows) return rows.error();
    return std::optional<SeenRows>(std::move(*rows));
}

std::string where_seen(const SeenEvent& e) {
    std::string s = "at " + format_utc(e.at);
    if (!e.node.empty()) s += " on node " + escape_nonprintable(e.node);
    if (!e.nas.empty()) s += ", NAS " + escape_nonprintable(e.nas);
    if (!e.nas_port_id.empty()) s += " port " + escape_nonprintable(e.nas_port_id);
    if (!e.calling_station_id.empty()) s += ", Calling-Station-Id " + escape_nonprintable(e.calling_station_id);
    return s;
}

}  // namespace

void check_last_seen(const Config& cfg, const std::string& name, const std::optional<CertificateRecord>& lsc,
                     const SeenSource& src, Report& report) {
    std::string why;
    auto found = find_rows(cfg, src, name, why);
    if (!found) {
        report.warn("device.seen-unreadable", "(not checked: whether RADIUS saw the phone's LSC or its MIC)",
                    found.message(), "give --last-seen FILE, the lscgate module's last_seen_database");
        return;
    }
    if (!*found) {
        report.ok("device.seen", "what RADIUS last saw of " + name + " not checked: " + why);
        return;
    }
    const SeenRows& seen = **found;
    if (seen.rows.empty()) {
        report.ok("device.seen", name + " has not been seen by RADIUS (" + seen.source + ")");
        return;
    }
    const SeenRecord& last = *std::max_element(seen.rows.begin(), seen.rows.end(),
                                               [](const SeenRecord& a, const SeenRecord& b) { return a.last.at < b.last.at; });
    const SeenEvent& e = last.last;
    const std::string cls = escape_nonprintable(e.cls);
    const std::string what = "RADIUS last saw " + name + " " + where_seen(e) + " presenting class " + cls +
                             (e.reason.empty() ? "" : " (\"" + escape_nonprintable(e.reason) + "\")") + "; " + seen.source;
    const bool mic = e.cls == to_string(CertClass::Mic);
    // The LSC must have been recorded before that request: a MIC seen before enrolment says nothing.
    if (mic && lsc && lsc->created_at <= e.at) {
        report.fail("device.seen-mic",
                    "switch port in the MIC/guest VLAN (policy mic = \"restrict\": Access-Accept with the restrict VLAN) "
                    "or Access-Reject (FreeRADIUS log `reject [mic] " + name + "`)",
                    what + ", although it holds active LSC serial " + lsc->facts.serial_hex + " since " +
                        format_utc(lsc->created_at) + ": the phone does not use its LSC for 802.1X",
                    "make the phone present its LSC: its 802.1X EAP-TLS certificate setting (on the phone, or CUCM's "
                    "product-specific configuration where the model has one) must name the LSC; if the phone lost it "
                    "(factory reset), re-key: lscgate op install " + name + " --auth mic");
        return;
    }
    if (mic) {
        report.ok("device.seen", what + (lsc ? " before its LSC was recorded (" + format_utc(lsc->created_at) + "); not seen since"
                                             : ": it holds no LSC yet"));
        return;
    }
    if (e.cls == to_string(CertClass::LscValid) || e.cls == to_string(CertClass::LscUnconfirmed)) {
        report.ok("device.seen", what);
        return;
    }
    report.warn("device.seen-refused", "Access-Reject (or the restricted VLAN); FreeRADIUS log `reject [" + cls + "] " + name + "`",
                what, "see README, Troubleshooting, for that class (lscgate cert list --device " + name + ")");
}

}  // namespace lscgate::cli::doctor
