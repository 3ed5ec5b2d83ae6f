// The event-loop pieces of `lscgate serve` (issue 9 item 1), each on a real
// asio io_context:
// - WorkPool runs a job on one of its threads and resumes the coroutine on its
//   own loop thread; the job's exception reaches the coroutine;
// - LoopGate lets `limit` coroutines in, the others in arrival order, and a
//   waiter whose deadline comes first is turned away without taking a place;
// - StorePool, shared by the workers, never takes growing registry files for a
//   shrinking one (it refused every session once two threads' looks at the files
//   were compared out of order);
// - AsyncTlsStream's reads end at their deadline, with no stale deadline left to
//   cut a later read short.

#include "capf/host_gates.h"
#include "capf/loop_gate.h"
#include "capf/store_pool.h"
#include "capf/tls_stream.h"
#include "capf/work_pool.h"
#include "test_support.h"

#include <gtest/gtest.h>

#include <memory>

#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>

#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

using namespace lscgate;
using namespace lscgate::capf;
using namespace std::chrono_literals;

namespace {

// Runs `task` on `io` until everything on it ended; fails the test on an exception.
void run(asio::io_context& io, asio::awaitable<void> task) {
    asio::co_spawn(io, std::move(task), [](const std::exception_ptr& e) {
        if (e) std::rethrow_exception(e);
    });
    io.run();
}

TEST(CapfWorkPool, RunsTheJobOnAWorkerAndResumesOnTheLoop) {
    asio::io_context io(1);
    WorkPool pool(2);
    const auto loop_thread = std::this_thread::get_id();
    std::thread::id job_thread, resumed_on;
    run(io, [&]() -> asio::awaitable<void> {
        co_await pool.run([&] { job_thread = std::this_thread::get_id(); });
        resumed_on = std::this_thread::get_id();
    }());
    EXPECT_NE(job_thread, loop_thread) << "the job ran on a worker";
    EXPECT_EQ(resumed_on, loop_thread) << "the coroutine came back to its loop";
}

TEST(CapfWorkPool, AJobsExceptionReachesTheCoroutine) {
    asio::io_context io(1);
    WorkPool pool(1);
    std::string caught;
    run(io, [&]() -> asio::awaitable<void> {
        try {
            co_await pool.run([] { throw std::runtime_error("job failed"); });
        } catch (const std::runtime_error& e) {
            caught = e.what();
        }
    }());
    EXPECT_EQ(caught, "job failed");
}

TEST(CapfWorkPool, WithoutAPoolTheJobRunsInline) {
    asio::io_context io(1);
    std::thread::id job_thread;
    run(io, [&]() -> asio::awaitable<void> {
        co_await run_blocking(nullptr, [&] { job_thread = std::this_thread::get_id(); });
    }());
    EXPECT_EQ(job_thread, std::this_thread::get_id());
}

TEST(CapfLoopGate, AdmitsTheLimitThenTheWaitersInArrivalOrder) {
    asio::io_context io(1);
    LoopGate gate(2);
    std::vector<int> entered;
    auto visitor = [&](int id) -> asio::awaitable<void> {
        const bool in = co_await gate.enter(std::chrono::steady_clock::now() + 10s);
        if (!in) co_return;
        entered.push_back(id);
        asio::steady_timer stay(io, 20ms);  // inside for a while, then out
        co_await stay.async_wait(asio::use_awaitable);
        gate.leave();
    };
    for (int id = 1; id <= 5; ++id)
        asio::co_spawn(io, visitor(id), [](const std::exception_ptr& e) {
            if (e) std::rethrow_exception(e);
        });
    // After the first turn: two inside, three waiting.
    io.run_one();
    io.poll();
    EXPECT_EQ(gate.inside(), 2u);
    EXPECT_EQ(gate.waiting(), 3u);
    io.run();
    EXPECT_EQ(entered, (std::vector<int>{1, 2, 3, 4, 5}));
    EXPECT_EQ(gate.inside(), 0u);
    EXPECT_EQ(gate.waiting(), 0u);
}

TEST(CapfLoopGate, AWaiterWhoseDeadlineComesFirstIsTurnedAway) {
    asio::io_context io(1);
    LoopGate gate(1);
    bool late_admitted = true, next_admitted = false;
    run(io, [&]() -> asio::awaitable<void> {
        const bool first = co_await gate.enter(std::chrono::steady_clock::now() + 10s);
        EXPECT_TRUE(first);
        late_admitted = co_await gate.enter(std::chrono::steady_clock::now() + 30ms);  // the place stays taken
        EXPECT_EQ(gate.waiting(), 0u) << "the late waiter left the queue";
        gate.leave();
        next_admitted = co_await gate.enter(std::chrono::steady_clock::now() + 10s);
        gate.leave();
    }());
    EXPECT_FALSE(late_admitted);
    EXPECT_TRUE(next_admitted) << "the turned-away waiter took no place";
    EXPECT_EQ(gate.inside(), 0u);
}

TEST(CapfLoopGate, ClosingTurnsEveryWaiterAwayAtOnce) {
    asio::io_context io(1);
    LoopGate gate(1);
    std::vector<bool> admitted;
    auto waiter = [&]() -> asio::awaitable<void> {
        admitted.push_back(co_await gate.enter(std::chrono::steady_clock::now() + 60s));
    };
    const auto started = std::chrono::steady_clock::now();
    run(io, [&]() -> asio::awaitable<void> {
        const bool first = co_await gate.enter(std::chrono::steady_clock::now() + 10s);
        EXPECT_TRUE(first);
        for (int i = 0; i < 3; ++i)
            asio::co_spawn(io, waiter(), [](const std::exception_ptr& e) {
                if (e) std::rethrow_exception(e);
            });
        while (gate.waiting() < 3) co_await asio::post(io, asio::use_awaitable);  // let the three queue up
        EXPECT_EQ(gate.waiting(), 3u);
        gate.close();
        const bool after = co_await gate.enter(std::chrono::steady_clock::now() + 10s);
        EXPECT_FALSE(after) << "nobody enters a closed gate";
    }());
    EXPECT_EQ(admitted, (std::vector<bool>{false, false, false}));
    EXPECT_LT(std::chrono::steady_clock::now() - started, 5s) << "turned away at once, not at their deadlines";
}

TEST(CapfHostGates, OneAddressHoldsItsShareAndAnotherStillGetsIn) {
    asio::io_context io(1);
    HostGates gates(2);
    std::vector<std::unique_ptr<HostGates::Place>> flood;
    int flood_in = 0;
    bool other_in = false, third_flood_in = true;
    run(io, [&]() -> asio::awaitable<void> {
        for (int i = 0; i < 2; ++i) {
            flood.push_back(std::make_unique<HostGates::Place>(gates, peer_host("192.0.2.7:4000" + std::to_string(i))));
            if (co_await flood.back()->enter(std::chrono::steady_clock::now() + 10s)) ++flood_in;
        }
        HostGates::Place third(gates, peer_host("192.0.2.7:40009"));
        third_flood_in = co_await third.enter(std::chrono::steady_clock::now() + 30ms);  // its share is taken
        HostGates::Place phone(gates, peer_host("[2001:db8::5]:51000"));
        other_in = co_await phone.enter(std::chrono::steady_clock::now() + 10s);
        EXPECT_EQ(gates.hosts(), 2u);
    }());
    EXPECT_EQ(flood_in, 2);
    EXPECT_FALSE(third_flood_in) << "the flooding address got no third place";
    EXPECT_TRUE(other_in) << "another address is not held up by it";
    EXPECT_EQ(gates.hosts(), 1u) << "an address nobody uses any more is forgotten";
    flood.clear();
    EXPECT_EQ(gates.hosts(), 0u);
    EXPECT_EQ(peer_host("10.1.2.3:3804"), "10.1.2.3");
    EXPECT_EQ(peer_host("::1:5555"), "::1");
}

TEST(CapfStorePool, GrowingFilesUnderManyWorkersNeverReadAsShrinking) {
    test::TempDir dir;
    const std::string db = (dir / "lscgate.db").string();
    (void)test::make_store(dir / "lscgate.db");
    StorePool stores(db);
    std::atomic<int> failures{0};
    std::atomic<int> next{0};
    std::string first_failure;
    std::mutex failure_mutex;
    auto worker = [&] {
        for (int i = next++; i < 400; i = next++) {
            if (auto checked = stores.check(); !checked) {
                std::lock_guard lock(failure_mutex);
                if (failures++ == 0) first_failure = checked.message();
                return;
            }
            auto store = stores.acquire();
            if (!store) {
                std::lock_guard lock(failure_mutex);
                if (failures++ == 0) first_failure = store.message();
                return;
            }
            // Each add grows the registry file: a long description, checkpointed at once.
            const std::string number = std::to_string(i);
            (void)store->add_device("SEP" + std::string(12 - number.size(), '0') + number, "",
                                    std::string(3000, 'x'), "test");
            (void)store->database().exec("PRAGMA wal_checkpoint(PASSIVE)");
            stores.release(std::move(*store));
        }
    };
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) threads.emplace_back(worker);
    for (auto& t : threads) t.join();
    EXPECT_EQ(failures.load(), 0) << first_failure;
}

TEST(CapfAsyncTlsStream, AReadEndsAtItsDeadlineAndTheNextWaitsAfresh) {
    int fds[2];
    ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
    auto ctx = SslCtxPtr(SSL_CTX_new(TLS_server_method()));
    asio::io_context io(1);
    AsyncTlsStream stream(SslPtr(SSL_new(ctx.get())), fds[0], io.get_executor());
    bool first_ready = true, second_ready = false;
    std::chrono::steady_clock::duration first_took{};
    run(io, [&]() -> asio::awaitable<void> {
        const auto started = std::chrono::steady_clock::now();
        first_ready = co_await stream.async_readable(started + 50ms);
        first_took = std::chrono::steady_clock::now() - started;
        // Data arrives 100 ms into a 5 s wait: the first wait's deadline must not cut it short.
        asio::steady_timer later(io, 100ms);
        later.async_wait([&](const asio::error_code&) { (void)::write(fds[1], "x", 1); });
        second_ready = co_await stream.async_readable(std::chrono::steady_clock::now() + 5s);
    }());
    ::close(fds[1]);
    EXPECT_FALSE(first_ready) << "nothing was sent before the deadline";
    EXPECT_GE(first_took, 50ms);
    EXPECT_TRUE(second_ready);
}

}  // namespace
