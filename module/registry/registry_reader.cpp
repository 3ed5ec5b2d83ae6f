#include "registry/registry_reader.h"

#include "registry/database_kind.h"
#include "registry/postgresql/pg_registry_reader.h"
#include "registry/sqlite_registry_reader.h"

namespace lscgate {

Result<std::unique_ptr<RegistryReader>> RegistryReader::open(const std::string& database,
                                                             const RegistryReaderOptions& options, LogSink log) {
    if (is_postgresql_database(database)) return PgRegistryReader::open(database, options, std::move(log));
    return SqliteRegistryReader::open(database, options.connections, std::move(log));
}

Result<std::unique_ptr<RegistryReader>> RegistryReader::open(const std::string& database, std::size_t connections,
                                                             LogSink log) {
    RegistryReaderOptions options;
    options.connections = connections;
    return open(database, options, std::move(log));
}

}  // namespace lscgate
