#include "capf/server.h"

#include "capf/listen_address.h"
#include "capf/session.h"
#include "capf/tls_context.h"
#include "capf/tls_stream.h"
#include "pki/certificate.h"
#include "pki/expiry.h"
#include "pki/issuer.h"
#include "pki/key_strength.h"
#include "pki/printable.h"
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
    Result<std::string> refresh() {
        auto loaded = loader_.load(*registry_, signature_);
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
    std::shared_ptr<const TrustSet> current() const {
        std::lock_guard lock(mutex_);
        return current_;
    }

private:
    std::unique_ptr<RegistryReader> registry_;
    TrustLoader loader_;
    std::string signature_;  // touched by the accept thread only
    mutable std::mutex mutex_;
    std::shared_ptr<const TrustSet> current_;
};

class Server {
public:
    Server(const Config& config, CapfAuthority authority, std::unique_ptr<TrustKeeper> trust, SslCtxPtr tls,
           std::ostream& log, std::optional<CertificateFacts> capf_facts)
        : capf_facts_(std::move(capf_facts)),
          config_(config),
          authority_(std::move(authority)),
          tls_(std::move(tls)),
          log_(log),
          stores_(config.database_location()),
          trust_(std::move(trust)) {}

    Status run(int listen_fd, const std::atomic<bool>& stop, const ServeOptions& options);

private:
    void handle(int fd, std::string peer);
    void log_line(const std::string& line);
    void refresh_trust(const char* why);
    void remind_capf_expiry();

    // The CAPF certificate this server presents, for the expiry reminder.
    std::optional<CertificateFacts> capf_facts_;
    ExpiryReminder capf_reminder_{kCapfExpiryWarningSeconds};
    const Config& config_;
    CapfAuthority authority_;
    SslCtxPtr tls_;
    std::ostream& log_;
    std::mutex mutex_;
    std::condition_variable idle_;
    // Sockets of running sessions, for aborting stragglers at shutdown. A socket
    // leaves this set before it is closed, so a reused fd number is never shut
    // down by mistake; `running_` counts session threads until their very end.
    std::set<int> active_fds_;
    int running_ = 0;
    std::mutex log_mutex_;
    StorePool stores_;
    // Declared after stores_ so its read-only connection closes first: the last
    // connection to close checkpoints the WAL into lscgate.db and removes it, and
    // a read-only one cannot.
    std::unique_ptr<TrustKeeper> trust_;
};

void Server::log_line(const std::string& line) {
    std::lock_guard lock(log_mutex_);
    log_ << format_utc(now_utc()) << " " << line << std::endl;
}

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
                       " end=" + (outcome.end_reason < 0 ? std::string("-") : std::to_string(outcome.end_reason));
    if (!outcome.serial.empty()) line += " serial=" + outcome.serial;
    if (!outcome.cause.empty()) line += " cause=" + quote_for_log(outcome.cause);
    if (!outcome.note.empty()) line += " note=" + quote_for_log(outcome.note);
    line += " ms=" + std::to_string(ms);
    return line;
}

void Server::handle(int fd, std::string peer) {
    const auto started = Clock::now();
    const std::uint32_t sid = random_session_id();
    SessionOutcome outcome;
    {
        SslPtr ssl(SSL_new(tls_.get()));
        TlsStream stream(std::move(ssl), fd);
        auto hs = stream.accept(Clock::now() + std::chrono::seconds(config_.handshake_timeout_s));
        if (!hs) {
            outcome.result = "closed";
            outcome.cause = hs.message();
            log_line(session_log_line(sid, peer, outcome, started));
        } else {
            auto store = stores_.acquire();
            FrameChannel channel(stream);
            if (!store) {
                // Fail closed, but tell the phone: END_SESSION(7) rather than a silent drop.
                Message end(Command::EndSession, sid);
                end.add_u8(Tag::Reason, reason::kInvalidElement);
                (void)channel.send(end);
                outcome.result = "failed";
                outcome.end_reason = reason::kInvalidElement;
                outcome.cause = std::string("server error (") + to_string(store.kind()) +
                                "): registry unavailable: " + store.message();
            } else {
                const auto trust = trust_->current();
                SessionContext ctx{*store, authority_, *trust, SessionSettings::from(config_)};
                outcome = run_session(channel, ctx, sid);
                stores_.release(std::move(*store));
            }
            log_line(session_log_line(sid, peer, outcome, started));
            stream.shutdown();
        }
        std::lock_guard lock(mutex_);
        active_fds_.erase(fd);
    }  // TlsStream closes the socket here
    std::lock_guard lock(mutex_);
    --running_;
    idle_.notify_all();  // nothing of *this is touched after this
}

void Server::refresh_trust(const char* why) {
    auto r = trust_->refresh();
    if (!r) log_line(std::string("capf trust refresh (") + why + ") failed, keeping the previous set: " + r.message());
    else if (!r->empty()) log_line(*r + " (" + why + ")");
}

// At start and then once a day while the CAPF certificate is within 60 days of
// its notAfter (issue 10 item 6): a rotation takes that long to reach every phone.
void Server::remind_capf_expiry() {
    if (!capf_facts_) return;
    if (auto warning = capf_reminder_.due(*capf_facts_, now_utc())) log_line("capf warning: " + *warning);
}

Status Server::run(int listen_fd, const std::atomic<bool>& stop, const ServeOptions& options) {
    const int grace_seconds = options.grace_seconds;
    const auto interval = std::chrono::seconds(config_.trust_refresh_s);
    auto next_refresh = Clock::now() + interval;
    while (!stop.load()) {
        remind_capf_expiry();
        if (options.refresh_trust != nullptr && options.refresh_trust->exchange(false)) {
            refresh_trust("SIGHUP");
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
            if (running_ >= config_.max_sessions) {
                log_line("capf peer=" + peer + " result=refused cause=\"too many concurrent sessions (max_sessions=" +
                         std::to_string(config_.max_sessions) + ")\"");
                ::close(fd);  // after the log line: whoever sees the close can read why
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
        }
    }
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
    Config effective = config;
    if (!options.listen.empty()) effective.listen = options.listen;
    if (!options.tls_min.empty()) effective.tls_min = options.tls_min;
    if (auto s = effective.validate(); !s) return s;

    auto authority = CapfAuthority::load(effective.resolve(effective.capf_cert), effective.resolve(effective.capf_key),
                                         effective.resolve(effective.capf_chain));
    if (!authority) return authority.error();
    if (auto s = authority->set_backdate_seconds(effective.backdate_seconds); !s) return s;
    const auto capf_path = effective.resolve(effective.capf_cert).string();
    if (auto weak = weak_capf_certificate_reason(authority->certificate()); !weak.empty())
        log << format_utc(now_utc()) << " capf warning: CAPF certificate " << capf_path << ": " << weak
            << "; rotate to a strong CAPF (README: Rotating the CAPF certificate)" << std::endl;
    const std::string database = effective.database_location();
    if (auto store = Store::open(database); !store) return without_database_secrets(store.error(), database);  // migrated, writable
    // Trust for LSC proofs: every CAPF certificate still current or previous, so
    // phones can re-key with an LSC from before a rotation, and our own.
    std::vector<X509Ptr> own;
    own.push_back(share(authority->certificate()));
    auto loader = TrustLoader::create(std::move(own), {}, effective.resolve(effective.mic_roots));
    if (!loader) return fail(ErrorKind::Config, "[auth] mic_roots: " + loader.message());
    const std::size_t mic_count = loader->mic_root_count();
    // Under `require` every session would fail on our side: refuse to start instead.
    if (effective.sudi == SudiPolicy::Require && mic_count == 0)
        return fail(ErrorKind::Config, "[auth] sudi = \"require\" needs [auth] mic_roots (the Cisco SUDI/manufacturing CA "
                                       "certificates); without them no SUDI can be verified");
    auto registry = RegistryReader::open(database, 1);
    if (!registry) return without_database_secrets(registry.error(), database);
    auto trust = std::make_unique<TrustKeeper>(std::move(*registry), std::move(*loader));
    auto first = trust->refresh();
    if (!first) return first.error();
    auto tls = make_server_tls_context(*authority, effective.tls_min);
    if (!tls) {
        if (tls.kind() != ErrorKind::Config) return tls.error();
        return fail(ErrorKind::Config, "CAPF certificate " + capf_path + ": " + tls.message());
    }
    auto where = parse_host_port(effective.listen);
    if (!where) return where.error();
    auto fd = listen_tcp(*where, 128);
    if (!fd) return fd.error();

    auto facts = describe_certificate(authority->certificate());
    log << format_utc(now_utc()) << " capf listening on " << effective.listen << " tls>=" << effective.tls_min
        << " capf=" << quote_for_log(facts ? facts->subject : "?") << " mic_roots=" << mic_count
        << " max_sessions=" << effective.max_sessions << " database=" << quote_for_log(effective.database_display())
        << std::endl;
    log << format_utc(now_utc()) << " " << *first << " (start), trust_refresh=" << effective.trust_refresh_s << "s"
        << std::endl;
    Server server(effective, std::move(*authority), std::move(trust), std::move(*tls), log,
                  facts ? std::optional<CertificateFacts>(*facts) : std::nullopt);
    auto s = server.run(*fd, stop, options);
    ::close(*fd);
    log << format_utc(now_utc()) << " capf stopped" << std::endl;
    return s;
}

}  // namespace lscgate::capf
