#include "registry/postgresql/pg_change_watch.h"

#include "registry/postgresql/pg_schema.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cstring>

namespace lscgate {
namespace {

using Clock = std::chrono::steady_clock;

// The counter at the end of a "<table> <counter>" payload; nullopt for anything else.
std::optional<std::int64_t> payload_counter(const std::string& payload) {
    const auto space = payload.rfind(' ');
    const char* first = payload.data() + (space == std::string::npos ? 0 : space + 1);
    const char* last = payload.data() + payload.size();
    std::int64_t value = 0;
    auto [end, ec] = std::from_chars(first, last, value);
    if (ec != std::errc() || end != last || first == last) return std::nullopt;
    return value;
}

}  // namespace

Result<std::unique_ptr<PgChangeWatch>> PgChangeWatch::start(std::string conninfo, Options options,
                                                            Reconnected reconnected) {
    const int fd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (fd < 0) return fail(std::string("registry change watch: eventfd: ") + std::strerror(errno));
    std::unique_ptr<PgChangeWatch> watch(new PgChangeWatch(std::move(conninfo), options, std::move(reconnected), fd));
    try {
        watch->thread_ = std::thread(&PgChangeWatch::run, watch.get());
    } catch (const std::exception& e) {
        return fail(std::string("registry change watch: cannot start its thread: ") + e.what());
    }
    return watch;
}

PgChangeWatch::PgChangeWatch(std::string conninfo, Options options, Reconnected reconnected, int wake_fd)
    : conninfo_(std::move(conninfo)),
      options_(options),
      reconnected_(std::move(reconnected)),
      wake_fd_(wake_fd),
      gate_(options.reconnect_backoff_min, options.reconnect_backoff_max) {}

PgChangeWatch::~PgChangeWatch() {
    stopping_.store(true);
    wake();
    if (thread_.joinable()) thread_.join();
    ::close(wake_fd_);
}

void PgChangeWatch::wake() {
    const std::uint64_t one = 1;
    // A full eventfd counter (EAGAIN) already means "wake up".
    [[maybe_unused]] const ssize_t n = ::write(wake_fd_, &one, sizeof one);
}

std::optional<std::int64_t> PgChangeWatch::latest() {
    // A heartbeat or connection attempt holds the lock across a round trip: the
    // request reads the counter itself rather than wait for it.
    if (busy_.load(std::memory_order_acquire)) return std::nullopt;
    std::lock_guard lock(mutex_);
    if (!healthy_ || !conn_) return std::nullopt;
    const auto now = Clock::now();
    if (!drain_locked(now)) return std::nullopt;
    if (now - proven_ > options_.freshness) return std::nullopt;
    return counter_;
}

// Reads what has reached the socket (never waits) and takes the counters of the
// notifications in it. False when the connection is broken (the thread replaces it).
bool PgChangeWatch::drain_locked(Clock::time_point now) {
    PGconn* raw = conn_->raw();
    if (PQconsumeInput(raw) == 0 || PQstatus(raw) != CONNECTION_OK) {
        mark_broken_locked();
        return false;
    }
    while (PGnotify* n = PQnotifies(raw)) {
        if (n->relname != nullptr && kPgNotifyChannel == n->relname && n->extra != nullptr) {
            if (auto c = payload_counter(n->extra)) {
                counter_ = std::max(counter_, *c);
                proven_ = now;
            }
        }
        PQfreemem(n);
    }
    return true;
}

void PgChangeWatch::mark_broken_locked() {
    if (healthy_) wake();
    healthy_ = false;
}

void PgChangeWatch::run() noexcept {
    try {
        loop();
    } catch (...) {
        // bad_alloc or a thread error: end the watch; requests read the counter themselves.
        std::lock_guard lock(mutex_);
        healthy_ = false;
    }
}

void PgChangeWatch::loop() {
    auto next_heartbeat = Clock::now();
    while (!stopping_.load()) {
        bool up = false;
        {
            std::lock_guard lock(mutex_);
            up = healthy_ && conn_;
        }
        if (!up) {
            if (!connect()) {
                wait_for_socket(-1, std::max(gate_.wait_left(Clock::now()), std::chrono::milliseconds(1)));
                continue;
            }
            next_heartbeat = Clock::now() + options_.heartbeat;
        }
        int socket = -1;
        {
            std::lock_guard lock(mutex_);
            if (conn_) socket = PQsocket(conn_->raw());
        }
        const auto wait = std::chrono::ceil<std::chrono::milliseconds>(next_heartbeat - Clock::now());
        wait_for_socket(socket, std::max(wait, std::chrono::milliseconds(0)));
        if (stopping_.load()) break;
        {
            std::lock_guard lock(mutex_);
            if (healthy_ && conn_) drain_locked(Clock::now());
        }
        if (Clock::now() >= next_heartbeat) {
            heartbeat();
            next_heartbeat = Clock::now() + options_.heartbeat;
        }
    }
}

// Waits until the socket has data, the eventfd is written, or the timeout passes;
// consumes the eventfd's count. socket -1: the eventfd and timeout only.
void PgChangeWatch::wait_for_socket(int socket, std::chrono::milliseconds timeout) {
    pollfd fds[2] = {{wake_fd_, POLLIN, 0}, {socket, POLLIN, 0}};
    const int n = socket >= 0 ? 2 : 1;
    const int ms = static_cast<int>(std::min<std::int64_t>(timeout.count(), 60'000));
    if (::poll(fds, static_cast<nfds_t>(n), ms) > 0 && (fds[0].revents & POLLIN) != 0) {
        std::uint64_t count = 0;
        [[maybe_unused]] const ssize_t r = ::read(wake_fd_, &count, sizeof count);
    }
}

// One connection attempt when the back-off allows it: connect, LISTEN, read the
// counter. Listening before reading means no change can fall between them.
bool PgChangeWatch::connect() {
    if (!gate_.try_begin(Clock::now())) return false;
    busy_.store(true, std::memory_order_release);
    {
        std::lock_guard lock(mutex_);
        conn_.reset();
        healthy_ = false;
    }
    auto conn = PgConnection::connect(conninfo_, static_cast<int>(options_.connect_timeout.count()),
                                      "lscgate-radius-watch");
    Status ok = conn ? Status{} : Status(conn.error());
    std::int64_t counter = -1;
    if (ok) {
        auto set = conn->exec("SET statement_timeout = " + std::to_string(options_.statement_timeout.count()) +
                              "; SET default_transaction_read_only = on");
        if (!set) ok = set.error();
    }
    if (ok) ok = conn->listen(kPgNotifyChannel);
    if (ok) {
        auto r = conn->exec("SELECT value FROM lscgate.change_counter");
        auto v = r ? r->int64(0, 0) : Result<std::int64_t>(r.error());
        if (v) counter = *v;
        else ok = v.error();
    }
    if (!ok) {
        gate_.failed(Clock::now());
        busy_.store(false, std::memory_order_release);
        return false;
    }
    gate_.succeeded();
    if (reconnected_) reconnected_();
    {
        std::lock_guard lock(mutex_);
        conn_ = std::move(*conn);
        counter_ = counter;
        proven_ = Clock::now();
        healthy_ = true;
    }
    connections_.fetch_add(1);
    busy_.store(false, std::memory_order_release);
    return true;
}

// A counter read: proves the server answers and catches a notification lost in
// a way libpq did not report. False (and the connection marked broken) on failure.
bool PgChangeWatch::heartbeat() {
    busy_.store(true, std::memory_order_release);
    bool ok = false;
    {
        std::lock_guard lock(mutex_);
        if (healthy_ && conn_) {
            auto r = conn_->exec("SELECT value FROM lscgate.change_counter");
            auto v = r ? r->int64(0, 0) : Result<std::int64_t>(r.error());
            if (v) {
                counter_ = std::max(counter_, *v);
                proven_ = Clock::now();
                ok = drain_locked(proven_);
            } else {
                mark_broken_locked();
            }
        }
    }
    busy_.store(false, std::memory_order_release);
    return ok;
}

}  // namespace lscgate
