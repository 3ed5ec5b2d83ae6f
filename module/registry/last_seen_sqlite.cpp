// The SQLite last-seen sink: one RADIUS node's own file (last_seen_sink.h).

#include "registry/last_seen_sink.h"

#include "registry/sqlite_handles.h"

#include <array>
#include <set>

namespace lscgate {
namespace {

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS last_seen(
  device TEXT PRIMARY KEY,
  class TEXT NOT NULL,
  nas TEXT NOT NULL,
  reason TEXT NOT NULL,
  at INTEGER NOT NULL,
  count INTEGER NOT NULL
);
)sql";

// Columns added after the first release: a file written by an older module gets
// them (empty) on open; SQLite's ALTER TABLE ADD COLUMN keeps the rows.
constexpr std::array<const char*, 5> kAddedColumns = {"calling_station_id", "nas_port_id", "acct_session_id",
                                                      "audit_session_id", "node"};

Status add_missing_columns(SqliteDatabase& db) {
    auto st = db.prepare("SELECT name FROM pragma_table_info('last_seen')");
    if (!st) return st.error();
    std::set<std::string> have;
    while (true) {
        auto row = st->step();
        if (!row) return row.error();
        if (!*row) break;
        have.insert(st->column_text(0));
    }
    for (const char* column : kAddedColumns) {
        if (have.count(column) != 0) continue;
        // The name is one of ours (no outside text in the SQL).
        if (auto s = db.exec(std::string("ALTER TABLE last_seen ADD COLUMN ") + column + " TEXT NOT NULL DEFAULT ''"); !s)
            return s;
    }
    return {};
}

class SqliteLastSeenSink final : public LastSeenSink {
public:
    SqliteLastSeenSink(SqliteDatabase db, std::string file) : db_(std::move(db)), file_(std::move(file)) {}

    Status write(const std::vector<SeenRecord>& batch, const std::string& node) override {
        auto tx = SqliteTransaction::begin(db_);
        if (!tx) return tx.error();
        auto st = db_.prepare(
            "INSERT INTO last_seen(device, class, nas, reason, at, count, calling_station_id, nas_port_id, "
            "acct_session_id, audit_session_id, node) VALUES(?,?,?,?,?,?,?,?,?,?,?) "
            "ON CONFLICT(device) DO UPDATE SET class=excluded.class, nas=excluded.nas, reason=excluded.reason, "
            "at=excluded.at, count=last_seen.count + excluded.count, calling_station_id=excluded.calling_station_id, "
            "nas_port_id=excluded.nas_port_id, acct_session_id=excluded.acct_session_id, "
            "audit_session_id=excluded.audit_session_id, node=excluded.node");
        if (!st) return st.error();
        for (const auto& rec : batch) {
            const SeenEvent& e = rec.last;
            st->bind(1, e.device).bind(2, e.cls).bind(3, e.nas).bind(4, e.reason).bind(5, e.at).bind(6, rec.count)
                .bind(7, e.calling_station_id).bind(8, e.nas_port_id).bind(9, e.acct_session_id)
                .bind(10, e.audit_session_id).bind(11, node);
            if (auto s = st->run(); !s) return s;
        }
        return tx->commit();
    }

    std::string describe() const override { return "sqlite:" + file_; }

private:
    SqliteDatabase db_;
    std::string file_;
};

}  // namespace

Result<std::unique_ptr<LastSeenSink>> open_sqlite_last_seen(const std::filesystem::path& file) {
    auto db = SqliteDatabase::open(file.string(), SqliteDatabase::Mode::ReadWriteCreate, 1000);
    if (!db) return db.error();
    if (auto s = configure_wal(*db); !s) return fail(file.string() + ": " + s.message());
    if (auto s = db->exec(kSchema); !s) return fail(file.string() + ": " + s.message());
    if (auto s = add_missing_columns(*db); !s) return fail(file.string() + ": " + s.message());
    return std::unique_ptr<LastSeenSink>(std::make_unique<SqliteLastSeenSink>(std::move(*db), file.string()));
}

Result<std::vector<SeenRecord>> read_sqlite_last_seen(const std::filesystem::path& file,
                                                      const std::optional<std::string>& device) {
    auto db = SqliteDatabase::open(file.string(), SqliteDatabase::Mode::ReadOnly, 1000);
    if (!db) return db.error();
    // A file of an older module lacks the added columns: read them as ''.
    std::string columns = "device, class, nas, reason, at, count";
    {
        auto st = db->prepare("SELECT count(*) FROM pragma_table_info('last_seen') WHERE name = 'node'");
        if (!st) return st.error();
        auto row = st->step();
        if (!row) return row.error();
        columns += (*row && st->column_int(0) == 1)
                       ? ", calling_station_id, nas_port_id, acct_session_id, audit_session_id, node"
                       : ", '', '', '', '', ''";
    }
    auto st = db->prepare("SELECT " + columns + " FROM last_seen" + (device ? " WHERE device = ?" : "") + " ORDER BY device");
    if (!st) return st.error();
    if (device) st->bind(1, *device);
    std::vector<SeenRecord> out;
    while (true) {
        auto row = st->step();
        if (!row) return row.error();
        if (!*row) break;
        SeenRecord r;
        r.last = {st->column_text(0), st->column_text(1), st->column_text(2), st->column_text(3), st->column_int(4),
                  st->column_text(6), st->column_text(7), st->column_text(8), st->column_text(9), st->column_text(10)};
        r.count = st->column_int(5);
        out.push_back(std::move(r));
    }
    return out;
}

}  // namespace lscgate
