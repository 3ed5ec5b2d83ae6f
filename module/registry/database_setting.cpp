#include "registry/database_setting.h"

#include "registry/database_kind.h"
#include "registry/postgresql/pq_conninfo.h"

#include <libpq-fe.h>

#include <array>

namespace lscgate {

std::string resolve_database(const std::filesystem::path& dir, const std::string& setting) {
    if (setting.empty() || is_postgresql_database(setting)) return setting;
    const std::filesystem::path p(setting);
    return p.is_absolute() ? setting : (dir / p).string();
}

std::string database_for_display(std::string_view setting) {
    if (!is_postgresql_database(setting)) return std::string(setting);
    return redact_conninfo_secrets(std::string(setting), setting);
}

Error without_database_secrets(Error error, std::string_view database) {
    error.message = redact_conninfo_secrets(std::move(error.message), database);
    return error;
}

namespace {

// libpq's verdict on a conninfo: "" when it parses, else its message made safe to show.
std::string conninfo_parse_problem(const std::string& setting) {
    char* error = nullptr;
    PQconninfoOption* options = PQconninfoParse(setting.c_str(), &error);
    std::string problem;
    if (options == nullptr)
        problem = error != nullptr ? conninfo_parse_error_text(error, setting) : "libpq cannot parse it (out of memory?)";
    PQfreemem(error);
    if (options != nullptr) PQconninfoFree(options);
    return problem;
}

// A keyword/value conninfo names at least one of these; a file name that does
// is far less likely than a typo in a conninfo (and can be written ./host=…).
bool looks_like_conninfo(std::string_view setting) {
    constexpr std::array<std::string_view, 6> keys = {"host=", "hostaddr=", "dbname=", "user=", "port=", "service="};
    for (auto key : keys)
        if (setting.starts_with(key) || setting.find(std::string(" ") + std::string(key)) != std::string_view::npos)
            return true;
    return false;
}

}  // namespace

Status validate_database_setting(const std::string& setting, std::string_view origin) {
    const std::string where(origin);
    if (setting.empty())
        return fail(ErrorKind::Config, where + " is empty: give a SQLite file path or a PostgreSQL URI/conninfo");
    if (setting.find('\0') != std::string::npos) return fail(ErrorKind::Config, where + " contains a NUL character");
    const bool uri = setting.starts_with("postgresql://") || setting.starts_with("postgres://");
    if (uri || (!is_postgresql_database(setting) && looks_like_conninfo(setting))) {
        if (auto problem = conninfo_parse_problem(setting); !problem.empty())
            return fail(ErrorKind::Config, where + ": not a valid PostgreSQL " + (uri ? "URI" : "conninfo") + " (" +
                                               problem + "); a SQLite file whose name looks like one is written ./NAME");
    }
    return {};
}

std::string choose_database(const std::optional<std::string>& option, const char* environment,
                            const std::string& configured, std::string& origin) {
    if (option) {
        origin = "--database";
        return *option;
    }
    if (environment != nullptr && *environment != '\0') {
        origin = kDatabaseEnvironment;
        return environment;
    }
    origin = "[store] database";
    return configured;
}

}  // namespace lscgate
