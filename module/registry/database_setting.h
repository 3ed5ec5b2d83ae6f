#pragma once

// The registry database setting as the administrator writes it (lscgate.toml
// [store] database, LSCGATE_DATABASE, the --database option): a SQLite file
// path or a PostgreSQL URI/conninfo (database_kind.h). A file path is resolved
// against the configuration directory; a conninfo never is (resolving
// "host=db dbname=radius" as a path would turn it into a file name).

#include "pki/result.h"

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace lscgate {

/// Environment variable that overrides [store] database.
inline constexpr const char* kDatabaseEnvironment = "LSCGATE_DATABASE";

/// The database to open for `setting`: a PostgreSQL URI/conninfo unchanged; a
/// file path, when relative, resolved against `dir` (absolute paths unchanged).
std::string resolve_database(const std::filesystem::path& dir, const std::string& setting);

/// `setting` as it may be printed or logged: a PostgreSQL password (in
/// password=…, user:password@ or ?password=…) replaced by "***"; a file path
/// unchanged (pq_conninfo.h).
std::string database_for_display(std::string_view setting);

/// `error` with every PostgreSQL password of `database` replaced by "***": for
/// messages of code that may quote the setting it was given (a SQLite open of
/// a URI says "database postgresql://u:pw@… does not exist").
Error without_database_secrets(Error error, std::string_view database);

/// Checks a database setting: not empty; a PostgreSQL URI/conninfo libpq can
/// parse (PQconninfoParse, libpq docs §34.1); something that is clearly meant as
/// a keyword/value conninfo (it names host=, dbname=, user=, port= or service=)
/// but that libpq refuses is an error rather than a file name. `origin` names
/// where the value came from ("[store] database", "LSCGATE_DATABASE",
/// "--database") and starts the message. Errors (Config) never contain the
/// password.
Status validate_database_setting(const std::string& setting, std::string_view origin);

/// The setting in force, by precedence: `option` (a command-line --database),
/// then `environment` (LSCGATE_DATABASE's value; nullptr or "" = unset), then
/// `configured` ([store] database, whose default is "lscgate.db"). Sets
/// `origin` to where the winner came from.
std::string choose_database(const std::optional<std::string>& option, const char* environment,
                            const std::string& configured, std::string& origin);

}  // namespace lscgate
