#include "registry/postgresql/pg_change_watch.h"

#include "registry/postgresql/pg_schema.h"
#include "registry/postgresql/pg_server_identity.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cstring>

namespace lscgate {
namespace {

using Clock = std::chrono::steady_clock;
constexpr const char* kCounterSql = "SELECT value FROM lscgate.change_counter";
// A counter read with no answer this long after statement_timeout: the connection is dead.
constexpr std::chrono::seconds kNoAnswerSlack{2};

std::string first_line(const char* message) {
    std::string s = message != nullptr ? message : "";
    if (auto nl = s.find('\n'); nl != std::string::npos) s.resize(nl);
    return s.empty() ? "connection lost" : s;
}

}  // namespace

Result<std::unique_ptr<PgChangeWatch>> PgChangeWatch::start(std::string conninfo, Options options,
                                                            Reconnected reconnected, LogSink log) {
    const int fd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (fd < 0) return fail(std::string("registry change watch: eventfd: ") + std::strerror(errno));
    std::unique_ptr<PgChangeWatch> watch(
        new PgChangeWatch(std::move(conninfo), options, std::move(reconnected), std::move(log), fd));
    try {
        watch->thread_ = std::thread(&PgChangeWatch::run, watch.get());
    } catch (const std::exception& e) {
        return fail(std::string("registry change watch: cannot start its thread: ") + e.what());
    }
    return watch;
}

PgChangeWatch::PgChangeWatch(std::string conninfo, Options options, Reconnected reconnected, LogSink log,
                             int wake_fd)
    : conninfo_(std::move(conninfo)),
      options_(options),
      reconnected_(std::move(reconnected)),
      log_(std::move(log)),
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

void PgChangeWatch::log(const std::string& message) const {
    if (log_) log_(message);
}

std::optional<PgChangeWatch::Known> PgChangeWatch::latest() {
    std::lock_guard lock(mutex_);
    if (!healthy_ || !conn_ || !consume_locked()) return std::nullopt;
    // The counter read's answer may have been read off the socket here: the thread collects it.
    if (in_flight_ && PQisBusy(conn_->raw()) == 0) wake();
    if (!vouching_ || Clock::now() - proven_ > options_.freshness) return std::nullopt;
    return Known{counter_, server_};
}

// Reads what reached the socket (never waits). A notification ends vouching
// until the thread has read the counter again. False when the connection broke.
bool PgChangeWatch::consume_locked() {
    PGconn* raw = conn_->raw();
    if (PQconsumeInput(raw) == 0 || PQstatus(raw) != CONNECTION_OK) {
        mark_broken_locked(first_line(PQerrorMessage(raw)));
        return false;
    }
    bool seen = false;
    while (PGnotify* n = PQnotifies(raw)) {
        seen = seen || (n->relname != nullptr && kPgNotifyChannel == n->relname);
        PQfreemem(n);
    }
    if (seen) {
        if (vouching_) wake();
        vouching_ = false;
        if (in_flight_) notified_in_flight_ = true;
    }
    return true;
}

void PgChangeWatch::mark_broken_locked(const std::string& cause) {
    if (healthy_) {
        broken_cause_ = cause;
        wake();
    }
    healthy_ = false;
    vouching_ = false;
}

void PgChangeWatch::run() noexcept {
    try {
        loop();
    } catch (...) {
        // bad_alloc or a thread error: the watch ends; requests read the counter themselves.
        std::lock_guard lock(mutex_);
        conn_.reset();  // stop LISTENing: an unread listener holds back the server's notification queue
        healthy_ = false;
        vouching_ = false;
    }
}

void PgChangeWatch::loop() {
    bool was_up = false;
    while (!stopping_.load()) {
        bool up = false;
        {
            std::lock_guard lock(mutex_);
            up = healthy_ && conn_;
        }
        if (!up) {
            if (was_up) {
                std::string cause;
                {
                    std::lock_guard lock(mutex_);
                    cause = broken_cause_;
                }
                log("registry change watch lost (" + cause + "): lookups read the change counter until it reconnects");
                lost_logged_ = true;
            }
            was_up = connect();
            if (!was_up) wait_for(-1, std::max(gate_.wait_left(Clock::now()), std::chrono::milliseconds(1)));
            continue;
        }
        int socket = -1;
        {
            std::lock_guard lock(mutex_);
            socket = PQsocket(conn_->raw());
        }
        wait_for(socket, wait_time());
        if (!stopping_.load()) step();
    }
}

// How long the thread may sleep: until the in-flight read must have been
// answered, at once when it must read the counter, else until the next heartbeat.
std::chrono::milliseconds PgChangeWatch::wait_time() const {
    std::lock_guard lock(mutex_);
    const auto now = Clock::now();
    auto until = sent_at_ + options_.heartbeat;
    if (in_flight_) until = sent_at_ + options_.statement_timeout + kNoAnswerSlack;
    // Not vouching after a good read (a notification came): read now. After a
    // failed read (proven_ older than sent_at_): wait a heartbeat, never spin.
    else if (!vouching_ && proven_ == sent_at_) until = now;
    return std::max(std::chrono::ceil<std::chrono::milliseconds>(until - now), std::chrono::milliseconds(0));
}

// One turn after a wake-up: read the socket, collect the counter read's
// answer, send the next read when one is due.
void PgChangeWatch::step() {
    bool reset = false;
    {
        std::lock_guard lock(mutex_);
        if (!healthy_ || !conn_ || !consume_locked()) return;
        PGconn* raw = conn_->raw();
        const auto now = Clock::now();
        if (in_flight_ && PQisBusy(raw) == 0) collect_locked(reset);
        if (healthy_ && in_flight_ && now - sent_at_ > options_.statement_timeout + kNoAnswerSlack)
            mark_broken_locked("the change counter read got no answer");
        const bool due = now - sent_at_ >= options_.heartbeat || (!vouching_ && proven_ == sent_at_);
        if (healthy_ && !in_flight_ && due) {
            if (PQsendQuery(raw, kCounterSql) == 0) {
                mark_broken_locked(first_line(PQerrorMessage(raw)));
            } else {
                in_flight_ = true;
                notified_in_flight_ = false;
                sent_at_ = now;
            }
        }
    }
    if (reset && reconnected_) reconnected_();
}

// Takes the in-flight counter read's answer (PQgetResult does not block once
// PQisBusy is false). A failed read (statement_timeout, a table gone) ends
// vouching without dropping the connection; a counter lower than before is a
// registry replaced in place (`reset`).
void PgChangeWatch::collect_locked(bool& reset) {
    PGconn* raw = conn_->raw();
    std::optional<std::int64_t> value;
    std::string error;
    while (PGresult* res = PQgetResult(raw)) {
        PgResultPtr owned(res);
        if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1 && PQgetisnull(res, 0, 0) == 0) {
            const char* text = PQgetvalue(res, 0, 0);
            std::int64_t v = 0;
            const char* end = text + std::strlen(text);
            if (auto [p, ec] = std::from_chars(text, end, v); ec == std::errc() && p == end) value = v;
        } else if (PQresultStatus(res) != PGRES_TUPLES_OK) {
            error = first_line(PQresultErrorMessage(res));
        }
    }
    in_flight_ = false;
    if (PQstatus(raw) != CONNECTION_OK) {
        mark_broken_locked(error);
        return;
    }
    if (!value) {
        vouching_ = false;  // retried after a heartbeat (wait_time: proven_ != sent_at_)
        return;
    }
    if (*value < counter_) {
        reset = true;
        vouching_ = false;  // vouched for again by the next read, after the reader forgot its rows
    } else {
        vouching_ = !notified_in_flight_;
    }
    counter_ = *value;
    proven_ = sent_at_;
}

// Waits until the socket has data, the eventfd is written, or the timeout passes;
// consumes the eventfd's count. socket -1: the eventfd and timeout only.
void PgChangeWatch::wait_for(int socket, std::chrono::milliseconds timeout) {
    pollfd fds[2] = {{wake_fd_, POLLIN, 0}, {socket, POLLIN, 0}};
    const int n = socket >= 0 ? 2 : 1;
    const int ms = static_cast<int>(std::min<std::int64_t>(timeout.count(), 60'000));
    if (::poll(fds, static_cast<nfds_t>(n), ms) > 0 && (fds[0].revents & POLLIN) != 0) {
        std::uint64_t count = 0;
        [[maybe_unused]] const ssize_t r = ::read(wake_fd_, &count, sizeof count);
    }
}

// One connection attempt when the back-off allows it: connect, LISTEN, then
// read the database's identity and the counter. Listening before reading means
// no change can fall between them.
bool PgChangeWatch::connect() {
    if (!gate_.try_begin(Clock::now())) return false;
    {
        std::lock_guard lock(mutex_);
        conn_.reset();
        healthy_ = vouching_ = in_flight_ = false;
    }
    auto conn = PgConnection::connect(conninfo_, static_cast<int>(options_.connect_timeout.count()),
                                      "lscgate-radius-watch");
    Status ok = conn ? Status{} : Status(conn.error());
    if (ok) {
        auto set = conn->exec("SET statement_timeout = " + std::to_string(options_.statement_timeout.count()) +
                              "; SET default_transaction_read_only = on");
        if (!set) ok = set.error();
    }
    if (ok) ok = conn->listen(kPgNotifyChannel);
    std::uint64_t server = 0;
    if (ok) {
        auto id = pg_server_identity(*conn);
        if (id) server = *id;
        else ok = id.error();
    }
    const auto sent = Clock::now();
    std::int64_t counter = -1;
    if (ok) {
        auto r = conn->exec(kCounterSql);
        auto v = r ? r->int64(0, 0) : Result<std::int64_t>(r.error());
        if (v) counter = *v;
        else ok = v.error();
    }
    if (!ok) {
        gate_.failed(Clock::now());
        if (!lost_logged_)
            log("registry change watch cannot connect (" + ok.message() +
                "): lookups read the change counter until it can");
        lost_logged_ = true;
        return false;
    }
    gate_.succeeded();
    if (reconnected_) reconnected_();
    {
        std::lock_guard lock(mutex_);
        conn_ = std::move(*conn);
        counter_ = counter;
        server_ = server;
        sent_at_ = proven_ = sent;
        healthy_ = vouching_ = true;
        in_flight_ = notified_in_flight_ = false;
    }
    connections_.fetch_add(1);
    if (lost_logged_) log("registry change watch connected again: unchanged rows are answered from memory again");
    lost_logged_ = false;
    return true;
}

}  // namespace lscgate
