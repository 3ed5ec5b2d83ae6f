// Fleet selection and expiry on both registry backends (issue 10 items 2 and 6):
// `--where` terms ANDed over what the registry (and last-seen) knows, with the
// time a parameter; an empty selection is an error; `lscgate check`'s grading of
// CAPF, LSC and MIC-root expiry into exit codes 0/1/2; the serve reminder's
// once-a-day rhythm. Test names end in /sqlite or /postgresql.

#include "fleet/device_query.h"
#include "fleet/expiry_check.h"
#include "pki/expiry.h"
#include "registry/last_seen_sink.h"
#include "registry/store.h"
#include "pg_cluster.h"
#include "test_support.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <optional>
#include <stdexcept>

using namespace lscgate;

namespace {

constexpr std::int64_t kDay = 86400;

std::vector<std::string> names_of(const std::vector<BatchDevice>& devices) {
    std::vector<std::string> out;
    for (const auto& d : devices) out.push_back(d.name);
    return out;
}

class FleetOnBackends : public ::testing::TestWithParam<std::string> {
protected:
    test::TempDir dir;
    std::optional<test::PgTestDatabase> pg_db;
    std::string database = make_database();
    Store store = open_store(database);
    test::TestCa capf = test::make_root_ca("CN=CAPF-fleet,O=Example");
    CapfAuthority authority = test::authority_from(capf);
    UnixTime now = now_utc();

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
    void add(const std::string& name, const std::string& model) {
        auto d = store.add_device(name, model, "", "test");
        ASSERT_TRUE(d) << d.message();
    }
    Operation schedule(const std::string& device) {
        auto op = store.schedule_operation(device, OperationRequest{}, "test");
        EXPECT_TRUE(op) << op.message();
        return *op;
    }
    // An LSC valid for `days` from now, confirmed (active) or only recorded (unconfirmed).
    void issue(const std::string& device, int days, bool confirm = true) {
        auto op = schedule(device);
        auto key = test::make_key("ec:p256");
        auto cert = authority.issue_lsc(device, key.get(), days);
        ASSERT_TRUE(cert) << cert.message();
        auto rec = store.record_issued_lsc(op, cert->get());
        ASSERT_TRUE(rec) << rec.message();
        if (confirm) {
            ASSERT_TRUE(store.confirm_issued_lsc(op, rec->id));
        }
    }
    std::vector<std::string> select(const std::vector<std::string>& where, UnixTime at, const LastSeenIndex* seen = nullptr) {
        auto q = parse_device_query(where);
        EXPECT_TRUE(q) << q.message();
        if (!q) return {};
        auto r = select_devices(store, *q, at, seen);
        if (!r) return {"error: " + r.message()};
        return names_of(*r);
    }

    // A fleet: 8841s and an 8845 in every LSC state.
    void make_fleet() {
        add("SEP001100000001", "CP-8841");  // active, 30 days
        add("SEP001100000002", "Cisco 8841");  // active, 365 days (BAT's Device Type)
        add("SEP001100000003", "CP-8841");  // none
        add("SEP002200000004", "CP-8845");  // revoked
        add("SEP002200000005", "CP-8841");  // unconfirmed only
        add("CSFjdoe", "");                 // none, soft client
        issue("SEP001100000001", 30);
        issue("SEP001100000002", 365);
        issue("SEP002200000004", 365);
        ASSERT_TRUE(store.revoke_active_lsc("SEP002200000004", "key-compromise", "test"));
        issue("SEP002200000005", 365, false);
    }
};

std::string backend_name(const ::testing::TestParamInfo<std::string>& param) { return param.param; }
INSTANTIATE_TEST_SUITE_P(Backends, FleetOnBackends, ::testing::Values(std::string("sqlite"), std::string("postgresql")),
                         backend_name);

using Names = std::vector<std::string>;

TEST_P(FleetOnBackends, EachWhereTermSelectsWhatTheRegistrySays) {
    make_fleet();
    EXPECT_EQ(select({"model=CP-8841"}, now),
              (Names{"SEP001100000001", "SEP001100000002", "SEP001100000003", "SEP002200000005"}))
        << "CP-8841 also matches BAT's 'Cisco 8841'";
    EXPECT_EQ(select({"model=cp-88*"}, now).size(), 5u);
    EXPECT_EQ(select({"name=sep0011*"}, now), (Names{"SEP001100000001", "SEP001100000002", "SEP001100000003"}));
    EXPECT_EQ(select({"lsc=none"}, now), (Names{"CSFjdoe", "SEP001100000003"}))
        << "a revoked phone is never 'none': re-enrolling 'none' must skip stolen phones";
    EXPECT_EQ(select({"lsc=active"}, now), (Names{"SEP001100000001", "SEP001100000002"}));
    EXPECT_EQ(select({"lsc=revoked"}, now), (Names{"SEP002200000004"}));
    EXPECT_EQ(select({"lsc=unconfirmed"}, now), (Names{"SEP002200000005"}));
    // op=pending: the unconfirmed one's operation is still in the registry as open.
    schedule("SEP001100000003");
    EXPECT_EQ(select({"op=pending", "name=SEP0011*"}, now), (Names{"SEP001100000003"}));
    EXPECT_EQ(select({"op=none", "model=CP-8845"}, now), (Names{"SEP002200000004"}));
}

TEST_P(FleetOnBackends, ExpiringIsJudgedAtTheGivenTime) {
    make_fleet();
    EXPECT_EQ(select({"lsc=expiring:7d"}, now), (Names{"error: no device matches lsc=expiring:7d"}));
    EXPECT_EQ(select({"lsc=expiring:31d"}, now), (Names{"SEP001100000001"}));  // 30 days and a few seconds left
    // 25 days on, the 30-day LSC is within a week of expiry; 40 days on it has
    // expired: no longer active, still "expiring" (it needs re-keying most).
    EXPECT_EQ(select({"lsc=expiring:7d"}, now + 25 * kDay), (Names{"SEP001100000001"}));
    EXPECT_EQ(select({"lsc=active"}, now + 40 * kDay), (Names{"SEP001100000002"}));
    EXPECT_EQ(select({"lsc=expiring:1d"}, now + 40 * kDay), (Names{"SEP001100000001"}));
    EXPECT_EQ(select({"lsc=expiring:400d", "model=Cisco 8841"}, now), (Names{"SEP001100000001", "SEP001100000002"}));
}

TEST_P(FleetOnBackends, SeenMicUsesTheNewestLastSeenOfAnyNode) {
    make_fleet();
    auto at = [&](std::int64_t offset) { return static_cast<std::int64_t>(now) + offset; };
    // SEP…01 moved from MIC to its LSC (node b saw it later); SEP…03 still shows its MIC.
    std::vector<SeenRecord> records = {
        {SeenEvent{"SEP001100000001", "mic", "10.0.0.1", "r", at(-100)}, 1},
        {SeenEvent{"SEP001100000001", "lsc-valid", "10.0.0.2", "r", at(-10)}, 1},
        {SeenEvent{"SEP001100000003", "mic", "10.0.0.1", "r", at(-50)}, 3},
    };
    records[0].last.node = "a";
    records[1].last.node = "b";
    const LastSeenIndex seen = index_last_seen(records);
    EXPECT_EQ(select({"seen=mic"}, now, &seen), (Names{"SEP001100000003"}));
    EXPECT_EQ(select({"seen=lsc-valid", "lsc=active"}, now, &seen), (Names{"SEP001100000001"}));
    EXPECT_EQ(select({"seen=never", "model=CP-8841"}, now, &seen), (Names{"SEP001100000002", "SEP002200000005"}));
    // Read from where the RADIUS nodes put it: a node's SQLite file (either registry).
    auto sink = open_sqlite_last_seen(dir / "seen-node-a.db");
    ASSERT_TRUE(sink) << sink.message();
    ASSERT_TRUE((*sink)->write({records[2]}, "a"));
    auto loaded = load_last_seen(database, {(dir / "seen-node-a.db").string()});
    ASSERT_TRUE(loaded) << loaded.message();
    EXPECT_EQ(select({"seen=mic"}, now, &*loaded), (Names{"SEP001100000003"}));
    if (!on_pg()) {
        auto refused = load_last_seen(database, {});
        ASSERT_FALSE(refused);
        EXPECT_NE(refused.message().find("--seen-file"), std::string::npos) << refused.message();
        return;
    }
    // PostgreSQL: the registry's lscgate.last_seen, written as a RADIUS node does.
    auto pg_sink = open_last_seen_sink("", pg_db->radius);
    ASSERT_TRUE(pg_sink && *pg_sink);
    ASSERT_TRUE((*pg_sink)->write({records[0]}, "a"));
    ASSERT_TRUE((*pg_sink)->write({records[1], records[2]}, "b"));
    auto from_pg = load_last_seen(database, {});
    ASSERT_TRUE(from_pg) << from_pg.message();
    EXPECT_EQ(select({"seen=mic"}, now, &*from_pg), (Names{"SEP001100000003"}));
}

TEST_P(FleetOnBackends, AnEmptySelectionIsAnErrorAndNoTermsMeanAll) {
    EXPECT_EQ(select({}, now), (Names{"error: the registry has no devices"})) << "--all on an empty registry";
    make_fleet();
    EXPECT_EQ(select({"model=CP-7975"}, now), (Names{"error: no device matches model=CP-7975"}));
    EXPECT_EQ(select({"model=CP-8841", "lsc=revoked"}, now),
              (Names{"error: no device matches model=CP-8841 AND lsc=revoked"}));
    EXPECT_EQ(select({}, now).size(), 6u);  // what --all asks for
}

TEST(DeviceQuery, BadTermsAreRefusedWithWhatIsAccepted) {
    for (const auto& [term, want] : std::vector<std::pair<std::string, std::string>>{
             {"model", "use KEY=VALUE"},
             {"colour=red", "unknown key 'colour'"},
             {"lsc=expired", "lsc=expiring:30d"},
             {"lsc=expiring:30x", "invalid duration '30x'"},
             {"lsc=expiring:", "empty duration"},
             {"seen=MIC!", "seen=mic"},
             {"op=done", "op=pending or op=none"},
         }) {
        auto q = parse_device_query({term});
        ASSERT_FALSE(q) << term;
        EXPECT_EQ(q.kind(), ErrorKind::Input);
        EXPECT_NE(q.message().find(want), std::string::npos) << q.message();
    }
}

// =============================================================================
// Expiry (lscgate check, serve's reminder)

TEST(Expiry, DurationsAndLevels) {
    EXPECT_EQ(*parse_duration_text("30d"), 30 * kDay);
    EXPECT_EQ(*parse_duration_text("12h"), 12 * 3600);
    EXPECT_EQ(*parse_duration_text("2w"), 14 * kDay);
    EXPECT_EQ(*parse_duration_text("7"), 7 * kDay);
    EXPECT_FALSE(parse_duration_text("-1d"));
    EXPECT_FALSE(parse_duration_text("d"));
    EXPECT_FALSE(parse_duration_text("99999999999d"));
    const UnixTime t = 1'800'000'000;
    EXPECT_EQ(expiry_level(t + 31 * kDay, t, 30 * kDay, 7 * kDay), ExpiryLevel::Ok);
    EXPECT_EQ(expiry_level(t + 29 * kDay, t, 30 * kDay, 7 * kDay), ExpiryLevel::Warning);
    EXPECT_EQ(expiry_level(t + 6 * kDay, t, 30 * kDay, 7 * kDay), ExpiryLevel::Critical);
    EXPECT_EQ(expiry_level(t - 1, t, 0, 0), ExpiryLevel::Critical) << "expired is always critical";
    EXPECT_EQ(days_left(t + kDay + 5, t), 1);
    EXPECT_EQ(days_left(t - 1, t), -1);
}

TEST(Expiry, ServeRemindsAtStartAndOnceADayWithinSixtyDays) {
    CertificateFacts capf;
    capf.subject = "CN=CAPF-hq";
    const UnixTime t = 1'800'000'000;
    capf.not_after = t + 59 * kDay;
    ExpiryReminder reminder;  // 60 days, daily
    auto first = reminder.due(capf, t);
    ASSERT_TRUE(first);
    EXPECT_NE(first->find("CAPF certificate CN=CAPF-hq expires in 59 days"), std::string::npos) << *first;
    EXPECT_FALSE(reminder.due(capf, t + 1));
    EXPECT_FALSE(reminder.due(capf, t + kDay - 1));
    EXPECT_TRUE(reminder.due(capf, t + kDay));
    EXPECT_FALSE(reminder.due(capf, t + kDay + 3600));
    ExpiryReminder far;
    capf.not_after = t + 61 * kDay;
    EXPECT_FALSE(far.due(capf, t)) << "61 days left: no warning";
    EXPECT_FALSE(far.due(capf, t + kDay / 2)) << "and not looked at again within the day";
    EXPECT_TRUE(far.due(capf, t + 2 * kDay)) << "two days on it is within 60 days";
}

TEST_P(FleetOnBackends, CheckGradesCapfLscsAndMicRootsIntoExitCodes) {
    make_fleet();  // active LSCs: 30 and 365 days
    auto capf_facts = describe_certificate(capf.cert.get());
    ASSERT_TRUE(capf_facts);
    auto mic = test::make_root_ca("CN=Cisco Manufacturing CA SHA2");
    auto mic_facts = describe_certificate(mic.cert.get());
    ASSERT_TRUE(mic_facts);
    std::vector<RoleCertificate> cas = {{"CAPF current", *capf_facts}, {"MIC root", *mic_facts}};
    auto run = [&](UnixTime at, std::int64_t warn_days, std::int64_t crit_days) {
        auto c = check_expiry(store, cas, at, {warn_days * kDay, crit_days * kDay});
        EXPECT_TRUE(c) << c.message();
        return c ? *c : ExpiryCheck{};
    };
    auto ok = run(now, 20, 7);
    EXPECT_EQ(ok.level, ExpiryLevel::Ok);
    EXPECT_EQ(ok.active_lscs, 2u) << "revoked and unconfirmed LSCs are not active";
    EXPECT_EQ(ok.earliest_lsc->name, "SEP001100000001");
    EXPECT_EQ(ok.mic_roots.size(), 1u);
    EXPECT_EQ(ok.summary(now, {20 * kDay, 7 * kDay}).rfind("LSCGATE OK - CAPF current CN=CAPF-fleet", 0), 0u)
        << ok.summary(now, {20 * kDay, 7 * kDay});
    auto warning = run(now, 31, 7);
    EXPECT_EQ(warning.level, ExpiryLevel::Warning);
    ASSERT_EQ(warning.lscs_flagged.size(), 1u);
    const std::string line = warning.summary(now, {31 * kDay, 7 * kDay});
    EXPECT_NE(line.find("LSCGATE WARNING - "), std::string::npos) << line;
    EXPECT_NE(line.find("1 of 2 active LSCs expire within 31 days"), std::string::npos) << line;
    EXPECT_NE(line.find("lsc_warning=1 lsc_critical=0"), std::string::npos) << line;
    auto critical = run(now + 25 * kDay, 30, 7);
    EXPECT_EQ(critical.level, ExpiryLevel::Critical);
    EXPECT_EQ(critical.lscs_flagged.front().level, ExpiryLevel::Critical);
    // The CAPF itself (test CAs are valid 10 years or less): critical once past its notAfter.
    auto capf_expired = run(capf_facts->not_after + 1, 0, 0);
    EXPECT_EQ(capf_expired.level, ExpiryLevel::Critical);
    EXPECT_EQ(capf_expired.capf.front().level, ExpiryLevel::Critical);
}

// Issue 12 review: the CRL's nextUpdate. CRITICAL from nextUpdate on (every
// head-end then refuses every LSC of the CAPF); WARNING within --warn, capped at
// a quarter of the CRL's validity (a CRL renewed on time has more than half left).
TEST(CrlExpiry, NextUpdateGradesCriticalWhenPastAndWarningWhenRenewalStopped) {
    const UnixTime t = 1900000000;
    const CrlFacts week{5, t, t + 7 * kDay, {}};
    const ExpiryThresholds thirty{30 * kDay, 7 * kDay};
    EXPECT_EQ(crl_level(week, t, thirty), ExpiryLevel::Ok) << "a fresh 7-day CRL under a 30-day --warn";
    EXPECT_EQ(crl_level(week, t + 7 * kDay / 2 + 3600, thirty), ExpiryLevel::Ok) << "just past half: renewal is due, not late";
    EXPECT_EQ(crl_level(week, t + 7 * kDay - 7 * kDay / 4 + 1, thirty), ExpiryLevel::Warning);
    EXPECT_EQ(crl_level(week, t + 7 * kDay - 1, thirty), ExpiryLevel::Warning);
    EXPECT_EQ(crl_level(week, t + 7 * kDay, thirty), ExpiryLevel::Critical);
    EXPECT_EQ(crl_level(week, t + 9 * kDay, thirty), ExpiryLevel::Critical);
    EXPECT_EQ(crl_level(week, t + 6 * kDay, {12 * 3600, 0}), ExpiryLevel::Ok) << "a --warn shorter than the cap wins";

    const CrlFacts year{6, t, t + 365 * kDay, {}};
    EXPECT_EQ(crl_level(year, t + 335 * kDay + 1, thirty), ExpiryLevel::Warning) << "30 days before, under the cap";
    EXPECT_EQ(crl_level(year, t + 300 * kDay, thirty), ExpiryLevel::Ok);
}

TEST(CrlExpiry, TheSummaryNamesTheWorstCrl) {
    test::TempDir dir;
    Store store = test::make_store(dir / "lscgate.db");
    const UnixTime t = 1900000000;
    std::vector<CrlToCheck> crls = {{"/x/capf.crl", {9, t - 8 * kDay, t - kDay, {}}, ""},
                                    {"/x/capf-0A1B2C3D4E5F6071.crl", {8, t, t + 7 * kDay, {}}, ""}};
    auto c = check_expiry(store, {}, t, {30 * kDay, 7 * kDay}, crls);
    ASSERT_TRUE(c) << c.message();
    EXPECT_EQ(c->level, ExpiryLevel::Critical);
    ASSERT_EQ(c->crls.size(), 2u);
    EXPECT_EQ(c->crls.front().name, "/x/capf.crl");
    const std::string line = c->summary(t, {30 * kDay, 7 * kDay});
    EXPECT_NE(line.find("LSCGATE CRITICAL - "), std::string::npos) << line;
    EXPECT_NE(line.find("CRL /x/capf.crl nextUpdate passed 24h ago"), std::string::npos) << line;
    EXPECT_NE(line.find("crl_min_hours=-24"), std::string::npos) << line;
}

// Issue 12 review: a CRL file that is not a CRL is CRITICAL (head-ends cannot
// use it either), and never hides a CRITICAL elsewhere behind UNKNOWN.
TEST(CrlExpiry, AnUnreadableCrlIsCriticalAndNamed) {
    test::TempDir dir;
    Store store = test::make_store(dir / "lscgate.db");
    const UnixTime t = 1900000000;
    std::vector<CrlToCheck> crls = {{"/x/capf-0A1B2C3D4E5F6071.crl", {8, t, t + 7 * kDay, {}}, ""},
                                    {"/x/capf.crl", {}, "not a CRL (PEM or DER)"}};
    auto c = check_expiry(store, {}, t, {30 * kDay, 7 * kDay}, crls);
    ASSERT_TRUE(c) << c.message();
    EXPECT_EQ(c->level, ExpiryLevel::Critical);
    ASSERT_EQ(c->crls.size(), 2u);
    EXPECT_EQ(c->crls.front().name, "/x/capf.crl") << "the unreadable one first";
    const std::string line = c->summary(t, {30 * kDay, 7 * kDay});
    EXPECT_NE(line.find("LSCGATE CRITICAL - "), std::string::npos) << line;
    EXPECT_NE(line.find("CRL /x/capf.crl unreadable (not a CRL (PEM or DER))"), std::string::npos) << line;
}

}  // namespace
