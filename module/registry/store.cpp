#include "registry/store.h"

#include "registry/database_kind.h"
#include "registry/postgresql/pg_store.h"
#include "registry/sqlite_store.h"

#include <algorithm>
#include <ctime>

namespace lscgate {

UnixTime now_utc() { return static_cast<UnixTime>(std::time(nullptr)); }

Result<Store> Store::open(const std::string& database, OpenMode mode, int busy_timeout_ms) {
    // A libpq URI or conninfo is a shared PostgreSQL registry; anything else a file.
    if (is_postgresql_database(database)) {
        auto pg = PgStore::open(database, mode, busy_timeout_ms);
        if (!pg) return pg.error();
        return Store(std::move(*pg));
    }
    auto sqlite = SqliteStore::open(database, mode, busy_timeout_ms);
    if (!sqlite) return sqlite.error();
    return Store(std::move(*sqlite));
}

Result<StoreTransaction> Store::transaction() {
    auto tx = impl_->begin();
    if (!tx) return tx.error();
    return StoreTransaction(std::move(*tx));
}

void Store::set_writer_lock(std::shared_ptr<std::mutex> lock) {
    if (auto* db = impl_->sqlite()) db->set_writer_lock(std::move(lock));
}

Result<std::vector<Device>> Store::list_devices() {
    std::vector<Device> out;
    if (auto s = each_device(collect_into(out)); !s) return s.error();
    return out;
}

Result<std::vector<Operation>> Store::list_operations(const std::optional<std::string>& device, bool include_finished) {
    std::vector<Operation> out;
    if (auto s = each_operation(device, include_finished, collect_into(out)); !s) return s.error();
    return out;
}

Result<std::vector<CertificateRecord>> Store::list_certificates(const std::optional<std::string>& device) {
    std::vector<CertificateRecord> out;
    if (auto s = each_certificate(device, collect_into(out)); !s) return s.error();
    return out;
}

Result<AuditChainReport> Store::verify_audit(const std::optional<std::string>& anchor) {
    AuditChainVerifier verifier(anchor);
    auto walked = each_audit_row(0, [&verifier](const AuditEvent& row) -> Status {
        verifier.add(row);
        return {};
    });
    if (!walked) return walked.error();
    return verifier.finish();
}

Status Store::each_device_page(const DevicePageQuery& query, const RowFn<DeviceListRow>& row) {
    DevicePageQuery q = query;
    q.limit = std::clamp(q.limit, 1, kMaxDevicePageRows);
    if (q.before.empty()) return impl_->each_device_page(q, row);
    // Backwards the backend reads newest name first: collected (at most
    // kMaxDevicePageRows), then handed out in name order like a forward page.
    std::vector<DeviceListRow> rows;
    if (auto s = impl_->each_device_page(q, collect_into(rows)); !s) return s;
    for (auto it = rows.rbegin(); it != rows.rend(); ++it)
        if (auto s = row(*it); !s) return s;
    return {};
}

Result<std::vector<AuditEvent>> Store::list_audit(int limit) {
    std::vector<AuditEvent> out;
    if (auto s = each_audit_event(limit, collect_into(out)); !s) return s.error();
    return out;
}

}  // namespace lscgate
