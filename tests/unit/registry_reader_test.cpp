// The registry reader on both engines (issue 8): the same lookups, remembered
// rows and decisions from an SQLite file and from PostgreSQL, value-parameterised
// (ctest -R 'Sqlite/RegistryReader' or 'PostgreSQL/RegistryReader'); then, SQLite
// only, the registry file changing under the reader (issue 7, items 1 and 2): cut
// short, replaced by a backup, its -wal/-shm deleted, restored the safe way. Real
// SQLite files and a real PostgreSQL cluster; every other writer is a separate
// connection or process (the sqlite3 shell), as lscgate and an admin are for
// FreeRADIUS.

#include "registry/sqlite_handles.h"
#include "decide/decision_engine.h"
#include "registry/registry_files.h"
#include "registry_test_backend.h"
#include "test_support.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <mutex>

using namespace lscgate;
using lscgate::test::TempDir;

namespace {

constexpr int kDevices = 600;

std::string device(int i) {
    char name[16];
    std::snprintf(name, sizeof name, "SEP%012X", 0xA00000 + i);
    return name;
}

// ---- Both engines --------------------------------------------------------------

using test::Engine;

class RegistryReaderBehaviour : public ::testing::TestWithParam<Engine> {
protected:
    void SetUp() override { ASSERT_TRUE(backend.ok()) << backend.setup_error(); }

    // change_watch false: PostgreSQL reads the change counter per lookup, exact at
    // the next lookup like SQLite (pg_registry_reader_test covers the watch).
    std::unique_ptr<RegistryReader> open_reader(std::size_t connections = 2, bool change_watch = false) {
        RegistryReaderOptions options;
        options.connections = connections;
        options.change_watch = change_watch;
        auto r = RegistryReader::open(backend.database(), options);
        EXPECT_TRUE(r) << r.message();
        return r ? std::move(*r) : nullptr;
    }
    X509Ptr lsc(const std::string& device_name, long from_days = -1, long to_days = 365) {
        return test::make_leaf(capf, key.get(), "CN=" + device_name + ",OU=Voice,O=Example", from_days, to_days);
    }
    static CertificateFacts facts(const X509* cert) {
        auto f = describe_certificate(cert);
        EXPECT_TRUE(f) << f.message();
        return f ? *f : CertificateFacts{};
    }

    test::RegistryTestBackend backend{GetParam()};
    test::TestCa capf = test::make_root_ca("CN=CAPF,OU=Voice,O=Example", "ec:p256");
    EvpPkeyPtr key = test::make_key("ec:p256");
    UnixTime now = now_utc();
};

std::string engine_label(const ::testing::TestParamInfo<Engine>& info) { return test::engine_name(info.param); }

TEST_P(RegistryReaderBehaviour, FindsAnLscBySerialAndIssuerAndNothingElse) {
    auto cert = lsc(device(1));
    backend.add_lsc(device(1), cert.get(), "active");
    auto fetched = lsc(device(2));
    backend.add_lsc(device(2), fetched.get(), "fetched");  // read off a phone, never issued: not an LSC to admit
    auto reader = open_reader();
    ASSERT_TRUE(reader);
    const CertificateFacts f = facts(cert.get());
    auto row = reader->by_serial(f.serial_hex, f.issuer_oneline, now);
    ASSERT_TRUE(row) << row.message();
    ASSERT_TRUE(row->has_value());
    EXPECT_EQ((*row)->device_name, device(1));
    EXPECT_EQ((*row)->status, CertificateStatus::Active);
    EXPECT_EQ((*row)->kind, CertificateKind::Lsc);
    EXPECT_EQ((*row)->serial_hex, f.serial_hex);
    EXPECT_EQ((*row)->fingerprint, f.sha256);
    EXPECT_EQ((*row)->not_before, f.not_before);
    EXPECT_EQ((*row)->not_after, f.not_after);
    EXPECT_FALSE((*row)->older_than_active);
    auto other_issuer = reader->by_serial(f.serial_hex, "/CN=Another CAPF", now);
    ASSERT_TRUE(other_issuer) << other_issuer.message();
    EXPECT_FALSE(other_issuer->has_value());
    const CertificateFacts ff = facts(fetched.get());
    auto none = reader->by_serial(ff.serial_hex, ff.issuer_oneline, now);
    ASSERT_TRUE(none) << none.message();
    EXPECT_FALSE(none->has_value());
}

TEST_P(RegistryReaderBehaviour, CurrentLscPrefersTheActiveOneElseTheLatest) {
    auto old_cert = lsc(device(1));
    auto new_cert = lsc(device(1));
    backend.add_lsc(device(1), new_cert.get(), "active");
    backend.add_lsc(device(1), old_cert.get(), "superseded");  // a later id, but not active
    auto revoked = lsc(device(2));
    backend.add_lsc(device(2), revoked.get(), "revoked");
    auto reader = open_reader();
    ASSERT_TRUE(reader);
    auto one = reader->current_lsc(device(1), now);
    ASSERT_TRUE(one) << one.message();
    ASSERT_TRUE(one->has_value());
    EXPECT_EQ((*one)->fingerprint, facts(new_cert.get()).sha256);
    auto two = reader->current_lsc(device(2), now);
    ASSERT_TRUE(two && two->has_value()) << (two ? "no row" : two.message());
    EXPECT_EQ((*two)->status, CertificateStatus::Revoked);
    auto unknown = reader->current_lsc(device(3), now);
    ASSERT_TRUE(unknown) << unknown.message();
    EXPECT_FALSE(unknown->has_value());
}

TEST_P(RegistryReaderBehaviour, AnUnconfirmedLscIssuedBeforeTheActiveOneIsStale) {
    auto stale = lsc(device(1));
    auto active = lsc(device(1));
    backend.add_lsc(device(1), stale.get(), "unconfirmed");
    backend.add_lsc(device(1), active.get(), "active");
    auto pending = lsc(device(1));
    backend.add_lsc(device(1), pending.get(), "unconfirmed");  // issued after the active one: not stale
    auto reader = open_reader();
    ASSERT_TRUE(reader);
    const auto s = facts(stale.get()), p = facts(pending.get());
    auto a = reader->by_serial(s.serial_hex, s.issuer_oneline, now);
    auto b = reader->by_serial(p.serial_hex, p.issuer_oneline, now);
    ASSERT_TRUE(a && a->has_value() && b && b->has_value());
    EXPECT_TRUE((*a)->older_than_active);
    EXPECT_FALSE((*b)->older_than_active);
}

// A remembered row is never staler than a query: the revoke, written on another
// connection after the row was read (and remembered) twice, counts at once.
TEST_P(RegistryReaderBehaviour, ARevokeOnAnotherConnectionIsSeenAtTheNextLookup) {
    auto cert = lsc(device(1));
    backend.add_lsc(device(1), cert.get(), "active");
    auto reader = open_reader(1);
    ASSERT_TRUE(reader);
    const CertificateFacts f = facts(cert.get());
    for (int round = 0; round < 3; ++round) {
        auto by_device = reader->current_lsc(device(1), now);
        auto by_serial = reader->by_serial(f.serial_hex, f.issuer_oneline, now);
        ASSERT_TRUE(by_device && by_device->has_value() && by_serial && by_serial->has_value());
        EXPECT_EQ((*by_device)->status, CertificateStatus::Active);
        EXPECT_EQ((*by_serial)->status, CertificateStatus::Active);
    }
    backend.set_lsc_status(device(1), "revoked");
    auto by_device = reader->current_lsc(device(1), now);
    auto by_serial = reader->by_serial(f.serial_hex, f.issuer_oneline, now);
    ASSERT_TRUE(by_device && by_device->has_value() && by_serial && by_serial->has_value());
    EXPECT_EQ((*by_device)->status, CertificateStatus::Revoked);
    EXPECT_EQ((*by_serial)->status, CertificateStatus::Revoked);
    // A remembered "none" counts no longer than the registry is unchanged either.
    auto none = reader->current_lsc(device(2), now);
    ASSERT_TRUE(none && !none->has_value());
    auto second = lsc(device(2));
    backend.add_lsc(device(2), second.get(), "active");
    auto found = reader->current_lsc(device(2), now);
    ASSERT_TRUE(found && found->has_value());
}

TEST_P(RegistryReaderBehaviour, TrustedCapfCertificatesAndTheirSignatureFollowTheRegistry) {
    test::TestCa previous = test::make_root_ca("CN=CAPF-old,OU=Voice,O=Example", "ec:p256");
    backend.add_capf(previous.cert.get(), "previous");
    backend.add_capf(capf.cert.get(), "current");
    auto reader = open_reader();
    ASSERT_TRUE(reader);
    auto trusted = reader->trusted_capf_certificates();
    ASSERT_TRUE(trusted) << trusted.message();
    ASSERT_EQ(trusted->size(), 2u);
    EXPECT_EQ(facts((*trusted)[0].get()).sha256, facts(previous.cert.get()).sha256);
    EXPECT_EQ(facts((*trusted)[1].get()).sha256, facts(capf.cert.get()).sha256);
    auto before = reader->capf_signature();
    ASSERT_TRUE(before) << before.message();
    EXPECT_EQ(*before, *reader->capf_signature());  // stable while nothing changes
    backend.set_capf_status(previous.cert.get(), "retired");
    auto after = reader->capf_signature();
    ASSERT_TRUE(after) << after.message();
    EXPECT_NE(*after, *before);
    auto now_trusted = reader->trusted_capf_certificates();
    ASSERT_TRUE(now_trusted) << now_trusted.message();
    ASSERT_EQ(now_trusted->size(), 1u);
    EXPECT_EQ(facts((*now_trusted)[0].get()).sha256, facts(capf.cert.get()).sha256);
}

// The whole RADIUS decision from the registry `database` names: a VPN request
// for a device with an active LSC is accepted, and rejected once it is revoked.
TEST_P(RegistryReaderBehaviour, TheDecisionEngineDecidesFromTheRegistry) {
    backend.add_capf(capf.cert.get(), "current");
    auto cert = lsc(device(1));
    backend.add_lsc(device(1), cert.get(), "active");
    EngineConfig cfg;
    cfg.database = backend.database();
    cfg.read_connections = 2;
    cfg.trust_refresh = std::chrono::milliseconds(0);
    cfg.registry_change_watch = false;  // exact at the next decision (the watch: pg_registry_reader_test)
    auto e = DecisionEngine::create(cfg);
    ASSERT_TRUE(e) << e.message();
    Decision accepted = (*e)->decide_vpn(device(1), now);
    EXPECT_EQ(to_string(accepted.cls), to_string(CertClass::LscValid)) << accepted.reason;
    EXPECT_EQ(accepted.verdict, RadiusOutcome::Accept) << accepted.reason;
    backend.set_lsc_status(device(1), "revoked");
    Decision rejected = (*e)->decide_vpn(device(1), now);
    EXPECT_EQ(to_string(rejected.cls), to_string(CertClass::LscRevoked)) << rejected.reason;
    EXPECT_EQ(rejected.verdict, RadiusOutcome::Reject) << rejected.reason;
    Decision unknown = (*e)->decide_vpn(device(2), now);
    EXPECT_EQ(to_string(unknown.cls), to_string(CertClass::LscUnregistered)) << unknown.reason;
}

INSTANTIATE_TEST_SUITE_P(Sqlite, RegistryReaderBehaviour, ::testing::Values(Engine::Sqlite), engine_label);
INSTANTIATE_TEST_SUITE_P(PostgreSQL, RegistryReaderBehaviour, ::testing::Values(Engine::PostgreSQL), engine_label);

// ---- SQLite only: the registry file changing under the reader ---------------------

class RegistryFaults : public ::testing::Test {
protected:
    TempDir dir;
    std::filesystem::path db = dir / "lscgate.db";
    test::TestCa capf = test::make_root_ca("CN=CAPF,OU=Voice,O=Example", "ec:p256");
    UnixTime now = now_utc();
    std::mutex log_mutex;
    std::vector<std::string> logged;

    // A registry of `devices` phones with an active LSC each, written and closed
    // (so the database file holds everything; the -wal is kept, empty).
    void build(int devices) {
        Store store = test::make_store(db);
        ASSERT_TRUE(store.add_capf_certificate(capf.cert.get(), "test"));
        auto key = test::make_key("ec:p256");
        auto tx = SqliteTransaction::begin(store.database());
        ASSERT_TRUE(tx) << tx.message();
        for (int i = 0; i < devices; ++i) {
            ASSERT_TRUE(store.add_device(device(i), "", "", "test"));
            auto op = store.schedule_operation(device(i), OperationRequest{}, "test");
            ASSERT_TRUE(op);
            auto cert = test::make_leaf(capf, key.get(), "CN=" + device(i) + ",OU=Voice,O=Example");
            ASSERT_TRUE(store.commit_issued_lsc(*op, cert.get()));
        }
        ASSERT_TRUE(tx->commit());
    }

    std::unique_ptr<DecisionEngine> engine() {
        EngineConfig cfg;
        cfg.database = db;
        cfg.trust_refresh = std::chrono::milliseconds(0);
        cfg.log = [this](const std::string& m) {
            std::lock_guard lock(log_mutex);
            logged.push_back(m);
        };
        auto e = DecisionEngine::create(cfg);
        EXPECT_TRUE(e) << e.message();
        return e ? std::move(*e) : nullptr;
    }

    void sql(const std::filesystem::path& file, const std::string& statement) {
        auto r = test::run_command("sqlite3 " + file.string() + " \"" + statement + "\" 2>&1");
        ASSERT_EQ(r.status, 0) << statement << ": " << r.output;
    }
    static std::string revoke_sql(const std::string& name) {
        return "UPDATE certificates SET status='revoked' WHERE device_name='" + name + "'";
    }
    std::vector<std::string> log_lines() {
        std::lock_guard lock(log_mutex);
        return logged;
    }
};

void expect_verdict(const Decision& d, CertClass cls, RadiusOutcome verdict) {
    EXPECT_EQ(to_string(d.cls), to_string(cls)) << d.reason;
    EXPECT_EQ(to_string(d.verdict), to_string(verdict)) << d.reason;
    EXPECT_FALSE(d.error) << d.reason;
}

void expect_refused(const Decision& d, const std::string& cause) {
    EXPECT_EQ(d.verdict, RadiusOutcome::Reject) << d.reason;
    EXPECT_TRUE(d.error) << d.reason;
    EXPECT_NE(d.reason.find(cause), std::string::npos) << d.reason;
    EXPECT_TRUE(d.reply.empty());
}

TEST_F(RegistryFaults, EveryConnectionReadsWithoutMemoryMapping) {
    build(1);
    auto conn = SqliteDatabase::open(db.string(), SqliteDatabase::Mode::ReadOnly, 100);
    ASSERT_TRUE(conn) << conn.message();
    auto st = conn->prepare("PRAGMA mmap_size");
    ASSERT_TRUE(st);
    ASSERT_TRUE(*st->step());
    EXPECT_EQ(st->column_int(0), 0);
}

// Item 1: a registry cut short under a running reader. With the file memory-mapped
// this died of SIGBUS (the whole FreeRADIUS); now every answer is a logged refusal.
TEST_F(RegistryFaults, TruncatedRegistryIsRefusedAndTheProcessSurvives) {
    GTEST_FLAG_SET(death_test_style, "threadsafe");
    EXPECT_EXIT(
        {
            build(kDevices);
            auto e = engine();
            if (!e) std::_Exit(2);
            expect_verdict(e->decide_vpn(device(0), now), CertClass::LscValid, RadiusOutcome::Accept);
            std::filesystem::resize_file(db, std::filesystem::file_size(db) / 2);
            // The last device's rows were never read: its pages are past the new end.
            expect_refused(e->decide_vpn(device(kDevices - 1), now), "cut short");
            // A row remembered from before counts no more than the file.
            expect_refused(e->decide_vpn(device(0), now), "cut short");
            const auto lines = log_lines();
            if (lines.size() != 1 || lines[0].find("shrank") == std::string::npos) std::_Exit(3);
            std::_Exit(::testing::Test::HasFailure() ? 1 : 0);
        },
        ::testing::ExitedWithCode(0), "");
}

// SQLite always memory-maps -shm (the WAL index): cut short under a reader, the
// next read through the old mapping would be SIGBUS. The reader reopens first.
TEST_F(RegistryFaults, ShrunkShmIsRebuiltBeforeItIsRead) {
    GTEST_FLAG_SET(death_test_style, "threadsafe");
    EXPECT_EXIT(
        {
            build(2);
            auto e = engine();
            if (!e) std::_Exit(2);
            expect_verdict(e->decide_vpn(device(0), now), CertClass::LscValid, RadiusOutcome::Accept);
            std::filesystem::resize_file(dir / "lscgate.db-shm", 0);
            expect_verdict(e->decide_vpn(device(0), now), CertClass::LscValid, RadiusOutcome::Accept);
            sql(db, revoke_sql(device(1)));  // and the rebuilt index is shared with the writers
            expect_verdict(e->decide_vpn(device(1), now), CertClass::LscRevoked, RadiusOutcome::Reject);
            const auto lines = log_lines();
            if (lines.empty() || lines[0].find("-shm file shrank") == std::string::npos) std::_Exit(3);
            std::_Exit(::testing::Test::HasFailure() ? 1 : 0);
        },
        ::testing::ExitedWithCode(0), "");
}

TEST(RegistryFiles, HeaderCheckSpotsAShortFile) {
    TempDir dir;
    const auto db = dir / "r.db";
    {
        Store s = test::make_store(db);
        ASSERT_TRUE(s.database().exec("CREATE TABLE filler(x); WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i+1 "
                                      "FROM c WHERE i < 2000) INSERT INTO filler SELECT randomblob(200) FROM c"));
    }
    auto header = [&db] {
        auto conn = SqliteDatabase::open(db.string(), SqliteDatabase::Mode::ReadOnly, 100);
        return conn ? check_registry_header(*conn, db.string()) : Status(conn.error());
    };
    EXPECT_TRUE(header());
    std::filesystem::resize_file(db, std::filesystem::file_size(db) - 4096);
    auto s = header();
    ASSERT_FALSE(s);
    EXPECT_NE(s.message().find("cut short"), std::string::npos) << s.message();
    std::filesystem::resize_file(db, 50);
    s = header();
    ASSERT_FALSE(s);
    EXPECT_NE(s.message().find("not an SQLite database"), std::string::npos) << s.message();
}

// A -wal deleted once nothing held it and made anew: ext4 hands the same inode
// number back at once, often within the same clock tick (equal birth times).
// Only the file handle (inode generation) tells them apart; a reader that took it for the old
// file's would refuse a correctly restored registry for ever.
TEST(RegistryFiles, ACompanionMadeAnewOnTheSameInodeIsNotTheOldOne) {
    TempDir dir;
    const auto db = dir / "r.db";
    for (const char* suffix : {"", "-wal", "-shm"}) std::ofstream(db.string() + suffix) << "x";
    const RegistryFiles before = RegistryFiles::of(db.string(), true);
    if (before.wal.handle == 0) GTEST_SKIP() << "this file system gives no file handles";
    std::filesystem::remove(db.string() + "-wal");
    std::ofstream(db.string() + "-wal") << "x";
    const RegistryFiles after = RegistryFiles::of(db.string(), true);
    if (after.wal.ino != before.wal.ino) GTEST_SKIP() << "this file system gave the new -wal another inode";
    EXPECT_NE(before.wal, after.wal);
    EXPECT_EQ(before.db, after.db);
    EXPECT_EQ(compare_registry_files(before, before, after).change, FilesChange::Reopen);
}

TEST(RegistryFiles, HandlesDecideOnlyWhenBothSidesReadOne) {
    const FileId a{true, 1, 2, 3, 0xA};
    FileId b = a;
    b.handle = 0xB;
    EXPECT_NE(a, b) << "same device, inode and birth time, other handle: another file";
    b.handle = 0;
    EXPECT_EQ(a, b) << "no handle read on one side (the per-request path): device, inode, birth time decide";
    b.born_ns = 4;
    EXPECT_NE(a, b);
}

// The reader's checks of the files (handles, the header) never open a second
// descriptor of them: closing one drops every POSIX lock this process holds on the
// file, SQLite's included. `lscgate serve` keeps its writer open beside a reader
// for the trust set; with its lock gone, another process closing the registry
// (sqlite3, an lscgate command) took itself for the last user, checkpointed and
// deleted the -wal the writer still appended to: later commits were lost.
TEST_F(RegistryFaults, AReaderBesideTheWriterLeavesTheWritersLocksAlone) {
    build(1);
    Store writer = test::make_store(db);
    ASSERT_TRUE(writer.add_device("SEP0000000000B1", "", "", "test"));
    auto reader = RegistryReader::open(db.string(), 2);
    ASSERT_TRUE(reader) << reader.message();
    ASSERT_TRUE((*reader)->current_lsc(device(0), now));
    sql(db, "SELECT count(*) FROM devices");  // another process opens and closes the registry
    EXPECT_TRUE(std::filesystem::exists(dir / "lscgate.db-wal")) << "the WAL was deleted under its writer";
    ASSERT_TRUE(writer.add_device("SEP0000000000B2", "", "", "test"));
    auto r = test::run_command("sqlite3 " + db.string() + " \"SELECT count(*) FROM devices WHERE name='SEP0000000000B2'\"");
    EXPECT_EQ(r.output, "1\n") << "a commit after the other process closed is lost";
}

// Item 2: a backup in which A is revoked moved over the registry. The old -wal
// and -shm are still there (the reader holds them), so SQLite would lay the old
// file's WAL over the backup: refused, until they are gone; then reopened.
TEST_F(RegistryFaults, ReplacedRegistryIsNeverReadThroughTheOldFile) {
    build(3);
    auto e = engine();
    ASSERT_TRUE(e);
    expect_verdict(e->decide_vpn(device(0), now), CertClass::LscValid, RadiusOutcome::Accept);
    const auto backup = dir / "backup.db";
    sql(db, ".backup " + backup.string());
    sql(backup, revoke_sql(device(0)));
    std::filesystem::rename(backup, db);
    expect_refused(e->decide_vpn(device(0), now), "was replaced");
    expect_refused(e->decide_vpn(device(1), now), "was replaced");
    ASSERT_EQ(log_lines().size(), 1u);
    EXPECT_NE(log_lines()[0].find("-wal/-shm"), std::string::npos) << log_lines()[0];
    // Unchanged files: refused again without reopening (and without logging again).
    expect_refused(e->decide_vpn(device(1), now), "was replaced");
    EXPECT_EQ(log_lines().size(), 1u);
    // The old file's companions go (as when every process had closed it): the
    // backup is read, with A revoked and B still in.
    std::filesystem::remove(dir / "lscgate.db-wal");
    std::filesystem::remove(dir / "lscgate.db-shm");
    expect_verdict(e->decide_vpn(device(0), now), CertClass::LscRevoked, RadiusOutcome::Reject);
    expect_verdict(e->decide_vpn(device(1), now), CertClass::LscValid, RadiusOutcome::Accept);
    ASSERT_EQ(log_lines().size(), 2u);
    EXPECT_NE(log_lines()[1].find("reopened"), std::string::npos) << log_lines()[1];
}

// Item 2: -wal/-shm deleted under the reader, then a revocation by another
// process (which makes new ones): the reader must follow it at the next request.
TEST_F(RegistryFaults, DeletedWalAndShmThenARevokeIsSeenAtTheNextRequest) {
    build(3);
    auto e = engine();
    ASSERT_TRUE(e);
    for (int i = 0; i < 3; ++i) expect_verdict(e->decide_vpn(device(0), now), CertClass::LscValid, RadiusOutcome::Accept);
    ASSERT_TRUE(std::filesystem::exists(dir / "lscgate.db-shm"));
    std::filesystem::remove(dir / "lscgate.db-wal");
    std::filesystem::remove(dir / "lscgate.db-shm");
    sql(db, revoke_sql(device(0)));
    expect_verdict(e->decide_vpn(device(0), now), CertClass::LscRevoked, RadiusOutcome::Reject);
    expect_verdict(e->decide_vpn(device(1), now), CertClass::LscValid, RadiusOutcome::Accept);
    // And every later revocation too.
    sql(db, revoke_sql(device(1)));
    expect_verdict(e->decide_vpn(device(1), now), CertClass::LscRevoked, RadiusOutcome::Reject);
    const auto lines = log_lines();
    ASSERT_EQ(lines.size(), 1u);
    EXPECT_NE(lines[0].find("-wal file was deleted"), std::string::npos) << lines[0];
}

// The same after a HUP: the new instance's reader joins the process's pool for
// the file instead of inheriting the old instance's stale WAL index.
TEST_F(RegistryFaults, AReaderOpenedBesideAStaleOneStillSeesTheNewFiles) {
    build(2);
    auto old_engine = engine();
    ASSERT_TRUE(old_engine);
    expect_verdict(old_engine->decide_vpn(device(0), now), CertClass::LscValid, RadiusOutcome::Accept);
    std::filesystem::remove(dir / "lscgate.db-wal");
    std::filesystem::remove(dir / "lscgate.db-shm");
    sql(db, revoke_sql(device(0)));
    auto new_engine = engine();  // what a HUP does, with the old instance still alive
    ASSERT_TRUE(new_engine);
    expect_verdict(new_engine->decide_vpn(device(0), now), CertClass::LscRevoked, RadiusOutcome::Reject);
    expect_verdict(old_engine->decide_vpn(device(0), now), CertClass::LscRevoked, RadiusOutcome::Reject);
}

// The documented safe way to restore: through SQLite, into the live file.
TEST_F(RegistryFaults, RestoreThroughSqliteIsSeenAtTheNextRequest) {
    build(2);
    const auto backup = dir / "backup.db";
    sql(db, ".backup " + backup.string());
    sql(backup, revoke_sql(device(0)));
    auto e = engine();
    ASSERT_TRUE(e);
    expect_verdict(e->decide_vpn(device(0), now), CertClass::LscValid, RadiusOutcome::Accept);
    sql(db, ".restore " + backup.string());
    expect_verdict(e->decide_vpn(device(0), now), CertClass::LscRevoked, RadiusOutcome::Reject);
    expect_verdict(e->decide_vpn(device(1), now), CertClass::LscValid, RadiusOutcome::Accept);
}

// Garbage where the file was: not a database, refused with the cause.
TEST_F(RegistryFaults, RegistryReplacedByGarbageIsRefused) {
    build(2);
    auto e = engine();
    ASSERT_TRUE(e);
    expect_verdict(e->decide_vpn(device(0), now), CertClass::LscValid, RadiusOutcome::Accept);
    std::filesystem::remove(dir / "lscgate.db-wal");
    std::filesystem::remove(dir / "lscgate.db-shm");
    std::filesystem::remove(db);
    { std::ofstream(db) << std::string(8192, 'x'); }
    expect_refused(e->decide_vpn(device(0), now), "not an SQLite database");
}

}  // namespace
