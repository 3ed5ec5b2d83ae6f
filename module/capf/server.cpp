#include "capf/server.h"

#include "pki/crl.h"

#include "capf/crl_service.h"
#include "capf/serve_log.h"

#include "capf/listen_address.h"
#include "capf/serving_setup.h"
#include "capf/session.h"
#include "capf/session_record.h"
#include "capf/store_pool.h"
#include "capf/tls_stream.h"
#include "capf/trust_keeper.h"
#include "pki/certificate.h"
#include "pki/expiry.h"
#include "pki/issuer.h"
#include "pki/key_strength.h"
#include "pki/printable.h"
#include "registry/fleet_records.h"
#include "registry/store.h"
#include "registry/registry_files.h"
#include "registry/database_kind.h"
#include "registry/registry_reader.h"
#include "pki/trust_loader.h"
#include "pki/trust_set.h"

#include "capf/host_gates.h"
#include "capf/loop_gate.h"
#include "capf/open_files.h"
#include "capf/work_pool.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <malloc.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>
#include <asio/posix/stream_descriptor.hpp>
#include <asio/redirect_error.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>

#include <openssl/rand.h>

#include <cerrno>
#include <cstring>
#include <mutex>
#include <optional>
#include <ostream>
#include <set>
#include <stdexcept>

namespace lscgate::capf {
namespace {

// `serve` warns when its CAPF certificate has less than this left.
constexpr std::int64_t kCapfExpiryWarningSeconds = 60LL * 86400;
// How long the loop turns without a reason to wake (the stop flag, a SIGHUP, the
// watchdog, the trust refresh are looked at every turn).
constexpr std::chrono::milliseconds kTurn{200};
// Connections accepted per readiness of the listening socket before the loop
// lets the running sessions move again.
constexpr int kAcceptBurst = 64;
// TLS handshakes between their first step and their end at once (capf/loop_gate.h):
// enough to keep every worker busy, few enough that their buffers (≈ 35 KB each
// while in progress) stay a few megabytes when a whole fleet connects at once.
constexpr std::size_t kHandshakesAtOnce = 256;
// Of those, at most this many from one address (capf/host_gates.h): a host that
// opens handshakes and stalls them holds a quarter of the places, not all.
constexpr std::size_t kHandshakesPerHost = kHandshakesAtOnce / 4;
// How often freed heap memory goes back to the system (malloc_trim(3)): glibc
// keeps what a worker's arena once held, so a passing burst (a wave of
// handshakes, a large registry step) would otherwise stay in RSS for good. At
// 60 000 enrolments one worker arena held 12 MB of which 10 MB were free; with
// the trim serve's RSS there was 32 MB instead of 35 MB.
constexpr std::chrono::seconds kTrimInterval{30};

std::string peer_name(const sockaddr_storage& addr) {
    char host[INET6_ADDRSTRLEN] = "?";
    int port = 0;
    if (addr.ss_family == AF_INET) {
        const auto* a = reinterpret_cast<const sockaddr_in*>(&addr);
        inet_ntop(AF_INET, &a->sin_addr, host, sizeof host);
        port = ntohs(a->sin_port);
    } else if (addr.ss_family == AF_INET6) {
        const auto* a = reinterpret_cast<const sockaddr_in6*>(&addr);
        inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof host);
        port = ntohs(a->sin6_port);
    }
    return std::string(host) + ":" + std::to_string(port);
}

std::uint32_t random_session_id() {
    std::uint32_t id = 0;
    while (id == 0) RAND_bytes(reinterpret_cast<unsigned char*>(&id), sizeof id);
    return id;
}

// One line saying what a (re)loaded setup is, for the log and the service manager.
std::string describe_setup(const ServingSetup& s) {
    auto facts = describe_certificate(s.authority.certificate());
    return "tls>=" + s.config.tls_min + " capf=" + quote_for_log(facts ? facts->subject : "?") +
           " mic_roots=" + std::to_string(s.mic_roots) + " max_sessions=" + std::to_string(s.config.max_sessions) +
           " lsc_days=" + std::to_string(s.config.lsc_days);
}

// Runs a session's blocking steps on the worker pool, each with a registry
// connection taken from the pool for that step only: thousands of sessions
// waiting on their phones hold no connection.
class PoolWork : public SessionWork {
public:
    PoolWork(WorkPool& pool, StorePool& stores) : pool_(pool), stores_(stores) {}
    asio::awaitable<Status> run(const std::function<void(Store&)>& step) override {
        Status status;
        co_await pool_.run([&] {
            auto store = stores_.acquire();
            if (!store) {
                status = store.error();
                return;
            }
            step(*store);
            stores_.release(std::move(*store));
        });
        co_return status;
    }

private:
    WorkPool& pool_;
    StorePool& stores_;
};

// What the end of one session needs: it is told (counted, logged) exactly once.
struct SessionEnd {
    std::uint32_t sid = 0;
    std::string peer;
    Clock::time_point started;
    bool told = false;
};

// One event loop on the thread that called serve(): it accepts, moves every
// session's bytes and waits; the WorkPool's threads do everything that may block.
// running_, active_fds_ and stopping_ belong to the loop thread.
class Server {
public:
    Server(std::shared_ptr<const ServingSetup> setup, std::unique_ptr<TrustKeeper> trust, ServeLog& log,
           std::unique_ptr<CrlService> crl, int descriptor_room)
        : setup_(std::move(setup)),
          log_(log),
          descriptor_room_(descriptor_room),
          stores_(setup_->config.database_location()),
          trust_(std::move(trust)),
          crl_(std::move(crl)) {}

    Status run(int listen_fd, const std::atomic<bool>& stop, const ServeOptions& options);

private:
    asio::awaitable<void> accept_phones(int listen_fd);
    // The loop's clock: stop flag, SIGHUP, watchdog, trust refresh; then the stop with its grace.
    asio::awaitable<void> control(const std::atomic<bool>& stop, const ServeOptions& options);
    asio::awaitable<void> refresh(bool reloading, const ServeOptions& options);
    asio::awaitable<void> wait_for_sessions(int grace_seconds);
    // An accepted connection: a session, or refused (over the limit).
    void admit(int fd, std::string peer);
    asio::awaitable<void> session(int fd, std::string peer);
    asio::awaitable<void> serve_connection(int fd, SessionEnd& end);
    // The ClientHello awaited on the loop, then the handshake through the gate.
    asio::awaitable<Status> handshake(AsyncTlsStream& stream, const std::string& peer, Clock::time_point deadline);
    // The session's row (when it got past the handshake), its count and log line, on a worker.
    // keep_rows: [capf] session_history of the session's own setup.
    asio::awaitable<void> finish(SessionEnd& end, SessionOutcome& outcome, std::optional<std::int64_t> keep_rows,
                                 SessionWork& work);
    // The session's one log line and its count for the observer (once).
    void end_session(SessionEnd& end, const SessionOutcome& outcome);
    void fail_unended(SessionEnd& end, const std::string& what);
    void forget_fd(int fd);
    int session_limit() const { return std::min(setup()->config.max_sessions, descriptor_room_); }
    void log_line(const std::string& line);
    void refresh_trust(const char* why);
    void reload(const ServeOptions& options);
    void reload_crl(const ServingSetup& setup);
    std::shared_ptr<const ServingSetup> setup() const {
        std::lock_guard lock(setup_mutex_);
        return setup_;
    }

    // Replaced whole by a reload; each session keeps the one it started with.
    mutable std::mutex setup_mutex_;
    std::shared_ptr<const ServingSetup> setup_;
    void remind_capf_expiry();
    ExpiryReminder capf_reminder_{kCapfExpiryWarningSeconds};
    std::shared_ptr<const ServingSetup> reminded_setup_;  // the setup reminded_facts_ describes (loop only)
    std::optional<CertificateFacts> reminded_facts_;
    ServeLog& log_;
    SessionObserver* observer_ = nullptr;  // set by run() before the first session
    int descriptor_room_;                  // sessions the file-descriptor limit leaves room for
    asio::io_context loop_{1};
    // Sockets of running sessions, for aborting stragglers at shutdown. A socket
    // leaves this set before it is closed, so a reused fd number is never shut
    // down by mistake; `running_` counts sessions until their very end.
    std::set<int> active_fds_;
    int running_ = 0;
    bool stopping_ = false;
    // The accept loop ended by an exception (no memory, a bug): the control
    // stops the server as on SIGTERM rather than keep the watchdog fed while no
    // phone can connect, and run() returns the failure.
    std::exception_ptr accept_failed_;
    bool refreshing_ = false;  // a reload or trust refresh is running on a worker
    std::optional<asio::posix::stream_descriptor> listener_;  // the listening socket, on the loop
    asio::steady_timer idle_{loop_};  // the stop waits on it; the last session to end cancels it
    LoopGate handshakes_{kHandshakesAtOnce};
    HostGates host_handshakes_{kHandshakesPerHost};
    StorePool stores_;
    // Declared after stores_ so its read-only connection closes first: the last
    // connection to close checkpoints the WAL into lscgate.db and truncates it
    // (persistent WAL: the empty -wal and the -shm stay), and a read-only one cannot.
    std::unique_ptr<TrustKeeper> trust_;
    // The CRLs (null when they could not be started): follows every reload.
    std::unique_ptr<CrlService> crl_;
    // Declared last, so destroyed first: its threads are joined before anything
    // a job may use goes away.
    WorkPool pool_{default_worker_threads()};
    // TLS handshake steps (the CAPF key's signature), log lines of sessions that
    // never reached the registry, malloc_trim: CPU only. Apart from pool_ so that
    // a registry that stalls its workers stops no handshake.
    WorkPool cpu_pool_{default_worker_threads()};
};

void Server::log_line(const std::string& line) { log_.line(line); }

void Server::admit(int fd, std::string peer) {
    const int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (const int limit = session_limit(); running_ >= limit) {
        log_line("capf peer=" + peer + " result=refused cause=\"too many concurrent sessions (max_sessions=" +
                 std::to_string(limit) + ")\"");
        ::close(fd);  // after the log line: whoever sees the close can read why
        if (observer_ != nullptr) observer_->connection_refused();
        return;
    }
    active_fds_.insert(fd);
    ++running_;
    try {
        // session() catches everything its session throws: nothing reaches here.
        asio::co_spawn(loop_, session(fd, std::move(peer)), [](const std::exception_ptr&) {});
    } catch (const std::exception& e) {  // no memory for the coroutine: refuse this phone, keep serving
        forget_fd(fd);
        --running_;
        log_line("capf result=refused cause=\"cannot start a session: " + std::string(e.what()) + "\"");
        ::close(fd);
        if (observer_ != nullptr) observer_->connection_refused();
    }
}

void Server::forget_fd(int fd) { active_fds_.erase(fd); }

asio::awaitable<void> Server::session(int fd, std::string peer) {
    SessionEnd end{random_session_id(), std::move(peer), Clock::now()};
    if (observer_ != nullptr) observer_->session_started();
    // A session must never take serve down: an exception from anywhere in it
    // (OpenSSL glue, the registry, a bug) ends that session only.
    std::string failure;
    try {
        co_await serve_connection(fd, end);
    } catch (const std::exception& e) {
        failure = e.what();
    } catch (...) {
        failure = "unknown exception";
    }
    if (!failure.empty()) fail_unended(end, failure);
    --running_;
    if (stopping_ && running_ == 0) idle_.cancel();
}

void Server::fail_unended(SessionEnd& end, const std::string& what) {
    if (end.told) return;
    try {
        SessionOutcome outcome;
        outcome.result = "failed";
        outcome.cause_class = SessionCause::Server;
        outcome.cause = "server error (internal): " + what;
        end_session(end, outcome);
    } catch (...) {
    }
}

void Server::end_session(SessionEnd& end, const SessionOutcome& outcome) {
    if (end.told) return;
    end.told = true;  // told once, even if telling fails half-way
    try {
        // Counted first, then logged: whoever waits for the log line finds the count too.
        if (observer_ != nullptr)
            observer_->session_ended(outcome, std::chrono::duration<double>(Clock::now() - end.started).count());
        log_line(session_log_line(end.sid, end.peer, outcome, end.started));
    } catch (...) {
        // Nothing more can be told about this session; it still ends cleanly.
    }
}

asio::awaitable<void> Server::finish(SessionEnd& end, SessionOutcome& outcome, std::optional<std::int64_t> keep_rows,
                                     SessionWork& work) {
    if (keep_rows) {
        const Status recorded = co_await work.run([&](Store& store) {
            record_session(store, *keep_rows, end.peer, outcome, end.started);
            end_session(end, outcome);
        });
        if (recorded) co_return;
        outcome.note += (outcome.note.empty() ? "" : "; ") + std::string("session not recorded: ") + recorded.message();
    }
    co_await cpu_pool_.run([&] { end_session(end, outcome); });
}

asio::awaitable<Status> Server::handshake(AsyncTlsStream& stream, const std::string& peer,
                                          Clock::time_point deadline) {
    // A peer that sends nothing holds no place in the gate.
    const bool hello = co_await stream.async_readable(deadline);
    if (!hello) co_return fail("TLS handshake timed out");
    HostGates::Place host_place(host_handshakes_, peer_host(peer));
    const bool host_admitted = co_await host_place.enter(deadline);
    if (!host_admitted && stopping_) co_return fail("the server is stopping (TLS handshake not started)");
    if (!host_admitted)
        co_return fail("TLS handshake timed out (the server was busy with " + std::to_string(kHandshakesPerHost) +
                       " other handshakes from this address)");
    const bool admitted = co_await handshakes_.enter(deadline);
    if (!admitted && stopping_) co_return fail("the server is stopping (TLS handshake not started)");
    if (!admitted)
        co_return fail("TLS handshake timed out (the server was busy with " + std::to_string(kHandshakesAtOnce) +
                       " other handshakes)");
    GatePass pass(handshakes_);
    co_return co_await stream.async_accept(deadline, &cpu_pool_);
}

asio::awaitable<void> Server::serve_connection(int fd, SessionEnd& end) {
    const auto current = setup();  // this session's configuration, CAPF and TLS context, whatever a reload does
    SessionOutcome outcome;
    SslPtr ssl(SSL_new(current->tls.get()));
    if (!ssl) {  // out of memory: no TLS object to close the socket through
        forget_fd(fd);  // before the close, as ForgetFd does
        ::close(fd);
        throw std::runtime_error("SSL_new failed");
    }
    AsyncTlsStream stream(std::move(ssl), fd, loop_.get_executor());
    // Destroyed before `stream` closes the socket: the fd leaves active_fds_
    // first, so a reused fd number is never shut down at stop by mistake.
    struct ForgetFd {
        Server& server;
        int fd;
        ~ForgetFd() { server.forget_fd(fd); }
    } forget{*this, fd};
    PoolWork work(pool_, stores_);
    const auto hs =
        co_await handshake(stream, end.peer, Clock::now() + std::chrono::seconds(current->config.handshake_timeout_s));
    if (!hs) {  // never reached the registry: logged and counted, not recorded
        outcome.result = "closed";
        outcome.cause_class = SessionCause::Connection;
        outcome.cause = hs.message();
        co_await finish(end, outcome, std::nullopt, work);
        co_return;
    }
    FrameChannel channel(stream);
    if (auto registry = stores_.check(); !registry) {
        // Fail closed, but tell the phone: END_SESSION(7) rather than a silent drop.
        Message refusal(Command::EndSession, end.sid);
        refusal.add_u8(Tag::Reason, reason::kInvalidElement);
        (void)co_await channel.async_send(refusal);
        outcome.result = "failed";
        outcome.cause_class = SessionCause::Server;
        outcome.end_reason = reason::kInvalidElement;
        outcome.cause = std::string("server error (") + to_string(registry.kind()) +
                        "): registry unavailable: " + registry.message();
        co_await finish(end, outcome, std::nullopt, work);
    } else {
        const auto trust = trust_->current();
        const SessionEnvironment environment{current->authority, *trust, SessionSettings::from(current->config), work};
        outcome = co_await serve_session(channel, environment, end.sid);
        co_await finish(end, outcome, current->config.session_history, work);  // row, count, line, then the close
    }
    stream.shutdown();
}

void Server::refresh_trust(const char* why) {
    auto r = trust_->refresh();
    if (!r) log_line(std::string("capf trust refresh (") + why + ") failed, keeping the previous set: " + r.message());
    else if (!r->empty()) log_line(*r + " (" + why + ")");
}

// A SIGHUP: the configuration, CAPF certificate/key/chain and mic_roots again,
// checked as at start; applied whole for the sessions that start from now on,
// or not at all (logged, the running setup kept). The trust set is re-read in
// any case, as before reloads existed.
void Server::reload(const ServeOptions& options) {
    if (options.events != nullptr) options.events->reloading();
    const auto running = setup();
    std::string outcome;
    auto fresh = options.reload_config ? options.reload_config() : Result<Config>(running->config);
    std::vector<std::string> kept;
    if (fresh) {
        apply_command_line(*fresh, options);  // a --listen given at start is no change to report
        kept = keep_restart_only_settings(running->config, *fresh);
    }
    auto plan = fresh ? build_serving_plan(std::move(*fresh), options) : Result<ServingPlan>(fresh.error());
    // As at start: with --crl-http a CAPF that cannot sign CRLs is refused, or
    // head-ends would be served a CRL nobody renews any more.
    if (plan && !options.crl_http.empty())
        if (const auto problem = crl_signer_problem(plan->setup->authority.certificate()); !problem.empty())
            plan = fail(ErrorKind::Config, "--crl-http is on and the new CAPF certificate cannot sign CRLs: " + problem);
    if (!plan) {
        log_line("capf reload failed, keeping the running configuration: " + plan.message());
        refresh_trust("SIGHUP");
        outcome = "reload failed, running configuration kept: " + plan.message();
    } else if (auto trust = trust_->refresh_with(std::move(*plan->loader)); !trust) {
        log_line("capf reload failed, keeping the running configuration: trust set: " + trust.message());
        outcome = "reload failed, running configuration kept: " + trust.message();
    } else {
        for (const auto& line : plan->setup->warnings) log_line(line);
        for (const auto& line : kept) log_line("capf reload: " + line);
        {
            std::lock_guard lock(setup_mutex_);
            setup_ = plan->setup;
        }
        reload_crl(*plan->setup);
        outcome = describe_setup(*plan->setup);
        log_line("capf configuration reloaded (SIGHUP): " + outcome);
        if (!trust->empty()) log_line(*trust + " (SIGHUP)");
    }
    if (options.events != nullptr) options.events->reloaded(outcome);
}

// The CRLs follow the reloaded CAPF certificate and key (a rotation by
// `lscgate init --force` or `capf import`): signed and served for the new
// current CAPF from now on, the old one's CRL kept on as a previous CAPF's. A
// service that could not start (no CRL HTTP was asked for) is tried again.
void Server::reload_crl(const ServingSetup& setup) {
    const auto log = [this](const std::string& line) { log_line(line); };
    if (!crl_) {
        auto started = CrlService::start(setup.config, "", log);
        if (!started) log_line("crl warning: not renewed by this server: " + started.message());
        else crl_ = std::move(*started);
        return;
    }
    crl_->adopt(setup.config, setup.authority);  // renewed on the CRL service's own thread
}

// At start and then once a day while the CAPF certificate is within 60 days of
// its notAfter (issue 10 item 6): a rotation takes that long to reach every phone.
void Server::remind_capf_expiry() {
    // The certificate of the running setup (a SIGHUP may rotate it), described
    // once per setup, not at every turn of the event loop.
    const auto current = setup();
    if (current != reminded_setup_) {
        reminded_setup_ = current;
        auto facts = describe_certificate(current->authority.certificate());
        reminded_facts_ = facts ? std::optional<CertificateFacts>(std::move(*facts)) : std::nullopt;
    }
    if (!reminded_facts_) return;
    if (auto warning = capf_reminder_.due(*reminded_facts_, now_utc())) log_line("capf warning: " + *warning);
}

asio::awaitable<void> Server::accept_phones(int listen_fd) {
    bool out_of_descriptors = false;  // logged once per episode
    asio::steady_timer pause(loop_);
    while (!stopping_) {
        asio::error_code ec;
        co_await listener_->async_wait(asio::posix::descriptor_base::wait_read, asio::redirect_error(asio::use_awaitable, ec));
        if (ec || stopping_) break;
        for (int i = 0; i < kAcceptBurst && !stopping_; ++i) {
            sockaddr_storage addr{};
            socklen_t len = sizeof addr;
            const int fd = ::accept4(listen_fd, reinterpret_cast<sockaddr*>(&addr), &len, SOCK_CLOEXEC | SOCK_NONBLOCK);
            if (fd >= 0) {
                out_of_descriptors = false;
                admit(fd, peer_name(addr));
                continue;
            }
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
                // The connection stays queued: accept it once something was closed,
                // without spinning on a socket that stays readable meanwhile.
                if (!out_of_descriptors)
                    log_line(std::string("capf warning: cannot accept connections: ") + std::strerror(errno) +
                             " (running sessions: " + std::to_string(running_) + ")");
                out_of_descriptors = true;
                pause.expires_after(std::chrono::milliseconds(100));
                co_await pause.async_wait(asio::redirect_error(asio::use_awaitable, ec));
            }
            break;  // EAGAIN (nothing more queued), EINTR, a connection already gone
        }
    }
}

asio::awaitable<void> Server::control(const std::atomic<bool>& stop, const ServeOptions& options) {
    asio::steady_timer tick(loop_);
    auto next_refresh = Clock::now() + std::chrono::seconds(setup()->config.trust_refresh_s);
    auto next_trim = Clock::now() + kTrimInterval;
    while (!stop.load() && !accept_failed_) {
        if (Clock::now() >= next_trim) {
            // On the CPU workers: never queued behind a registry that stalls.
            co_await cpu_pool_.run([] { (void)::malloc_trim(0); });
            next_trim = Clock::now() + kTrimInterval;
        }
        remind_capf_expiry();
        if (options.events != nullptr) options.events->alive();
        const auto interval = std::chrono::seconds(setup()->config.trust_refresh_s);
        if (!refreshing_) {
            const bool reloading = options.refresh_trust != nullptr && options.refresh_trust->exchange(false);
            if (reloading || (interval.count() > 0 && Clock::now() >= next_refresh)) {
                refreshing_ = true;
                next_refresh = Clock::now() + interval;
                asio::co_spawn(loop_, refresh(reloading, options), [](const std::exception_ptr&) {});
            }
        }
        tick.expires_after(kTurn);
        co_await tick.async_wait(asio::use_awaitable);
    }
    if (accept_failed_) log_line("capf stopping: the accept loop failed (internal error)");
    if (options.events != nullptr) options.events->stopping();
    stopping_ = true;
    listener_->cancel();  // accept_phones ends
    co_await wait_for_sessions(options.grace_seconds);
}

// Both read the registry and files: on a registry worker, in a coroutine of its
// own, so that a registry that holds every worker (a CLI transaction, an
// unreachable PostgreSQL) never stops the control's clock (watchdog, SIGTERM).
// An exception (no memory, a bug) is logged: the running set stays.
asio::awaitable<void> Server::refresh(bool reloading, const ServeOptions& options) {
    std::string failure;
    try {
        if (reloading) {
            co_await pool_.run([&] { reload(options); });
        } else {
            co_await pool_.run([this] { refresh_trust("trust_refresh"); });
        }
    } catch (const std::exception& e) {
        failure = e.what();
    }
    refreshing_ = false;
    if (failure.empty()) co_return;
    log_line("capf reload or trust refresh failed (internal error), keeping the running set: " + failure);
    if (reloading && options.events != nullptr)
        options.events->reloaded("reload failed, running configuration kept: internal error: " + failure);
}

asio::awaitable<void> Server::wait_for_sessions(int grace_seconds) {
    if (running_ == 0) co_return;
    log_line("capf stopping: waiting up to " + std::to_string(grace_seconds) + "s for " + std::to_string(running_) +
             " session(s)");
    asio::error_code ignored;
    idle_.expires_after(std::chrono::seconds(grace_seconds));
    co_await idle_.async_wait(asio::redirect_error(asio::use_awaitable, ignored));  // cancelled by the last session
    if (running_ == 0) co_return;
    // Unblock the stragglers; their reads fail and each ends its session cleanly
    // (one still waiting for a handshake place is turned away).
    handshakes_.close();
    host_handshakes_.close();
    for (int fd : active_fds_) ::shutdown(fd, SHUT_RDWR);
    idle_.expires_at(asio::steady_timer::time_point::max());
    while (running_ > 0) {
        co_await idle_.async_wait(asio::redirect_error(asio::use_awaitable, ignored));
    }
}

Status Server::run(int listen_fd, const std::atomic<bool>& stop, const ServeOptions& options) {
    observer_ = options.observer;
    const int flags = ::fcntl(listen_fd, F_GETFL, 0);
    ::fcntl(listen_fd, F_SETFL, flags | O_NONBLOCK);
    listener_.emplace(loop_, listen_fd);
    asio::co_spawn(loop_, accept_phones(listen_fd), [this](const std::exception_ptr& e) {
        if (e) accept_failed_ = e;
    });
    std::exception_ptr failed;
    asio::co_spawn(loop_, control(stop, options), [this, &failed](const std::exception_ptr& e) {
        if (!e) return;
        // Nobody else watches SIGTERM: without the control the loop would turn for
        // ever. Stop accepting and cut the sessions still running (each ends and
        // is logged as on a grace that ran out), so that run() returns the failure.
        failed = e;
        stopping_ = true;
        listener_->cancel();
        handshakes_.close();
        host_handshakes_.close();
        for (int fd : active_fds_) ::shutdown(fd, SHUT_RDWR);
    });
    loop_.run();  // until the accept loop, the control and every session have ended
    if (!failed) failed = accept_failed_;
    (void)listener_->release();  // the caller closes the listening socket
    listener_.reset();
    if (failed) {
        try {
            std::rethrow_exception(failed);
        } catch (const std::exception& e) {
            return fail(ErrorKind::Internal, std::string("capf event loop: ") + e.what());
        }
    }
    return {};
}

}  // namespace

Status serve(const Config& config, const ServeOptions& options, const std::atomic<bool>& stop, std::ostream& log) {
    auto plan = build_serving_plan(config, options);
    if (!plan) return plan.error();
    const ServingSetup& setup = *plan->setup;
    ServeLog sink(log);  // every line from here on, from every thread
    for (const auto& line : setup.warnings) sink.line(line);
    const std::string database = setup.config.database_location();
    if (auto store = Store::open(database); !store) return without_database_secrets(store.error(), database);  // migrated, writable
    auto registry = RegistryReader::open(database, 1);
    if (!registry) return without_database_secrets(registry.error(), database);
    auto trust = std::make_unique<TrustKeeper>(std::move(*registry), std::move(*plan->loader));
    auto first = trust->refresh();
    if (!first) return first.error();
    auto where = parse_host_port(setup.config.listen);
    if (!where) return where.error();
    // A fleet reconnects at once after a bulk change: a deep backlog (the kernel
    // caps it at net.core.somaxconn) keeps bursts from being dropped.
    auto fd = listen_tcp(*where, 4096);
    if (!fd) return fd.error();
    // Closed on every way out: a CRL service that cannot start returns early,
    // and a caller that tries again (a test, a supervisor in-process) must be
    // able to bind the port again.
    std::unique_ptr<int, void (*)(int*)> listening(&*fd, [](int* f) { ::close(*f); });

    // The CRL: renewed here from now on; a failure stops the server only when
    // its HTTP endpoint was asked for (otherwise the CAPF still serves phones).
    auto log_crl = [&sink](const std::string& line) { sink.line(line); };
    auto crl = CrlService::start(setup.config, options.crl_http, log_crl);
    if (!crl && !options.crl_http.empty()) return crl.error();
    if (!crl) sink.line("crl warning: not renewed by this server: " + crl.message());

    const std::string described = describe_setup(setup);
    sink.line("capf listening on " + setup.config.listen + " " + described +
              " database=" + quote_for_log(setup.config.database_display()));
    sink.line(*first + " (start), trust_refresh=" + std::to_string(setup.config.trust_refresh_s) + "s");
    const DescriptorRoom room = descriptor_room(setup.config.max_sessions);
    if (!room.line.empty()) sink.line(room.line);
    if (options.events != nullptr) options.events->ready("listening on " + setup.config.listen + " " + described);
    auto s = [&] {
        Server server(plan->setup, std::move(trust), sink, crl ? std::move(*crl) : nullptr, room.sessions);
        return server.run(*fd, stop, options);
    }();  // the CRL service (HTTP, refresh thread) has stopped here
    listening.reset();
    sink.line("capf stopped");
    return s;
}

}  // namespace lscgate::capf
