#pragma once

// Which registry backend a database setting names ([store] database in
// lscgate.toml, LSCGATE_DATABASE, `lscgate init --database`, the module's
// `database` option, `radius-lab build --database`).

#include <string_view>

namespace lscgate {

/// True when `database` names a PostgreSQL database, false when it names a
/// SQLite file. The rule, in order:
///  1. it starts with `postgresql://` or `postgres://` (libpq's URI prefixes,
///     libpq docs §34.1.1.2; lower case, as libpq requires): PostgreSQL;
///  2. it contains '=' and is, as a whole, a valid libpq keyword/value string
///     (libpq's own parser, PQconninfoParse, accepts it: every item is
///     `keyword=value` with a keyword libpq knows, such as host, hostaddr, port,
///     dbname, user, service, sslmode): PostgreSQL;
///  3. anything else is a file path: SQLite.
/// So `/srv/a=b/lscgate.db` and `lscgate=1.db` are files (their first item is
/// no libpq keyword), while a relative file literally named like a conninfo
/// (`host=x.db`) must be written with a directory (`./host=x.db`).
bool is_postgresql_database(std::string_view database);

}  // namespace lscgate
