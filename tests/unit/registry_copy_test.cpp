// lscgate registry copy on real databases: a SQLite registry written by the
// store, copied into a real PostgreSQL cluster (pg_cluster.h) and back.

#include "pg_cluster.h"
#include "registry/postgresql/pg_migrate.h"
#include "registry/postgresql/pq_handles.h"
#include "registry/registry_copy.h"
#include "registry/registry_copy_tables.h"
#include "registry/sqlite_handles.h"
#include "registry/store.h"
#include "test_support.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <utility>
#include <vector>

namespace lscgate {
namespace {

using test::TempDir;

class RegistryCopyTest : public ::testing::Test {
protected:
    void SetUp() override {
        auto cluster = test::PgCluster::shared();
        ASSERT_TRUE(cluster.ok()) << cluster.message();
        auto db = (*cluster)->create_database();
        ASSERT_TRUE(db.ok()) << db.message();
        pg_ = *db;
    }

    // A registry with every table filled: devices (one locked, one removed so
    // ids have a gap), operations in several states, an issued, a revoked and a
    // superseded LSC, the CAPF certificate, and the audit rows all that wrote.
    void fill_sqlite(const std::filesystem::path& file) {
        Store store = test::make_store(file);
        ASSERT_TRUE(store.add_capf_certificate(capf_.cert.get(), "test"));
        for (const char* name : {"SEP000000000001", "SEP000000000002", "SEP000000000003", "SEP000000000004"})
            ASSERT_TRUE(store.add_device(name, "8845", "desk \"7\"\nsecond line", "test"));
        for (const char* name : {"SEP000000000001", "SEP000000000002"}) {
            for (int round = 0; round < 2; ++round) {
                auto op = store.schedule_operation(name, OperationRequest{}, "test");
                ASSERT_TRUE(op) << op.message();
                auto key = test::make_key("ec:p256");
                auto cert = authority_.issue_lsc(name, key.get(), 30);
                ASSERT_TRUE(cert) << cert.message();
                ASSERT_TRUE(store.commit_issued_lsc(*op, cert->get()));
            }
        }
        ASSERT_TRUE(store.revoke_active_lsc("SEP000000000002", "lost", "test"));
        auto pending = store.schedule_operation("SEP000000000003", OperationRequest{}, "test");  // still pending
        ASSERT_TRUE(pending);
        ASSERT_TRUE(store.add_device("SEP000000000005", "", "", "test"));
        ASSERT_TRUE(store.remove_device("SEP000000000004", "test"));
        fill_fleet(store, pending->id);
        auto db = SqliteDatabase::open(file.string(), SqliteDatabase::Mode::ReadWrite, 1000);
        ASSERT_TRUE(db);
        ASSERT_TRUE(db->exec("UPDATE devices SET locked_until = 4102444800, auth_failures = 5 WHERE name = 'SEP000000000003'"));
    }

    // Recorded sessions (the first trimmed away, so ids start at 2; NULLs and
    // quotes among the values) and a rollout of 5 devices in waves of 2 with a
    // member's operation set and wave 1 scheduled.
    static void fill_fleet(Store& store, std::int64_t operation_id) {
        for (int i = 1; i <= 3; ++i) {
            CapfSessionRecord s;
            s.at = 1700000000 + i;
            s.device = i == 2 ? "" : "SEP000000000003";
            if (i != 2) s.operation_id = operation_id;
            s.operation = i == 2 ? "" : "install";
            s.result = i == 3 ? "succeeded" : "closed";
            s.cause = "said \"no\"\nthen left";
            s.peer = "10.0.0." + std::to_string(i) + ":5000";
            s.duration_ms = 100 * i;
            ASSERT_TRUE(store.record_capf_session(s, 2));
        }
        Rollout plan;
        plan.name = "wave \"one\"";
        plan.request.auth_mode = AuthMode::String;
        plan.request.key = *parse_key_spec("ec:p256");
        plan.generate_strings = true;
        plan.by_seconds = 86400;
        plan.wave_size = 2;
        plan.created_at = 1700000100;
        auto r = store.create_rollout(plan, {"SEP000000000003", "SEP000000000001", "SEP000000000009",
                                             "SEP000000000002", "SEP000000000005"}, "test");
        ASSERT_TRUE(r) << r.message();
        ASSERT_TRUE(store.set_rollout_member(r->id, "SEP000000000003", operation_id, ""));
        ASSERT_TRUE(store.set_rollout_member(r->id, "SEP000000000001", std::nullopt, "has an open operation"));
        ASSERT_TRUE(store.mark_rollout_wave_scheduled(r->id, 1, 1700000200, 1700086600, "test"));
        // Two web accounts, one locked after failed sign-ins (issue 14).
        ASSERT_TRUE(store.add_web_account("alice", WebRole::Admin, "$argon2id$v=19$m=65536,t=3,p=1$c2FsdA$aGFzaA", "test"));
        ASSERT_TRUE(store.add_web_account("helpdesk \"1\"", WebRole::Helpdesk, "$argon2id$v=19$x$y", "test"));
        ASSERT_TRUE(store.set_web_login_state("alice", 5, 4102444800));
    }

    // Every fleet row as the store reads it, one line per row (gtest shows a difference).
    static std::vector<std::string> fleet_rows(Store& store) {
        std::vector<std::string> out;
        auto t = [](const std::optional<std::int64_t>& v) { return v ? std::to_string(*v) : std::string("NULL"); };
        auto session_text = [&](const CapfSessionRecord& s) {
            return std::to_string(s.id) + "|" + std::to_string(s.at) + "|" + s.device + "|" + t(s.operation_id) + "|" +
                   s.operation + "|" + s.auth_mode + "|" + s.result + "|" + s.cause_class + "|" + s.cause + "|" +
                   s.peer + "|" + s.serial + "|" + std::to_string(s.duration_ms);
        };
        EXPECT_TRUE(store.each_capf_session({}, [&](const CapfSessionRecord& s) -> Status {
            out.push_back("session " + session_text(s));
            return {};
        }));
        std::vector<Rollout> rollouts;
        EXPECT_TRUE(store.each_rollout(collect_into(rollouts)));
        for (const auto& r : rollouts) {
            out.push_back("rollout " + std::to_string(r.id) + "|" + r.name + "|" + std::string(to_string(r.request.kind)) +
                          "|" + std::string(to_string(r.request.auth_mode)) + "|" + r.request.key.to_string() + "|" +
                          (r.generate_strings ? "strings" : "-") + "|" + t(r.by_seconds) + "|" +
                          std::to_string(r.wave_size) + "|" + std::to_string(r.waves) + "|" +
                          std::to_string(r.next_wave) + "|" + std::to_string(r.devices) + "|" +
                          std::to_string(r.created_at) + "|" + r.created_by);
            EXPECT_TRUE(store.each_rollout_wave(r.id, [&](const RolloutWave& w) -> Status {
                out.push_back("wave " + std::to_string(w.wave) + "|" + std::to_string(w.devices) + "|" +
                              t(w.scheduled_at) + "|" + t(w.completes_by));
                return {};
            }));
            EXPECT_TRUE(store.each_rollout_member(r.id, std::nullopt, [&](const RolloutMember& m) -> Status {
                out.push_back("member " + m.device + "|" + std::to_string(m.wave) + "|" + std::to_string(m.position) +
                              "|" + t(m.operation_id) + "|" + m.skipped + "|" +
                              (m.state ? std::string(to_string(*m.state)) : "NULL") + "|" +
                              (m.last_session ? session_text(*m.last_session) : "no session"));
                return {};
            }));
        }
        EXPECT_TRUE(store.each_web_account([&](const WebAccount& a) -> Status {
            out.push_back("web " + std::to_string(a.id) + "|" + a.name + "|" + std::string(to_string(a.role)) + "|" +
                          a.password_hash + "|" + std::to_string(a.failed_logins) + "|" + t(a.locked_until) + "|" +
                          std::to_string(a.created_at) + "|" + std::to_string(a.updated_at));
            return {};
        }));
        return out;
    }

    std::int64_t pg_scalar(const std::string& sql) {
        auto conn = PgConnection::connect(pg_.issuer);
        EXPECT_TRUE(conn.ok()) << conn.message();
        if (!conn) return -1;
        auto r = conn->exec(sql);
        EXPECT_TRUE(r.ok()) << r.message();
        if (!r) return -1;
        auto v = r->int64(0, 0);
        return v ? *v : -1;
    }

    static void expect_same(const CopyReport& a, const CopyReport& b) {
        ASSERT_EQ(a.tables.size(), b.tables.size());
        for (std::size_t i = 0; i < a.tables.size(); ++i) {
            EXPECT_EQ(a.tables[i].source_sha256, b.tables[i].target_sha256) << a.tables[i].name;
            EXPECT_EQ(a.tables[i].source_rows, b.tables[i].target_rows) << a.tables[i].name;
        }
    }

    TempDir dir_;
    test::PgTestDatabase pg_;
    test::TestCa capf_ = test::make_root_ca("CN=CAPF-copy,O=Example");
    CapfAuthority authority_ = test::authority_from(capf_);
};

TEST_F(RegistryCopyTest, SqliteToPostgresqlAndBackKeepsEveryRowIdAndTime) {
    const auto source = dir_ / "source.db";
    fill_sqlite(source);
    auto there = copy_registry(source.string(), pg_.issuer);
    ASSERT_TRUE(there.ok()) << there.message();
    ASSERT_TRUE(there->committed);
    ASSERT_EQ(there->tables.size(), kCopyTableCount);
    for (const auto& t : there->tables) {
        EXPECT_TRUE(t.matches()) << t.name;
        EXPECT_EQ(t.source_sha256.size(), 64u);
    }
    EXPECT_EQ(there->tables[0].source_rows, 4);  // devices: 4 left of 5 added
    EXPECT_GT(there->tables[4].source_rows, 10);  // audit
    for (const auto& expected : std::vector<std::pair<std::string, std::int64_t>>{
             {"capf_sessions", 2}, {"rollouts", 1}, {"rollout_waves", 3}, {"rollout_devices", 5},
             {"web_accounts", 2}}) {
        auto it = std::find_if(there->tables.begin(), there->tables.end(),
                               [&expected](const CopiedTable& t) { return t.name == expected.first; });
        ASSERT_NE(it, there->tables.end()) << expected.first;
        EXPECT_EQ(it->source_rows, expected.second) << expected.first;
        EXPECT_TRUE(it->matches()) << expected.first;
    }
    // Ids as in the source (device 4 was removed: 1,2,3,5), times as Unix seconds.
    EXPECT_EQ(pg_scalar("SELECT id FROM lscgate.devices WHERE name = 'SEP000000000005'"), 5);
    EXPECT_EQ(pg_scalar("SELECT floor(extract(epoch FROM locked_until))::bigint FROM lscgate.devices WHERE id = 3"),
              4102444800);
    EXPECT_EQ(pg_scalar("SELECT count(*) FROM lscgate.certificates WHERE status = 'revoked'"), 1);
    EXPECT_EQ(pg_scalar("SELECT min(id) FROM lscgate.capf_sessions"), 2);
    EXPECT_EQ(pg_scalar("SELECT count(*) FROM lscgate.rollouts WHERE generate_strings"), 1);
    // The sessions and the rollout read back through the PostgreSQL store as from the file.
    Store original = test::make_store(source);
    const auto source_fleet = fleet_rows(original);
    ASSERT_EQ(source_fleet.size(), 13u);  // 2 sessions, 1 rollout, its 3 waves and 5 members, 2 web accounts
    {
        auto pg = Store::open(pg_.issuer);
        ASSERT_TRUE(pg.ok()) << pg.message();
        EXPECT_EQ(fleet_rows(*pg), source_fleet);
    }

    // Back into a new file: the same fingerprints as the original.
    const auto back = dir_ / "back.db";
    auto again = copy_registry(pg_.issuer, back.string());
    ASSERT_TRUE(again.ok()) << again.message();
    ASSERT_TRUE(again->committed);
    expect_same(*there, *again);
    // And the file reads like the original through the store.
    Store copy = test::make_store(back);
    auto devices = copy.list_devices();
    ASSERT_TRUE(devices);
    ASSERT_EQ(devices->size(), 4u);
    EXPECT_EQ((*devices)[2].locked_until, std::optional<UnixTime>(4102444800));
    EXPECT_EQ((*devices)[0].description, "desk \"7\"\nsecond line");
    EXPECT_EQ(fleet_rows(copy), source_fleet);
}

// The audit rows keep their hashes: the chain verifies in the target with the
// source's head, and the target's next row chains onto it (issue 12 item 3).
TEST_F(RegistryCopyTest, TheAuditChainStaysValidThroughCopiesBothWays) {
    const auto source = dir_ / "source.db";
    fill_sqlite(source);
    Store original = test::make_store(source);
    auto before = original.verify_audit();
    ASSERT_TRUE(before.ok()) << before.message();
    ASSERT_TRUE(before->intact());
    ASSERT_GT(before->rows, 10);

    ASSERT_TRUE(copy_registry(source.string(), pg_.issuer).ok());
    auto pg = Store::open(pg_.issuer);
    ASSERT_TRUE(pg.ok()) << pg.message();
    auto there = pg->verify_audit(before->head_hash);
    ASSERT_TRUE(there.ok()) << there.message();
    EXPECT_TRUE(there->intact()) << there->broken->what;
    EXPECT_EQ(there->rows, before->rows);
    EXPECT_EQ(there->head_hash, before->head_hash);
    ASSERT_TRUE(pg->add_device("SEP0000000000AB", "", "", "test"));
    auto grown = pg->verify_audit(before->head_hash);
    ASSERT_TRUE(grown.ok());
    EXPECT_TRUE(grown->intact()) << grown->broken->what;
    EXPECT_EQ(grown->rows, before->rows + 1);

    const auto back = dir_ / "back.db";
    ASSERT_TRUE(copy_registry(pg_.issuer, back.string()).ok());
    Store copy = test::make_store(back);
    auto home = copy.verify_audit(grown->head_hash);
    ASSERT_TRUE(home.ok());
    EXPECT_TRUE(home->intact()) << home->broken->what;
    EXPECT_EQ(home->head_hash, grown->head_hash);
}

TEST_F(RegistryCopyTest, PostgresqlHandsOutFreshIdsAfterTheCopy) {
    const auto source = dir_ / "source.db";
    fill_sqlite(source);
    ASSERT_TRUE(copy_registry(source.string(), pg_.issuer).ok());
    const auto max_device = pg_scalar("SELECT max(id) FROM lscgate.devices");
    const auto max_audit = pg_scalar("SELECT max(id) FROM lscgate.audit");
    // Rows added afterwards without an id (as lscgate does) get the next ones, no collision.
    EXPECT_EQ(pg_scalar("INSERT INTO lscgate.devices(name, created_at, updated_at) VALUES ('SEP0000000000AA', now(), now()) "
                        "RETURNING id"),
              max_device + 1);
    EXPECT_EQ(pg_scalar("INSERT INTO lscgate.audit(at, actor, action) VALUES (now(), 'test', 'probe') RETURNING id"),
              max_audit + 1);
    const auto max_session = pg_scalar("SELECT max(id) FROM lscgate.capf_sessions");
    const auto max_rollout = pg_scalar("SELECT max(id) FROM lscgate.rollouts");
    EXPECT_EQ(pg_scalar("INSERT INTO lscgate.capf_sessions(at, result) VALUES (now(), 'closed') RETURNING id"),
              max_session + 1);
    EXPECT_EQ(pg_scalar("INSERT INTO lscgate.rollouts(name, kind, auth_mode, key_type, rsa_bits, ec_curve, wave_size, "
                        "waves, created_at, created_by) VALUES ('probe', 'install', 'null', 'rsa', 2048, 'p256', 1, 0, "
                        "now(), 'test') RETURNING id"),
              max_rollout + 1);
}

TEST_F(RegistryCopyTest, RefusesATargetThatIsNotEmpty) {
    const auto source = dir_ / "source.db";
    fill_sqlite(source);
    ASSERT_TRUE(copy_registry(source.string(), pg_.issuer).ok());
    const auto audit_rows = pg_scalar("SELECT count(*) FROM lscgate.audit");
    auto twice = copy_registry(source.string(), pg_.issuer);
    ASSERT_FALSE(twice.ok());
    EXPECT_EQ(twice.kind(), ErrorKind::Config);
    EXPECT_NE(twice.message().find("not empty"), std::string::npos) << twice.message();
    EXPECT_EQ(pg_scalar("SELECT count(*) FROM lscgate.audit"), audit_rows);  // nothing merged

    // A SQLite target with a single audit row is as live as a full one.
    const auto live = dir_ / "live.db";
    {
        Store store = test::make_store(live);
        ASSERT_TRUE(store.add_device("SEP0000000000BB", "", "", "test"));
    }
    auto into_file = copy_registry(pg_.issuer, live.string());
    ASSERT_FALSE(into_file.ok());
    EXPECT_NE(into_file.message().find("not empty"), std::string::npos) << into_file.message();
}

TEST_F(RegistryCopyTest, RefusesANewerSchemaOnEitherSide) {
    const auto newer = dir_ / "newer.db";
    fill_sqlite(newer);
    {
        auto db = SqliteDatabase::open(newer.string(), SqliteDatabase::Mode::ReadWrite, 1000);
        ASSERT_TRUE(db);
        ASSERT_TRUE(db->exec("PRAGMA user_version = 99"));
    }
    auto from_newer = copy_registry(newer.string(), pg_.issuer);
    ASSERT_FALSE(from_newer.ok());
    EXPECT_EQ(from_newer.kind(), ErrorKind::Config);
    EXPECT_NE(from_newer.message().find("newer"), std::string::npos) << from_newer.message();
    auto into_newer = copy_registry(pg_.issuer, newer.string());
    ASSERT_FALSE(into_newer.ok());

    // PostgreSQL at a version this lscgate does not know.
    auto conn = PgConnection::connect(pg_.issuer);
    ASSERT_TRUE(conn.ok());
    ASSERT_TRUE(pg_migrate(*conn));
    ASSERT_TRUE(conn->exec("INSERT INTO lscgate.schema_version(version) VALUES (99)"));
    const auto source = dir_ / "source.db";
    fill_sqlite(source);
    auto into_pg = copy_registry(source.string(), pg_.issuer);
    ASSERT_FALSE(into_pg.ok());
    EXPECT_EQ(into_pg.kind(), ErrorKind::Config);
    EXPECT_NE(into_pg.message().find("newer"), std::string::npos) << into_pg.message();
    EXPECT_EQ(pg_scalar("SELECT count(*) FROM lscgate.devices"), 0);
}

TEST_F(RegistryCopyTest, AFingerprintMismatchRollsTheWholeCopyBack) {
    const auto source = dir_ / "source.db";
    fill_sqlite(source);
    // A target that changes what it is given (here a trigger; in life a
    // collation, an encoding or a rounding): the read-back differs.
    auto conn = PgConnection::connect(pg_.issuer);
    ASSERT_TRUE(conn.ok());
    ASSERT_TRUE(pg_migrate(*conn));
    ASSERT_TRUE(conn->exec("CREATE FUNCTION lscgate.mangle() RETURNS trigger LANGUAGE plpgsql AS "
                           "$$ BEGIN NEW.model := upper(NEW.model || 'x'); RETURN NEW; END $$; "
                           "CREATE TRIGGER mangle BEFORE INSERT ON lscgate.devices FOR EACH ROW EXECUTE FUNCTION lscgate.mangle()"));
    auto report = copy_registry(source.string(), pg_.issuer);
    ASSERT_TRUE(report.ok()) << report.message();
    EXPECT_FALSE(report->committed);
    EXPECT_FALSE(report->tables[0].matches());
    EXPECT_TRUE(report->tables[1].matches());
    for (const auto& table : copy_tables())
        EXPECT_EQ(pg_scalar("SELECT count(*) FROM lscgate." + std::string(table.name)), 0) << table.name;
}

TEST_F(RegistryCopyTest, KeepsTheAuditAppendOnlyAndThePasswordOutOfMessages) {
    const auto source = dir_ / "source.db";
    fill_sqlite(source);
    ASSERT_TRUE(copy_registry(source.string(), pg_.issuer).ok());
    auto conn = PgConnection::connect(pg_.issuer);
    ASSERT_TRUE(conn.ok());
    EXPECT_FALSE(conn->exec("UPDATE lscgate.audit SET actor = 'someone else'"));
    EXPECT_FALSE(conn->exec("DELETE FROM lscgate.audit"));
    // A wrong password: the message names the target without any password.
    const std::string wrong = pg_.issuer + " password=Wr0ngSecret9";
    auto refused = copy_registry(source.string(), wrong);
    ASSERT_FALSE(refused.ok());
    EXPECT_EQ(refused.message().find("Wr0ngSecret9"), std::string::npos) << refused.message();
    EXPECT_EQ(refused.message().find(test::kPgIssuerPassword), std::string::npos) << refused.message();
}

TEST(RegistryCopyRules, RefusesTheSameDatabaseAndAMissingSource) {
    TempDir dir;
    Store store = test::make_store(dir / "a.db");
    auto same = copy_registry((dir / "a.db").string(), (dir / "." / "a.db").string());
    ASSERT_FALSE(same.ok());
    EXPECT_NE(same.message().find("same database"), std::string::npos) << same.message();
    auto missing = copy_registry((dir / "none.db").string(), (dir / "b.db").string());
    ASSERT_FALSE(missing.ok());
    EXPECT_NE(missing.message().find("does not exist"), std::string::npos) << missing.message();
    EXPECT_FALSE(std::filesystem::exists(dir / "b.db"));  // refused before the target was touched
}

}  // namespace
}  // namespace lscgate
