// The registry's SQLite file: what only it has (WAL, PRAGMA user_version,
// migrations from an older file, file faults and the write lock). Behaviours
// shared with PostgreSQL are in the other store_*_test.cpp files (StoreOnBackends).

#include "registry/sqlite_handles.h"
#include "registry/sqlite_store.h"
#include "registry/store.h"
#include "registry/store_schema.h"
#include "test_support.h"

#include <gtest/gtest.h>

#include <fstream>
#include <optional>
#include <string>

using namespace lscgate;
using lscgate::test::TempDir;

namespace {

class StoreTest : public ::testing::Test {
protected:
    TempDir dir;
    Store store = test::make_store(dir / "lscgate.db");

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

}  // namespace
