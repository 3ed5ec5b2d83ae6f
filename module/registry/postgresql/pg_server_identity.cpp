#include "registry/postgresql/pg_server_identity.h"

#include <functional>
#include <string>

namespace lscgate {

Result<std::uint64_t> pg_server_identity(PgConnection& conn) {
    auto r = conn.exec(
        "SELECT pg_postmaster_start_time()::text || ' ' || coalesce(host(inet_server_addr()), 'local') || ' ' || "
        "coalesce(inet_server_port()::text, '') || ' ' || d.oid::text FROM pg_catalog.pg_database d "
        "WHERE d.datname = current_database()");
    if (!r) return r.error();
    if (r->rows() != 1) return fail("cannot tell which database this connection reached");
    const std::uint64_t id = std::hash<std::string>{}(r->text(0, 0));
    return id == 0 ? 1 : id;
}

}  // namespace lscgate
