#include "capf/server.h"

#include "pki/crl.h"

#include "capf/crl_service.h"
#include "capf/serve_log.h"

#include "capf/listen_address.h"
#include "capf/serving_setup.h"
#include "capf/session.h"
#include "capf/tls_stream.h"
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

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/rand.h>

#include <condition_variable>
#include <mutex>
#include <optional>
#include <ostream>
#include <set>
#include <system_error>
#include <stdexcept>
#include <thread>

namespace lscgate::capf {
namespace {

// `serve` warns when its CAPF certificate has less than this left.
constexpr std::int64_t kCapfExpiryWarningSeconds = 60LL * 86400;

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

// Registry connections are reused across sessions: opening SQLite, setting the
// pragmas and preparing statements per phone would dominate a busy server.
//
// The pool also watches the files its connections write (the same check the
// RADIUS reader makes per request, registry/registry_files.h): a registry moved
// over, deleted and restored, cut short, or whose -wal/-shm were deleted while
// serve had it open would take every LSC serve records into a file nobody else
// reads (a phone would hold an LSC RADIUS never sees). SQLite shares one WAL
// index per database inode inside a process, so reopening safely would need
// every connection of this process closed first; serve refuses CAPF sessions
// instead (fail closed, nothing issued) until it is restarted. A registry on
// PostgreSQL has no files here to watch (path_ is a conninfo): never checked.
class StorePool {
public:
    explicit StorePool(std::string path) : path_(std::move(path)), sqlite_(!is_postgresql_database(path_)) {}
    Result<Store> acquire() {
        const RegistryFiles now = sqlite_ ? RegistryFiles::of(path_) : RegistryFiles{};
        {
            std::lock_guard lock(mutex_);
            if (!broken_.empty()) return fail(ErrorKind::Unavailable, broken_);
            if (watching_) {
                const FilesVerdict v = compare_registry_files(opened_, largest_, now);
                if (v.change != FilesChange::Same) {
                    broken_ = "registry " + path_ + ": " + v.cause +
                              " while lscgate serve had it open; refusing CAPF sessions (nothing is issued) until "
                              "lscgate serve is restarted";
                    idle_.clear();
                    return fail(ErrorKind::Unavailable, broken_);
                }
                largest_.db_size = std::max(largest_.db_size, now.db_size);
                largest_.shm_size = std::max(largest_.shm_size, now.shm_size);
            }
            if (!idle_.empty()) {
                Store s = std::move(idle_.back());
                idle_.pop_back();
                return s;
            }
        }
        auto store = Store::open(path_);
        if (!store) return store;
        store->set_writer_lock(writer_);
        std::lock_guard lock(mutex_);
        if (sqlite_ && !watching_) {
            // The files as this process first wrote them (the connection just
            // opened holds -wal/-shm; serve's trust reader keeps them open).
            opened_ = largest_ = RegistryFiles::of(path_);
            watching_ = true;
        }
        return store;
    }
    void release(Store store) {
        std::lock_guard lock(mutex_);
        if (broken_.empty() && idle_.size() < kMaxIdle) idle_.push_back(std::move(store));
    }

private:
    static constexpr std::size_t kMaxIdle = 32;
    std::string path_;
    bool sqlite_;  // the registry is an SQLite file (else a PostgreSQL conninfo)
    std::mutex mutex_;
    std::vector<Store> idle_;
    std::shared_ptr<std::mutex> writer_ = std::make_shared<std::mutex>();
    bool watching_ = false;
    RegistryFiles opened_;   // the files when the first connection was opened
    RegistryFiles largest_;  // the largest db/-shm sizes seen since (they only grow)
    std::string broken_;     // non-empty: why no session may write
};

// The trust set for phone proofs (LSC re-key, MIC), re-read from the registry
// through the TrustLoader RADIUS uses; a session keeps the set it started with.
class TrustKeeper {
public:
    TrustKeeper(std::unique_ptr<RegistryReader> registry, TrustLoader loader)
        : registry_(std::move(registry)), loader_(std::move(loader)) {}

    // Rebuilds the set if the registry's CAPF certificates changed. Returns a log
    // line describing the new set, "" when unchanged, or the error (the set in
    // use is kept: the registry being unreadable fails the sessions anyway).
    Result<std::string> refresh() { return rebuild(loader_, signature_); }

    // A reload: the set built with `loader` (a new CAPF certificate, new
    // mic_roots) whatever the registry's signature; on success `loader` is kept
    // for the refreshes that follow, on error nothing changes.
    Result<std::string> refresh_with(TrustLoader loader) {
        auto line = rebuild(loader, "");
        if (line) loader_ = std::move(loader);
        return line;
    }
    std::shared_ptr<const TrustSet> current() const {
        std::lock_guard lock(mutex_);
        return current_;
    }

private:
    Result<std::string> rebuild(const TrustLoader& loader, const std::string& unchanged_since) {
        auto loaded = loader.load(*registry_, unchanged_since);
        if (!loaded) return loaded.error();
        if (!*loaded) return std::string();
        const TrustMaterial& m = **loaded;
        auto built = TrustSet::build(m.capf_anchors(), m.mic_anchors());
        if (!built) return built.error();
        auto fresh = std::make_shared<const TrustSet>(std::move(*built));
        {
            std::lock_guard lock(mutex_);
            current_ = std::move(fresh);
        }
        signature_ = m.signature;
        return "capf trust loaded: capf_trusted=" + std::to_string(m.registry_capf) +
               " (current and previous in the registry) extra=" + std::to_string(m.capf.size() - m.registry_capf) +
               " mic_roots=" + std::to_string(m.mic_roots.size());
    }

    std::unique_ptr<RegistryReader> registry_;
    TrustLoader loader_;
    std::string signature_;  // touched by the accept thread only
    mutable std::mutex mutex_;
    std::shared_ptr<const TrustSet> current_;
};

// One line saying what a (re)loaded setup is, for the log and the service manager.
std::string describe_setup(const ServingSetup& s) {
    auto facts = describe_certificate(s.authority.certificate());
    return "tls>=" + s.config.tls_min + " capf=" + quote_for_log(facts ? facts->subject : "?") +
           " mic_roots=" + std::to_string(s.mic_roots) + " max_sessions=" + std::to_string(s.config.max_sessions) +
           " lsc_days=" + std::to_string(s.config.lsc_days);
}

class Server {
public:
    Server(std::shared_ptr<const ServingSetup> setup, std::unique_ptr<TrustKeeper> trust, ServeLog& log,
           std::unique_ptr<CrlService> crl)
        : setup_(std::move(setup)),
          log_(log),
          stores_(setup_->config.database_location()),
          trust_(std::move(trust)),
          crl_(std::move(crl)) {}

    Status run(int listen_fd, const std::atomic<bool>& stop, const ServeOptions& options);

private:
    void handle(int fd, std::string peer);
    void serve_connection(int fd, const std::string& peer, std::uint32_t sid, Clock::time_point started, bool& ended);
    // The session's one log line and its count for the observer; sets `ended`.
    void end_session(std::uint32_t sid, const std::string& peer, const SessionOutcome& outcome,
                     Clock::time_point started, bool& ended);
    void fail_unended(std::uint32_t sid, const std::string& peer, Clock::time_point started, bool& ended,
                      const std::string& what);
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
    std::shared_ptr<const ServingSetup> reminded_setup_;  // the setup reminded_facts_ describes (accept loop only)
    std::optional<CertificateFacts> reminded_facts_;
    ServeLog& log_;
    SessionObserver* observer_ = nullptr;  // set by run() before the first session
    std::mutex mutex_;
    std::condition_variable idle_;
    // Sockets of running sessions, for aborting stragglers at shutdown. A socket
    // leaves this set before it is closed, so a reused fd number is never shut
    // down by mistake; `running_` counts session threads until their very end.
    std::set<int> active_fds_;
    int running_ = 0;
    StorePool stores_;
    // Declared after stores_ so its read-only connection closes first: the last
    // connection to close checkpoints the WAL into lscgate.db and truncates it
    // (persistent WAL: the empty -wal and the -shm stay), and a read-only one cannot.
    std::unique_ptr<TrustKeeper> trust_;
    // The CRLs (null when they could not be started): follows every reload.
    std::unique_ptr<CrlService> crl_;
};

void Server::log_line(const std::string& line) { log_.line(line); }

// One line per session, written before the socket is closed so that whoever
// sees the connection end (a phone, a test) can rely on the line being there.
std::string session_log_line(std::uint32_t sid, const std::string& peer, const SessionOutcome& outcome,
                             Clock::time_point started) {
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started).count();
    std::string line = "capf session=" + std::to_string(sid) + " peer=" + peer + " device=" +
                       (outcome.device.empty() ? "-" : escape_nonprintable(outcome.device)) + " mode=" +
                       (outcome.auth_mode.empty() ? "-" : outcome.auth_mode) +
                       (outcome.authenticated_by.empty() ? "" : "(" + outcome.authenticated_by + ")") + " op=" +
                       (outcome.operation.empty() ? "-" : outcome.operation) + " result=" + outcome.result +
                       (outcome.cause_class == SessionCause::None ? "" : " class=" + std::string(to_string(outcome.cause_class))) +
                       " end=" + (outcome.end_reason < 0 ? std::string("-") : std::to_string(outcome.end_reason));
    if (!outcome.serial.empty()) line += " serial=" + outcome.serial;
    if (!outcome.cause.empty()) line += " cause=" + quote_for_log(outcome.cause);
    if (!outcome.note.empty()) line += " note=" + quote_for_log(outcome.note);
    line += " ms=" + std::to_string(ms);
    return line;
}

// The session's row in the registry (issue 10 item 4), written on the
// connection the session used, before its log line: whoever waits for the line
// finds the row. Failing to record never fails the session; the note says so.
void record_session(Store& store, std::int64_t keep_rows, const std::string& peer, SessionOutcome& outcome,
                    Clock::time_point started) {
    CapfSessionRecord row;
    row.at = now_utc();
    row.device = outcome.device;
    row.operation_id = outcome.operation_id;
    row.operation = outcome.operation;
    row.auth_mode = outcome.auth_mode;
    row.result = outcome.result;
    row.cause_class = std::string(to_string(outcome.cause_class));
    row.cause = outcome.cause;
    row.peer = peer;
    row.serial = outcome.serial;
    row.duration_ms = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started).count();
    if (auto s = store.record_capf_session(row, keep_rows); !s)
        outcome.note += (outcome.note.empty() ? "" : "; ") + std::string("session not recorded: ") + s.message();
}

void Server::handle(int fd, std::string peer) {
    const auto started = Clock::now();
    const std::uint32_t sid = random_session_id();
    if (observer_ != nullptr) observer_->session_started();
    bool ended = false;  // logged and counted: the session's end is told once
    // A session thread must never take serve down: an exception from anywhere in
    // a session (OpenSSL glue, the registry, a bug) ends that session only.
    try {
        serve_connection(fd, peer, sid, started, ended);
    } catch (const std::exception& e) {
        fail_unended(sid, peer, started, ended, e.what());
    } catch (...) {
        fail_unended(sid, peer, started, ended, "unknown exception");
    }
    std::lock_guard lock(mutex_);
    --running_;
    idle_.notify_all();  // nothing of *this is touched after this
}

void Server::fail_unended(std::uint32_t sid, const std::string& peer, Clock::time_point started, bool& ended,
                          const std::string& what) {
    if (ended) return;
    try {
        SessionOutcome outcome;
        outcome.result = "failed";
        outcome.cause_class = SessionCause::Server;
        outcome.cause = "server error (internal): " + what;
        end_session(sid, peer, outcome, started, ended);
    } catch (...) {
    }
}

void Server::end_session(std::uint32_t sid, const std::string& peer, const SessionOutcome& outcome,
                         Clock::time_point started, bool& ended) {
    if (ended) return;
    ended = true;  // told once, even if telling fails half-way
    try {
        // Counted first, then logged: whoever waits for the log line finds the count too.
        if (observer_ != nullptr)
            observer_->session_ended(outcome, std::chrono::duration<double>(Clock::now() - started).count());
        log_line(session_log_line(sid, peer, outcome, started));
    } catch (...) {
        // Nothing more can be told about this session; the thread still ends cleanly.
    }
}

void Server::serve_connection(int fd, const std::string& peer, std::uint32_t sid, Clock::time_point started, bool& ended) {
    const auto current = setup();  // this session's configuration, CAPF and TLS context, whatever a reload does
    SessionOutcome outcome;
    SslPtr ssl(SSL_new(current->tls.get()));
    if (!ssl) {  // out of memory: no TLS object to close the socket through
        {
            std::lock_guard lock(mutex_);
            active_fds_.erase(fd);  // before the close, as ForgetFd does
        }
        ::close(fd);
        throw std::runtime_error("SSL_new failed");
    }
    TlsStream stream(std::move(ssl), fd);
    // Destroyed before `stream` closes the socket: the fd leaves active_fds_
    // first, so a reused fd number is never shut down at stop by mistake.
    struct ForgetFd {
        Server& server;
        int fd;
        ~ForgetFd() {
            std::lock_guard lock(server.mutex_);
            server.active_fds_.erase(fd);
        }
    } forget{*this, fd};
    auto hs = stream.accept(Clock::now() + std::chrono::seconds(current->config.handshake_timeout_s));
    if (!hs) {  // never reached the registry: logged and counted, not recorded
        outcome.result = "closed";
        outcome.cause_class = SessionCause::Connection;
        outcome.cause = hs.message();
        end_session(sid, peer, outcome, started, ended);
        return;
    }
    auto store = stores_.acquire();
    FrameChannel channel(stream);
    if (!store) {
        // Fail closed, but tell the phone: END_SESSION(7) rather than a silent drop.
        Message end(Command::EndSession, sid);
        end.add_u8(Tag::Reason, reason::kInvalidElement);
        (void)channel.send(end);
        outcome.result = "failed";
        outcome.cause_class = SessionCause::Server;
        outcome.end_reason = reason::kInvalidElement;
        outcome.cause = std::string("server error (") + to_string(store.kind()) + "): registry unavailable: " + store.message();
    } else {
        const auto trust = trust_->current();
        SessionContext ctx{*store, current->authority, *trust, SessionSettings::from(current->config)};
        outcome = run_session(channel, ctx, sid);
        record_session(*store, current->config.session_history, peer, outcome, started);
        stores_.release(std::move(*store));
    }
    end_session(sid, peer, outcome, started, ended);  // before the phone can see the end
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
    auto adopted = crl_->adopt(setup.config, setup.authority);
    if (!adopted) log_line("crl warning: after the reload: " + adopted.message());
}

// At start and then once a day while the CAPF certificate is within 60 days of
// its notAfter (issue 10 item 6): a rotation takes that long to reach every phone.
void Server::remind_capf_expiry() {
    // The certificate of the running setup (a SIGHUP may rotate it), described
    // once per setup, not at every turn of the accept loop.
    const auto current = setup();
    if (current != reminded_setup_) {
        reminded_setup_ = current;
        auto facts = describe_certificate(current->authority.certificate());
        reminded_facts_ = facts ? std::optional<CertificateFacts>(std::move(*facts)) : std::nullopt;
    }
    if (!reminded_facts_) return;
    if (auto warning = capf_reminder_.due(*reminded_facts_, now_utc())) log_line("capf warning: " + *warning);
}

Status Server::run(int listen_fd, const std::atomic<bool>& stop, const ServeOptions& options) {
    const int grace_seconds = options.grace_seconds;
    observer_ = options.observer;
    auto next_refresh = Clock::now() + std::chrono::seconds(setup()->config.trust_refresh_s);
    while (!stop.load()) {
        remind_capf_expiry();
        if (options.events != nullptr) options.events->alive();
        const auto interval = std::chrono::seconds(setup()->config.trust_refresh_s);
        if (options.refresh_trust != nullptr && options.refresh_trust->exchange(false)) {
            reload(options);
            next_refresh = Clock::now() + std::chrono::seconds(setup()->config.trust_refresh_s);
        } else if (interval.count() > 0 && Clock::now() >= next_refresh) {
            refresh_trust("trust_refresh");
            next_refresh = Clock::now() + interval;
        }
        pollfd p{listen_fd, POLLIN, 0};
        const int rc = ::poll(&p, 1, 200);
        if (rc <= 0) continue;  // timeout or EINTR: re-check the stop flag
        sockaddr_storage addr{};
        socklen_t len = sizeof addr;
        const int fd = ::accept4(listen_fd, reinterpret_cast<sockaddr*>(&addr), &len, SOCK_CLOEXEC);
        if (fd < 0) continue;
        const int one = 1;
        ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        std::string peer = peer_name(addr);
        {
            std::lock_guard lock(mutex_);
            if (const int max_sessions = setup()->config.max_sessions; running_ >= max_sessions) {
                log_line("capf peer=" + peer + " result=refused cause=\"too many concurrent sessions (max_sessions=" +
                         std::to_string(max_sessions) + ")\"");
                ::close(fd);  // after the log line: whoever sees the close can read why
                if (observer_ != nullptr) observer_->connection_refused();
                continue;
            }
            active_fds_.insert(fd);
            ++running_;
        }
        try {
            std::thread(&Server::handle, this, fd, peer).detach();
        } catch (const std::system_error& e) {
            // No thread to be had (resource limits): refuse this phone, keep serving.
            {
                std::lock_guard lock(mutex_);
                active_fds_.erase(fd);
                --running_;
            }
            log_line("capf peer=" + peer + " result=refused cause=\"cannot start a session thread: " + e.what() + "\"");
            ::close(fd);
            if (observer_ != nullptr) observer_->connection_refused();
        }
    }
    if (options.events != nullptr) options.events->stopping();
    std::unique_lock lock(mutex_);
    if (running_ > 0) {
        log_line("capf stopping: waiting up to " + std::to_string(grace_seconds) + "s for " +
                 std::to_string(running_) + " session(s)");
        if (!idle_.wait_for(lock, std::chrono::seconds(grace_seconds), [&] { return running_ == 0; })) {
            // Unblock the stragglers; their reads fail and each ends its session cleanly.
            for (int fd : active_fds_) ::shutdown(fd, SHUT_RDWR);
            idle_.wait(lock, [&] { return running_ == 0; });
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
    auto fd = listen_tcp(*where, 128);
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
    if (options.events != nullptr) options.events->ready("listening on " + setup.config.listen + " " + described);
    auto s = [&] {
        Server server(plan->setup, std::move(trust), sink, crl ? std::move(*crl) : nullptr);
        return server.run(*fd, stop, options);
    }();  // the CRL service (HTTP, refresh thread) has stopped here
    listening.reset();
    sink.line("capf stopped");
    return s;
}

}  // namespace lscgate::capf
