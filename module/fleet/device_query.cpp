#include "fleet/device_query.h"

#include "pki/expiry.h"
#include "pki/printable.h"
#include "registry/database_kind.h"
#include "registry/postgresql/pg_last_seen.h"

#include <fnmatch.h>

#include <algorithm>
#include <cctype>
#include <optional>
#include <unordered_set>

namespace lscgate {
namespace {

std::string upper(std::string s) {
    for (auto& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return s;
}

// "CP-8841", "cp-8841" and BAT's "Cisco 8841" compare as "8841".
std::string model_key(const std::string& model) {
    std::string m = upper(model);
    for (const char* prefix : {"CISCO ", "CP-"})
        if (m.rfind(prefix, 0) == 0) return m.substr(std::string_view(prefix).size());
    return m;
}

bool glob_matches(const std::string& pattern, const std::string& text) {
    return ::fnmatch(pattern.c_str(), text.c_str(), FNM_CASEFOLD) == 0;
}

Error bad_term(const std::string& term, const std::string& why) {
    return fail(ErrorKind::Input, "--where '" + escape_nonprintable(term) + "': " + why);
}

Result<QueryTerm> parse_lsc(QueryTerm t, const std::string& value) {
    using S = QueryTerm::LscState;
    if (value == "active") t.lsc = S::Active;
    else if (value == "unconfirmed") t.lsc = S::Unconfirmed;
    else if (value == "revoked") t.lsc = S::Revoked;
    else if (value == "none") t.lsc = S::None;
    else if (value.rfind("expiring:", 0) == 0) {
        auto window = parse_duration_text(value.substr(9));
        if (!window) return bad_term(t.text, window.message());
        t.lsc = S::Expiring;
        t.window_seconds = *window;
    } else
        return bad_term(t.text, "use lsc=none, lsc=active, lsc=expiring:30d, lsc=unconfirmed or lsc=revoked");
    return t;
}

Result<QueryTerm> parse_term(const std::string& text) {
    const auto eq = text.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == text.size())
        return bad_term(text, "use KEY=VALUE with KEY one of name, model, lsc, seen, op");
    const std::string key = text.substr(0, eq);
    const std::string value = text.substr(eq + 1);
    QueryTerm t;
    t.text = text;
    if (key == "name") {
        t.key = QueryTerm::Key::Name;
        t.pattern = value;
    } else if (key == "model") {
        t.key = QueryTerm::Key::Model;
        t.pattern = model_key(value);
    } else if (key == "lsc") {
        t.key = QueryTerm::Key::Lsc;
        return parse_lsc(std::move(t), value);
    } else if (key == "seen") {
        t.key = QueryTerm::Key::Seen;
        // A certificate class as rlm_lscgate records it (mic, lsc-valid, …), or never.
        const bool ok = std::all_of(value.begin(), value.end(), [](char c) { return (c >= 'a' && c <= 'z') || c == '-'; });
        if (!ok) return bad_term(text, "use seen=mic, seen=lsc-valid (a certificate class as RADIUS records it) or seen=never");
        t.pattern = value;
    } else if (key == "op") {
        t.key = QueryTerm::Key::Op;
        if (value != "pending" && value != "none") return bad_term(text, "use op=pending or op=none");
        t.pattern = value;
    } else
        return bad_term(text, "unknown key '" + escape_nonprintable(key) + "': use name, model, lsc, seen or op");
    return t;
}

// What the registry says of one device's LSCs.
struct LscSummary {
    bool active = false;
    UnixTime active_not_after = 0;
    bool unconfirmed = false;
    bool revoked = false;
};

bool lsc_matches(const QueryTerm& t, const LscSummary& s, UnixTime now) {
    using S = QueryTerm::LscState;
    switch (t.lsc) {
        case S::Active: return s.active && s.active_not_after > now;
        case S::Expiring: return s.active && s.active_not_after - now < t.window_seconds;
        case S::Unconfirmed: return !s.active && s.unconfirmed;
        case S::Revoked: return !s.active && !s.unconfirmed && s.revoked;
        case S::None: return !s.active && !s.unconfirmed && !s.revoked;
    }
    return false;
}

bool has_key(const DeviceQuery& q, QueryTerm::Key key) {
    return std::any_of(q.terms.begin(), q.terms.end(), [&](const QueryTerm& t) { return t.key == key; });
}

// Fills `out` (an out-parameter: GCC 12 misreports a moved Result<unordered_map>
// with -Wfree-nonheap-object).
Status summarize_lscs(Store& store, std::unordered_map<std::string, LscSummary>& out) {
    auto walked = store.each_certificate(std::nullopt, [&](const CertificateRecord& c) -> Status {
        if (c.kind != CertificateKind::Lsc) return {};
        LscSummary& s = out[c.device_name];
        if (c.status == CertificateStatus::Active) {
            s.active_not_after = s.active ? std::max(s.active_not_after, c.facts.not_after) : c.facts.not_after;
            s.active = true;
        } else if (c.status == CertificateStatus::Unconfirmed) {
            s.unconfirmed = true;
        } else if (c.status == CertificateStatus::Revoked) {
            s.revoked = true;
        }
        return {};
    });
    return walked;
}

Status devices_with_open_operation(Store& store, UnixTime now, std::unordered_set<std::string>& out) {
    auto walked = store.each_operation(std::nullopt, false, [&](const Operation& o) -> Status {
        const OperationState s = effective_state(o, now);
        if (s == OperationState::Pending || s == OperationState::InProgress) out.insert(o.device_name);
        return {};
    });
    return walked;
}

}  // namespace

bool DeviceQuery::needs_last_seen() const { return has_key(*this, QueryTerm::Key::Seen); }

std::string DeviceQuery::describe() const {
    if (terms.empty()) return "all devices";
    std::string out;
    for (const auto& t : terms) out += (out.empty() ? "" : " AND ") + escape_nonprintable(t.text);
    return out;
}

Result<DeviceQuery> parse_device_query(const std::vector<std::string>& where) {
    DeviceQuery q;
    for (const auto& text : where) {
        auto t = parse_term(text);
        if (!t) return t.error();
        q.terms.push_back(std::move(*t));
    }
    return q;
}

LastSeenIndex index_last_seen(const std::vector<SeenRecord>& records) {
    LastSeenIndex out;
    for (const auto& r : records) {
        auto [it, fresh] = out.emplace(r.last.device, r.last);
        if (!fresh && r.last.at > it->second.at) it->second = r.last;
    }
    return out;
}

Result<LastSeenIndex> load_last_seen(const std::string& registry, const std::vector<std::string>& files) {
    if (!files.empty()) {
        std::vector<SeenRecord> all;
        for (const auto& f : files) {
            auto rows = read_sqlite_last_seen(f);
            if (!rows) return fail(rows.kind(), f + ": " + rows.message());
            all.insert(all.end(), rows->begin(), rows->end());
        }
        return index_last_seen(all);
    }
    if (!is_postgresql_database(registry))
        return fail(ErrorKind::Config, "seen= needs what the RADIUS nodes saw: a SQLite registry holds no last-seen, so "
                                       "give each node's last-seen file with --seen-file FILE (the module's "
                                       "last_seen_database)");
    auto rows = read_pg_last_seen(registry, std::nullopt);
    if (!rows) return rows.error();
    return index_last_seen(*rows);
}

Result<std::vector<BatchDevice>> select_devices(Store& store, const DeviceQuery& query, UnixTime now,
                                                const LastSeenIndex* seen) {
    if (query.needs_last_seen() && seen == nullptr) return fail("select_devices: seen= without last-seen");
    std::unordered_map<std::string, LscSummary> lscs;
    if (has_key(query, QueryTerm::Key::Lsc))
        if (auto s = summarize_lscs(store, lscs); !s) return s.error();
    std::unordered_set<std::string> open;
    if (has_key(query, QueryTerm::Key::Op))
        if (auto s = devices_with_open_operation(store, now, open); !s) return s.error();
    const LscSummary no_lsc;
    auto matches = [&](const Device& d, const QueryTerm& t) {
        switch (t.key) {
            case QueryTerm::Key::Name: return glob_matches(t.pattern, d.name);
            case QueryTerm::Key::Model: return glob_matches(t.pattern, model_key(d.model));
            case QueryTerm::Key::Lsc: {
                auto it = lscs.find(d.name);
                return lsc_matches(t, it == lscs.end() ? no_lsc : it->second, now);
            }
            case QueryTerm::Key::Seen: {
                auto it = seen->find(d.name);
                return t.pattern == "never" ? it == seen->end() : it != seen->end() && it->second.cls == t.pattern;
            }
            case QueryTerm::Key::Op: return open.contains(d.name) == (t.pattern == "pending");
        }
        return false;
    };
    std::vector<BatchDevice> out;
    auto walked = store.each_device([&](const Device& d) -> Status {
        if (std::all_of(query.terms.begin(), query.terms.end(), [&](const QueryTerm& t) { return matches(d, t); }))
            out.push_back(BatchDevice{d.name, 0, d.model, d.description});
        return {};
    });
    if (!walked) return walked.error();
    if (out.empty() && query.terms.empty()) return fail(ErrorKind::Input, "the registry has no devices");
    if (out.empty()) return fail(ErrorKind::Input, "no device matches " + query.describe());
    return out;
}

}  // namespace lscgate
