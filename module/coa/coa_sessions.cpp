#include "coa/coa_sessions.h"

#include "coa/nas_secrets.h"
#include "registry/database_kind.h"
#include "registry/postgresql/pg_last_seen.h"

#include <map>

namespace lscgate {

Result<std::vector<SeenRecord>> device_last_seen(const std::string& database,
                                                 const std::vector<std::filesystem::path>& files,
                                                 const std::string& device) {
    if (is_postgresql_database(database)) {
        auto rows = read_pg_last_seen(database, device);
        if (!rows) return fail(rows.kind(), "lscgate.last_seen: " + rows.message());
        return rows;
    }
    if (files.empty())
        return fail(ErrorKind::Config,
                    "the registry is a SQLite file, which holds no last-seen: name the RADIUS node's last-seen file "
                    "(the module's last_seen_database) in [coa] last_seen or with --last-seen");
    std::vector<SeenRecord> out;
    for (const auto& file : files) {
        auto all = read_sqlite_last_seen(file);
        if (!all) return fail(all.kind(), file.string() + ": " + all.message());
        for (auto& r : *all)
            if (r.last.device == device) out.push_back(std::move(r));
    }
    return out;
}

std::vector<CoaTarget> coa_targets(const std::vector<SeenRecord>& rows) {
    std::map<std::string, CoaTarget> by_nas;
    for (const auto& r : rows) {
        const std::string nas = canonical_address(r.last.nas).value_or(r.last.nas);
        auto [it, added] = by_nas.try_emplace(nas, CoaTarget{nas, r.last});
        if (!added && r.last.at > it->second.session.at) it->second.session = r.last;
    }
    std::vector<CoaTarget> out;
    out.reserve(by_nas.size());
    for (auto& [nas, target] : by_nas) {
        target.session.nas = target.nas;
        out.push_back(std::move(target));
    }
    return out;
}

}  // namespace lscgate
