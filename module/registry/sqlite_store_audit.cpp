// The SQLite backend's audit trail: appending a chained row
// (registry/audit_chain.h), reading rows newest first or in chain order, and
// chaining the rows a registry had before schema version 3.

#include "registry/audit_chain.h"
#include "registry/sqlite_store.h"

#include <vector>

namespace lscgate {

namespace {

constexpr const char* kAuditColumns = "id, at, actor, action, device, detail, prev_hash, hash";
// Rows held in memory at once while chaining an existing trail.
constexpr int kChainPageRows = 1000;

AuditEvent read_audit(const SqliteStatement& st) {
    return AuditEvent{st.column_int(0),  st.column_int(1),  st.column_text(2), st.column_text(3),
                      st.column_text(4), st.column_text(5), st.column_text(6), st.column_text(7)};
}

}  // namespace

Status SqliteStore::audit(const std::string& actor, const std::string& action, const std::string& device,
                          const std::string& detail) {
    // BEGIN IMMEDIATE (or a savepoint inside one): this connection holds SQLite's
    // single writer lock from here to the commit, so no other writer can append
    // between reading the last hash and inserting the row chained to it.
    auto tx = SqliteTransaction::begin(db_);
    if (!tx) return tx.error();
    auto last = db_.prepare("SELECT id, hash FROM audit ORDER BY id DESC LIMIT 1");
    if (!last) return last.error();
    auto found = last->step();
    if (!found) return found.error();
    AuditEvent e{0, now_utc(), actor, action, device, detail, std::string(kAuditGenesisHash), {}};
    if (*found) {
        e.id = last->column_int(0) + 1;
        e.prev_hash = last->column_text(1);
    } else {
        e.id = 1;
    }
    last->reset();
    e.hash = audit_row_hash(e.prev_hash, e);
    auto st = db_.prepare(
        "INSERT INTO audit(id, at, actor, action, device, detail, prev_hash, hash) VALUES(?,?,?,?,?,?,?,?)");
    if (!st) return st.error();
    st->bind(1, e.id).bind(2, e.at).bind(3, actor).bind(4, action).bind(5, device).bind(6, detail);
    st->bind(7, e.prev_hash).bind(8, e.hash);
    if (auto s = st->run(); !s) return s;
    return tx->commit();
}

Status SqliteStore::each_audit_event(int limit, const RowFn<AuditEvent>& row) {
    auto st = db_.prepare(std::string("SELECT ") + kAuditColumns + " FROM audit ORDER BY id DESC LIMIT ?");
    if (!st) return st.error();
    st->bind(1, limit);
    while (true) {
        auto r = st->step();
        if (!r) return r.error();
        if (!*r) return {};
        if (auto s = row(read_audit(*st)); !s) return s;
    }
}

Status SqliteStore::each_audit_row(std::int64_t after_id, const RowFn<AuditEvent>& row) {
    // One statement: one read snapshot of the whole trail (WAL), streamed.
    auto st = db_.prepare(std::string("SELECT ") + kAuditColumns + " FROM audit WHERE id > ? ORDER BY id");
    if (!st) return st.error();
    st->bind(1, after_id);
    while (true) {
        auto r = st->step();
        if (!r) return r.error();
        if (!*r) return {};
        if (auto s = row(read_audit(*st)); !s) return s;
    }
}

Status SqliteStore::chain_existing_audit_rows() {
    // Inside the migration's transaction, with the UPDATE trigger dropped. A page
    // is read completely before it is updated: no statement writes the rows
    // another one is stepping through.
    std::string prev(kAuditGenesisHash);
    std::int64_t after = 0;
    while (true) {
        std::vector<AuditEvent> page;
        {
            auto st = db_.prepare(std::string("SELECT ") + kAuditColumns +
                                  " FROM audit WHERE id > ? ORDER BY id LIMIT " + std::to_string(kChainPageRows));
            if (!st) return st.error();
            st->bind(1, after);
            while (true) {
                auto r = st->step();
                if (!r) return r.error();
                if (!*r) break;
                page.push_back(read_audit(*st));
            }
            st->reset();
        }
        if (page.empty()) return {};
        auto up = db_.prepare("UPDATE audit SET prev_hash = ?, hash = ? WHERE id = ?");
        if (!up) return up.error();
        for (const auto& e : page) {
            const std::string hash = audit_row_hash(prev, e);
            up->bind(1, prev).bind(2, hash).bind(3, e.id);
            if (auto s = up->run(); !s) return s;
            up->reset();
            prev = hash;
            after = e.id;
        }
    }
}

}  // namespace lscgate
