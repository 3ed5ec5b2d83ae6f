// The registry schema on a real PostgreSQL cluster: migrations, the two roles of
// policy/postgresql/setup.sql, the append-only audit, and the change signal.

#include "registry/sqlite_handles.h"
#include "pg_cluster.h"
#include "registry/postgresql/pg_migrate.h"
#include "registry/postgresql/pg_schema.h"
#include "registry/postgresql/pq_handles.h"
#include "registry/store.h"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

namespace lscgate {
namespace {

using test::PgCluster;
using test::PgTestDatabase;

class PgSchemaTest : public ::testing::Test {
protected:
    void SetUp() override {
        auto cluster = PgCluster::shared();
        ASSERT_TRUE(cluster.ok()) << cluster.message();
        auto db = (*cluster)->create_database();
        ASSERT_TRUE(db.ok()) << db.message();
        db_ = *db;
        auto issuer = PgConnection::connect(db_.issuer);
        ASSERT_TRUE(issuer.ok()) << issuer.message();
        issuer_ = std::move(*issuer);
    }

    PgConnection connect_radius() {
        auto radius = PgConnection::connect(db_.radius);
        EXPECT_TRUE(radius.ok()) << radius.message();
        return radius ? std::move(*radius) : PgConnection();
    }

    void migrate() {
        auto s = pg_migrate(issuer_);
        ASSERT_TRUE(s.ok()) << s.message();
    }

    // One device with one active LSC, written as the issuer.
    void add_device_with_lsc(const std::string& name, const std::string& fingerprint) {
        auto r = issuer_.exec_params(
            "WITH d AS (INSERT INTO lscgate.devices(name, created_at, updated_at) VALUES ($1, now(), now()) "
            "ON CONFLICT (name) DO NOTHING) "
            "INSERT INTO lscgate.certificates(device_name, kind, serial, fingerprint, subject, issuer, issuer_oneline, "
            "not_before, not_after, key_type, key_bits, pem, status, created_at) VALUES ($1, 'lsc', '0A', $2, "
            "'CN=' || $1, 'CN=CAPF', '/CN=CAPF', to_timestamp(0), to_timestamp(4102444800), 'rsa', 2048, 'pem', "
            "'active', now())",
            {pg_param(name), pg_param(fingerprint)});
        ASSERT_TRUE(r.ok()) << r.message();
    }

    std::int64_t change_counter(PgConnection& conn) {
        auto r = conn.exec("SELECT value FROM lscgate.change_counter");
        EXPECT_TRUE(r.ok()) << r.message();
        if (!r) return -1;
        auto v = r->int64(0, 0);
        return v ? *v : -1;
    }

    PgTestDatabase db_;
    PgConnection issuer_;
};

TEST_F(PgSchemaTest, MigrationsApplyOnceAndRecordTheVersion) {
    auto before = pg_schema_version(issuer_);
    ASSERT_TRUE(before.ok()) << before.message();
    EXPECT_EQ(*before, 0);
    EXPECT_EQ(pg_check_schema_version(issuer_).kind(), ErrorKind::Config);

    migrate();
    auto after = pg_schema_version(issuer_);
    ASSERT_TRUE(after.ok()) << after.message();
    EXPECT_EQ(*after, pg_schema_latest_version());
    EXPECT_EQ(*after, static_cast<int>(kPgMigrations.size()));

    // Again: nothing to do, nothing recorded twice.
    migrate();
    auto rows = issuer_.exec("SELECT count(*), max(version) FROM lscgate.schema_version");
    ASSERT_TRUE(rows.ok()) << rows.message();
    EXPECT_EQ(*rows->int64(0, 0), static_cast<std::int64_t>(kPgMigrations.size()));
    EXPECT_EQ(*rows->int64(0, 1), pg_schema_latest_version());

    // The RADIUS role can check the version but not migrate.
    PgConnection radius = connect_radius();
    auto check = pg_check_schema_version(radius);
    EXPECT_TRUE(check.ok()) << check.message();
}

TEST_F(PgSchemaTest, EveryTableLivesInTheLscgateSchemaOwnedByTheIssuer) {
    migrate();
    auto r = issuer_.exec(
        "SELECT count(*) FILTER (WHERE schemaname = 'lscgate'), count(*) FILTER (WHERE schemaname = 'public'), "
        "bool_and(tableowner = 'lscgate_issuer') FILTER (WHERE schemaname = 'lscgate') FROM pg_tables");
    ASSERT_TRUE(r.ok()) << r.message();
    // schema_version devices operations certificates capf_certificates audit last_seen change_counter, and
    // (version 4) capf_sessions rollouts rollout_waves rollout_devices
    EXPECT_EQ(*r->int64(0, 0), 12);
    EXPECT_EQ(*r->int64(0, 1), 0);
    EXPECT_TRUE(*r->boolean(0, 2));
}

TEST_F(PgSchemaTest, ConcurrentStartsMigrateOnce) {
    std::vector<Status> results(3);
    std::vector<std::thread> threads;
    for (auto& result : results) {
        threads.emplace_back([this, &result] {
            auto conn = PgConnection::connect(db_.issuer);
            result = conn ? pg_migrate(*conn) : Status(conn.error());
        });
    }
    for (auto& t : threads) t.join();
    for (const auto& result : results) EXPECT_TRUE(result.ok()) << result.message();
    auto rows = issuer_.exec("SELECT count(*) FROM lscgate.schema_version");
    ASSERT_TRUE(rows.ok()) << rows.message();
    EXPECT_EQ(*rows->int64(0, 0), pg_schema_latest_version());
}

TEST_F(PgSchemaTest, WithoutSetupSqlTheOwnerOfTheDatabaseCreatesTheSchema) {
    auto admin = PgConnection::connect(db_.superuser);
    ASSERT_TRUE(admin.ok()) << admin.message();
    ASSERT_TRUE(admin->exec("DROP SCHEMA lscgate CASCADE").ok());
    auto s = pg_migrate(*admin);
    ASSERT_TRUE(s.ok()) << s.message();
    EXPECT_EQ(*pg_schema_version(*admin), pg_schema_latest_version());
}

TEST_F(PgSchemaTest, TheIssuerCannotCreateTheSchemaItself) {
    auto admin = PgConnection::connect(db_.superuser);
    ASSERT_TRUE(admin.ok()) << admin.message();
    ASSERT_TRUE(admin->exec("DROP SCHEMA lscgate CASCADE").ok());
    auto s = pg_migrate(issuer_);
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(s.kind(), ErrorKind::Config) << s.message();
    EXPECT_NE(s.message().find("setup.sql"), std::string::npos) << s.message();
}

TEST_F(PgSchemaTest, RadiusRoleReadsTheRegistryAndWritesOnlyLastSeen) {
    migrate();
    add_device_with_lsc("SEP001122334455", "aa01");
    PgConnection radius = connect_radius();

    auto read = radius.exec("SELECT device_name, status FROM lscgate.certificates");
    ASSERT_TRUE(read.ok()) << read.message();
    EXPECT_EQ(read->rows(), 1);
    EXPECT_TRUE(radius.exec("SELECT count(*) FROM lscgate.capf_certificates").ok());

    for (const char* sql : {
             "UPDATE lscgate.certificates SET status = 'active'",
             "DELETE FROM lscgate.certificates",
             "INSERT INTO lscgate.certificates(device_name, kind, serial, fingerprint, subject, issuer, issuer_oneline, "
             "not_before, not_after, key_type, key_bits, pem, status, created_at) VALUES ('x', 'lsc', '1', 'f', 's', "
             "'i', 'o', now(), now(), 'rsa', 2048, 'p', 'active', now())",
             "UPDATE lscgate.capf_certificates SET status = 'current'",
             "UPDATE lscgate.devices SET auth_failures = 0",
             "UPDATE lscgate.change_counter SET value = 0",
             "SELECT auth_secret FROM lscgate.operations",
             "SELECT count(*) FROM lscgate.devices",
             "SELECT lscgate.grant_radius_privileges()",
             "SELECT * FROM lscgate.audit",
             "INSERT INTO lscgate.audit(at, actor, action) VALUES (now(), 'radius', 'x')",
             "DELETE FROM lscgate.last_seen",
             // The fleet tables (version 4) are the issuer's alone.
             "SELECT count(*) FROM lscgate.capf_sessions",
             "INSERT INTO lscgate.capf_sessions(at, result) VALUES (now(), 'closed')",
             "SELECT count(*) FROM lscgate.rollouts",
             "SELECT count(*) FROM lscgate.rollout_waves",
             "SELECT count(*) FROM lscgate.rollout_devices",
             "CREATE TABLE lscgate.intruder(x int)",
         }) {
        auto r = radius.exec(sql);
        EXPECT_FALSE(r.ok()) << "the RADIUS role may run: " << sql;
        EXPECT_EQ(radius.last_sqlstate(), sqlstate::kInsufficientPrivilege) << sql << ": " << r.message();
        EXPECT_EQ(r.kind(), ErrorKind::Config) << sql;
    }

    // last_seen: an upsert per node, twice for radius-a (insert, then update) and
    // once for radius-b: one row per (device, node).
    const std::string upsert =
        "INSERT INTO lscgate.last_seen(device, class, nas_ip, calling_station_id, nas_port_id, acct_session_id, "
        "audit_session_id, node, reason, at, count) VALUES ($1, 'lsc', $2, '00-11-22-33-44-55', 'Gi1/0/1', "
        "'acct-1', '0A0B0C0D000000010203', $3, 'accepted', to_timestamp($4::bigint), 1) "
        "ON CONFLICT (device, node) DO UPDATE SET class = excluded.class, nas_ip = excluded.nas_ip, "
        "at = excluded.at, count = lscgate.last_seen.count + excluded.count";
    ASSERT_TRUE(radius.prepare("upsert_last_seen", upsert, 4).ok());
    for (const char* node : {"radius-a", "radius-b", "radius-a"}) {
        auto r = radius.exec_prepared("upsert_last_seen", {pg_param("SEP001122334455"), pg_param("10.1.2.3"),
                                                           pg_param(node), pg_param(std::int64_t{1700000000})});
        ASSERT_TRUE(r.ok()) << r.message();
    }
    auto seen = issuer_.exec(
        "SELECT host(nas_ip), node, count, extract(epoch FROM at)::bigint FROM lscgate.last_seen ORDER BY node");
    ASSERT_TRUE(seen.ok()) << seen.message();
    ASSERT_EQ(seen->rows(), 2);
    EXPECT_EQ(seen->text(0, 0), "10.1.2.3");
    EXPECT_EQ(seen->text(0, 1), "radius-a");
    EXPECT_EQ(*seen->int64(0, 2), 2);
    EXPECT_EQ(*seen->int64(0, 3), 1700000000);
    EXPECT_EQ(seen->text(1, 1), "radius-b");
    EXPECT_EQ(*seen->int64(1, 2), 1);

    // A NAS address is an inet: garbage is refused as bad input.
    auto bad = radius.exec_prepared("upsert_last_seen", {pg_param("SEP001122334455"), pg_param("not-an-ip"),
                                                         pg_param("radius-a"), pg_param(std::int64_t{1})});
    EXPECT_FALSE(bad.ok());
    EXPECT_EQ(bad.kind(), ErrorKind::Input) << bad.message();
}

TEST_F(PgSchemaTest, TheIssuerWritesAndTheConstraintsHold) {
    migrate();
    add_device_with_lsc("SEP001122334455", "aa01");
    // A second active LSC for the device: refused by the partial unique index.
    auto second = issuer_.exec(
        "INSERT INTO lscgate.certificates(device_name, kind, serial, fingerprint, subject, issuer, issuer_oneline, "
        "not_before, not_after, key_type, key_bits, pem, status, created_at) VALUES ('SEP001122334455', 'lsc', '0B', "
        "'aa02', 's', 'i', 'o', now(), now(), 'rsa', 2048, 'p', 'active', now())");
    EXPECT_FALSE(second.ok());
    EXPECT_EQ(issuer_.last_sqlstate(), sqlstate::kUniqueViolation) << second.message();
    EXPECT_EQ(second.kind(), ErrorKind::Input);

    const std::string op =
        "INSERT INTO lscgate.operations(device_id, kind, auth_mode, key_type, rsa_bits, ec_curve, state, created_at, "
        "updated_at) SELECT id, 'install', 'null', 'rsa', 2048, '', $1, now(), now() FROM lscgate.devices";
    ASSERT_TRUE(issuer_.exec_params(op, {pg_param("pending")}).ok());
    // A second open operation for the device: refused.
    EXPECT_FALSE(issuer_.exec_params(op, {pg_param("in-progress")}).ok());
    EXPECT_EQ(issuer_.last_sqlstate(), sqlstate::kUniqueViolation);
    // A finished one beside it is fine.
    EXPECT_TRUE(issuer_.exec_params(op, {pg_param("succeeded")}).ok());
    // The CHECK constraints are those of the SQLite schema.
    EXPECT_FALSE(issuer_.exec_params(op, {pg_param("exploded")}).ok());
    EXPECT_EQ(issuer_.last_sqlstate(), sqlstate::kCheckViolation);

    // An explicit id (registry copy) is accepted.
    auto copied = issuer_.exec(
        "INSERT INTO lscgate.devices(id, name, created_at, updated_at) VALUES (1000, 'SEPAAAABBBBCCCC', now(), now())");
    EXPECT_TRUE(copied.ok()) << copied.message();
    // Removing a device removes its operations (ON DELETE CASCADE).
    ASSERT_TRUE(issuer_.exec("DELETE FROM lscgate.devices WHERE name = 'SEP001122334455'").ok());
    EXPECT_EQ(*issuer_.exec("SELECT count(*) FROM lscgate.operations")->int64(0, 0), 0);
}

TEST_F(PgSchemaTest, AuditIsAppendOnly) {
    migrate();
    ASSERT_TRUE(issuer_.exec("INSERT INTO lscgate.audit(at, actor, action) VALUES (now(), 'cli', 'revoke')").ok());
    for (const char* sql : {"UPDATE lscgate.audit SET actor = 'someone else'", "DELETE FROM lscgate.audit",
                            "TRUNCATE lscgate.audit"}) {
        auto r = issuer_.exec(sql);
        EXPECT_FALSE(r.ok()) << sql;
        EXPECT_EQ(issuer_.last_sqlstate(), sqlstate::kRestrictViolation) << sql << ": " << r.message();
        EXPECT_NE(r.message().find("append-only"), std::string::npos) << r.message();
    }
    auto rows = issuer_.exec("SELECT actor FROM lscgate.audit");
    ASSERT_TRUE(rows.ok());
    ASSERT_EQ(rows->rows(), 1);
    EXPECT_EQ(rows->text(0, 0), "cli");
}

TEST_F(PgSchemaTest, ACertificateChangeIsAnnouncedAtCommit) {
    migrate();
    PgConnection radius = connect_radius();
    ASSERT_TRUE(radius.listen(kPgNotifyChannel).ok());
    const std::int64_t before = change_counter(radius);

    {
        auto tx = issuer_.begin();
        ASSERT_TRUE(tx.ok()) << tx.message();
        add_device_with_lsc("SEP001122334455", "aa01");
        // Not committed: readers see neither the counter move nor a notification.
        EXPECT_EQ(change_counter(radius), before);
        auto early = radius.wait_notifications(std::chrono::milliseconds(0));
        ASSERT_TRUE(early.ok()) << early.message();
        EXPECT_TRUE(early->empty());
        ASSERT_TRUE(tx->commit().ok());
    }

    std::vector<PgNotification> got;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (got.empty() && std::chrono::steady_clock::now() < deadline) {
        auto n = radius.wait_notifications(std::chrono::milliseconds(500));
        ASSERT_TRUE(n.ok()) << n.message();
        got = *n;
    }
    ASSERT_FALSE(got.empty()) << "no NOTIFY within 30 s";
    EXPECT_EQ(got.front().channel, kPgNotifyChannel);
    EXPECT_EQ(got.front().payload.rfind("devices ", 0) == 0 || got.front().payload.rfind("certificates ", 0) == 0, true)
        << got.front().payload;
    const std::int64_t after = change_counter(radius);
    EXPECT_GT(after, before);

    // A revocation moves it again.
    ASSERT_TRUE(issuer_.exec("UPDATE lscgate.certificates SET status = 'revoked', revoked_at = now()").ok());
    EXPECT_GT(change_counter(radius), after);
}

TEST_F(PgSchemaTest, LockoutCountersDoNotInvalidateRadiusCaches) {
    migrate();
    add_device_with_lsc("SEP001122334455", "aa01");
    const std::int64_t before = change_counter(issuer_);
    ASSERT_TRUE(issuer_.exec("UPDATE lscgate.devices SET auth_failures = auth_failures + 1, updated_at = now()").ok());
    EXPECT_EQ(change_counter(issuer_), before);
    ASSERT_TRUE(issuer_.exec("UPDATE lscgate.devices SET name = 'SEP001122334466'").ok());
    EXPECT_GT(change_counter(issuer_), before);
}

// The RADIUS role cannot run the issuer's functions: the grant function nor the
// trigger functions (PUBLIC's built-in EXECUTE is revoked).
TEST_F(PgSchemaTest, TheRadiusRoleCannotExecuteTheIssuersFunctions) {
    migrate();
    PgConnection radius = connect_radius();
    for (const char* fn : {"lscgate.grant_radius_privileges()", "lscgate.audit_append_only()",
                           "lscgate.registry_changed()"}) {
        auto r = radius.exec(std::string("SELECT has_function_privilege('") + fn + "', 'EXECUTE')");
        ASSERT_TRUE(r.ok()) << r.message();
        EXPECT_EQ(r->text(0, 0), "f") << fn;
    }
    auto call = radius.exec("SELECT lscgate.grant_radius_privileges()");
    EXPECT_FALSE(call.ok());
    EXPECT_EQ(radius.last_sqlstate(), sqlstate::kInsufficientPrivilege) << call.message();
}

// A registry set up by the first setup.sql (its schema-scoped default could not
// take PUBLIC's EXECUTE away): migration 2 revokes it on the existing functions.
TEST_F(PgSchemaTest, MigrationTwoRevokesExecuteGrantedByOlderDefaults) {
    auto su = PgConnection::connect(db_.superuser);
    ASSERT_TRUE(su.ok()) << su.message();
    ASSERT_TRUE(su->exec("ALTER DEFAULT PRIVILEGES FOR ROLE lscgate_issuer GRANT EXECUTE ON FUNCTIONS TO PUBLIC").ok());
    migrate();
    PgConnection radius = connect_radius();
    auto r = radius.exec("SELECT has_function_privilege('lscgate.grant_radius_privileges()', 'EXECUTE')");
    ASSERT_TRUE(r.ok()) << r.message();
    EXPECT_EQ(r->text(0, 0), "f");
}

// setup.sql re-run after the issuer migrated calls lscgate.grant_radius_privileges(),
// which the issuer owns and may have rewritten: it runs as the issuer, so a
// rewritten one cannot make the issuer a superuser; the genuine one still grants.
TEST_F(PgSchemaTest, ReRunningSetupSqlCallsTheIssuersFunctionAsTheIssuer) {
    migrate();
    auto cluster = PgCluster::shared();
    ASSERT_TRUE(cluster.ok()) << cluster.message();
    auto su = PgConnection::connect(db_.superuser);
    ASSERT_TRUE(su.ok()) << su.message();

    ASSERT_TRUE(su->exec("REVOKE SELECT ON lscgate.certificates FROM lscgate_radius").ok());
    auto rerun = (*cluster)->run_setup_sql(db_);
    ASSERT_TRUE(rerun.ok()) << rerun.message();
    PgConnection radius = connect_radius();
    EXPECT_TRUE(radius.exec("SELECT count(*) FROM lscgate.certificates").ok()) << "setup.sql did not grant";

    auto evil = issuer_.exec(
        "CREATE OR REPLACE FUNCTION lscgate.grant_radius_privileges() RETURNS void LANGUAGE plpgsql "
        "SET search_path = pg_catalog, pg_temp AS $$BEGIN ALTER ROLE lscgate_issuer SUPERUSER; END$$");
    ASSERT_TRUE(evil.ok()) << evil.message();
    (void)(*cluster)->run_setup_sql(db_);  // fails (permission denied) after the fix
    auto super = su->exec("SELECT rolsuper FROM pg_roles WHERE rolname = 'lscgate_issuer'");
    ASSERT_TRUE(super.ok()) << super.message();
    EXPECT_EQ(super->text(0, 0), "f") << "setup.sql made the issuer a superuser";
}

// CVE-2018-1058: a login role that may create in `public` plants
// public.to_timestamp(bigint), an exact match for the issuer's
// to_timestamp($n::bigint) that beats pg_catalog.to_timestamp(double precision).
// The issuer's sessions never look in `public`, so its writes do not run it.
TEST_F(PgSchemaTest, AFunctionPlantedInPublicIsNeverCalledByTheIssuer) {
    auto su = PgConnection::connect(db_.superuser);
    ASSERT_TRUE(su.ok()) << su.message();
    ASSERT_TRUE(su->exec("GRANT CREATE ON SCHEMA public TO lscgate_radius").ok());
    PgConnection radius = connect_radius();
    auto plant = radius.exec(
        "CREATE FUNCTION public.to_timestamp(bigint) RETURNS timestamptz LANGUAGE plpgsql AS "
        "$$BEGIN RAISE EXCEPTION 'planted function ran'; END$$");
    ASSERT_TRUE(plant.ok()) << plant.message();
    // The trap is armed: a session with the default search_path falls into it.
    ASSERT_TRUE(su->exec("SET search_path = \"$user\", public").ok());
    auto armed = su->exec("SELECT to_timestamp(1::bigint)");
    ASSERT_FALSE(armed.ok());
    EXPECT_NE(armed.message().find("planted function ran"), std::string::npos) << armed.message();

    auto store = Store::open(db_.issuer, Store::OpenMode::CreateAndMigrate);
    ASSERT_TRUE(store.ok()) << store.message();
    auto device = store->add_device("SEP001122334455", "CP-8845", "", "test");
    EXPECT_TRUE(device.ok()) << device.message();
    auto direct = issuer_.exec("SELECT to_timestamp(1::bigint)");
    EXPECT_TRUE(direct.ok()) << direct.message();
}

}  // namespace
}  // namespace lscgate
