#include "fleet/last_seen_source.h"

#include "fleet/lsc_report.h"
#include "registry/database_kind.h"
#include "registry/postgresql/pg_last_seen.h"

#include <algorithm>

namespace lscgate {

bool LastSeenSource::available() const { return !files.empty() || is_postgresql_database(registry); }

std::string LastSeenSource::unavailable_reason() const {
    if (available()) return "";
    return "a SQLite registry holds no last-seen: name the RADIUS node's last-seen file (the module's "
           "last_seen_database) in [web] last_seen or [coa] last_seen";
}

Result<LastSeenIndex> read_last_seen_index(const LastSeenSource& source) {
    if (!source.available()) return fail(ErrorKind::Config, source.unavailable_reason());
    return load_last_seen(source.registry, source.files);
}

Result<std::vector<SeenRecord>> device_sightings(const LastSeenSource& source, const std::string& device) {
    if (!source.available()) return fail(ErrorKind::Config, source.unavailable_reason());
    std::vector<SeenRecord> out;
    if (source.files.empty()) {
        auto rows = read_pg_last_seen(source.registry, device);
        if (!rows) return fail(rows.kind(), "lscgate.last_seen: " + rows.message());
        out = std::move(*rows);
    }
    for (const auto& file : source.files) {
        auto rows = read_sqlite_last_seen(file, device);
        if (!rows) return fail(rows.kind(), file + ": " + rows.message());
        out.insert(out.end(), rows->begin(), rows->end());
    }
    std::sort(out.begin(), out.end(), [](const SeenRecord& a, const SeenRecord& b) { return a.last.at > b.last.at; });
    return out;
}

std::size_t count_seen_with_mic(const LastSeenIndex& index) {
    return static_cast<std::size_t>(
        std::count_if(index.begin(), index.end(), [](const auto& e) { return e.second.cls == kSeenClassMic; }));
}

}  // namespace lscgate
