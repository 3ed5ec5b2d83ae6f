// Rollouts in waves and their status (issue 10 items 3 and 4) on real
// registries (an SQLite file, a throwaway PostgreSQL database): waves split in
// input order, the first scheduled at create, each next wave with its own
// completes-by, open operations skipped unless replace, removed devices
// skipped, an interrupted wave continued, and the status of every member
// judged at a time passed in, with failures grouped by the newest session's
// cause class. Test names end in /sqlite or /postgresql; the pure parts
// (categories, grouping, the progress line) need no registry.

#include "fleet/rollout.h"
#include "fleet/rollout_status.h"
#include "pki/auth_secret.h"
#include "registry/store.h"
#include "pg_cluster.h"
#include "test_support.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <optional>
#include <set>
#include <stdexcept>

using namespace lscgate;

namespace {

using Names = std::vector<std::string>;
constexpr std::int64_t kHour = 3600;
constexpr std::int64_t kDay = 86400;

std::string device(int i) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "SEP0000000000%02X", i);
    return buf;
}

class RolloutOnBackends : public ::testing::TestWithParam<std::string> {
protected:
    test::TempDir dir;
    std::optional<test::PgTestDatabase> pg_db;
    std::string database = make_database();
    Store store = open_store(database);
    UnixTime now = now_utc();

    std::string make_database() {
        if (GetParam() != "postgresql") return (dir / "lscgate.db").string();
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
    Names add_devices(int n) {
        Names names;
        for (int i = 0; i < n; ++i) names.push_back(device(i));
        auto added = store.add_devices(names, "CP-8841", "", "test");
        EXPECT_FALSE(added.error) << added.error->message;
        return names;
    }
    static RolloutPlan plan(const std::string& name, int wave_size, std::optional<std::int64_t> by = kHour) {
        RolloutPlan p;
        p.name = name;
        p.wave_size = wave_size;
        p.by_seconds = by;
        return p;
    }
    // Creates the rollout and schedules its first wave at `at`, as `rollout create` does.
    WaveRun create(const RolloutPlan& p, const Names& names, UnixTime at, bool replace = false) {
        auto r = create_rollout(store, p, names, "admin", at);
        EXPECT_TRUE(r) << r.message();
        return next(p.name, at, replace);
    }
    WaveRun next(const std::string& name, UnixTime at, bool replace = false, const MemberRequestFn& fn = {},
                 std::size_t chunk = kBulkChunkRows) {
        auto run = schedule_next_wave(store, name, fn, WaveOptions{replace, chunk}, "admin", at);
        EXPECT_TRUE(run) << run.message();
        if (!run) return {};
        EXPECT_FALSE(run->error) << run->error->message;
        return *run;
    }
    std::vector<RolloutMember> members(const std::string& name, std::optional<int> wave = std::nullopt) {
        std::vector<RolloutMember> out;
        auto r = store.find_rollout(name);
        EXPECT_TRUE(r && r->has_value());
        EXPECT_TRUE(store.each_rollout_member((*r)->id, wave, [&](const RolloutMember& m) -> Status {
            out.push_back(m);
            return {};
        }));
        return out;
    }
    std::vector<RolloutWave> waves(const std::string& name) {
        std::vector<RolloutWave> out;
        auto r = store.find_rollout(name);
        EXPECT_TRUE(r && r->has_value());
        EXPECT_TRUE(store.each_rollout_wave((*r)->id, [&](const RolloutWave& w) -> Status {
            out.push_back(w);
            return {};
        }));
        return out;
    }
    std::optional<Operation> open_op(const std::string& name) {
        auto dev = store.find_device(name);
        EXPECT_TRUE(dev && dev->has_value());
        auto op = store.open_operation((*dev)->id);
        EXPECT_TRUE(op);
        return *op;
    }
    std::int64_t op_of(const std::string& rollout, const std::string& name) {
        for (const auto& m : members(rollout))
            if (m.device == name && m.operation_id) return *m.operation_id;
        ADD_FAILURE() << name << " has no operation in " << rollout;
        return 0;
    }
    void session(const std::string& rollout, const std::string& name, UnixTime at, const std::string& result,
                 const std::string& cause_class) {
        CapfSessionRecord s;
        s.at = at;
        s.device = name;
        s.operation_id = op_of(rollout, name);
        s.operation = "install";
        s.auth_mode = "null";
        s.result = result;
        s.cause_class = cause_class;
        s.cause = cause_class.empty() ? "" : "injected " + cause_class;
        ASSERT_TRUE(store.record_capf_session(s));
    }
};

std::string backend_name(const ::testing::TestParamInfo<std::string>& param) { return param.param; }
INSTANTIATE_TEST_SUITE_P(Backends, RolloutOnBackends, ::testing::Values(std::string("sqlite"), std::string("postgresql")),
                         backend_name);

Names devices_of(const std::vector<RolloutMember>& ms) {
    Names out;
    for (const auto& m : ms) out.push_back(m.device);
    return out;
}

TEST_P(RolloutOnBackends, WavesSplitInInputOrderAndTheFirstIsScheduledAtCreate) {
    Names names = add_devices(7);
    std::reverse(names.begin(), names.end());  // input order, not name order
    const WaveRun run = create(plan("r1", 3), names, now);
    EXPECT_TRUE(run.completed);
    EXPECT_EQ(run.wave, 1);
    EXPECT_EQ(run.rollout.waves, 3);
    EXPECT_EQ(run.rollout.devices, 7);
    EXPECT_EQ(run.rollout.next_wave, 2);
    ASSERT_EQ(run.outcomes.size(), 3u);
    EXPECT_EQ(run.completes_by, now + kHour);
    for (const auto& o : run.outcomes) {
        ASSERT_TRUE(o.operation) << o.device;
        EXPECT_EQ(o.operation->request.completes_by, now + kHour);
    }
    EXPECT_EQ(devices_of(members("r1", 1)), (Names{names[0], names[1], names[2]}));
    EXPECT_EQ(devices_of(members("r1", 2)), (Names{names[3], names[4], names[5]}));
    EXPECT_EQ(devices_of(members("r1", 3)), (Names{names[6]}));
    for (const auto& m : members("r1", 1)) EXPECT_TRUE(m.operation_id) << m.device;
    for (const auto& m : members("r1", 2)) EXPECT_FALSE(m.operation_id) << m.device << ": its wave is not scheduled";
    EXPECT_FALSE(open_op(names[3])) << "nothing scheduled for wave 2 yet";
    const auto w = waves("r1");
    ASSERT_EQ(w.size(), 3u);
    EXPECT_EQ(w[0].scheduled_at, now);
    EXPECT_EQ(w[0].completes_by, now + kHour);
    EXPECT_EQ(w[0].devices, 3);
    EXPECT_FALSE(w[1].scheduled_at);
    EXPECT_EQ(w[2].devices, 1);
}

TEST_P(RolloutOnBackends, NextSchedulesEachWaveWithItsOwnCompletesBy) {
    const Names names = add_devices(7);
    create(plan("r1", 3, 2 * kHour), names, now);
    const WaveRun second = next("r1", now + kDay);
    EXPECT_EQ(second.wave, 2);
    EXPECT_EQ(second.completes_by, now + kDay + 2 * kHour);
    ASSERT_TRUE(open_op(names[4]));
    EXPECT_EQ(open_op(names[4])->request.completes_by, now + kDay + 2 * kHour);
    EXPECT_EQ(open_op(names[0])->request.completes_by, now + 2 * kHour) << "wave 1 keeps its own deadline";
    const WaveRun third = next("r1", now + 2 * kDay);
    EXPECT_EQ(third.wave, 3);
    EXPECT_EQ(third.rollout.next_wave, 4);
    const auto w = waves("r1");
    EXPECT_EQ(w[1].scheduled_at, now + kDay);
    EXPECT_EQ(w[1].completes_by, now + kDay + 2 * kHour);
    EXPECT_EQ(w[2].completes_by, now + 2 * kDay + 2 * kHour);
    auto again = schedule_next_wave(store, "r1", {}, {}, "admin", now + 3 * kDay);
    ASSERT_FALSE(again);
    EXPECT_EQ(again.kind(), ErrorKind::Input);
    EXPECT_NE(again.message().find("all 3 waves are scheduled"), std::string::npos) << again.message();
    auto unknown = schedule_next_wave(store, "nope", {}, {}, "admin", now);
    ASSERT_FALSE(unknown);
    EXPECT_NE(unknown.message().find("no rollout named 'nope'"), std::string::npos) << unknown.message();
    // Without --by: no deadline.
    auto more = store.add_device("SEP0000000000FF", "", "", "test");
    ASSERT_TRUE(more);
    const WaveRun open_ended = create(plan("r2", 10, std::nullopt), {"SEP0000000000FF"}, now);
    EXPECT_FALSE(open_ended.completes_by);
    EXPECT_FALSE(open_op("SEP0000000000FF")->request.completes_by);
}

TEST_P(RolloutOnBackends, AnOpenOperationIsSkippedUnlessReplaceAndATimedOutOneIsNot) {
    const Names names = add_devices(4);
    auto mine = store.schedule_operation(names[1], OperationRequest{}, "someone");
    ASSERT_TRUE(mine);
    OperationRequest expired;
    expired.completes_by = now - 10;
    auto old = store.schedule_operation(names[2], expired, "someone");
    ASSERT_TRUE(old);
    const WaveRun run = create(plan("r1", 4), names, now);
    ASSERT_EQ(run.outcomes.size(), 4u);
    EXPECT_EQ(run.outcomes[1].skipped, "had an open install operation " + std::to_string(mine->id));
    EXPECT_FALSE(run.outcomes[1].operation);
    EXPECT_EQ(open_op(names[1])->id, mine->id) << "the administrator's operation is left alone";
    EXPECT_TRUE(run.outcomes[2].operation) << "an operation past its completes-by is not protected";
    EXPECT_EQ(members("r1")[1].skipped, run.outcomes[1].skipped);

    // --replace: the open operation is cancelled (replaced), the rollout's scheduled.
    const WaveRun replaced = create(plan("r2", 4), {names[1]}, now, true);
    ASSERT_EQ(replaced.outcomes.size(), 1u);
    ASSERT_TRUE(replaced.outcomes[0].operation);
    EXPECT_TRUE(replaced.outcomes[0].skipped.empty());
    EXPECT_EQ(open_op(names[1])->id, replaced.outcomes[0].operation->id);
    EXPECT_NE(replaced.outcomes[0].operation->id, mine->id);
}

TEST_P(RolloutOnBackends, ADeviceRemovedSinceCreateIsSkipped) {
    const Names names = add_devices(4);
    create(plan("r1", 2), names, now);
    ASSERT_TRUE(store.remove_device(names[3], "test"));
    const WaveRun run = next("r1", now + kDay);
    ASSERT_EQ(run.outcomes.size(), 2u);
    EXPECT_TRUE(run.outcomes[0].operation);
    EXPECT_EQ(run.outcomes[1].skipped, "no longer registered");
    EXPECT_TRUE(run.completed);
    // Removing a device whose operation was scheduled: the operation is gone, the member cancelled.
    ASSERT_TRUE(store.remove_device(names[0], "test"));
    auto s = read_rollout_status(store, "r1", std::nullopt, now + 60);
    ASSERT_TRUE(s) << s.message();
    EXPECT_EQ(s->counts.skipped, 1);
    EXPECT_EQ(s->counts.cancelled, 1);
    EXPECT_EQ(s->counts.pending, 2);
}

TEST_P(RolloutOnBackends, AnInterruptedWaveIsContinuedByTheNextRun) {
    const Names names = add_devices(6);
    ASSERT_TRUE(create_rollout(store, plan("r1", 5), names, "admin", now));
    // The third device's request fails (as a crash would stop the run): with
    // chunks of one, the first two are committed, the wave is not marked.
    int calls = 0;
    MemberRequestFn failing = [&](const std::string&, const OperationRequest& wave) -> Result<OperationRequest> {
        if (++calls == 3) return fail("simulated crash");
        return wave;
    };
    auto broken = schedule_next_wave(store, "r1", failing, WaveOptions{false, 1}, "admin", now);
    ASSERT_TRUE(broken) << broken.message();
    ASSERT_TRUE(broken->error);
    EXPECT_EQ(broken->error->message, "simulated crash");
    EXPECT_FALSE(broken->completed);
    ASSERT_EQ(broken->outcomes.size(), 2u);
    const auto first = open_op(names[0]);
    ASSERT_TRUE(first);
    EXPECT_FALSE(open_op(names[2]));
    EXPECT_FALSE(waves("r1")[0].scheduled_at);
    auto found = store.find_rollout("r1");
    ASSERT_TRUE(found && found->has_value());
    EXPECT_EQ((*found)->next_wave, 1) << "the wave is not done";

    const WaveRun resumed = next("r1", now + 60);
    EXPECT_EQ(resumed.wave, 1) << "the same wave, not the next";
    EXPECT_EQ(resumed.already_handled, 2);
    ASSERT_EQ(resumed.outcomes.size(), 3u);
    EXPECT_EQ(resumed.outcomes[0].device, names[2]);
    EXPECT_EQ(open_op(names[0])->id, first->id) << "a device handled before the crash is not rescheduled";
    EXPECT_TRUE(resumed.completed);
    EXPECT_EQ(resumed.rollout.next_wave, 2);
    EXPECT_EQ(waves("r1")[0].scheduled_at, now + 60);
    for (const auto& m : members("r1", 1)) EXPECT_TRUE(m.operation_id) << m.device;
}

// Two runs of one wave at once (`rollout next` in two terminals, the CLI and
// the web's Next wave): the second read the wave's members before the first
// wrote them. It must not then record the first run's devices as skipped "had
// an open operation" (their own rollout's operation), losing the link between
// the rollout and the operations it scheduled: its chunk is refused and undone.
TEST_P(RolloutOnBackends, ARunThatLostARaceForAWaveLeavesTheOtherRunsMembersAlone) {
    const Names names = add_devices(3);
    ASSERT_TRUE(create_rollout(store, plan("r1", 3), names, "admin", now));
    Store other = open_store(database);  // the other process
    std::optional<WaveRun> first;
    MemberRequestFn racing = [&](const std::string&, const OperationRequest& wave) -> Result<OperationRequest> {
        if (!first) {  // after this run read the members, before its chunk is written
            auto r = schedule_next_wave(other, "r1", {}, WaveOptions{}, "other", now);
            if (!r) return r.error();
            first = *r;
        }
        return wave;
    };
    auto second = schedule_next_wave(store, "r1", racing, WaveOptions{}, "admin", now);
    ASSERT_TRUE(second) << second.message();
    ASSERT_TRUE(first);
    EXPECT_TRUE(first->completed);
    ASSERT_EQ(first->outcomes.size(), 3u);
    ASSERT_TRUE(second->error) << "the losing run must say it stopped";
    EXPECT_EQ(second->error->kind, ErrorKind::Config);
    EXPECT_NE(second->error->message.find("handled meanwhile by another run"), std::string::npos)
        << second->error->message;
    EXPECT_TRUE(second->outcomes.empty());
    for (const auto& m : members("r1", 1)) {
        EXPECT_TRUE(m.operation_id) << m.device << " lost its operation: skipped '" << m.skipped << "'";
        EXPECT_EQ(m.skipped, "") << m.device;
    }
    for (std::size_t i = 0; i < names.size(); ++i) {
        const auto op = open_op(names[i]);
        ASSERT_TRUE(op);
        EXPECT_EQ(op->id, first->outcomes[i].operation->id) << "the first run's operation stays";
    }
}

TEST_P(RolloutOnBackends, GeneratedStringsAreMadePerDeviceByTheCallback) {
    const Names names = add_devices(3);
    RolloutPlan p = plan("r1", 3);
    p.request.auth_mode = AuthMode::String;
    p.generate_strings = true;
    ASSERT_TRUE(create_rollout(store, p, names, "admin", now));
    auto without = schedule_next_wave(store, "r1", {}, {}, "admin", now);
    ASSERT_FALSE(without);
    EXPECT_EQ(without.kind(), ErrorKind::Config);
    std::map<std::string, std::string> digits;
    int n = 0;
    MemberRequestFn gen = [&](const std::string& dev, const OperationRequest& wave) -> Result<OperationRequest> {
        OperationRequest r = wave;
        digits[dev] = std::to_string(100000 + ++n);
        auto h = hash_auth_string(digits[dev]);
        if (!h) return h.error();
        r.auth_secret_hash = *h;
        return r;
    };
    const WaveRun run = next("r1", now, false, gen);
    ASSERT_EQ(run.outcomes.size(), 3u);
    for (const auto& o : run.outcomes) {
        auto op = open_op(o.device);
        ASSERT_TRUE(op);
        EXPECT_EQ(op->request.auth_mode, AuthMode::String);
        EXPECT_TRUE(verify_auth_string(digits[o.device], op->request.auth_secret_hash)) << o.device;
        EXPECT_FALSE(verify_auth_string("999999", op->request.auth_secret_hash));
    }
}

TEST_P(RolloutOnBackends, StatusCategoriesAndCausesAtTheTimePassedIn) {
    const Names d = add_devices(10);
    create(plan("r1", 5), d, now);
    // Wave 1: two successes a minute apart, a wrong string (still pending,
    // retrying), one in progress, one pending.
    ASSERT_TRUE(store.set_operation_state(op_of("r1", d[0]), OperationState::Succeeded, ""));
    session("r1", d[0], now + 100, "succeeded", "");
    ASSERT_TRUE(store.set_operation_state(op_of("r1", d[1]), OperationState::Succeeded, ""));
    session("r1", d[1], now + 160, "succeeded", "");
    session("r1", d[2], now + 120, "rejected", "wrong-string");
    ASSERT_TRUE(store.set_operation_state(op_of("r1", d[3]), OperationState::InProgress, ""));
    // Wave 2: d5 has an open operation of someone else's (skipped), d6 failed
    // without a session, d7 cancelled by someone, d8 came late, d9 pending.
    auto others = store.schedule_operation(d[5], OperationRequest{}, "someone");
    ASSERT_TRUE(others);
    next("r1", now + kDay);
    ASSERT_TRUE(store.set_operation_state(op_of("r1", d[6]), OperationState::Failed, "phone refused the key"));
    ASSERT_TRUE(store.cancel_operation(d[7], "someone"));
    ASSERT_TRUE(store.set_operation_state(op_of("r1", d[8]), OperationState::TimedOut, "phone arrived after the completes-by deadline"));
    session("r1", d[8], now + kDay + 2 * kHour, "timed-out", "late");

    auto s = read_rollout_status(store, "r1", std::nullopt, now + 200);
    ASSERT_TRUE(s) << s.message();
    EXPECT_EQ(s->counts.total(), 10);
    EXPECT_EQ(s->counts.succeeded, 2);
    EXPECT_EQ(s->counts.failed, 2);  // d2 (retrying), d6
    EXPECT_EQ(s->counts.in_progress, 1);
    EXPECT_EQ(s->counts.pending, 2);  // d4, d9
    EXPECT_EQ(s->counts.skipped, 1);
    EXPECT_EQ(s->counts.cancelled, 1);
    EXPECT_EQ(s->counts.timed_out, 1);
    ASSERT_EQ(s->waves.size(), 2u);
    EXPECT_EQ(s->waves[0].counts.succeeded, 2);
    EXPECT_EQ(s->waves[0].counts.open(), 2);
    ASSERT_TRUE(s->waves[0].throughput.rate_per_min);
    EXPECT_DOUBLE_EQ(*s->waves[0].throughput.rate_per_min, 1.0) << "2 successes 60 s apart";
    EXPECT_EQ(s->waves[0].throughput.eta_seconds, 120) << "2 open at 1/min";
    EXPECT_FALSE(s->waves[1].throughput.rate_per_min);
    ASSERT_EQ(s->failures.size(), 3u);
    EXPECT_EQ(s->failures[0].cause_class, "late");
    EXPECT_EQ(s->failures[0].devices, (Names{d[8]}));
    EXPECT_EQ(s->failures[1].cause_class, "unknown");
    EXPECT_EQ(s->failures[1].detail, "phone refused the key");
    EXPECT_EQ(s->failures[2].cause_class, "wrong-string");
    EXPECT_EQ(s->failures[2].devices, (Names{d[2]}));
    ASSERT_EQ(s->skipped.size(), 1u);
    EXPECT_EQ(s->skipped[0].reason, "had an open install operation " + std::to_string(others->id));
    EXPECT_FALSE(s->settled());

    // After wave 2's completes-by: d9, still pending, is timed out; no phone came for it.
    auto late = read_rollout_status(store, "r1", 2, now + kDay + kHour + 1);
    ASSERT_TRUE(late) << late.message();
    ASSERT_EQ(late->waves.size(), 1u);
    EXPECT_EQ(late->counts.total(), 5);
    EXPECT_EQ(late->counts.timed_out, 2);
    EXPECT_TRUE(late->settled());
    std::set<std::string> classes;
    for (const auto& g : late->failures) classes.insert(g.cause_class);
    EXPECT_EQ(classes, (std::set<std::string>{"late", "no-session", "unknown"}));
    auto bad_wave = read_rollout_status(store, "r1", 3, now);
    ASSERT_FALSE(bad_wave);
    EXPECT_NE(bad_wave.message().find("has waves 1 to 2, not 3"), std::string::npos) << bad_wave.message();
}

TEST_P(RolloutOnBackends, CreateRefusesBadPlansAndUsedNames) {
    const Names names = add_devices(2);
    EXPECT_EQ(create_rollout(store, plan("", 5), names, "a", now).kind(), ErrorKind::Input);
    EXPECT_EQ(create_rollout(store, plan("bad name", 5), names, "a", now).kind(), ErrorKind::Input);
    EXPECT_EQ(create_rollout(store, plan("-r", 5), names, "a", now).kind(), ErrorKind::Input);
    EXPECT_EQ(create_rollout(store, plan("r", 0), names, "a", now).kind(), ErrorKind::Input);
    EXPECT_EQ(create_rollout(store, plan("r", 5, 0), names, "a", now).kind(), ErrorKind::Input);
    EXPECT_EQ(create_rollout(store, plan("r", 5), {}, "a", now).kind(), ErrorKind::Input);
    EXPECT_EQ(create_rollout(store, plan("r", 5), {names[0], names[0]}, "a", now).kind(), ErrorKind::Input);
    RolloutPlan no_string = plan("r", 5);
    no_string.request.auth_mode = AuthMode::String;
    EXPECT_EQ(create_rollout(store, no_string, names, "a", now).kind(), ErrorKind::Input);
    ASSERT_TRUE(create_rollout(store, plan("r.1_x-y", 5), names, "a", now));
    auto twice = create_rollout(store, plan("r.1_x-y", 5), names, "a", now);
    ASSERT_FALSE(twice);
    EXPECT_EQ(twice.kind(), ErrorKind::Config);
    auto all = list_rollouts(store);
    ASSERT_TRUE(all);
    ASSERT_EQ(all->size(), 1u);
    EXPECT_EQ((*all)[0].created_by, "a");
    EXPECT_EQ((*all)[0].created_at, now);
}

// ---- no registry: categories, grouping, the progress line ---------------------

RolloutMember member(const std::string& name, std::optional<OperationState> state,
                     std::optional<std::string> session_result = std::nullopt, const std::string& cls = "") {
    RolloutMember m;
    m.device = name;
    m.wave = 1;
    m.operation_id = 1;
    m.state = state;
    if (session_result) {
        CapfSessionRecord s;
        s.result = *session_result;
        s.cause_class = cls;
        s.at = 1000;
        m.last_session = s;
    }
    return m;
}

TEST(RolloutStatus, CategoriesFollowTheOperationAndItsNewestSession) {
    const UnixTime t = 1'000'000;
    RolloutMember waiting = member("a", std::nullopt);
    waiting.operation_id.reset();
    EXPECT_EQ(categorize(waiting, t), MemberCategory::Waiting);
    RolloutMember skipped = waiting;
    skipped.skipped = "no longer registered";
    EXPECT_EQ(categorize(skipped, t), MemberCategory::Skipped);
    EXPECT_EQ(categorize(member("a", OperationState::Pending), t), MemberCategory::Pending);
    EXPECT_EQ(categorize(member("a", OperationState::Pending, "rejected", "wrong-string"), t), MemberCategory::Failed);
    EXPECT_EQ(categorize(member("a", OperationState::InProgress), t), MemberCategory::InProgress);
    EXPECT_EQ(categorize(member("a", OperationState::InProgress, "failed", "dropped-after-keygen"), t),
              MemberCategory::Failed)
        << "a phone retrying after a failure";
    EXPECT_EQ(categorize(member("a", OperationState::Succeeded, "succeeded"), t), MemberCategory::Succeeded);
    EXPECT_EQ(categorize(member("a", OperationState::Failed), t), MemberCategory::Failed);
    EXPECT_EQ(categorize(member("a", OperationState::Cancelled), t), MemberCategory::Cancelled);
    EXPECT_EQ(categorize(member("a", std::nullopt), t), MemberCategory::Cancelled) << "its operation is gone";
    RolloutMember late = member("a", OperationState::InProgress);
    late.completes_by = t - 1;
    EXPECT_EQ(categorize(late, t), MemberCategory::TimedOut) << "effective_state at the time passed in";
    EXPECT_EQ(categorize(late, t - 1), MemberCategory::InProgress);
    EXPECT_EQ(to_string(MemberCategory::InProgress), "in-progress");
    EXPECT_EQ(to_string(MemberCategory::TimedOut), "timed-out");
}

TEST(RolloutStatus, FailuresAreGroupedByClassLargestFirstWithSortedDevices) {
    Rollout r;
    r.name = "r";
    r.waves = 1;
    RolloutWave w;
    w.wave = 1;
    w.scheduled_at = 1;
    RolloutStatusBuilder b(r, {w}, 2000);
    b.add(member("SEP0000000000C3", OperationState::Pending, "rejected", "wrong-string"));
    b.add(member("SEP0000000000A1", OperationState::Pending, "failed", "key-refused"));
    b.add(member("SEP0000000000C1", OperationState::Pending, "rejected", "wrong-string"));
    b.add(member("SEP0000000000B2", OperationState::Pending, "failed", "dropped-after-keygen"));
    b.add(member("SEP0000000000C2", OperationState::Pending, "rejected", "wrong-string"));
    b.add(member("SEP0000000000B1", OperationState::Pending, "failed", "dropped-after-keygen"));
    b.add(member("SEP0000000000D1", OperationState::Succeeded, "succeeded"));
    RolloutMember other_wave = member("SEP0000000000E1", OperationState::Pending);
    other_wave.wave = 2;
    b.add(other_wave);
    const RolloutStatus s = b.finish();
    EXPECT_EQ(s.counts.total(), 7) << "a member of a wave not asked for is not counted";
    ASSERT_EQ(s.failures.size(), 3u);
    EXPECT_EQ(s.failures[0].cause_class, "wrong-string");
    EXPECT_EQ(s.failures[0].devices, (Names{"SEP0000000000C1", "SEP0000000000C2", "SEP0000000000C3"}));
    EXPECT_EQ(s.failures[1].cause_class, "dropped-after-keygen");
    EXPECT_EQ(s.failures[1].devices, (Names{"SEP0000000000B1", "SEP0000000000B2"}));
    EXPECT_EQ(s.failures[2].cause_class, "key-refused");
    EXPECT_TRUE(s.settled()) << "every scheduled device failed or succeeded";
    EXPECT_FALSE(s.throughput.rate_per_min) << "one success makes no rate";
    EXPECT_EQ(s.throughput.eta_seconds, 0);
}

TEST(RolloutStatus, ProgressLineAndEta) {
    WaveStatus w;
    w.wave.wave = 2;
    w.wave.scheduled_at = 1;
    w.counts.succeeded = 57;
    w.counts.failed = 3;
    w.counts.pending = 40;
    w.throughput.rate_per_min = 4.1;
    w.throughput.eta_seconds = 586;
    EXPECT_EQ(progress_line(w, 3, 20), "wave 2/3 [###########.........] 57/100 succeeded 3 failed  4.1/min  ETA 10m");
    w.counts.pending = 0;
    w.counts.succeeded = 97;
    EXPECT_EQ(progress_line(w, 3, 10), "wave 2/3 [#########.] 97/100 succeeded 3 failed  4.1/min  done");
    WaveStatus waiting;
    waiting.wave.wave = 3;
    waiting.counts.waiting = 100;
    EXPECT_EQ(progress_line(waiting, 3, 4), "wave 3/3 [....] waiting, 100 devices");
    EXPECT_EQ(format_eta(45), "45s");
    EXPECT_EQ(format_eta(61), "2m");
    EXPECT_EQ(format_eta(3 * 3600 + 600), "3h10m");
    EXPECT_EQ(format_eta(7 * 86400), "7d");
    EXPECT_EQ(format_eta(2 * 86400 + 4 * 3600), "2d4h");
    EXPECT_EQ(wave_count(300, 100), 3);
    EXPECT_EQ(wave_count(301, 100), 4);
    EXPECT_EQ(wave_of(99, 100), 1);
    EXPECT_EQ(wave_of(100, 100), 2);
}

}  // namespace
