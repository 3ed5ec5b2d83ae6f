// The registry: schema and migrations, transactions (all or nothing), the
// lifecycle of operations and certificates, locked and corrupt databases.

#include "core/auth_secret.h"
#include "core/certificate.h"
#include "core/store.h"
#include "core/store_schema.h"
#include "test_support.h"

#include <gtest/gtest.h>

#include <fstream>

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

TEST_F(StoreTest, MigratesToTheCurrentSchemaInWalMode) {
    EXPECT_EQ(store.schema_version(), kStoreSchemaVersion);
    auto st = store.database().prepare("PRAGMA journal_mode");
    ASSERT_TRUE(st);
    ASSERT_TRUE(*st->step());
    EXPECT_EQ(st->column_text(0), "wal");
    for (const char* table : {"devices", "operations", "certificates", "capf_certificates", "audit"})
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

TEST_F(StoreTest, DevicesAddFindListRemove) {
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

TEST_F(StoreTest, SchedulingReplacesTheOpenOperation) {
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

TEST_F(StoreTest, OperationRoundTripsKeyAndDeadlineAndHash) {
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

TEST_F(StoreTest, ExpireMarksOnlyLatePendingOperations) {
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

TEST_F(StoreTest, IssuingSupersedesThePreviousLscInOneTransaction) {
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

TEST_F(StoreTest, AFailedCommitLeavesNoHalfWrittenRows) {
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
    // A closed operation cannot be committed twice either.
    auto other = lsc_for("SEP000000000001");
    auto closed = store.commit_issued_lsc(op, other.get());
    ASSERT_FALSE(closed);
    EXPECT_NE(closed.message().find("no longer open"), std::string::npos);
    EXPECT_EQ(count("SELECT count(*) FROM certificates"), 1);
    EXPECT_EQ(count("SELECT count(*) FROM certificates WHERE status='active'"), 1);
}

TEST_F(StoreTest, DeleteAndFetchOutcomes) {
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

TEST_F(StoreTest, RevokeByDeviceAndBySerial) {
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

TEST_F(StoreTest, LockoutAfterThresholdAndReset) {
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

TEST_F(StoreTest, AnExpiredLockoutStartsAFreshCount) {
    auto dev = store.add_device("SEP000000000001", "", "", "test");
    ASSERT_TRUE(dev);
    for (int i = 0; i < 3; ++i) ASSERT_TRUE(*store.reserve_auth_attempt(dev->id, 3, 60));
    EXPECT_FALSE(*store.reserve_auth_attempt(dev->id, 3, 60));
    ASSERT_TRUE(store.database().exec("UPDATE devices SET locked_until = 1"));  // the lock ran out
    EXPECT_TRUE(*store.reserve_auth_attempt(dev->id, 3, 60));
    EXPECT_EQ(count("SELECT auth_failures FROM devices"), 1);
    EXPECT_EQ(count("SELECT locked_until IS NULL FROM devices"), 1);
}

TEST_F(StoreTest, AReleasedAttemptIsGivenBackAndLiftsTheLockItReached) {
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
    ASSERT_TRUE(store.database().exec("UPDATE devices SET auth_failures = 4"));
    ASSERT_TRUE(store.release_auth_attempt(dev->id, 3));
    EXPECT_EQ(count("SELECT auth_failures FROM devices"), 3);
    EXPECT_EQ(count("SELECT locked_until IS NOT NULL FROM devices"), 1);
    // Never below zero.
    ASSERT_TRUE(store.clear_auth_failures(dev->id));
    ASSERT_TRUE(store.release_auth_attempt(dev->id, 3));
    EXPECT_EQ(count("SELECT auth_failures FROM devices"), 0);
}

TEST_F(StoreTest, CapfRotationKeepsThePreviousCertificate) {
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

TEST_F(StoreTest, RetiringAPreviousCapfCertificate) {
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

TEST_F(StoreTest, AuditIsAppendOnly) {
    ASSERT_TRUE(store.audit("test", "x", "", ""));
    EXPECT_FALSE(store.database().exec("UPDATE audit SET actor='someone else'"));
    EXPECT_FALSE(store.database().exec("DELETE FROM audit"));
    auto events = store.list_audit(10);
    ASSERT_TRUE(events);
    ASSERT_EQ(events->size(), 1u);
    EXPECT_EQ((*events)[0].actor, "test");
}

TEST_F(StoreTest, NestedTransactionsRollBackTogether) {
    {
        auto outer = SqliteTransaction::begin(store.database());
        ASSERT_TRUE(outer);
        ASSERT_TRUE(store.add_device("SEP000000000001", "", "", "test"));  // nested savepoint inside
        ASSERT_FALSE(store.add_device("SEP000000000001", "", "", "test"));
        // outer not committed: destructor rolls everything back
    }
    EXPECT_EQ(count("SELECT count(*) FROM devices"), 0);
}

}  // namespace
