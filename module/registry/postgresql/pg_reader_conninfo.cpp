#include "registry/postgresql/pg_reader_conninfo.h"

#include "registry/postgresql/pq_conninfo.h"

#include <libpq-fe.h>

#include <map>
#include <memory>

namespace lscgate {
namespace {

struct OptionsDeleter {
    void operator()(PQconninfoOption* options) const noexcept { PQconninfoFree(options); }
};

std::string quoted(std::string_view value) {
    std::string out = "'";
    for (char c : value) {
        if (c == '\\' || c == '\'') out += '\\';
        out += c;
    }
    return out + "'";
}

}  // namespace

Result<std::string> pg_reader_conninfo(std::string_view conninfo, const PgReaderBounds& bounds) {
    const std::string text(conninfo);
    char* error = nullptr;
    std::unique_ptr<PQconninfoOption, OptionsDeleter> parsed(PQconninfoParse(text.c_str(), &error));
    if (!parsed) {
        const std::string why = error != nullptr ? conninfo_parse_error_text(error, conninfo) : "out of memory";
        PQfreemem(error);
        return fail(ErrorKind::Config, "malformed PostgreSQL connection string: " + why);
    }
    // Ordered by keyword, so the result is stable (and testable).
    std::map<std::string, std::string> set;
    for (const PQconninfoOption* o = parsed.get(); o->keyword != nullptr; ++o)
        if (o->val != nullptr) set[o->keyword] = o->val;
    const auto add = [&](const char* keyword, std::string value) { set.try_emplace(keyword, std::move(value)); };
    add("connect_timeout", std::to_string(std::max<long long>(1, bounds.connect_timeout.count())));
    add("tcp_user_timeout", std::to_string(bounds.tcp_user_timeout.count()));
    add("keepalives", "1");
    add("keepalives_idle", std::to_string(bounds.keepalives_idle.count()));
    add("keepalives_interval", std::to_string(bounds.keepalives_interval.count()));
    add("keepalives_count", std::to_string(bounds.keepalives_count));
    std::string out;
    for (const auto& [keyword, value] : set) {
        if (!out.empty()) out += ' ';
        out += keyword + "=" + quoted(value);
    }
    return out;
}

}  // namespace lscgate
