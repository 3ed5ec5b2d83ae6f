// The registry: schema and migrations, transactions (all or nothing), the
// lifecycle of operations and certificates, locked and corrupt databases.
//
// StoreTest: what only the SQLite file has (WAL, PRAGMA user_version, file
// faults). StoreOnBackends: every behaviour of the writer, run on both backends
// (ctest names end in /sqlite or /postgresql); the PostgreSQL one on a fresh
// database of a real throwaway cluster (pg_cluster.h), as the issuer role.

#include "pki/auth_secret.h"
#include "pki/certificate.h"
#include "registry/sqlite_handles.h"
#include "registry/store.h"
#include "registry/sqlite_store.h"
#include "registry/store_schema.h"
#include "registry/postgresql/pg_migrate.h"
#include "registry/postgresql/pq_handles.h"
#include "pg_cluster.h"
#include "test_support.h"

#include <gtest/gtest.h>

#include <sys/socket.h>
#include <netinet/in.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <latch>
#include <thread>
#include <fstream>
#include <optional>
#include <stdexcept>

using namespace lscgate;
using lscgate::test::TempDir;

namespace {

class StoreTest : public ::testing::Test {
protected:
    TempDir dir;
    Store store = test::make_store(dir / "lscgate.db");
    test::TestCa capf = test::make_root_ca("CN=CAPF-store,O=Example");
    CapfAuthority authority = test::authority_from(capf);

    Operation schedule(const std::string& device, OperationKind kind = OperationKind::Install) {
        OperationRequest r;
        r.kind = kind;
        auto op = store.schedule_operation(device, r, "test");
        EXPECT_TRUE(op) << op.message();
        return *op;
    }
    X509Ptr lsc_for(const std::string& device) {
        auto key = test::make_key("ec:p256");
        return std::move(*authority.issue_lsc(device, key.get(), 30));
    }
    int count(const std::string& sql) {
        auto st = store.database().prepare(sql);
        EXPECT_TRUE(st);
        EXPECT_TRUE(*st->step());
        return static_cast<int>(st->column_int(0));
    }
};

// The registry writer on the backend named by the test parameter.
class StoreOnBackends : public ::testing::TestWithParam<std::string> {
protected:
    TempDir dir;
    std::optional<test::PgTestDatabase> pg_db;
    std::string database = make_database();
    Store store = open_store(database);
    test::TestCa capf = test::make_root_ca("CN=CAPF-store,O=Example");
    CapfAuthority authority = test::authority_from(capf);

    bool on_pg() const { return GetParam() == "postgresql"; }
    // A file path, or the issuer's conninfo to a fresh database with setup.sql applied.
    std::string make_database() {
        if (!on_pg()) return (dir / "lscgate.db").string();
        auto cluster = test::PgCluster::shared();
        if (!cluster) throw std::runtime_error("no PostgreSQL test cluster: " + cluster.message());
        auto db = (*cluster)->create_database();
        if (!db) throw std::runtime_error("no test database: " + db.message());
        pg_db = *db;
        return db->issuer;
    }
    static Store open_store(const std::string& database, Store::OpenMode mode = Store::OpenMode::CreateAndMigrate) {
        auto s = Store::open(database, mode);
        if (!s) throw std::runtime_error(s.message());
        return std::move(*s);
    }
    // A second connection as the superuser, tables found without `lscgate.`:
    // the tests' SQL reads the same on both engines.
    PgConnection& raw_pg() {
        if (!raw_) {
            auto c = PgConnection::connect(pg_db->superuser);
            if (!c) throw std::runtime_error(c.message());
            if (auto r = c->exec("SET search_path = lscgate"); !r) throw std::runtime_error(r.message());
            raw_ = std::move(*c);
        }
        return *raw_;
    }

    Operation schedule(const std::string& device, OperationKind kind = OperationKind::Install) {
        OperationRequest r;
        r.kind = kind;
        auto op = store.schedule_operation(device, r, "test");
        EXPECT_TRUE(op) << op.message();
        return *op;
    }
    X509Ptr lsc_for(const std::string& device) {
        auto key = test::make_key("ec:p256");
        return std::move(*authority.issue_lsc(device, key.get(), 30));
    }
    // The one integer (or boolean) `sql` selects.
    int count(const std::string& sql) {
        if (on_pg()) {
            auto r = raw_pg().exec("SELECT (" + sql + ")::int");
            EXPECT_TRUE(r) << r.message();
            if (!r) return -1;
            auto v = r->int64(0, 0);
            EXPECT_TRUE(v) << v.message();
            return v ? static_cast<int>(*v) : -1;
        }
        auto st = store.database().prepare(sql);
        EXPECT_TRUE(st);
        EXPECT_TRUE(*st->step());
        return static_cast<int>(st->column_int(0));
    }
    // Raw SQL behind the Store's back; `pg_sql` when PostgreSQL needs other words.
    Status exec(const std::string& sqlite_sql, const std::string& pg_sql = "") {
        if (on_pg()) {
            auto r = raw_pg().exec(pg_sql.empty() ? sqlite_sql : pg_sql);
            if (!r) return r.error();
            return {};
        }
        return store.database().exec(sqlite_sql);
    }

    std::optional<PgConnection> raw_;
};

// Test names end in the backend: ctest -R 'StoreOnBackends.*/sqlite' (or /postgresql).
std::string backend_name(const ::testing::TestParamInfo<std::string>& param) { return param.param; }

INSTANTIATE_TEST_SUITE_P(Backends, StoreOnBackends, ::testing::Values(std::string("sqlite"), std::string("postgresql")),
                         backend_name);

TEST_F(StoreTest, MigratesToTheCurrentSchemaInWalMode) {
    EXPECT_EQ(store.schema_version(), kStoreSchemaVersion);
    auto st = store.database().prepare("PRAGMA journal_mode");
    ASSERT_TRUE(st);
    ASSERT_TRUE(*st->step());
    EXPECT_EQ(st->column_text(0), "wal");
    for (const char* table : {"devices", "operations", "certificates", "capf_certificates", "audit", "capf_sessions",
                              "rollouts", "rollout_waves", "rollout_devices"})
        EXPECT_EQ(count(std::string("SELECT count(*) FROM sqlite_master WHERE type='table' AND name='") + table + "'"), 1)
            << table;
}

TEST_F(StoreTest, ReopeningIsIdempotentAndNewerSchemasAreRefused) {
    ASSERT_TRUE(store.add_device("SEP000000000001", "CP-8841", "", "test"));
    auto again = Store::open((dir / "lscgate.db").string(), Store::OpenMode::CreateAndMigrate);
    ASSERT_TRUE(again) << again.message();
    auto dev = again->find_device("SEP000000000001");
    ASSERT_TRUE(dev && dev->has_value());
    EXPECT_EQ((*dev)->model, "CP-8841");
    ASSERT_TRUE(store.database().exec("PRAGMA user_version = 99"));
    auto newer = Store::open((dir / "lscgate.db").string());
    ASSERT_FALSE(newer);
    EXPECT_NE(newer.message().find("newer"), std::string::npos) << newer.message();
}

TEST_F(StoreTest, MigrationRunsFromVersionZeroAndIsAllOrNothing) {
    TempDir other;
    // An empty file at version 0 is migrated to the current version on create.
    auto fresh = Store::open((other / "fresh.db").string(), Store::OpenMode::CreateAndMigrate);
    ASSERT_TRUE(fresh) << fresh.message();
    EXPECT_EQ(fresh->schema_version(), kStoreSchemaVersion);
    // A migration that fails half-way leaves the file exactly as it was.
    {
        auto raw = SqliteDatabase::open((other / "clash.db").string(), SqliteDatabase::Mode::ReadWriteCreate, 100);
        ASSERT_TRUE(raw);
        ASSERT_TRUE(raw->exec("CREATE TABLE audit(x)"));  // created late in migration 1: it fails there
    }
    auto clash = Store::open((other / "clash.db").string(), Store::OpenMode::CreateAndMigrate);
    ASSERT_FALSE(clash);
    EXPECT_NE(clash.message().find("migration 1 failed"), std::string::npos) << clash.message();
    auto raw = SqliteDatabase::open((other / "clash.db").string(), SqliteDatabase::Mode::ReadOnly, 100);
    ASSERT_TRUE(raw);
    auto st = raw->prepare("SELECT count(*) FROM sqlite_master WHERE name IN ('devices','operations','certificates')");
    ASSERT_TRUE(st);
    ASSERT_TRUE(*st->step());
    EXPECT_EQ(st->column_int(0), 0);
    auto v = raw->prepare("PRAGMA user_version");
    ASSERT_TRUE(v);
    ASSERT_TRUE(*v->step());
    EXPECT_EQ(v->column_int(0), 0);
}

TEST_F(StoreTest, ForeignDatabaseIsRefused) {
    // A database created empty (version 0) by something else is not ours.
    TempDir other;
    {
        auto raw = SqliteDatabase::open((other / "x.db").string(), SqliteDatabase::Mode::ReadWriteCreate, 100);
        ASSERT_TRUE(raw);
        ASSERT_TRUE(raw->exec("CREATE TABLE unrelated(x)"));
    }
    auto foreign = Store::open((other / "x.db").string());
    ASSERT_FALSE(foreign);
    EXPECT_NE(foreign.message().find("not an lscgate database"), std::string::npos);
}

TEST_F(StoreTest, MissingAndCorruptDatabasesGiveClearErrors) {
    auto missing = Store::open((dir / "absent.db").string());
    ASSERT_FALSE(missing);
    EXPECT_NE(missing.message().find("does not exist"), std::string::npos);
    std::ofstream(dir / "garbage.db") << std::string(8192, 'x');
    auto corrupt = Store::open((dir / "garbage.db").string());
    ASSERT_FALSE(corrupt);
    EXPECT_NE(corrupt.message().find("garbage.db"), std::string::npos);
    EXPECT_NE(corrupt.message().find("not a database"), std::string::npos) << corrupt.message();
}

TEST_F(StoreTest, LockedDatabaseFailsWithinTheBusyTimeoutAndLosesNothing) {
    ASSERT_TRUE(store.add_device("SEP000000000001", "", "", "test"));
    auto writer = Store::open((dir / "lscgate.db").string(), Store::OpenMode::ExistingReadWrite, 100);
    ASSERT_TRUE(writer);
    ASSERT_TRUE(writer->database().exec("BEGIN IMMEDIATE"));  // another process holds the write lock
    auto blocked = Store::open((dir / "lscgate.db").string(), Store::OpenMode::ExistingReadWrite, 100);
    ASSERT_TRUE(blocked);
    auto r = blocked->add_device("SEP000000000002", "", "", "test");
    ASSERT_FALSE(r);
    EXPECT_NE(r.message().find("locked"), std::string::npos) << r.message();
    ASSERT_TRUE(writer->database().exec("ROLLBACK"));
    EXPECT_TRUE(blocked->add_device("SEP000000000002", "", "", "test"));
    EXPECT_EQ(count("SELECT count(*) FROM devices"), 2);
}

TEST_P(StoreOnBackends, DevicesAddFindListRemove) {
    ASSERT_TRUE(store.add_device("SEP000000000002", "CP-7841", "lobby", "test"));
    ASSERT_TRUE(store.add_device("SEP000000000001", "CP-8841", "desk", "test"));
    auto dup = store.add_device("SEP000000000001", "", "", "test");
    ASSERT_FALSE(dup);
    EXPECT_NE(dup.message().find("already exists"), std::string::npos);
    auto list = store.list_devices();
    ASSERT_TRUE(list);
    ASSERT_EQ(list->size(), 2u);
    EXPECT_EQ((*list)[0].name, "SEP000000000001");
    EXPECT_TRUE(store.remove_device("SEP000000000001", "test"));
    EXPECT_FALSE(store.remove_device("SEP000000000001", "test"));
    EXPECT_EQ(count("SELECT count(*) FROM audit WHERE action='device.remove'"), 1);
}

TEST_P(StoreOnBackends, SchedulingReplacesTheOpenOperation) {
    ASSERT_TRUE(store.add_device("SEP000000000001", "", "", "test"));
    EXPECT_FALSE(store.schedule_operation("SEP000000000009", {}, "test"));
    auto first = schedule("SEP000000000001");
    auto second = schedule("SEP000000000001", OperationKind::Fetch);
    EXPECT_NE(first.id, second.id);
    auto open = store.open_operation(first.device_id);
    ASSERT_TRUE(open && open->has_value());
    EXPECT_EQ((*open)->id, second.id);
    EXPECT_EQ((*open)->request.kind, OperationKind::Fetch);
    auto all = store.list_operations(std::nullopt, true);
    ASSERT_TRUE(all);
    ASSERT_EQ(all->size(), 2u);
    EXPECT_EQ((*all)[0].state, OperationState::Cancelled);
    EXPECT_TRUE(store.cancel_operation("SEP000000000001", "test"));
    EXPECT_FALSE(store.cancel_operation("SEP000000000001", "test"));
}

TEST_P(StoreOnBackends, OperationRoundTripsKeyAndDeadlineAndHash) {
    ASSERT_TRUE(store.add_device("SEP000000000001", "", "", "test"));
    OperationRequest r;
    r.kind = OperationKind::Install;
    r.auth_mode = AuthMode::String;
    r.auth_secret_hash = *hash_auth_string("12345678");
    r.key = KeySpec{KeyType::Ec, 0, EcCurve::P384};
    r.completes_by = 2000000000;
    auto op = store.schedule_operation("SEP000000000001", r, "test");
    ASSERT_TRUE(op);
    EXPECT_EQ(op->request.key.to_string(), "ec:p384");
    EXPECT_EQ(op->request.completes_by, 2000000000);
    EXPECT_TRUE(verify_auth_string("12345678", op->request.auth_secret_hash));
    EXPECT_EQ(count("SELECT count(*) FROM operations WHERE auth_secret LIKE '%12345678%'"), 0);
    EXPECT_EQ(count("SELECT count(*) FROM audit WHERE detail LIKE '%12345678%'"), 0);
}

TEST_P(StoreOnBackends, ExpireMarksOnlyLatePendingOperations) {
    ASSERT_TRUE(store.add_device("SEP000000000001", "", "", "test"));
    ASSERT_TRUE(store.add_device("SEP000000000002", "", "", "test"));
    OperationRequest late;
    late.completes_by = now_utc() - 10;
    OperationRequest fine;
    fine.completes_by = now_utc() + 3600;
    ASSERT_TRUE(store.schedule_operation("SEP000000000001", late, "test"));
    ASSERT_TRUE(store.schedule_operation("SEP000000000002", fine, "test"));
    auto n = store.expire_operations(now_utc());
    ASSERT_TRUE(n);
    EXPECT_EQ(*n, 1);
    EXPECT_EQ(count("SELECT count(*) FROM operations WHERE state='timed-out'"), 1);
    EXPECT_EQ(count("SELECT count(*) FROM operations WHERE state='pending'"), 1);
}

TEST_P(StoreOnBackends, IssuingSupersedesThePreviousLscInOneTransaction) {
    ASSERT_TRUE(store.add_device("SEP000000000001", "", "", "test"));
    auto op1 = schedule("SEP000000000001");
    auto first = lsc_for("SEP000000000001");
    auto rec1 = store.commit_issued_lsc(op1, first.get());
    ASSERT_TRUE(rec1) << rec1.message();
    EXPECT_EQ(rec1->status, CertificateStatus::Active);
    auto op2 = schedule("SEP000000000001");
    auto second = lsc_for("SEP000000000001");
    auto rec2 = store.commit_issued_lsc(op2, second.get());
    ASSERT_TRUE(rec2);
    auto certs = store.list_certificates(std::string("SEP000000000001"));
    ASSERT_TRUE(certs);
    ASSERT_EQ(certs->size(), 2u);
    EXPECT_EQ((*certs)[0].status, CertificateStatus::Superseded);
    EXPECT_EQ((*certs)[1].status, CertificateStatus::Active);
    EXPECT_EQ((*certs)[1].facts.serial_hex, describe_certificate(second.get())->serial_hex);
    auto active = store.active_lsc("SEP000000000001");
    ASSERT_TRUE(active && active->has_value());
    EXPECT_EQ((*active)->facts.sha256, rec2->facts.sha256);
    EXPECT_EQ(count("SELECT count(*) FROM operations WHERE state='succeeded'"), 2);
}

TEST_P(StoreOnBackends, AFailedCommitLeavesNoHalfWrittenRows) {
    ASSERT_TRUE(store.add_device("SEP000000000001", "", "", "test"));
    auto op = schedule("SEP000000000001");
    auto cert = lsc_for("SEP000000000001");
    ASSERT_TRUE(store.commit_issued_lsc(op, cert.get()));
    // The same operation again: the certificate insert collides (same fingerprint)
    // after the supersede step already ran; everything must roll back.
    auto again = store.commit_issued_lsc(op, cert.get());
    ASSERT_FALSE(again);
    EXPECT_EQ(count("SELECT count(*) FROM certificates WHERE status='active'"), 1);
    EXPECT_EQ(count("SELECT count(*) FROM certificates"), 1);
    // An LSC the phone stored for an operation closed meanwhile (cancelled, replaced)
    // is recorded all the same: the phone holds it. The operation keeps its state.
    auto other = lsc_for("SEP000000000001");
    auto closed = store.commit_issued_lsc(op, other.get());
    ASSERT_TRUE(closed) << closed.message();
    EXPECT_EQ(count("SELECT count(*) FROM certificates"), 2);
    EXPECT_EQ(count("SELECT count(*) FROM certificates WHERE status='active'"), 1);
    EXPECT_EQ(count("SELECT count(*) FROM operations WHERE state='succeeded'"), 1);
}

// =============================================================================
// An issued LSC is recorded before it is sent (issue 7 item 4)

TEST_P(StoreOnBackends, IssuedLscIsUnconfirmedUntilThePhoneConfirmsIt) {
    ASSERT_TRUE(store.add_device("SEP000000000001", "", "", "test"));
    auto old_op = schedule("SEP000000000001");
    auto old_lsc = lsc_for("SEP000000000001");
    ASSERT_TRUE(store.commit_issued_lsc(old_op, old_lsc.get()));
    auto op = schedule("SEP000000000001");
    auto cert = lsc_for("SEP000000000001");
    auto rec = store.record_issued_lsc(op, cert.get());
    ASSERT_TRUE(rec) << rec.message();
    EXPECT_EQ(rec->status, CertificateStatus::Unconfirmed);
    EXPECT_EQ(rec->facts.sha256, describe_certificate(cert.get())->sha256);
    // Recorded, not active: the previous LSC stays the active one, the operation open.
    auto active = store.active_lsc("SEP000000000001");
    ASSERT_TRUE(active && active->has_value());
    EXPECT_EQ((*active)->facts.sha256, describe_certificate(old_lsc.get())->sha256);
    EXPECT_EQ(count("SELECT count(*) FROM certificates WHERE status='unconfirmed'"), 1);
    EXPECT_EQ(count("SELECT count(*) FROM operations WHERE state='pending'"), 1);
    EXPECT_EQ(count("SELECT count(*) FROM audit WHERE action='lsc.record'"), 2);
    // The list shows it as unconfirmed.
    auto listed = store.list_certificates(std::string("SEP000000000001"));
    ASSERT_TRUE(listed);
    ASSERT_EQ(listed->size(), 2u);
    EXPECT_EQ((*listed)[1].status, CertificateStatus::Unconfirmed);

    auto confirmed = store.confirm_issued_lsc(op, rec->id);
    ASSERT_TRUE(confirmed) << confirmed.message();
    EXPECT_EQ(confirmed->status, CertificateStatus::Active);
    active = store.active_lsc("SEP000000000001");
    ASSERT_TRUE(active && active->has_value());
    EXPECT_EQ((*active)->id, rec->id);
    EXPECT_EQ(count("SELECT count(*) FROM certificates WHERE status='superseded'"), 1);
    EXPECT_EQ(count("SELECT count(*) FROM operations WHERE state='succeeded'"), 2);
    // Confirming twice changes nothing.
    ASSERT_TRUE(store.confirm_issued_lsc(op, rec->id));
    EXPECT_EQ(count("SELECT count(*) FROM certificates WHERE status='active'"), 1);
}

TEST_P(StoreOnBackends, ConfirmingAnLscSupersedesStaleUnconfirmedOnes) {
    ASSERT_TRUE(store.add_device("SEP000000000001", "", "", "test"));
    ASSERT_TRUE(store.add_device("SEP000000000002", "", "", "test"));
    auto first = store.record_issued_lsc(schedule("SEP000000000001"), lsc_for("SEP000000000001").get());
    auto neighbour = store.record_issued_lsc(schedule("SEP000000000002"), lsc_for("SEP000000000002").get());
    ASSERT_TRUE(first && neighbour);
    auto op = schedule("SEP000000000001");
    auto second = store.record_issued_lsc(op, lsc_for("SEP000000000001").get());
    ASSERT_TRUE(second);
    ASSERT_TRUE(store.confirm_issued_lsc(op, second->id));
    EXPECT_EQ(count("SELECT count(*) FROM certificates WHERE device_name='SEP000000000001' AND status='superseded'"), 1);
    EXPECT_EQ(count("SELECT count(*) FROM certificates WHERE device_name='SEP000000000001' AND status='active'"), 1);
    // Another device's unconfirmed LSC is not touched.
    EXPECT_EQ(count("SELECT count(*) FROM certificates WHERE device_name='SEP000000000002' AND status='unconfirmed'"), 1);
    // A superseded LSC cannot be confirmed any more.
    auto late = store.confirm_issued_lsc(op, first->id);
    ASSERT_FALSE(late);
    EXPECT_NE(late.message().find("superseded"), std::string::npos) << late.message();
}

TEST_P(StoreOnBackends, DiscardDeletesOnlyAnUnconfirmedLsc) {
    ASSERT_TRUE(store.add_device("SEP000000000001", "", "", "test"));
    auto op = schedule("SEP000000000001");
    auto rec = store.record_issued_lsc(op, lsc_for("SEP000000000001").get());
    ASSERT_TRUE(rec);
    ASSERT_TRUE(store.discard_unconfirmed_lsc(rec->id, "phone refused it"));
    EXPECT_EQ(count("SELECT count(*) FROM certificates"), 0);
    EXPECT_EQ(count("SELECT count(*) FROM audit WHERE action='lsc.discard' AND detail LIKE '%phone refused it%'"), 1);
    auto active = store.commit_issued_lsc(op, lsc_for("SEP000000000001").get());
    ASSERT_TRUE(active);
    ASSERT_TRUE(store.discard_unconfirmed_lsc(active->id, "too late"));  // active: left alone
    EXPECT_EQ(count("SELECT count(*) FROM certificates WHERE status='active'"), 1);
}

TEST_P(StoreOnBackends, ProofOfPossessionMakesAnUnconfirmedLscActiveUnlessANewerOneIs) {
    ASSERT_TRUE(store.add_device("SEP000000000001", "", "", "test"));
    auto old_active = store.commit_issued_lsc(schedule("SEP000000000001"), lsc_for("SEP000000000001").get());
    auto held = store.record_issued_lsc(schedule("SEP000000000001"), lsc_for("SEP000000000001").get());
    ASSERT_TRUE(old_active && held);
    auto proven = store.confirm_lsc_by_possession(held->id);
    ASSERT_TRUE(proven) << proven.message();
    EXPECT_EQ(proven->status, CertificateStatus::Active);
    EXPECT_EQ(count("SELECT count(*) FROM certificates WHERE status='superseded'"), 1);
    EXPECT_EQ(count("SELECT count(*) FROM audit WHERE detail LIKE '%proof of possession%'"), 1);
    // An unconfirmed row older than the active LSC (hand-edited, or an older
    // lscgate) is stale: refused, and marked superseded.
    auto newer = store.commit_issued_lsc(schedule("SEP000000000001"), lsc_for("SEP000000000001").get());
    ASSERT_TRUE(newer);
    ASSERT_TRUE(exec("UPDATE certificates SET status='unconfirmed' WHERE id=" + std::to_string(held->id)));
    auto stale = store.confirm_lsc_by_possession(held->id);
    ASSERT_FALSE(stale);
    EXPECT_NE(stale.message().find("older than the active LSC"), std::string::npos) << stale.message();
    EXPECT_EQ(count("SELECT count(*) FROM certificates WHERE status='unconfirmed'"), 0);
    auto active = store.active_lsc("SEP000000000001");
    ASSERT_TRUE(active && active->has_value());
    EXPECT_EQ((*active)->id, newer->id);
}

TEST_P(StoreOnBackends, RevokingOrDeletingADevicesLscCoversItsUnconfirmedOnes) {
    ASSERT_TRUE(store.add_device("SEP000000000001", "", "", "test"));
    ASSERT_TRUE(store.add_device("SEP000000000002", "", "", "test"));
    auto active = store.commit_issued_lsc(schedule("SEP000000000001"), lsc_for("SEP000000000001").get());
    ASSERT_TRUE(active);
    ASSERT_TRUE(store.record_issued_lsc(schedule("SEP000000000001"), lsc_for("SEP000000000001").get()));
    auto r = store.revoke_active_lsc("SEP000000000001", "key-compromise", "test");
    ASSERT_TRUE(r) << r.message();
    EXPECT_EQ(r->id, active->id) << "the active one is reported";
    EXPECT_EQ(count("SELECT count(*) FROM certificates WHERE device_name='SEP000000000001' AND status='revoked'"), 2);
    // Only an unconfirmed one: it is what gets revoked.
    auto only = store.record_issued_lsc(schedule("SEP000000000002"), lsc_for("SEP000000000002").get());
    ASSERT_TRUE(only);
    auto r2 = store.revoke_active_lsc("SEP000000000002", "unspecified", "test");
    ASSERT_TRUE(r2) << r2.message();
    EXPECT_EQ(r2->id, only->id);
    // A delete operation removes whatever the phone held, unconfirmed included.
    ASSERT_TRUE(store.record_issued_lsc(schedule("SEP000000000002"), lsc_for("SEP000000000002").get()));
    ASSERT_TRUE(store.commit_deleted_lsc(schedule("SEP000000000002", OperationKind::Delete)));
    EXPECT_EQ(count("SELECT count(*) FROM certificates WHERE status='unconfirmed'"), 0);
    EXPECT_EQ(count("SELECT count(*) FROM certificates WHERE device_name='SEP000000000002' AND status='removed'"), 1);
}

TEST_F(StoreTest, MigrationTwoKeepsEveryCertificateAndAllowsUnconfirmed) {
    TempDir other;
    const auto file = (other / "v1.db").string();
    {
        auto raw = SqliteDatabase::open(file, SqliteDatabase::Mode::ReadWriteCreate, 100);
        ASSERT_TRUE(raw);
        ASSERT_TRUE(raw->exec(kStoreMigrations[0]));
        ASSERT_TRUE(raw->exec("PRAGMA user_version = 1"));
        ASSERT_TRUE(raw->exec(
            "INSERT INTO certificates(device_name, kind, serial, fingerprint, subject, issuer, issuer_oneline, "
            "not_before, not_after, key_type, key_bits, pem, status, created_at) VALUES('SEP000000000001','lsc','0A',"
            "'FP','CN=SEP000000000001','CN=CAPF','/CN=CAPF',1,2,'ec',256,'pem','active',3)"));
        EXPECT_FALSE(raw->exec("UPDATE certificates SET status='unconfirmed'")) << "version 1 has no such status";
    }
    auto migrated = Store::open(file);
    ASSERT_TRUE(migrated) << migrated.message();
    EXPECT_EQ(migrated->schema_version(), kStoreSchemaVersion);
    auto rows = migrated->list_certificates(std::nullopt);
    ASSERT_TRUE(rows);
    ASSERT_EQ(rows->size(), 1u);
    EXPECT_EQ((*rows)[0].facts.sha256, "FP");
    EXPECT_EQ((*rows)[0].status, CertificateStatus::Active);
    EXPECT_TRUE(migrated->database().exec("UPDATE certificates SET status='unconfirmed'"));
    EXPECT_FALSE(migrated->database().exec("UPDATE certificates SET status='bogus'"));
    // The indexes came along: still one active LSC per device.
    ASSERT_TRUE(migrated->database().exec("UPDATE certificates SET status='active'"));
    EXPECT_FALSE(migrated->database().exec(
        "INSERT INTO certificates(device_name, kind, serial, fingerprint, subject, issuer, issuer_oneline, not_before, "
        "not_after, key_type, key_bits, pem, status, created_at) VALUES('SEP000000000001','lsc','0B','FP2','s','i',"
        "'/CN=CAPF',1,2,'ec',256,'pem','active',3)"));
}

TEST_P(StoreOnBackends, AnOperationLeftInProgressPastItsDeadlineIsTimedOut) {
    ASSERT_TRUE(store.add_device("SEP000000000001", "", "", "test"));
    OperationRequest r;
    r.completes_by = 1000;
    auto op = store.schedule_operation("SEP000000000001", r, "test");
    ASSERT_TRUE(op);
    ASSERT_TRUE(store.set_operation_state(op->id, OperationState::InProgress, ""));  // its session died
    auto ops = store.list_operations(std::nullopt, true);
    ASSERT_TRUE(ops);
    ASSERT_EQ(ops->size(), 1u);
    EXPECT_EQ(effective_state((*ops)[0], 999), OperationState::InProgress);
    EXPECT_EQ(effective_state((*ops)[0], 1001), OperationState::TimedOut);
    EXPECT_TRUE(is_finished(effective_state((*ops)[0], 1001)));
    Operation done = (*ops)[0];
    done.state = OperationState::Succeeded;
    EXPECT_EQ(effective_state(done, 1001), OperationState::Succeeded);
    Operation open_ended = (*ops)[0];
    open_ended.request.completes_by.reset();
    EXPECT_EQ(effective_state(open_ended, 5000000000), OperationState::InProgress);
}

// =============================================================================
// Bulk writes in bounded transactions

TEST_P(StoreOnBackends, BulkAddCommitsInChunksAndChecksEverythingFirst) {
    std::vector<std::string> names;
    for (int i = 0; i < 1203; ++i) {
        char buf[16];
        std::snprintf(buf, sizeof buf, "SEP%012X", i + 1);
        names.emplace_back(buf);
    }
    auto all = store.add_devices(names, "CP-8841", "", "test");
    ASSERT_FALSE(all.error) << all.error->message;
    EXPECT_EQ(all.done.size(), names.size());
    EXPECT_EQ(count("SELECT count(*) FROM devices"), 1203);
    // Already registered, or twice in the list: nothing is added.
    auto again = store.add_devices({"SEP100000000001", "SEP000000000001"}, "", "", "test");
    ASSERT_TRUE(again.error);
    EXPECT_NE(again.error->message.find("already exists"), std::string::npos);
    EXPECT_TRUE(again.done.empty());
    auto twice = store.add_devices({"SEP100000000001", "SEP100000000001"}, "", "", "test");
    ASSERT_TRUE(twice.error);
    EXPECT_NE(twice.error->message.find("listed twice"), std::string::npos);
    EXPECT_EQ(count("SELECT count(*) FROM devices"), 1203);
    // A failure in the third chunk (of 2 rows) keeps the first two chunks: they
    // were committed on their own, so the writer lock was released between them.
    ASSERT_TRUE(exec("CREATE TRIGGER refuse BEFORE INSERT ON devices WHEN NEW.name = 'SEP200000000005' "
                     "BEGIN SELECT RAISE(ABORT, 'disk full (simulated)'); END",
                     "CREATE FUNCTION lscgate.refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                     "IF NEW.name = 'SEP200000000005' THEN RAISE EXCEPTION 'disk full (simulated)'; END IF; "
                     "RETURN NEW; END $$; CREATE TRIGGER refuse BEFORE INSERT ON lscgate.devices "
                     "FOR EACH ROW EXECUTE FUNCTION lscgate.refuse()"));
    std::vector<std::string> batch;
    for (int i = 1; i <= 7; ++i) batch.push_back("SEP20000000000" + std::to_string(i));
    auto partial = store.add_devices(batch, "", "", "test", 2);
    ASSERT_TRUE(partial.error);
    EXPECT_NE(partial.error->message.find("disk full"), std::string::npos) << partial.error->message;
    ASSERT_EQ(partial.done.size(), 4u);
    EXPECT_EQ(partial.done.back().name, "SEP200000000004");
    EXPECT_EQ(count("SELECT count(*) FROM devices WHERE name LIKE 'SEP2%'"), 4);
}

TEST_P(StoreOnBackends, BulkScheduleCommitsInChunksAndRefusesUnknownDevicesFirst) {
    std::vector<std::pair<std::string, OperationRequest>> items;
    std::vector<std::string> names;
    for (int i = 1; i <= 9; ++i) names.push_back("SEP30000000000" + std::to_string(i));
    ASSERT_FALSE(store.add_devices(names, "", "", "test").error);
    for (const auto& n : names) items.emplace_back(n, OperationRequest{});
    items.emplace_back("SEP3000000000FF", OperationRequest{});
    auto unknown = store.schedule_operations(items, "test", 4);
    ASSERT_TRUE(unknown.error);
    EXPECT_NE(unknown.error->message.find("no such device: SEP3000000000FF"), std::string::npos);
    EXPECT_EQ(count("SELECT count(*) FROM operations"), 0);
    items.pop_back();
    auto ok = store.schedule_operations(items, "test", 4);
    ASSERT_FALSE(ok.error) << ok.error->message;
    ASSERT_EQ(ok.done.size(), 9u);
    EXPECT_EQ(ok.done[8].device_name, "SEP300000000009");
    EXPECT_EQ(count("SELECT count(*) FROM operations WHERE state='pending'"), 9);
}

TEST_P(StoreOnBackends, DeleteAndFetchOutcomes) {
    ASSERT_TRUE(store.add_device("SEP000000000001", "", "", "test"));
    auto install = schedule("SEP000000000001");
    auto cert = lsc_for("SEP000000000001");
    ASSERT_TRUE(store.commit_issued_lsc(install, cert.get()));
    auto fetch = schedule("SEP000000000001", OperationKind::Fetch);
    ASSERT_TRUE(store.commit_fetched_certificate(fetch, cert.get(), CertificateKind::Lsc));
    EXPECT_EQ(count("SELECT count(*) FROM certificates"), 1);  // already known: not duplicated
    auto mic_root = test::make_root_ca("CN=Mfg");
    auto mic_key = test::make_key("rsa:2048");
    auto mic = test::make_leaf(mic_root, mic_key.get(), "CN=CP-8841-SEP000000000001");
    auto fetch2 = schedule("SEP000000000001", OperationKind::Fetch);
    ASSERT_TRUE(store.commit_fetched_certificate(fetch2, mic.get(), CertificateKind::Mic));
    EXPECT_EQ(count("SELECT count(*) FROM certificates WHERE kind='mic' AND status='fetched'"), 1);
    auto del = schedule("SEP000000000001", OperationKind::Delete);
    ASSERT_TRUE(store.commit_deleted_lsc(del));
    EXPECT_EQ(count("SELECT count(*) FROM certificates WHERE status='removed'"), 1);
    auto active = store.active_lsc("SEP000000000001");
    ASSERT_TRUE(active);
    EXPECT_FALSE(active->has_value());
}

TEST_P(StoreOnBackends, RevokeByDeviceAndBySerial) {
    ASSERT_TRUE(store.add_device("SEP000000000001", "", "", "test"));
    ASSERT_TRUE(store.add_device("SEP000000000002", "", "", "test"));
    auto a = lsc_for("SEP000000000001");
    auto b = lsc_for("SEP000000000002");
    ASSERT_TRUE(store.commit_issued_lsc(schedule("SEP000000000001"), a.get()));
    ASSERT_TRUE(store.commit_issued_lsc(schedule("SEP000000000002"), b.get()));
    auto r1 = store.revoke_active_lsc("SEP000000000001", "key-compromise", "test");
    ASSERT_TRUE(r1) << r1.message();
    EXPECT_EQ(r1->status, CertificateStatus::Revoked);
    EXPECT_EQ(r1->revocation_reason, "key-compromise");
    auto again = store.revoke_active_lsc("SEP000000000001", "unspecified", "test");
    ASSERT_FALSE(again);
    EXPECT_NE(again.message().find("no active LSC"), std::string::npos);
    const std::string serial_b = describe_certificate(b.get())->serial_hex;
    ASSERT_TRUE(store.revoke_serial(serial_b, "superseded", "test"));
    EXPECT_FALSE(store.revoke_serial(serial_b, "superseded", "test"));
    EXPECT_FALSE(store.revoke_serial("ABCDEF", "unspecified", "test"));
    EXPECT_EQ(count("SELECT count(*) FROM certificates WHERE status='revoked' AND revoked_at IS NOT NULL"), 2);
    EXPECT_EQ(count("SELECT count(*) FROM audit WHERE action='certificate.revoke'"), 2);
}

TEST_P(StoreOnBackends, LockoutAfterThresholdAndReset) {
    auto dev = store.add_device("SEP000000000001", "", "", "test");
    ASSERT_TRUE(dev);
    // Three attempts are allowed (the third one locks for those after it) ...
    for (int i = 1; i <= 3; ++i) {
        auto allowed = store.reserve_auth_attempt(dev->id, 3, 60);
        ASSERT_TRUE(allowed);
        EXPECT_TRUE(*allowed) << i;
    }
    // ... the fourth, and any parallel one, is refused without running.
    auto refused = store.reserve_auth_attempt(dev->id, 3, 60);
    ASSERT_TRUE(refused);
    EXPECT_FALSE(*refused);
    EXPECT_EQ(count("SELECT count(*) FROM audit WHERE action='device.lockout'"), 1);
    auto d = store.find_device("SEP000000000001");
    ASSERT_TRUE(d->has_value());
    ASSERT_TRUE((*d)->locked_until.has_value());
    EXPECT_GT(*(*d)->locked_until, now_utc());
    EXPECT_TRUE(store.clear_auth_failures(dev->id));
    d = store.find_device("SEP000000000001");
    EXPECT_EQ((*d)->auth_failures, 0);
    EXPECT_FALSE((*d)->locked_until.has_value());
}

TEST_P(StoreOnBackends, AnExpiredLockoutStartsAFreshCount) {
    auto dev = store.add_device("SEP000000000001", "", "", "test");
    ASSERT_TRUE(dev);
    for (int i = 0; i < 3; ++i) ASSERT_TRUE(*store.reserve_auth_attempt(dev->id, 3, 60));
    EXPECT_FALSE(*store.reserve_auth_attempt(dev->id, 3, 60));
    ASSERT_TRUE(exec("UPDATE devices SET locked_until = 1", "UPDATE devices SET locked_until = to_timestamp(1)"));  // the lock ran out
    EXPECT_TRUE(*store.reserve_auth_attempt(dev->id, 3, 60));
    EXPECT_EQ(count("SELECT auth_failures FROM devices"), 1);
    EXPECT_EQ(count("SELECT locked_until IS NULL FROM devices"), 1);
}

TEST_P(StoreOnBackends, AReleasedAttemptIsGivenBackAndLiftsTheLockItReached) {
    auto dev = store.add_device("SEP000000000001", "", "", "test");
    ASSERT_TRUE(dev);
    for (int i = 0; i < 2; ++i) ASSERT_TRUE(*store.reserve_auth_attempt(dev->id, 3, 60));
    ASSERT_TRUE(*store.reserve_auth_attempt(dev->id, 3, 60));  // the third reaches the limit: locked
    EXPECT_EQ(count("SELECT locked_until IS NOT NULL FROM devices"), 1);
    ASSERT_TRUE(store.release_auth_attempt(dev->id, 3));  // ... but it was a server fault
    EXPECT_EQ(count("SELECT auth_failures FROM devices"), 2);
    EXPECT_EQ(count("SELECT locked_until IS NULL FROM devices"), 1);
    EXPECT_TRUE(*store.reserve_auth_attempt(dev->id, 3, 60)) << "the phone may try again";
    // A lock reached by real failures stays when the count is still at the limit.
    ASSERT_TRUE(*store.reserve_auth_attempt(dev->id, 3, 60) == false);
    ASSERT_TRUE(exec("UPDATE devices SET auth_failures = 4"));
    ASSERT_TRUE(store.release_auth_attempt(dev->id, 3));
    EXPECT_EQ(count("SELECT auth_failures FROM devices"), 3);
    EXPECT_EQ(count("SELECT locked_until IS NOT NULL FROM devices"), 1);
    // Never below zero.
    ASSERT_TRUE(store.clear_auth_failures(dev->id));
    ASSERT_TRUE(store.release_auth_attempt(dev->id, 3));
    EXPECT_EQ(count("SELECT auth_failures FROM devices"), 0);
}

TEST_P(StoreOnBackends, CapfRotationKeepsThePreviousCertificate) {
    ASSERT_TRUE(store.add_capf_certificate(capf.cert.get(), "test"));
    auto next = test::make_root_ca("CN=CAPF-next,O=Example");
    ASSERT_TRUE(store.add_capf_certificate(next.cert.get(), "test"));
    auto list = store.list_capf_certificates();
    ASSERT_TRUE(list);
    ASSERT_EQ(list->size(), 2u);
    EXPECT_EQ((*list)[0].status, CapfStatus::Current);
    EXPECT_EQ((*list)[0].facts.subject, "CN=CAPF-next,O=Example");
    EXPECT_EQ((*list)[1].status, CapfStatus::Previous);
    // Re-adding the old one makes it current again without duplicating it.
    ASSERT_TRUE(store.add_capf_certificate(capf.cert.get(), "test"));
    list = store.list_capf_certificates();
    ASSERT_EQ(list->size(), 2u);
    EXPECT_EQ((*list)[0].facts.subject, "CN=CAPF-store,O=Example");
}

TEST_P(StoreOnBackends, RetiringAPreviousCapfCertificate) {
    ASSERT_TRUE(store.add_capf_certificate(capf.cert.get(), "test"));
    auto next = test::make_root_ca("CN=CAPF-next,O=Example");
    ASSERT_TRUE(store.add_capf_certificate(next.cert.get(), "test"));
    const std::string old_fp = describe_certificate(capf.cert.get())->sha256;
    const std::string new_fp = describe_certificate(next.cert.get())->sha256;
    auto current = store.retire_capf_certificate(new_fp, "test");
    ASSERT_FALSE(current);
    EXPECT_NE(current.message().find("current"), std::string::npos);
    EXPECT_FALSE(store.retire_capf_certificate("ABC", "test"));       // too short to be sure
    EXPECT_FALSE(store.retire_capf_certificate("00000000", "test"));  // no such certificate (almost surely)
    auto retired = store.retire_capf_certificate(old_fp.substr(0, 12), "test");
    ASSERT_TRUE(retired) << retired.message();
    EXPECT_EQ(retired->status, CapfStatus::Retired);
    EXPECT_EQ(count("SELECT count(*) FROM capf_certificates WHERE status='retired'"), 1);
    EXPECT_EQ(count("SELECT count(*) FROM audit WHERE action='capf.retire'"), 1);
    EXPECT_FALSE(store.retire_capf_certificate(old_fp, "test"));  // already retired
}

TEST_P(StoreOnBackends, AuditIsAppendOnly) {
    ASSERT_TRUE(store.audit("test", "x", "", ""));
    EXPECT_FALSE(exec("UPDATE audit SET actor='someone else'"));
    EXPECT_FALSE(exec("DELETE FROM audit"));
    auto events = store.list_audit(10);
    ASSERT_TRUE(events);
    ASSERT_EQ(events->size(), 1u);
    EXPECT_EQ((*events)[0].actor, "test");
}

TEST_P(StoreOnBackends, NestedTransactionsRollBackTogether) {
    {
        auto outer = store.transaction();
        ASSERT_TRUE(outer);
        ASSERT_TRUE(store.add_device("SEP000000000001", "", "", "test"));  // nested savepoint inside
        ASSERT_FALSE(store.add_device("SEP000000000001", "", "", "test"));
        // outer not committed: destructor rolls everything back
    }
    EXPECT_EQ(count("SELECT count(*) FROM devices"), 0);
}

// =============================================================================
// Concurrency (issue 8 item 6): two writers on one registry

TEST_P(StoreOnBackends, ClaimingAnOperationIsExclusiveUntilItIsStale) {
    ASSERT_TRUE(store.add_device("SEP000000000001", "", "", "test"));
    auto op = schedule("SEP000000000001");
    const UnixTime now = now_utc();
    auto first = store.claim_operation(op.id, now, 600, "server A");
    ASSERT_TRUE(first) << first.message();
    EXPECT_TRUE(*first);
    auto second = store.claim_operation(op.id, now, 600, "server B");
    ASSERT_TRUE(second) << second.message();
    EXPECT_FALSE(*second) << "an operation in progress is not claimed twice";
    EXPECT_EQ(count("SELECT count(*) FROM operations WHERE state='in-progress'"), 1);
    // The claimer itself (one process) may take back a claim none of its sessions holds.
    auto own = store.claim_operation(op.id, now + 1, 600, "server A");
    ASSERT_TRUE(own);
    EXPECT_TRUE(*own);
    EXPECT_FALSE(*store.claim_operation(op.id, now + 600, 600, "server B")) << "fresh: A claimed it at now + 1";
    // Its session died with its server: after the stale time another one takes it over.
    // PostgreSQL judges by its own clock (store.h): the claim is made old there.
    if (on_pg()) {
        ASSERT_TRUE(raw_pg().exec("UPDATE operations SET updated_at = updated_at - interval '601 seconds'"));
    }
    auto later = store.claim_operation(op.id, now + 601, 600, "server B");
    ASSERT_TRUE(later);
    EXPECT_TRUE(*later);
    // Handed back (the session failed on the phone's side): claimable again.
    ASSERT_TRUE(store.set_operation_state(op.id, OperationState::Pending, "phone went away"));
    EXPECT_TRUE(*store.claim_operation(op.id, now + 602, 600, "server A"));
    // Finished: never claimed again.
    ASSERT_TRUE(store.commit_issued_lsc(op, lsc_for("SEP000000000001").get()));
    EXPECT_FALSE(*store.claim_operation(op.id, now + 5000, 600, "server A"));
}

// Two CAPF servers whose clocks disagree share a PostgreSQL registry: the one
// running an hour ahead does not take over the other's live session, because the
// database server's clock stamps and judges claims.
// Two connections (two `lscgate serve`) race for the same operation, many times:
// exactly one claims it and records its LSC each time, and every write of both
// (claims, records, confirmations, plain audit events) leaves its audit row.
TEST_P(StoreOnBackends, TwoWritersNeverIssueTwiceForOneOperationAndLoseNoAuditRow) {
    constexpr int kRounds = 40;
    ASSERT_TRUE(store.add_device("SEP000000000001", "", "", "test"));
    Store a = open_store(database, Store::OpenMode::ExistingReadWrite);
    Store b = open_store(database, Store::OpenMode::ExistingReadWrite);
    std::vector<X509Ptr> certs;  // made up front: the race is the registry's
    for (int i = 0; i < 2 * kRounds; ++i) certs.push_back(lsc_for("SEP000000000001"));
    const int audit_before = count("SELECT count(*) FROM audit");
    std::atomic<int> audit_writes{0};
    std::atomic<int> failures{0};
    std::string failure_text;
    std::mutex failure_lock;
    for (int round = 0; round < kRounds; ++round) {
        const Operation op = schedule("SEP000000000001");
        std::atomic<int> winners{0};
        std::latch start(2);
        auto racer = [&](Store& mine, const X509* cert, const std::string& server) {
            auto note = [&](const std::string& what) {
                ++failures;
                std::lock_guard<std::mutex> g(failure_lock);
                failure_text = what;
            };
            start.arrive_and_wait();
            if (mine.audit("racer", "race.attempt", op.device_name, "round")) ++audit_writes;
            else note("audit failed");
            auto claimed = mine.claim_operation(op.id, now_utc(), 600, server);
            if (!claimed) return note("claim: " + claimed.message());
            if (!*claimed) return;
            ++winners;
            auto rec = mine.record_issued_lsc(op, cert);
            if (!rec) return note("record: " + rec.message());
            auto ok = mine.confirm_issued_lsc(op, rec->id);
            if (!ok) return note("confirm: " + ok.message());
            audit_writes += 2;  // lsc.record, lsc.issue
        };
        std::thread ta(racer, std::ref(a), certs[static_cast<std::size_t>(2 * round)].get(), "server A");
        std::thread tb(racer, std::ref(b), certs[static_cast<std::size_t>(2 * round + 1)].get(), "server B");
        ta.join();
        tb.join();
        ASSERT_EQ(failures.load(), 0) << failure_text;
        ASSERT_EQ(winners.load(), 1) << "round " << round;
    }
    EXPECT_EQ(count("SELECT count(*) FROM certificates"), kRounds) << "one LSC per operation";
    EXPECT_EQ(count("SELECT count(*) FROM operations WHERE state='succeeded'"), kRounds);
    EXPECT_EQ(count("SELECT count(*) FROM certificates WHERE status='active'"), 1);
    // Every successful write left its row: kRounds schedules + the racers' writes.
    EXPECT_EQ(count("SELECT count(*) FROM audit") - audit_before, kRounds + audit_writes.load());
}

// =============================================================================
// PostgreSQL only: roles, outages, row locks

class PgStoreTest : public StoreOnBackends {};

// On PostgreSQL, several hosts write: claim staleness is judged by the server's clock.
TEST_P(PgStoreTest, AClaimIsJudgedByTheServersClockNotTheClaimers) {
    ASSERT_TRUE(store.add_device("SEP000000000001", "", "", "test"));
    auto op = schedule("SEP000000000001");
    const UnixTime now = now_utc();
    ASSERT_TRUE(*store.claim_operation(op.id, now - 3600, 600, "server A (an hour behind)"));
    auto ahead = store.claim_operation(op.id, now + 3600, 600, "server B (an hour ahead)");
    ASSERT_TRUE(ahead) << ahead.message();
    EXPECT_FALSE(*ahead) << "a live claim was taken over by a server whose clock runs ahead";
}

TEST_P(PgStoreTest, TheRadiusRoleCannotWriteThroughTheStore) {
    auto radius = Store::open(pg_db->radius, Store::OpenMode::ExistingReadWrite);
    ASSERT_FALSE(radius);
    EXPECT_EQ(radius.kind(), ErrorKind::Config) << radius.message();
    EXPECT_NE(radius.message().find("lscgate_radius has no INSERT/UPDATE privilege on lscgate."), std::string::npos)
        << radius.message();
    EXPECT_EQ(radius.message().find(test::kPgRadiusPassword), std::string::npos);
    // Nor can it migrate (create) the schema.
    auto create = Store::open(pg_db->radius, Store::OpenMode::CreateAndMigrate);
    ASSERT_FALSE(create);
    EXPECT_EQ(create.kind(), ErrorKind::Config) << create.message();
}

TEST_P(PgStoreTest, AWrongPasswordIsConfigAndNeverQuoted) {
    auto cluster = test::PgCluster::shared();
    ASSERT_TRUE(cluster);
    const std::string wrong = "Wrong-pw-Q9z";
    auto r = Store::open((*cluster)->tcp_conninfo("lscgate_issuer", wrong, pg_db->name));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.kind(), ErrorKind::Config) << r.message();
    EXPECT_EQ(r.message().find(wrong), std::string::npos) << r.message();
}

TEST_P(PgStoreTest, AnUnreachableServerIsUnavailable) {
    // A port nobody listens on: bound, then closed again.
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    ASSERT_GE(fd, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    socklen_t len = sizeof addr;
    ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
    const int port = ntohs(addr.sin_port);
    ::close(fd);
    const std::string uri = "postgresql://lscgate_issuer:" + std::string(test::kPgIssuerPassword) + "@127.0.0.1:" +
                            std::to_string(port) + "/" + pg_db->name;
    auto r = Store::open(uri);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.kind(), ErrorKind::Unavailable) << r.message();
    EXPECT_EQ(r.message().find(test::kPgIssuerPassword), std::string::npos) << r.message();
}

TEST_P(PgStoreTest, AWriteWaitsForARowLockAtMostTheBusyTimeoutAndLosesNothing) {
    auto dev = store.add_device("SEP000000000001", "", "", "test");
    ASSERT_TRUE(dev);
    auto blocked = Store::open(database, Store::OpenMode::ExistingReadWrite, 300);
    ASSERT_TRUE(blocked) << blocked.message();
    // A CLI write holds the device row (as a CAPF session's transaction would).
    ASSERT_TRUE(raw_pg().exec("BEGIN; SELECT 1 FROM devices WHERE name='SEP000000000001' FOR UPDATE"));
    const auto started = std::chrono::steady_clock::now();
    auto r = blocked->reserve_auth_attempt(dev->id, 3, 60);
    const auto waited = std::chrono::steady_clock::now() - started;
    ASSERT_FALSE(r);
    EXPECT_EQ(r.kind(), ErrorKind::Unavailable) << r.message();
    EXPECT_NE(r.message().find("lock timeout"), std::string::npos) << r.message();
    EXPECT_LT(waited, std::chrono::seconds(5));
    ASSERT_TRUE(raw_pg().exec("ROLLBACK"));
    EXPECT_EQ(count("SELECT auth_failures FROM devices"), 0) << "the timed-out write changed nothing";
    auto again = blocked->reserve_auth_attempt(dev->id, 3, 60);
    ASSERT_TRUE(again) << again.message();
    EXPECT_TRUE(*again);
    EXPECT_EQ(count("SELECT auth_failures FROM devices"), 1);
}

TEST_P(PgStoreTest, AServerRestartIsUnavailableThenRecoveredWithoutReopening) {
    ASSERT_TRUE(store.add_device("SEP000000000001", "", "", "test"));
    auto cluster = test::PgCluster::shared();
    ASSERT_TRUE(cluster);
    ASSERT_TRUE((*cluster)->stop());
    auto down = store.add_device("SEP000000000002", "", "", "test");
    ASSERT_FALSE(down);
    EXPECT_EQ(down.kind(), ErrorKind::Unavailable) << down.message();
    ASSERT_TRUE((*cluster)->start());
    raw_.reset();
    auto back = store.add_device("SEP000000000002", "", "", "test");
    ASSERT_TRUE(back) << back.message();
    auto found = store.find_device("SEP000000000001");
    ASSERT_TRUE(found && found->has_value()) << found.message();
    EXPECT_EQ(count("SELECT count(*) FROM devices"), 2);
}

TEST_P(PgStoreTest, OpensThroughStoreOpenAndReportsTheSchemaVersion) {
    EXPECT_FALSE(store.is_sqlite());
    EXPECT_EQ(store.schema_version(), pg_schema_latest_version());
    auto again = Store::open(database, Store::OpenMode::CreateAndMigrate);  // idempotent
    ASSERT_TRUE(again) << again.message();
    ASSERT_TRUE(raw_pg().exec("INSERT INTO schema_version(version) VALUES (99)"));
    auto newer = Store::open(database);
    ASSERT_FALSE(newer);
    EXPECT_NE(newer.message().find("newer"), std::string::npos) << newer.message();
}

INSTANTIATE_TEST_SUITE_P(Backends, PgStoreTest, ::testing::Values(std::string("postgresql")),
                         backend_name);

}  // namespace
