// The PostgreSQL registry reader on a real cluster (issue 8, items 2 and 4):
// it connects as the RADIUS role with a bounded pool, and what it does while
// the server is down - fail closed, or answer devices seen before from their
// last known rows for the outage grace - how few connection attempts it makes
// meanwhile, and that it recovers by itself when the server returns. Time is
// passed in: `now` for the grace, a test clock for the reconnect back-off.

#include "registry/sqlite_handles.h"
#include "registry/postgresql/pg_reader_conninfo.h"
#include "registry/postgresql/pg_registry_reader.h"
#include "registry_test_backend.h"

#include <gtest/gtest.h>

#include <mutex>
#include <thread>

namespace lscgate {
namespace {

using test::PgCluster;

class PgRegistryReaderTest : public ::testing::Test {
protected:
    void SetUp() override {
        ASSERT_TRUE(backend.ok()) << backend.setup_error();
        auto c = PgCluster::shared();
        ASSERT_TRUE(c) << c.message();
        cluster = *c;
        seen_cert = test::make_leaf(capf, key.get(), "CN=SEP00000000A001,O=Example");
        other_cert = test::make_leaf(capf, key.get(), "CN=SEP00000000A002,O=Example");
        backend.add_lsc("SEP00000000A001", seen_cert.get(), "active");
        backend.add_lsc("SEP00000000A002", other_cert.get(), "active");
    }
    void TearDown() override {
        // For the next test in this process.
        if (cluster != nullptr && !cluster->running()) {
            EXPECT_TRUE(cluster->start());
        }
    }

    std::unique_ptr<RegistryReader> open_reader(std::chrono::seconds grace, std::size_t connections = 2,
                                                bool change_watch = true) {
        RegistryReaderOptions options;
        options.connections = connections;
        options.change_watch = change_watch;
        options.outage_grace = grace;
        options.reconnect_backoff_min = std::chrono::milliseconds(1000);
        options.reconnect_backoff_max = std::chrono::milliseconds(8000);
        options.clock = [this] { return clock; };
        auto r = RegistryReader::open(backend.database(), options, [this](const std::string& m) {
            std::lock_guard lock(log_mutex);  // the change watch logs from its own thread
            logged.push_back(m);
        });
        EXPECT_TRUE(r) << r.message();
        return r ? std::move(*r) : nullptr;
    }
    static std::uint64_t attempts(RegistryReader& r) { return dynamic_cast<PgRegistryReader&>(r).connection_attempts(); }
    static PgRegistryReader& pg(RegistryReader& r) { return dynamic_cast<PgRegistryReader&>(r); }
    // Waits (at most 20 s, polling) until `done` holds; false if it never did.
    template <class F>
    static bool eventually(F&& done) {
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
        while (!done()) {
            if (std::chrono::steady_clock::now() > deadline) return false;
            std::this_thread::sleep_for(std::chrono::milliseconds(2));
        }
        return true;
    }
    // Until the reader's change watch has connected `n` times in all.
    static bool watch_connected(RegistryReader& r, std::uint64_t n = 1) {
        return eventually([&] { return pg(r).watch_connections() >= n; });
    }
    // Until the watch vouches for the registry's current change counter (the
    // notifications of every commit so far have been delivered).
    bool watch_caught_up(RegistryReader& r) {
        const std::int64_t server = server_count("SELECT value FROM lscgate.change_counter");
        return eventually([&] {
            auto known = pg(r).watched_counter();
            return known && *known >= server;
        });
    }
    std::int64_t server_count(const std::string& sql) {
        auto conn = PgConnection::connect(backend.pg().superuser);
        EXPECT_TRUE(conn) << conn.message();
        if (!conn) return -1;
        auto r = conn->exec(sql);
        EXPECT_TRUE(r) << r.message();
        if (!r) return -1;
        auto v = r->int64(0, 0);
        return v ? *v : -1;
    }
    std::size_t logged_with(const std::string& text) const {
        std::size_t n = 0;
        std::lock_guard lock(log_mutex);
        for (const auto& m : logged) n += m.find(text) != std::string::npos ? 1 : 0;
        return n;
    }

    test::RegistryTestBackend backend{test::Engine::PostgreSQL};
    PgCluster* cluster = nullptr;
    test::TestCa capf = test::make_root_ca("CN=CAPF,O=Example", "ec:p256");
    EvpPkeyPtr key = test::make_key("ec:p256");
    X509Ptr seen_cert, other_cert;
    std::chrono::steady_clock::time_point clock = std::chrono::steady_clock::now();
    mutable std::mutex log_mutex;
    std::vector<std::string> logged;
    const UnixTime t0 = 1'800'000'000;
};

TEST_F(PgRegistryReaderTest, ConnectsAsTheRadiusRoleWithABoundedPool) {
    auto reader = open_reader(std::chrono::seconds(0), 3);
    ASSERT_TRUE(reader);
    // Many lookups from more threads than connections: the pool never grows.
    std::vector<std::thread> threads;
    for (int t = 0; t < 6; ++t)
        threads.emplace_back([&] {
            for (int i = 0; i < 50; ++i) EXPECT_TRUE(reader->current_lsc("SEP00000000A001", t0));
        });
    for (auto& t : threads) t.join();
    EXPECT_EQ(server_count("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'lscgate-radius' AND "
                           "usename = 'lscgate_radius' AND datname = '" + backend.pg().name + "'"),
              3);
    EXPECT_EQ(server_count("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'lscgate-radius' AND "
                           "usename <> 'lscgate_radius'"),
              0);
    EXPECT_EQ(attempts(*reader), 3u);
}

// The radius role's password never reaches a message, and a wrong one is a
// configuration error at open (FreeRADIUS refuses to start with the cause).
TEST_F(PgRegistryReaderTest, AWrongPasswordIsAConfigErrorWithoutThePassword) {
    std::string conninfo = backend.database();
    const std::string right = std::string("password=") + test::kPgRadiusPassword;
    ASSERT_NE(conninfo.find(right), std::string::npos) << "the test expects a keyword/value conninfo";
    conninfo.replace(conninfo.find(right), right.size(), "password=Wr0ng-Secret-77");
    auto r = RegistryReader::open(conninfo, RegistryReaderOptions{});
    ASSERT_FALSE(r);
    EXPECT_EQ(r.kind(), ErrorKind::Config) << r.message();
    EXPECT_EQ(r.message().find("Wr0ng-Secret-77"), std::string::npos) << r.message();
}

// Grace 0: once the server is gone every lookup fails closed (Unavailable), even
// for a row read a moment before; logged once at the start and once at the end;
// and the reader serves again after the restart without being reopened.
TEST_F(PgRegistryReaderTest, ServerStoppedFailsClosedThenRecoversWithoutReopening) {
    auto reader = open_reader(std::chrono::seconds(0));
    ASSERT_TRUE(reader);
    ASSERT_TRUE(watch_connected(*reader));  // so the row below is one the watch could answer from memory
    ASSERT_TRUE(reader->current_lsc("SEP00000000A001", t0));
    ASSERT_TRUE(reader->current_lsc("SEP00000000A001", t0));
    ASSERT_TRUE(cluster->stop());
    for (int i = 0; i < 5; ++i) {
        auto r = reader->current_lsc("SEP00000000A001", t0 + 1);
        ASSERT_FALSE(r);
        EXPECT_EQ(r.kind(), ErrorKind::Unavailable) << r.message();
    }
    EXPECT_FALSE(reader->capf_signature());
    EXPECT_EQ(logged_with("registry outage: failing closed"), 1u);
    ASSERT_TRUE(cluster->start());
    clock += std::chrono::seconds(9);  // past any back-off
    auto back = reader->current_lsc("SEP00000000A001", t0 + 2);
    ASSERT_TRUE(back) << back.message();
    ASSERT_TRUE(back->has_value());
    EXPECT_EQ((*back)->status, CertificateStatus::Active);
    // Every pooled connection died with the server: each is replaced at its next use.
    for (int i = 0; i < 4; ++i) EXPECT_TRUE(reader->current_lsc("SEP00000000A002", t0 + 2));
    EXPECT_EQ(logged_with("outage is over"), 1u);
    // The change watch lost its connection too and, later, says when it is back.
    EXPECT_TRUE(eventually([&] { return logged_with("registry change watch connected again") == 1; }));
    EXPECT_EQ(logged_with("registry change watch lost"), 1u);
    EXPECT_EQ(logged_with("registry"), 4u);
}

// Grace N: a device read before the outage is answered from its last known row
// until N seconds after the registry last answered, then fails closed; a device
// never read fails closed at once.
TEST_F(PgRegistryReaderTest, GraceAnswersSeenDevicesUntilItRunsOut) {
    auto reader = open_reader(std::chrono::seconds(60));
    ASSERT_TRUE(reader);
    const auto f = describe_certificate(seen_cert.get());
    ASSERT_TRUE(f);
    ASSERT_TRUE(reader->current_lsc("SEP00000000A001", t0));
    ASSERT_TRUE(reader->by_serial(f->serial_hex, f->issuer_oneline, t0));
    ASSERT_TRUE(cluster->stop());
    clock += std::chrono::seconds(30);
    auto during = reader->current_lsc("SEP00000000A001", t0);
    ASSERT_TRUE(during) << during.message();
    ASSERT_TRUE(during->has_value());
    EXPECT_EQ((*during)->status, CertificateStatus::Active);
    clock += std::chrono::seconds(30);
    auto by_serial = reader->by_serial(f->serial_hex, f->issuer_oneline, t0);
    ASSERT_TRUE(by_serial && by_serial->has_value()) << (by_serial ? "no row" : by_serial.message());
    auto never_seen = reader->current_lsc("SEP00000000A002", t0);
    ASSERT_FALSE(never_seen);
    EXPECT_EQ(never_seen.kind(), ErrorKind::Unavailable);
    EXPECT_NE(never_seen.message().find("no row known"), std::string::npos) << never_seen.message();
    clock += std::chrono::seconds(1);
    auto over = reader->current_lsc("SEP00000000A001", t0);
    ASSERT_FALSE(over);
    EXPECT_EQ(over.kind(), ErrorKind::Unavailable);
    EXPECT_NE(over.message().find("run out"), std::string::npos) << over.message();
    EXPECT_EQ(logged_with("for up to 60 s"), 1u);
    ASSERT_TRUE(cluster->start());
    clock += std::chrono::seconds(9);
    auto back = reader->current_lsc("SEP00000000A002", t0 + 62);
    ASSERT_TRUE(back && back->has_value()) << (back ? "no row" : back.message());
}

// The grace answers with what the registry said last: a revoke seen before the
// outage stays a revoke.
TEST_F(PgRegistryReaderTest, GraceKeepsARevokeSeenBeforeTheOutage) {
    auto reader = open_reader(std::chrono::seconds(60));
    ASSERT_TRUE(reader);
    ASSERT_TRUE(reader->current_lsc("SEP00000000A001", t0));
    backend.set_lsc_status("SEP00000000A001", "revoked");
    ASSERT_TRUE(watch_caught_up(*reader));  // the revoke's notification has arrived
    auto revoked = reader->current_lsc("SEP00000000A001", t0);
    ASSERT_TRUE(revoked && revoked->has_value());
    ASSERT_EQ((*revoked)->status, CertificateStatus::Revoked);
    ASSERT_TRUE(cluster->stop());
    auto during = reader->current_lsc("SEP00000000A001", t0 + 5);
    ASSERT_TRUE(during && during->has_value()) << (during ? "no row" : during.message());
    EXPECT_EQ((*during)->status, CertificateStatus::Revoked);
}

// The grace runs on the monotonic clock: a wall-clock step (the `now` a lookup
// is given jumps a day ahead, or back) neither ends nor extends it.
TEST_F(PgRegistryReaderTest, GraceIgnoresWallClockSteps) {
    auto reader = open_reader(std::chrono::seconds(60));
    ASSERT_TRUE(reader);
    ASSERT_TRUE(reader->current_lsc("SEP00000000A001", t0 + 86400));
    ASSERT_TRUE(cluster->stop());
    auto stepped_back = reader->current_lsc("SEP00000000A001", t0);
    ASSERT_TRUE(stepped_back && stepped_back->has_value()) << (stepped_back ? "no row" : stepped_back.message());
    clock += std::chrono::seconds(61);
    auto over = reader->current_lsc("SEP00000000A001", t0 - 86400);
    ASSERT_FALSE(over);
    EXPECT_NE(over.message().find("run out"), std::string::npos) << over.message();
}

// A revoke committed elsewhere and learned here only through the change counter
// of another device's lookup: the revoked phone's remembered (active) row is
// stale, so during the outage it fails closed instead of being accepted.
TEST_F(PgRegistryReaderTest, GraceRefusesARowOlderThanTheLatestChangeSeen) {
    auto reader = open_reader(std::chrono::seconds(60));
    ASSERT_TRUE(reader);
    auto active = reader->current_lsc("SEP00000000A001", t0);
    ASSERT_TRUE(active && active->has_value());
    ASSERT_EQ((*active)->status, CertificateStatus::Active);
    backend.set_lsc_status("SEP00000000A001", "revoked");
    ASSERT_TRUE(reader->current_lsc("SEP00000000A002", t0));  // learns the new counter
    ASSERT_TRUE(cluster->stop());
    auto revoked = reader->current_lsc("SEP00000000A001", t0);
    ASSERT_FALSE(revoked) << "a revoked phone was answered from its stale active row";
    EXPECT_EQ(revoked.kind(), ErrorKind::Unavailable);
    EXPECT_NE(revoked.message().find("older than the registry's last change"), std::string::npos)
        << revoked.message();
    // The device whose row carries the latest counter is still answered.
    auto other = reader->current_lsc("SEP00000000A002", t0);
    ASSERT_TRUE(other && other->has_value()) << (other ? "no row" : other.message());
}

// Another database behind the same conninfo (a restored backup) can carry the
// same change counter with different rows: rows remembered before a reconnection
// are never trusted after it. Simulated by changing a row without the triggers
// (so the counter stays) and dropping the reader's connections.
TEST_F(PgRegistryReaderTest, RowsRememberedBeforeAReconnectionAreReadAgain) {
    auto reader = open_reader(std::chrono::seconds(0), 1);
    ASSERT_TRUE(reader);
    ASSERT_TRUE(watch_connected(*reader));
    auto active = reader->current_lsc("SEP00000000A001", t0);
    ASSERT_TRUE(active && active->has_value());
    ASSERT_EQ((*active)->status, CertificateStatus::Active);
    auto su = PgConnection::connect(backend.pg().superuser);
    ASSERT_TRUE(su) << su.message();
    auto changed = su->exec(
        "SET session_replication_role = replica; UPDATE lscgate.certificates SET status = 'revoked' "
        "WHERE device_name = 'SEP00000000A001' AND kind = 'lsc'; SET session_replication_role = origin");
    ASSERT_TRUE(changed) << changed.message();
    // Both of the reader's connections: the pooled one and the change watch's.
    EXPECT_EQ(server_count("SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND "
                           "application_name IN ('lscgate-radius', 'lscgate-radius-watch')) t"),
              2);
    ASSERT_TRUE(watch_connected(*reader, 2));  // the watch is back: a new generation
    auto after = reader->current_lsc("SEP00000000A001", t0);
    ASSERT_TRUE(after && after->has_value()) << (after ? "no row" : after.message());
    EXPECT_EQ((*after)->status, CertificateStatus::Revoked);
}

// While the server is down, K requests make one connection attempt per back-off
// interval (1 s, doubling), not one each; the others fail at once.
TEST_F(PgRegistryReaderTest, BackOffBoundsConnectionAttemptsWhileDown) {
    auto reader = open_reader(std::chrono::seconds(0), 4);
    ASSERT_TRUE(reader);
    const auto opened = attempts(*reader);
    ASSERT_EQ(opened, 4u);
    ASSERT_TRUE(cluster->stop());
    for (int i = 0; i < 200; ++i) EXPECT_FALSE(reader->current_lsc("SEP00000000A001", t0));
    EXPECT_EQ(attempts(*reader) - opened, 1u);
    auto fast = reader->current_lsc("SEP00000000A001", t0);
    ASSERT_FALSE(fast);
    EXPECT_NE(fast.message().find("next connection attempt in"), std::string::npos) << fast.message();
    clock += std::chrono::milliseconds(1000);  // the first interval is over: one more attempt
    for (int i = 0; i < 200; ++i) EXPECT_FALSE(reader->current_lsc("SEP00000000A001", t0));
    EXPECT_EQ(attempts(*reader) - opened, 2u);
    clock += std::chrono::milliseconds(1000);  // the interval doubled to 2 s: not yet
    for (int i = 0; i < 200; ++i) EXPECT_FALSE(reader->current_lsc("SEP00000000A001", t0));
    EXPECT_EQ(attempts(*reader) - opened, 2u);
    clock += std::chrono::milliseconds(1000);
    EXPECT_FALSE(reader->current_lsc("SEP00000000A001", t0));
    EXPECT_EQ(attempts(*reader) - opened, 3u);
}

// The change watch (pg_change_watch.h): while it vouches for the change
// counter, a key whose remembered row is unchanged is answered from memory (no
// round trip, counted by lookups_from_memory); a revoke committed elsewhere
// counts at the first lookup after PostgreSQL delivered its notification, on
// both lookup paths, and a "none" remembered for a device counts no longer.
TEST_F(PgRegistryReaderTest, TheWatchAnswersUnchangedRowsFromMemoryAndCountsARevokeOnceDelivered) {
    auto reader = open_reader(std::chrono::seconds(0));
    ASSERT_TRUE(reader);
    ASSERT_TRUE(watch_connected(*reader));
    ASSERT_TRUE(watch_caught_up(*reader));
    auto facts = describe_certificate(seen_cert.get());
    ASSERT_TRUE(facts) << facts.message();
    ASSERT_TRUE(reader->current_lsc("SEP00000000A001", t0));  // read once: remembered
    ASSERT_TRUE(reader->by_serial(facts->serial_hex, facts->issuer_oneline, t0));
    const auto before = pg(*reader).lookups_from_memory();
    for (int i = 0; i < 50; ++i) {
        auto a = reader->current_lsc("SEP00000000A001", t0);
        auto b = reader->by_serial(facts->serial_hex, facts->issuer_oneline, t0);
        ASSERT_TRUE(a && a->has_value() && b && b->has_value());
        EXPECT_EQ((*a)->status, CertificateStatus::Active);
        EXPECT_EQ((*b)->status, CertificateStatus::Active);
    }
    // 100, less any lookup that met a heartbeat in progress (then it reads the counter itself).
    EXPECT_GE(pg(*reader).lookups_from_memory() - before, 90u);
    auto none = reader->current_lsc("SEP00000000A0FF", t0);
    ASSERT_TRUE(none && !none->has_value());

    backend.set_lsc_status("SEP00000000A001", "revoked");
    X509Ptr late = test::make_leaf(capf, key.get(), "CN=SEP00000000A0FF,O=Example");
    backend.add_lsc("SEP00000000A0FF", late.get(), "active");
    ASSERT_TRUE(watch_caught_up(*reader));
    const auto delivered = pg(*reader).lookups_from_memory();
    auto a = reader->current_lsc("SEP00000000A001", t0);
    auto b = reader->by_serial(facts->serial_hex, facts->issuer_oneline, t0);
    auto c = reader->current_lsc("SEP00000000A0FF", t0);
    ASSERT_TRUE(a && a->has_value() && b && b->has_value() && c && c->has_value());
    EXPECT_EQ((*a)->status, CertificateStatus::Revoked);
    EXPECT_EQ((*b)->status, CertificateStatus::Revoked);
    EXPECT_EQ((*c)->status, CertificateStatus::Active);
    EXPECT_EQ(pg(*reader).lookups_from_memory(), delivered);  // each one read again
    // A device unrelated to the change is read again once too (the counter is
    // registry-wide), then answered from memory as before.
    ASSERT_TRUE(reader->current_lsc("SEP00000000A002", t0));
    EXPECT_TRUE(eventually([&] {
        const auto n = pg(*reader).lookups_from_memory();
        return reader->current_lsc("SEP00000000A002", t0) && pg(*reader).lookups_from_memory() > n;
    }));
}

// The registry replaced in place (a restore in one transaction: rows changed,
// the change counter lower than before, no notification): what was remembered
// is read again, with the watch (its next counter read sees the drop) and
// without it (the next counter read on the same pooled connection does).
TEST_F(PgRegistryReaderTest, ACounterGoingBackwardsForgetsTheRememberedRows) {
    for (const bool watch : {true, false}) {
        SCOPED_TRACE(watch ? "change watch" : "counter per lookup");
        backend.set_lsc_status("SEP00000000A001", "active");
        backend.exec("UPDATE {T}change_counter SET value = value + 100", {});  // a history to go back from
        auto reader = open_reader(std::chrono::seconds(0), 1, watch);
        ASSERT_TRUE(reader);
        if (watch) {
            ASSERT_TRUE(watch_caught_up(*reader));
        }
        for (int i = 0; i < 3; ++i) {
            auto r = reader->current_lsc("SEP00000000A001", t0);
            ASSERT_TRUE(r && r->has_value());
            ASSERT_EQ((*r)->status, CertificateStatus::Active);
        }
        auto su = PgConnection::connect(backend.pg().superuser);
        ASSERT_TRUE(su) << su.message();
        auto restored = su->exec(
            "BEGIN; SET LOCAL session_replication_role = replica; UPDATE lscgate.certificates SET status = "
            "'revoked' WHERE device_name = 'SEP00000000A001' AND kind = 'lsc'; UPDATE lscgate.change_counter "
            "SET value = 1; COMMIT");
        ASSERT_TRUE(restored) << restored.message();
        if (watch) {
            ASSERT_TRUE(eventually([&] { return pg(*reader).watched_counter() == std::optional<std::int64_t>(1); }));
        }
        auto after = reader->current_lsc("SEP00000000A001", t0);
        ASSERT_TRUE(after && after->has_value()) << (after ? "no row" : after.message());
        EXPECT_EQ((*after)->status, CertificateStatus::Revoked);
    }
}

// registry_change_watch = no: no watch connection, every lookup reads the counter.
TEST_F(PgRegistryReaderTest, WithoutTheWatchEveryLookupReadsTheCounter) {
    auto reader = open_reader(std::chrono::seconds(0), 1, false);
    ASSERT_TRUE(reader);
    for (int i = 0; i < 20; ++i) ASSERT_TRUE(reader->current_lsc("SEP00000000A001", t0));
    EXPECT_EQ(pg(*reader).lookups_from_memory(), 0u);
    EXPECT_EQ(pg(*reader).watch_connections(), 0u);
    EXPECT_EQ(server_count("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'lscgate-radius-watch'"), 0);
    backend.set_lsc_status("SEP00000000A001", "revoked");
    auto r = reader->current_lsc("SEP00000000A001", t0);  // exact at the very next lookup
    ASSERT_TRUE(r && r->has_value());
    EXPECT_EQ((*r)->status, CertificateStatus::Revoked);
}

// A watch connection that dies (terminated, server restarted) is replaced by the
// watch's own thread, which LISTENs again: later changes are delivered as before.
TEST_F(PgRegistryReaderTest, AWatchConnectionLostReconnectsByItself) {
    auto reader = open_reader(std::chrono::seconds(0), 1);
    ASSERT_TRUE(reader);
    ASSERT_TRUE(watch_connected(*reader));
    EXPECT_EQ(server_count("SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND "
                           "application_name = 'lscgate-radius-watch') t"),
              1);
    ASSERT_TRUE(watch_connected(*reader, 2));
    EXPECT_EQ(server_count("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'lscgate-radius-watch'"), 1);
    backend.set_lsc_status("SEP00000000A001", "revoked");
    ASSERT_TRUE(watch_caught_up(*reader));
    auto r = reader->current_lsc("SEP00000000A001", t0);
    ASSERT_TRUE(r && r->has_value());
    EXPECT_EQ((*r)->status, CertificateStatus::Revoked);
}

TEST(PgReaderConninfo, AddsTheBoundsTheAdministratorDidNotSet) {
    auto uri = pg_reader_conninfo("postgresql://lscgate_radius:s3cr%27t@db.example:5433/radius?connect_timeout=9",
                                  PgReaderBounds{});
    ASSERT_TRUE(uri) << uri.message();
    EXPECT_EQ(*uri,
              "connect_timeout='9' dbname='radius' host='db.example' keepalives='1' keepalives_count='3' "
              "keepalives_idle='5' keepalives_interval='2' password='s3cr\\'t' port='5433' tcp_user_timeout='5000' "
              "user='lscgate_radius'");
    auto kv = pg_reader_conninfo("host=/run/pg dbname=r tcp_user_timeout=100 keepalives=0", PgReaderBounds{});
    ASSERT_TRUE(kv) << kv.message();
    EXPECT_NE(kv->find("tcp_user_timeout='100'"), std::string::npos) << *kv;
    EXPECT_NE(kv->find("keepalives='0'"), std::string::npos) << *kv;
    EXPECT_NE(kv->find("connect_timeout='3'"), std::string::npos) << *kv;
    auto bad = pg_reader_conninfo("host=x password=Hidden-9 bogus", PgReaderBounds{});
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.kind(), ErrorKind::Config);
    EXPECT_EQ(bad.message().find("Hidden-9"), std::string::npos) << bad.message();
}

}  // namespace
}  // namespace lscgate
