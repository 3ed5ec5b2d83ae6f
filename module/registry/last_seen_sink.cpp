// Which last-seen sink a RADIUS node writes to (last_seen_sink.h).

#include "registry/last_seen_sink.h"

#include "registry/database_kind.h"
#include "registry/postgresql/pg_last_seen.h"

namespace lscgate {

Result<std::unique_ptr<LastSeenSink>> open_last_seen_sink(std::string_view last_seen_database,
                                                          std::string_view registry_database) {
    if (last_seen_database == "none") return std::unique_ptr<LastSeenSink>();
    if (last_seen_database.empty()) {
        if (!is_postgresql_database(registry_database)) return std::unique_ptr<LastSeenSink>();
        return open_pg_last_seen(std::string(registry_database));
    }
    if (is_postgresql_database(last_seen_database)) return open_pg_last_seen(std::string(last_seen_database));
    return open_sqlite_last_seen(std::filesystem::path(std::string(last_seen_database)));
}

}  // namespace lscgate
