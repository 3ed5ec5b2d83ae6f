// The fleet rows of the registry writer (issue 10; registry/fleet_records.h):
// recorded CAPF sessions (bounded, filtered), rollouts in waves with their
// members joined to operations and sessions, waves marked scheduled, adopting a
// fetched LSC, and migration 4 of an existing registry. FleetStore runs on both
// engines (ctest names end in /sqlite or /postgresql), the PostgreSQL one on a
// fresh database of a real throwaway cluster (pg_cluster.h), as the issuer.

#include "pg_cluster.h"
#include "pki/certificate.h"
#include "registry/postgresql/pg_migrate.h"
#include "registry/postgresql/pq_handles.h"
#include "registry/sqlite_handles.h"
#include "registry/sqlite_store.h"
#include "registry/store.h"
#include "test_support.h"

#include <gtest/gtest.h>

#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace lscgate {
namespace {

using test::TempDir;

// The writer on the engine named by the test parameter, with raw SQL beside it.
class FleetStore : public ::testing::TestWithParam<std::string> {
protected:
    TempDir dir;
    std::optional<test::PgTestDatabase> pg_db;
    std::string database = make_database();
    Store store = open_store(database);
    test::TestCa capf = test::make_root_ca("CN=CAPF-fleet,O=Example");
    CapfAuthority authority = test::authority_from(capf);

    bool on_pg() const { return GetParam() == "postgresql"; }
    std::string make_database() {
        if (!on_pg()) return (dir / "lscgate.db").string();
        auto cluster = test::PgCluster::shared();
        if (!cluster) throw std::runtime_error("no PostgreSQL test cluster: " + cluster.message());
        auto db = (*cluster)->create_database();
        if (!db) throw std::runtime_error("no test database: " + db.message());
        pg_db = *db;
        return db->issuer;
    }
    static Store open_store(const std::string& database) {
        auto s = Store::open(database, Store::OpenMode::CreateAndMigrate);
        if (!s) throw std::runtime_error(s.message());
        return std::move(*s);
    }
    // The superuser's connection, tables found without `lscgate.`.
    PgConnection& raw_pg() {
        if (!raw_) {
            auto c = PgConnection::connect(pg_db->superuser);
            if (!c) throw std::runtime_error(c.message());
            if (auto r = c->exec("SET search_path = lscgate"); !r) throw std::runtime_error(r.message());
            raw_ = std::move(*c);
        }
        return *raw_;
    }
    // The one integer `sql` selects, on either engine.
    int count(const std::string& sql) {
        if (on_pg()) {
            auto r = raw_pg().exec("SELECT (" + sql + ")::int");
            EXPECT_TRUE(r) << r.message();
            if (!r) return -1;
            auto v = r->int64(0, 0);
            return v ? static_cast<int>(*v) : -1;
        }
        auto st = store.database().prepare(sql);
        EXPECT_TRUE(st);
        EXPECT_TRUE(*st->step());
        return static_cast<int>(st->column_int(0));
    }

    CapfSessionRecord session(const std::string& device, UnixTime at, std::optional<std::int64_t> op = std::nullopt) {
        CapfSessionRecord s;
        s.at = at;
        s.device = device;
        s.operation_id = op;
        s.result = "failed";
        return s;
    }
    std::vector<CapfSessionRecord> sessions(const CapfSessionFilter& filter = {}) {
        std::vector<CapfSessionRecord> out;
        auto s = store.each_capf_session(filter, collect_into(out));
        EXPECT_TRUE(s) << s.message();
        return out;
    }
    Rollout plan(const std::string& name, int wave_size) {
        Rollout r;
        r.name = name;
        r.request.kind = OperationKind::Install;
        r.request.auth_mode = AuthMode::String;
        r.request.auth_secret_hash = "pbkdf2$fixed";
        r.request.key = *parse_key_spec("ec:p384");
        r.generate_strings = true;
        r.by_seconds = 86400;
        r.wave_size = wave_size;
        r.created_at = 1700000000;
        return r;
    }
    static std::vector<std::string> names(int n) {
        std::vector<std::string> out;
        for (int i = 1; i <= n; ++i) out.push_back("SEP00000000F00" + std::to_string(i));
        return out;
    }
    std::vector<RolloutMember> members(std::int64_t rollout, std::optional<int> wave = std::nullopt) {
        std::vector<RolloutMember> out;
        auto s = store.each_rollout_member(rollout, wave, collect_into(out));
        EXPECT_TRUE(s) << s.message();
        return out;
    }
    std::vector<RolloutWave> waves(std::int64_t rollout) {
        std::vector<RolloutWave> out;
        auto s = store.each_rollout_wave(rollout, collect_into(out));
        EXPECT_TRUE(s) << s.message();
        return out;
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

    std::optional<PgConnection> raw_;
};

std::string backend_name(const ::testing::TestParamInfo<std::string>& param) { return param.param; }

INSTANTIATE_TEST_SUITE_P(Backends, FleetStore, ::testing::Values(std::string("sqlite"), std::string("postgresql")),
                         backend_name);

// ---- CAPF sessions ---------------------------------------------------------------

TEST_P(FleetStore, SessionsAreRecordedAndReadBackFieldByField) {
    CapfSessionRecord full;
    full.at = 1700000123;
    full.device = "SEP001122334455";
    full.operation_id = 42;
    full.operation = "install";
    full.auth_mode = "string";
    full.result = "succeeded";
    full.cause_class = "";
    full.cause = "LSC stored by the phone";
    full.peer = "10.1.2.3:51234";
    full.serial = "0A1B2C";
    full.duration_ms = 1234;
    CapfSessionRecord bare = session("", 1700000200);
    bare.result = "closed";
    bare.cause_class = "tls";
    bare.cause = "the TLS handshake failed: \"unknown ca\"";
    ASSERT_TRUE(store.record_capf_session(full));
    ASSERT_TRUE(store.record_capf_session(bare));

    auto rows = sessions();
    ASSERT_EQ(rows.size(), 2u);
    // Newest first: the bare one was recorded last.
    EXPECT_EQ(rows[0].result, "closed");
    EXPECT_EQ(rows[0].device, "");
    EXPECT_FALSE(rows[0].operation_id);
    EXPECT_EQ(rows[0].cause, bare.cause);
    const CapfSessionRecord& got = rows[1];
    EXPECT_GT(got.id, 0);
    EXPECT_LT(got.id, rows[0].id);
    EXPECT_EQ(got.at, full.at);
    EXPECT_EQ(got.device, full.device);
    EXPECT_EQ(got.operation_id, full.operation_id);
    EXPECT_EQ(got.operation, full.operation);
    EXPECT_EQ(got.auth_mode, full.auth_mode);
    EXPECT_EQ(got.result, full.result);
    EXPECT_EQ(got.cause_class, full.cause_class);
    EXPECT_EQ(got.cause, full.cause);
    EXPECT_EQ(got.peer, full.peer);
    EXPECT_EQ(got.serial, full.serial);
    EXPECT_EQ(got.duration_ms, full.duration_ms);
    // Sessions are not audited: the trail would grow with every phone retry.
    EXPECT_EQ(count("SELECT count(*) FROM audit"), 0);
}

TEST_P(FleetStore, TheSessionTableKeepsOnlyTheNewestRows) {
    for (int i = 1; i <= 5; ++i) ASSERT_TRUE(store.record_capf_session(session("SEP00000000000" + std::to_string(i), i), 3));
    auto rows = sessions();
    ASSERT_EQ(rows.size(), 3u);
    EXPECT_EQ(rows[0].device, "SEP000000000005");
    EXPECT_EQ(rows[1].device, "SEP000000000004");
    EXPECT_EQ(rows[2].device, "SEP000000000003");
    EXPECT_EQ(count("SELECT count(*) FROM capf_sessions"), 3);
    auto none = store.record_capf_session(session("SEP000000000006", 6), 0);
    ASSERT_FALSE(none);
    EXPECT_EQ(none.kind(), ErrorKind::Input);
    EXPECT_EQ(count("SELECT count(*) FROM capf_sessions"), 3) << "a refused call writes nothing";
}

TEST_P(FleetStore, SessionsAreFilteredByDeviceOperationSinceAndLimit) {
    ASSERT_TRUE(store.record_capf_session(session("SEP0000000000A1", 100, 7)));
    ASSERT_TRUE(store.record_capf_session(session("SEP0000000000A2", 200, 8)));
    ASSERT_TRUE(store.record_capf_session(session("SEP0000000000A1", 300, 9)));
    ASSERT_TRUE(store.record_capf_session(session("SEP0000000000A1", 400, 9)));
    ASSERT_TRUE(store.record_capf_session(session("SEP0000000000A3", 500)));

    CapfSessionFilter by_device;
    by_device.device = "SEP0000000000A1";
    auto a1 = sessions(by_device);
    ASSERT_EQ(a1.size(), 3u);
    EXPECT_EQ(a1[0].at, 400);
    EXPECT_EQ(a1[2].at, 100);

    CapfSessionFilter by_op;
    by_op.operation_id = 9;
    auto op9 = sessions(by_op);
    ASSERT_EQ(op9.size(), 2u);
    EXPECT_EQ(op9[0].at, 400);
    EXPECT_EQ(op9[1].at, 300);

    CapfSessionFilter since;
    since.since = 300;  // at or after
    EXPECT_EQ(sessions(since).size(), 3u);

    CapfSessionFilter limited;
    limited.limit = 2;
    auto newest = sessions(limited);
    ASSERT_EQ(newest.size(), 2u);
    EXPECT_EQ(newest[0].at, 500);
    EXPECT_EQ(newest[1].at, 400);

    CapfSessionFilter all_of_them;
    all_of_them.device = "SEP0000000000A1";
    all_of_them.operation_id = 9;
    all_of_them.since = 350;
    all_of_them.limit = 5;
    auto one = sessions(all_of_them);
    ASSERT_EQ(one.size(), 1u);
    EXPECT_EQ(one[0].at, 400);

    CapfSessionFilter nobody;
    nobody.device = "SEP0000000000FF";
    EXPECT_TRUE(sessions(nobody).empty());
}

// ---- rollouts -------------------------------------------------------------------

TEST_P(FleetStore, ARolloutSplitsItsDevicesIntoWavesInInputOrder) {
    auto created = store.create_rollout(plan("spring", 3), names(7), "cli:alice");
    ASSERT_TRUE(created) << created.message();
    EXPECT_GT(created->id, 0);
    EXPECT_EQ(created->waves, 3);
    EXPECT_EQ(created->devices, 7);
    EXPECT_EQ(created->next_wave, 1);
    EXPECT_EQ(created->created_by, "cli:alice");

    auto all = members(created->id);
    ASSERT_EQ(all.size(), 7u);
    const std::vector<int> expected_waves = {1, 1, 1, 2, 2, 2, 3};
    for (std::size_t i = 0; i < all.size(); ++i) {
        EXPECT_EQ(all[i].device, names(7)[i]);
        EXPECT_EQ(all[i].position, static_cast<int>(i));
        EXPECT_EQ(all[i].wave, expected_waves[i]) << all[i].device;
        EXPECT_FALSE(all[i].operation_id);
        EXPECT_FALSE(all[i].state);
        EXPECT_FALSE(all[i].last_session);
    }
    auto w = waves(created->id);
    ASSERT_EQ(w.size(), 3u);
    EXPECT_EQ(w[0].wave, 1);
    EXPECT_EQ(w[0].devices, 3);
    EXPECT_EQ(w[1].devices, 3);
    EXPECT_EQ(w[2].wave, 3);
    EXPECT_EQ(w[2].devices, 1);
    for (const auto& wave : w) EXPECT_FALSE(wave.scheduled_at) << wave.wave;

    auto found = store.find_rollout("spring");
    ASSERT_TRUE(found && found->has_value());
    const Rollout& r = **found;
    EXPECT_EQ(r.id, created->id);
    EXPECT_EQ(r.request.kind, OperationKind::Install);
    EXPECT_EQ(r.request.auth_mode, AuthMode::String);
    EXPECT_EQ(r.request.auth_secret_hash, "pbkdf2$fixed");
    EXPECT_EQ(r.request.key.to_string(), "ec:p384");
    EXPECT_TRUE(r.generate_strings);
    EXPECT_EQ(r.by_seconds, std::optional<std::int64_t>(86400));
    EXPECT_EQ(r.wave_size, 3);
    EXPECT_EQ(r.waves, 3);
    EXPECT_EQ(r.next_wave, 1);
    EXPECT_EQ(r.devices, 7);
    EXPECT_EQ(r.created_at, 1700000000);
    EXPECT_EQ(r.created_by, "cli:alice");
    auto missing = store.find_rollout("autumn");
    ASSERT_TRUE(missing);
    EXPECT_FALSE(missing->has_value());

    ASSERT_TRUE(store.create_rollout(plan("summer", 500), names(2), "test"));
    std::vector<Rollout> listed;
    ASSERT_TRUE(store.each_rollout(collect_into(listed)));
    ASSERT_EQ(listed.size(), 2u);
    EXPECT_EQ(listed[0].name, "spring");
    EXPECT_EQ(listed[1].name, "summer");
    EXPECT_EQ(listed[1].waves, 1);
    EXPECT_EQ(listed[1].devices, 2);
    EXPECT_EQ(count("SELECT count(*) FROM audit WHERE action='rollout-create'"), 2);

    auto second = members(created->id, 2);
    ASSERT_EQ(second.size(), 3u);
    EXPECT_EQ(second[0].position, 3);
    EXPECT_EQ(second[2].position, 5);
}

TEST_P(FleetStore, ARolloutNameIsUsedOnceAndAPlanIsCheckedBeforeAnyWrite) {
    ASSERT_TRUE(store.create_rollout(plan("spring", 3), names(4), "test"));
    auto again = store.create_rollout(plan("spring", 2), names(2), "test");
    ASSERT_FALSE(again);
    EXPECT_EQ(again.kind(), ErrorKind::Config);
    EXPECT_NE(again.message().find("a rollout named spring already exists"), std::string::npos) << again.message();
    EXPECT_EQ(count("SELECT count(*) FROM rollouts"), 1);
    EXPECT_EQ(count("SELECT count(*) FROM rollout_devices"), 4);
    EXPECT_EQ(count("SELECT count(*) FROM rollout_waves"), 2);

    auto twice = store.create_rollout(plan("twice", 3), {"SEP0000000000B1", "SEP0000000000B2", "SEP0000000000B1"}, "test");
    ASSERT_FALSE(twice);
    EXPECT_EQ(twice.kind(), ErrorKind::Input);
    EXPECT_NE(twice.message().find("SEP0000000000B1 is listed twice (item 3)"), std::string::npos) << twice.message();
    EXPECT_EQ(store.create_rollout(plan("empty", 3), {}, "test").kind(), ErrorKind::Input);
    EXPECT_EQ(store.create_rollout(plan("zero", 0), names(2), "test").kind(), ErrorKind::Input);
    EXPECT_EQ(count("SELECT count(*) FROM rollouts"), 1);
}

TEST_P(FleetStore, AMemberShowsItsOperationAndThatOperationsNewestSession) {
    auto r = store.create_rollout(plan("join", 2), names(3), "test");
    ASSERT_TRUE(r) << r.message();
    const auto devices = names(3);
    ASSERT_TRUE(store.add_device(devices[0], "", "", "test"));
    ASSERT_TRUE(store.add_device(devices[2], "", "", "test"));
    const Operation op = schedule(devices[0]);
    const Operation other = schedule(devices[2]);
    ASSERT_TRUE(store.set_rollout_member(r->id, devices[0], op.id, ""));
    ASSERT_TRUE(store.set_rollout_member(r->id, devices[1], std::nullopt, "not registered"));
    ASSERT_TRUE(store.set_rollout_member(r->id, devices[2], other.id, ""));
    CapfSessionRecord older = session(devices[0], 100, op.id);
    older.cause_class = "auth";
    CapfSessionRecord newer = session(devices[0], 200, op.id);
    newer.result = "succeeded";
    newer.serial = "0C";
    ASSERT_TRUE(store.record_capf_session(older));
    ASSERT_TRUE(store.record_capf_session(newer));
    // A later session of another operation must not be joined to this member.
    ASSERT_TRUE(store.record_capf_session(session(devices[2], 300, other.id)));
    CapfSessionFilter of_op;
    of_op.operation_id = op.id;
    auto recorded = sessions(of_op);
    ASSERT_EQ(recorded.size(), 2u);

    auto all = members(r->id);
    ASSERT_EQ(all.size(), 3u);
    const RolloutMember& m = all[0];
    EXPECT_EQ(m.operation_id, std::optional<std::int64_t>(op.id));
    ASSERT_TRUE(m.state);
    EXPECT_EQ(*m.state, OperationState::Pending);
    EXPECT_EQ(m.operation_created_at, std::optional<UnixTime>(op.created_at));
    EXPECT_FALSE(m.completes_by);
    ASSERT_TRUE(m.last_session);
    EXPECT_EQ(m.last_session->id, recorded[0].id);
    EXPECT_EQ(m.last_session->at, 200);
    EXPECT_EQ(m.last_session->result, "succeeded");
    EXPECT_EQ(m.last_session->serial, "0C");
    EXPECT_EQ(m.last_session->operation_id, std::optional<std::int64_t>(op.id));

    EXPECT_EQ(all[1].skipped, "not registered");
    EXPECT_FALSE(all[1].operation_id);
    EXPECT_FALSE(all[1].state);
    EXPECT_FALSE(all[1].last_session);
    ASSERT_TRUE(all[2].last_session);
    EXPECT_EQ(all[2].last_session->at, 300);

    // The operation's state follows the operations table.
    ASSERT_TRUE(store.set_operation_state(op.id, OperationState::Failed, "phone said no"));
    auto after = members(r->id, 1);
    ASSERT_EQ(after.size(), 2u);
    ASSERT_TRUE(after[0].state);
    EXPECT_EQ(*after[0].state, OperationState::Failed);
    EXPECT_EQ(after[0].last_error, "phone said no");

    auto stranger = store.set_rollout_member(r->id, "SEP0000000000FF", std::nullopt, "");
    ASSERT_FALSE(stranger);
    EXPECT_EQ(stranger.kind(), ErrorKind::Config);
}

TEST_P(FleetStore, MarkingAWaveScheduledMovesNextWaveAndIsAudited) {
    auto r = store.create_rollout(plan("waves", 2), names(5), "test");
    ASSERT_TRUE(r) << r.message();
    ASSERT_TRUE(store.mark_rollout_wave_scheduled(r->id, 1, 1000, 2000, "cli:bob"));
    auto w = waves(r->id);
    ASSERT_EQ(w.size(), 3u);
    EXPECT_EQ(w[0].scheduled_at, std::optional<UnixTime>(1000));
    EXPECT_EQ(w[0].completes_by, std::optional<UnixTime>(2000));
    EXPECT_FALSE(w[1].scheduled_at);
    EXPECT_EQ((*store.find_rollout("waves"))->next_wave, 2);

    ASSERT_TRUE(store.mark_rollout_wave_scheduled(r->id, 2, 3000, std::nullopt, "cli:bob"));
    w = waves(r->id);
    EXPECT_EQ(w[1].scheduled_at, std::optional<UnixTime>(3000));
    EXPECT_FALSE(w[1].completes_by);
    EXPECT_EQ((*store.find_rollout("waves"))->next_wave, 3);
    // Wave 1 again (a retry): the next wave stays 3, never backwards.
    ASSERT_TRUE(store.mark_rollout_wave_scheduled(r->id, 1, 4000, 5000, "cli:bob"));
    EXPECT_EQ((*store.find_rollout("waves"))->next_wave, 3);
    ASSERT_TRUE(store.mark_rollout_wave_scheduled(r->id, 3, 6000, std::nullopt, "cli:bob"));
    EXPECT_EQ((*store.find_rollout("waves"))->next_wave, 4) << "waves + 1: every wave scheduled";

    auto no_wave = store.mark_rollout_wave_scheduled(r->id, 9, 7000, std::nullopt, "cli:bob");
    ASSERT_FALSE(no_wave);
    EXPECT_EQ(no_wave.kind(), ErrorKind::Config);
    EXPECT_EQ(store.mark_rollout_wave_scheduled(r->id + 100, 1, 7000, std::nullopt, "cli:bob").kind(),
              ErrorKind::Config);
    EXPECT_EQ(count("SELECT count(*) FROM audit WHERE action='rollout-wave' AND actor='cli:bob'"), 4);
    auto trail = store.verify_audit();
    ASSERT_TRUE(trail) << trail.message();
    EXPECT_TRUE(trail->intact());
}

// ---- adopting a fetched LSC ---------------------------------------------------------

TEST_P(FleetStore, AFetchedLscIsAdoptedAndThePreviousActiveOneSuperseded) {
    const std::string dev = "SEP0000000000C1";
    ASSERT_TRUE(store.add_device(dev, "", "", "test"));
    auto issued = store.commit_issued_lsc(schedule(dev), lsc_for(dev).get());
    ASSERT_TRUE(issued) << issued.message();
    auto fetched_cert = lsc_for(dev);  // on the phone, unknown to the registry
    ASSERT_TRUE(store.commit_fetched_certificate(schedule(dev, OperationKind::Fetch), fetched_cert.get(),
                                                 CertificateKind::Lsc));
    auto fetched = store.find_certificate_by_fingerprint(describe_certificate(fetched_cert.get())->sha256);
    ASSERT_TRUE(fetched && fetched->has_value());
    ASSERT_EQ((*fetched)->status, CertificateStatus::Fetched);

    auto adopted = store.adopt_fetched_lsc((*fetched)->id, "cli:carol");
    ASSERT_TRUE(adopted) << adopted.message();
    EXPECT_EQ(adopted->id, (*fetched)->id);
    EXPECT_EQ(adopted->status, CertificateStatus::Active);
    auto active = store.active_lsc(dev);
    ASSERT_TRUE(active && active->has_value());
    EXPECT_EQ((*active)->id, (*fetched)->id);
    EXPECT_EQ(count("SELECT count(*) FROM certificates WHERE id = " + std::to_string(issued->id) +
                    " AND status = 'superseded'"),
              1);
    EXPECT_EQ(count("SELECT count(*) FROM audit WHERE action='lsc-adopt' AND actor='cli:carol' AND detail LIKE "
                    "'serial=" + adopted->facts.serial_hex + "%'"),
              1);

    // Not fetched (now active; the superseded one), not an LSC, not there: refused, nothing changes.
    auto twice = store.adopt_fetched_lsc((*fetched)->id, "cli:carol");
    ASSERT_FALSE(twice);
    EXPECT_EQ(twice.kind(), ErrorKind::Config);
    EXPECT_NE(twice.message().find("not fetched"), std::string::npos) << twice.message();
    EXPECT_EQ(store.adopt_fetched_lsc(issued->id, "cli:carol").kind(), ErrorKind::Config);
    auto mic_root = test::make_root_ca("CN=Mfg");
    auto mic_key = test::make_key("ec:p256");
    auto mic = test::make_leaf(mic_root, mic_key.get(), "CN=CP-8841-" + dev);
    ASSERT_TRUE(store.commit_fetched_certificate(schedule(dev, OperationKind::Fetch), mic.get(), CertificateKind::Mic));
    auto mic_row = store.find_certificate_by_fingerprint(describe_certificate(mic.get())->sha256);
    ASSERT_TRUE(mic_row && mic_row->has_value());
    auto not_lsc = store.adopt_fetched_lsc((*mic_row)->id, "cli:carol");
    ASSERT_FALSE(not_lsc);
    EXPECT_EQ(not_lsc.kind(), ErrorKind::Config);
    EXPECT_NE(not_lsc.message().find("not an LSC"), std::string::npos) << not_lsc.message();
    EXPECT_EQ(store.adopt_fetched_lsc(999999, "cli:carol").kind(), ErrorKind::Config);
    EXPECT_EQ(count("SELECT count(*) FROM audit WHERE action='lsc-adopt'"), 1);
    EXPECT_EQ(count("SELECT count(*) FROM certificates WHERE status='active'"), 1);
}

// ---- migration 4 of an existing registry -------------------------------------------

// A registry written at version 4, brought back to exactly what version 3 had
// (the four tables dropped, the version set back), then opened again.
TEST(FleetMigration, AnSqliteRegistryAtVersionThreeKeepsItsRowsThroughMigrationFour) {
    TempDir dir;
    const auto file = dir / "v3.db";
    {
        Store store = test::make_store(file);
        ASSERT_TRUE(store.add_device("SEP0000000000D1", "8845", "lobby", "test"));
        ASSERT_TRUE(store.schedule_operation("SEP0000000000D1", OperationRequest{}, "test"));
        ASSERT_TRUE(store.database().exec("DROP TABLE rollout_devices; DROP TABLE rollout_waves; DROP TABLE rollouts; "
                                          "DROP TABLE capf_sessions; PRAGMA user_version = 3"));
    }
    auto migrated = Store::open(file.string());
    ASSERT_TRUE(migrated) << migrated.message();
    EXPECT_EQ(migrated->schema_version(), kStoreSchemaVersion);
    EXPECT_EQ(kStoreSchemaVersion, 4);
    auto dev = migrated->find_device("SEP0000000000D1");
    ASSERT_TRUE(dev && dev->has_value());
    EXPECT_EQ((*dev)->description, "lobby");
    auto ops = migrated->list_operations(std::nullopt, true);
    ASSERT_TRUE(ops);
    EXPECT_EQ(ops->size(), 1u);
    auto trail = migrated->verify_audit();
    ASSERT_TRUE(trail) << trail.message();
    EXPECT_TRUE(trail->intact());
    EXPECT_EQ(trail->rows, 2);
    // The new tables work at once.
    CapfSessionRecord s;
    s.at = 1;
    s.device = "SEP0000000000D1";
    s.result = "succeeded";
    ASSERT_TRUE(migrated->record_capf_session(s));
    Rollout plan;
    plan.name = "after-migration";
    auto r = migrated->create_rollout(plan, {"SEP0000000000D1"}, "test");
    ASSERT_TRUE(r) << r.message();
    EXPECT_EQ(r->waves, 1);
}

class FleetOnPg : public FleetStore {};

TEST_P(FleetOnPg, APostgresqlRegistryAtVersionThreeKeepsItsRowsThroughMigrationFour) {
    ASSERT_TRUE(store.add_device("SEP0000000000D2", "", "", "test"));
    auto admin = PgConnection::connect(pg_db->superuser);
    ASSERT_TRUE(admin) << admin.message();
    ASSERT_TRUE(admin->exec("DROP TABLE lscgate.rollout_devices, lscgate.rollout_waves, lscgate.rollouts, "
                            "lscgate.capf_sessions; DELETE FROM lscgate.schema_version WHERE version = 4"));
    auto issuer = PgConnection::connect(pg_db->issuer);
    ASSERT_TRUE(issuer);
    ASSERT_EQ(*pg_schema_version(*issuer), 3);
    auto migrated = Store::open(database, Store::OpenMode::CreateAndMigrate);
    ASSERT_TRUE(migrated) << migrated.message();
    EXPECT_EQ(migrated->schema_version(), 4);
    auto dev = migrated->find_device("SEP0000000000D2");
    ASSERT_TRUE(dev && dev->has_value());
    ASSERT_TRUE(migrated->record_capf_session(session("SEP0000000000D2", 5)));
    EXPECT_EQ(count("SELECT count(*) FROM capf_sessions"), 1);
    auto trail = migrated->verify_audit();
    ASSERT_TRUE(trail) << trail.message();
    EXPECT_TRUE(trail->intact());
}

INSTANTIATE_TEST_SUITE_P(Backends, FleetOnPg, ::testing::Values(std::string("postgresql")), backend_name);

}  // namespace
}  // namespace lscgate
