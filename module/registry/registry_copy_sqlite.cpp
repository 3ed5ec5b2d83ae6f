// The SQLite side of `lscgate registry copy` (registry_copy_end.h).

#include "registry/registry_copy_end.h"
#include "registry/sqlite_handles.h"
#include "registry/sqlite_store.h"
#include "registry/store.h"

#include <filesystem>
#include <optional>

namespace lscgate {
namespace {

constexpr int kBusyTimeoutMs = 5000;

std::string column_list(const CopyTable& table) {
    std::string out;
    for (const auto& c : table.columns) out += (out.empty() ? "" : ", ") + std::string(c.name);
    return out;
}

Result<int> user_version(SqliteDatabase& db) {
    auto st = db.prepare("PRAGMA user_version");
    if (!st) return st.error();
    auto row = st->step();
    if (!row) return row.error();
    return static_cast<int>(st->column_int(0));
}

// The schema check both directions share: 0 and newer are refused.
Status check_known_version(int version, const std::string& path) {
    if (version == 0) return fail(ErrorKind::Config, path + " is not an lscgate registry (schema version 0)");
    if (version > kStoreSchemaVersion)
        return fail(ErrorKind::Config, path + ": schema version " + std::to_string(version) + " is newer than this lscgate (" +
                                           std::to_string(kStoreSchemaVersion) + "); copy with the lscgate that wrote it");
    return {};
}

class SqliteCopyEnd final : public CopyEnd {
public:
    explicit SqliteCopyEnd(SqliteDatabase db) : db_(std::move(db)) {}
    ~SqliteCopyEnd() override {
        write_.reset();  // ROLLBACK unless committed
        if (reading_) (void)db_.exec("ROLLBACK");
    }

    Status begin_read() {
        if (auto s = db_.exec("BEGIN"); !s) return s;
        reading_ = true;
        return {};
    }
    Status begin_write() {
        auto tx = SqliteTransaction::begin(db_);
        if (!tx) return tx.error();
        write_.emplace(std::move(*tx));
        return {};
    }

    Status each_row(const CopyTable& table, const std::function<Status(const CopyRow&)>& fn) override {
        auto st = db_.prepare("SELECT " + column_list(table) + " FROM " + std::string(table.name) + " ORDER BY " +
                              std::string(table.order_by));
        if (!st) return st.error();
        for (;;) {
            auto more = st->step();
            if (!more) return more.error();
            if (!*more) return {};
            CopyRow row;
            row.reserve(table.columns.size());
            for (std::size_t i = 0; i < table.columns.size(); ++i) {
                const int col = static_cast<int>(i);
                if (table.columns[i].kind == CopyColumnKind::Text) {
                    row.push_back(st->column_optional_text(col));
                } else {
                    auto v = st->column_optional_int(col);
                    row.push_back(v ? std::optional<std::string>(std::to_string(*v)) : std::nullopt);
                }
            }
            if (auto s = fn(row); !s) return s;
        }
    }

    Status insert(const CopyTable& table, const std::vector<CopyRow>& rows) override {
        std::string marks;
        for (std::size_t i = 0; i < table.columns.size(); ++i) marks += i == 0 ? "?" : ", ?";
        auto st = db_.prepare("INSERT INTO " + std::string(table.name) + "(" + column_list(table) + ") VALUES (" + marks + ")");
        if (!st) return st.error();
        for (const auto& row : rows) {
            for (std::size_t i = 0; i < row.size(); ++i) {
                const int index = static_cast<int>(i) + 1;
                if (!row[i]) {
                    st->bind(index, std::nullopt);
                } else if (table.columns[i].kind == CopyColumnKind::Text) {
                    st->bind(index, *row[i]);
                } else {
                    auto v = copy_integer(table, i, *row[i]);
                    if (!v) return v.error();
                    st->bind(index, *v);
                }
            }
            if (auto s = st->run(); !s)
                return fail(s.kind(), std::string(table.name) + " " + std::string(table.columns[0].name) + " " +
                                          row[0].value_or("?") + ": " + s.message());
            st->reset();
        }
        return {};
    }

    Status finish_table(const CopyTable&) override { return {}; }

    Result<std::int64_t> count(const CopyTable& table) override {
        auto st = db_.prepare("SELECT count(*) FROM " + std::string(table.name));
        if (!st) return st.error();
        auto row = st->step();
        if (!row) return row.error();
        return st->column_int(0);
    }

    Status commit() override {
        if (!write_) return fail("nothing to commit");
        auto s = write_->commit();
        write_.reset();
        return s;
    }

private:
    SqliteDatabase db_;
    std::optional<SqliteTransaction> write_;  // reset before db_ closes
    bool reading_ = false;
};

}  // namespace

Result<std::unique_ptr<CopyEnd>> open_sqlite_copy_source(const std::string& path) {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(path, ec)) return fail(ErrorKind::Config, "database " + path + " does not exist");
    auto db = SqliteDatabase::open(path, SqliteDatabase::Mode::ReadOnly, kBusyTimeoutMs);
    if (!db) return fail(ErrorKind::Config, db.message());
    auto version = user_version(*db);
    if (!version) return fail(ErrorKind::Config, path + ": " + version.message());
    if (auto s = check_known_version(*version, path); !s) return s.error();
    if (*version < kStoreSchemaVersion)
        return fail(ErrorKind::Config, path + ": schema version " + std::to_string(*version) +
                                           " is older than this lscgate's; open it once with this lscgate to upgrade it "
                                           "(e.g. lscgate --database " + path + " device list)");
    auto end = std::make_unique<SqliteCopyEnd>(std::move(*db));
    if (auto s = end->begin_read(); !s) return s.error();
    return std::unique_ptr<CopyEnd>(std::move(end));
}

Result<std::unique_ptr<CopyEnd>> open_sqlite_copy_target(const std::string& path) {
    std::error_code ec;
    const bool exists = std::filesystem::exists(path, ec);
    if (exists) {
        auto probe = SqliteDatabase::open(path, SqliteDatabase::Mode::ReadOnly, kBusyTimeoutMs);
        if (!probe) return fail(ErrorKind::Config, probe.message());
        auto version = user_version(*probe);
        if (!version) return fail(ErrorKind::Config, path + ": " + version.message());
        if (auto s = check_known_version(*version, path); !s) return s.error();
    }
    // Creates the file and its schema, or upgrades an older one (the store's own migrations).
    if (auto store = Store::open(path, exists ? Store::OpenMode::ExistingReadWrite : Store::OpenMode::CreateAndMigrate); !store)
        return store.error();
    auto db = SqliteDatabase::open(path, SqliteDatabase::Mode::ReadWrite, kBusyTimeoutMs);
    if (!db) return db.error();
    if (auto s = db->exec("PRAGMA foreign_keys = ON"); !s) return s.error();
    if (auto s = configure_wal(*db); !s) return s.error();
    auto end = std::make_unique<SqliteCopyEnd>(std::move(*db));
    if (auto s = end->begin_write(); !s) return s.error();
    return std::unique_ptr<CopyEnd>(std::move(end));
}

}  // namespace lscgate
