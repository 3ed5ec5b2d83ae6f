#include "core/registry_reader.h"

#include "core/certificate.h"
#include "core/store.h"

#include <filesystem>

namespace lscgate {
namespace {

constexpr const char* kColumns =
    "device_name, kind, status, serial, issuer_oneline, fingerprint, not_before, not_after, "
    "CASE WHEN status = 'unconfirmed' THEN EXISTS(SELECT 1 FROM certificates a WHERE a.device_name = "
    "certificates.device_name AND a.kind = 'lsc' AND a.status = 'active' AND a.id > certificates.id) ELSE 0 END";

Result<RegisteredCertificate> read_row(const SqliteStatement& st) {
    RegisteredCertificate r;
    r.device_name = st.column_text(0);
    auto kind = parse_certificate_kind(st.column_text(1));
    auto status = parse_certificate_status(st.column_text(2));
    if (!kind || !status) return fail("corrupt certificate row for " + r.device_name);
    r.kind = *kind;
    r.status = *status;
    r.serial_hex = st.column_text(3);
    r.issuer_oneline = st.column_text(4);
    r.fingerprint = st.column_text(5);
    r.not_before = st.column_int(6);
    r.not_after = st.column_int(7);
    r.older_than_active = st.column_int(8) != 0;
    return r;
}

Result<std::optional<RegisteredCertificate>> first_row(SqliteStatement& st) {
    auto row = st.step();
    if (!row) return row.error();
    if (!*row) return std::optional<RegisteredCertificate>{};
    auto r = read_row(st);
    if (!r) return r.error();
    return std::optional<RegisteredCertificate>{std::move(*r)};
}

}  // namespace

Result<std::unique_ptr<RegistryReader>> RegistryReader::open(const std::string& path, std::size_t connections) {
    // SQLite's memory statistics take a process-wide mutex on every allocation,
    // which serialises parallel readers. This only works before SQLite is first
    // used in the process (otherwise it is refused, harmlessly).
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
    if (!std::filesystem::exists(path)) return fail("registry " + path + " does not exist");
    std::unique_ptr<RegistryReader> reader(new RegistryReader());
    for (std::size_t i = 0; i < std::max<std::size_t>(1, connections); ++i) {
        auto db = SqliteDatabase::open(path, SqliteDatabase::Mode::ReadOnly, 2000);
        if (!db) return db.error();
        // Checking the schema also proves the file is a readable lscgate registry.
        auto v = db->prepare("PRAGMA user_version");
        if (!v) return fail(path + ": " + v.message());
        auto row = v->step();
        if (!row || !*row) return fail(path + ": cannot read the schema version");
        const auto version = v->column_int(0);
        if (version < 1 || version > kStoreSchemaVersion)
            return fail(path + ": schema version " + std::to_string(version) + " is not one this module understands");
        // Memory-map the file so lookups read pages in place instead of copying
        // them through pread() per request; keep a generous page cache too.
        for (const char* pragma : {"PRAGMA mmap_size = 268435456", "PRAGMA cache_size = -16384"}) {
            auto st = db->prepare(pragma);
            if (!st) return fail(path + ": " + st.message());
            if (auto r = st->step(); !r) return fail(path + ": " + r.message());
        }
        auto c = std::make_unique<Connection>();
        c->db = std::move(*db);
        reader->connections_.push_back(std::move(c));
    }
    return reader;
}

RegistryReader::Connection& RegistryReader::pick() {
    const std::size_t n = connections_.size();
    const std::size_t start = next_.fetch_add(1, std::memory_order_relaxed);
    // Prefer an idle connection; wait on one only when all are busy.
    for (std::size_t i = 0; i < n; ++i) {
        Connection& c = *connections_[(start + i) % n];
        if (c.mutex.try_lock()) {
            c.mutex.unlock();
            return c;
        }
    }
    return *connections_[start % n];
}

Result<std::optional<RegisteredCertificate>> RegistryReader::lookup(std::string key, const std::string& sql,
                                                                    const std::string& a, const std::string* b) {
    Connection& c = pick();
    std::lock_guard lock(c.mutex);
    Remembered& slot = c.remembered[std::hash<std::string>{}(key) % c.remembered.size()];
    if (slot.key == key) {
        auto v = c.db.prepare("PRAGMA data_version");
        if (!v) return v.error();
        auto vrow = v->step();
        if (!vrow) return vrow.error();
        if (!*vrow) return fail("PRAGMA data_version returned nothing");
        c.version = v->column_int(0);
        // Nothing committed since before the row was read: it is what a query would return.
        if (slot.version == c.version) return slot.row;
    }
    // Tag with the last version seen *before* this read: if anything commits in
    // between, the tag no longer matches and the row is simply read again.
    const std::int64_t tag = c.version;
    auto st = c.db.prepare(sql);
    if (!st) return st.error();
    st->bind(1, a);
    if (b != nullptr) st->bind(2, *b);
    auto row = first_row(*st);
    if (!row) return row.error();
    slot.key = std::move(key);
    slot.row = *row;
    slot.version = tag;
    return row;
}

Result<std::optional<RegisteredCertificate>> RegistryReader::by_serial(const std::string& serial_hex,
                                                                       const std::string& issuer_oneline) {
    static const std::string sql = std::string("SELECT ") + kColumns +
                                   " FROM certificates WHERE serial = ? AND issuer_oneline = ? AND kind = 'lsc' AND status != 'fetched' "
                                   "ORDER BY (status = 'active') DESC, id DESC LIMIT 1";
    return lookup("s\n" + serial_hex + "\n" + issuer_oneline, sql, serial_hex, &issuer_oneline);
}

Result<std::optional<RegisteredCertificate>> RegistryReader::current_lsc(const std::string& device) {
    static const std::string sql = std::string("SELECT ") + kColumns +
                                   " FROM certificates WHERE device_name = ? AND kind = 'lsc' "
                                   "ORDER BY (status = 'active') DESC, id DESC LIMIT 1";
    return lookup("d\n" + device, sql, device, nullptr);
}

Result<std::string> RegistryReader::capf_signature() {
    Connection& c = pick();
    std::lock_guard lock(c.mutex);
    auto st = c.db.prepare(
        "SELECT coalesce(group_concat(fingerprint || ':' || status, ','), '') FROM "
        "(SELECT fingerprint, status FROM capf_certificates ORDER BY id)");
    if (!st) return st.error();
    auto row = st->step();
    if (!row) return row.error();
    return *row ? st->column_text(0) : std::string();
}

Result<std::vector<X509Ptr>> RegistryReader::trusted_capf_certificates() {
    Connection& c = pick();
    std::lock_guard lock(c.mutex);
    auto st = c.db.prepare("SELECT pem FROM capf_certificates WHERE status IN ('current','previous') ORDER BY id");
    if (!st) return st.error();
    std::vector<X509Ptr> out;
    while (true) {
        auto row = st->step();
        if (!row) return row.error();
        if (!*row) break;
        auto cert = parse_certificate_pem(st->column_text(0));
        if (!cert) return fail("corrupt CAPF certificate in the registry: " + cert.message());
        out.push_back(std::move(*cert));
    }
    return out;
}

}  // namespace lscgate
