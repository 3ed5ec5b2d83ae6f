#include "registry/database_kind.h"

#include <libpq-fe.h>

#include <string>

namespace lscgate {

bool is_postgresql_database(std::string_view database) {
    if (database.starts_with("postgresql://") || database.starts_with("postgres://")) return true;
    if (database.find('=') == std::string_view::npos) return false;
    // A NUL inside would cut the string short for libpq: no conninfo has one.
    if (database.find('\0') != std::string_view::npos) return false;
    const std::string text(database);
    char* error = nullptr;
    PQconninfoOption* options = PQconninfoParse(text.c_str(), &error);
    PQfreemem(error);
    if (options == nullptr) return false;
    PQconninfoFree(options);
    return true;
}

}  // namespace lscgate
