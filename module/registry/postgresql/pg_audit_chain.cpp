#include "registry/postgresql/pg_audit_chain.h"

#include "registry/audit_chain.h"
#include "registry/postgresql/pg_last_seen.h"

#include <optional>
#include <vector>

namespace lscgate {

std::string pg_audit_columns() {
    return "id, floor(extract(epoch FROM at))::bigint, actor, action, device, detail, prev_hash, hash";
}

Result<AuditEvent> pg_audit_row(const PgResult& result, int row) {
    auto id = result.int64(row, 0);
    auto at = result.int64(row, 1);
    if (!id || !at) return fail("corrupt audit row (id or time unreadable)");
    AuditEvent e;
    e.id = *id;
    e.at = *at;
    e.actor = result.text(row, 2);
    e.action = result.text(row, 3);
    e.device = result.text(row, 4);
    e.detail = result.text(row, 5);
    e.prev_hash = result.text(row, 6);
    e.hash = result.text(row, 7);
    return e;
}

Status pg_chain_existing_audit_rows(PgConnection& conn) {
    const std::string select = "SELECT " + pg_audit_columns() +
                               " FROM lscgate.audit WHERE id > $1::bigint ORDER BY id LIMIT " +
                               std::to_string(kPgAuditPageRows);
    // One UPDATE per page: the hashes cross as arrays, not one round trip per row.
    const std::string update =
        "UPDATE lscgate.audit a SET prev_hash = u.prev_hash, hash = u.hash "
        "FROM unnest($1::bigint[], $2::text[], $3::text[]) AS u(id, prev_hash, hash) WHERE a.id = u.id";
    std::string prev(kAuditGenesisHash);
    std::int64_t after = 0;
    while (true) {
        auto page = conn.exec_params(select, {pg_param(after)});
        if (!page) return page.error();
        if (page->rows() == 0) return {};
        std::vector<std::optional<std::string>> ids, prevs, hashes;
        for (int i = 0; i < page->rows(); ++i) {
            auto row = pg_audit_row(*page, i);
            if (!row) return row.error();
            const std::string hash = audit_row_hash(prev, *row);
            ids.emplace_back(std::to_string(row->id));
            prevs.emplace_back(prev);
            hashes.emplace_back(hash);
            prev = hash;
            after = row->id;
        }
        if (auto r = conn.exec_params(update, {pg_text_array(ids), pg_text_array(prevs), pg_text_array(hashes)}); !r)
            return r.error();
    }
}

}  // namespace lscgate
