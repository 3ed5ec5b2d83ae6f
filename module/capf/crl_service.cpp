#include "capf/crl_service.h"

#include "capf/listen_address.h"
#include "pki/secure_file.h"

#include <httplib.h>

#include <sys/stat.h>

#include <chrono>

namespace lscgate::capf {

namespace {

std::string describe(const PublishedCrl& o) {
    return "number=" + std::to_string(o.facts.number) + " entries=" + std::to_string(o.facts.entries.size()) +
           " next_update=" + format_utc(o.facts.next_update);
}

CapfAuthority copy_of(const CapfAuthority& capf) {
    return CapfAuthority(share(capf.certificate()), share(capf.key()), {});
}

}  // namespace

CrlService::CrlService(std::shared_ptr<const State> state, Store store, Log log, Clock clock)
    : state_(std::move(state)), store_(std::move(store)), log_(std::move(log)), clock_(std::move(clock)) {}

Result<std::unique_ptr<CrlService>> CrlService::start(const Config& config, const std::string& http_listen, Log log,
                                                      Clock clock) {
    auto capf = CapfAuthority::load(config.resolve(config.capf_cert), config.resolve(config.capf_key),
                                    config.resolve(config.capf_chain));
    if (!capf) return capf.error();
    const std::string database = config.database_location();
    auto store = Store::open(database);
    if (!store) return without_database_secrets(store.error(), database);
    auto state = std::make_shared<const State>(State{config, crl_settings(config), std::move(*capf)});
    std::unique_ptr<CrlService> service(new CrlService(std::move(state), std::move(*store), std::move(log), std::move(clock)));
    auto first = service->refresh_now();
    if (!first) return fail(first.kind(), "CRL " + service->state()->settings.file.string() + ": " + first.message());
    if (!http_listen.empty()) {
        if (auto s = service->start_http(http_listen); !s) return s.error();
    }
    service->refresher_ = std::thread([raw = service.get()] { raw->refresh_loop(); });
    return service;
}

CrlService::~CrlService() {
    {
        std::lock_guard lock(wait_mutex_);
        stopping_ = true;
    }
    wake_.notify_all();
    if (refresher_.joinable()) refresher_.join();
    if (http_thread_.joinable()) {
        // stop() only acts on a running server: wait (briefly) until it runs or gave up.
        while (!http_returned_.load() && !http_->is_running()) std::this_thread::yield();
        http_->stop();
        http_thread_.join();
    }
}

std::shared_ptr<const CrlService::State> CrlService::state() const {
    std::lock_guard lock(state_mutex_);
    return state_;
}

Result<CrlOutcome> CrlService::refresh_now() {
    std::lock_guard lock(refresh_mutex_);
    const auto now = state();
    auto r = refresh_crl(store_, now->capf, now->settings, clock_());
    if (r) {
        // Published before it is logged: whoever waits for a "renewed" line
        // (an admin, a test) can fetch that CRL over HTTP at once.
        note_published(*r);
        for (const auto& crl : r->crls)
            if (crl.renewed || !refreshed_once_)
                log_("crl " + crl.file.string() + (crl.renewed ? " renewed " : " current ") + describe(crl));
        refreshed_once_ = true;
        // The CAPFs without a CRL, each time that list changes (not at every turn).
        if (r->unpublished != unpublished_)
            for (const auto& line : r->unpublished) log_("crl warning: " + line);
        unpublished_ = r->unpublished;
    }
    return r;
}

void CrlService::adopt(const Config& config, const CapfAuthority& capf) {
    auto next = std::make_shared<const State>(State{config, crl_settings(config), copy_of(capf)});
    {
        std::lock_guard lock(state_mutex_);
        state_ = std::move(next);
    }
    // The renewal runs on the refresh thread, not on the caller's (a reload,
    // which serve's event loop waits for): it may wait for the CRL file's lock
    // held by `lscgate revoke`, and the loop must keep accepting and telling
    // systemd it is alive meanwhile.
    {
        std::lock_guard lock(wait_mutex_);
        adopted_ = true;
    }
    wake_.notify_all();
}

// What may be served from now on: the files of this renewal, each checked
// against the CAPF that signs it whenever it is read.
void CrlService::note_published(const CrlOutcome& outcome) {
    std::lock_guard lock(served_mutex_);
    std::map<std::string, Served> next;
    for (const auto& crl : outcome.crls) {
        const auto keep = [&](const std::string& name) {
            auto old = served_.find(name);
            if (old != served_.end() && old->second.file == crl.file &&
                X509_cmp(old->second.capf.get(), crl.capf.get()) == 0)
                next.emplace(name, std::move(old->second));
            else
                next.emplace(name, Served{crl.file, share(crl.capf.get()), {}, -1, -1});
        };
        if (crl.current) keep("capf.crl");
        keep(crl.http_name);
    }
    served_ = std::move(next);
}

void CrlService::refresh_loop() {
    std::unique_lock lock(wait_mutex_);
    while (!stopping_) {
        wake_.wait_for(lock, std::chrono::seconds(state()->config.crl_refresh_s),
                       [this] { return stopping_ || adopted_; });
        if (stopping_) return;
        const bool after_reload = adopted_;
        adopted_ = false;
        lock.unlock();
        const std::string failed = after_reload ? "crl warning: after the reload: "
                                                : "crl renewal failed, serving the previous CRL: ";
        try {
            auto r = refresh_now();
            if (!r) log_(failed + r.message());
        } catch (const std::exception& e) {
            // (bad_alloc, a filesystem_error) must not end the CAPF server: the
            // next turn tries again.
            log_(failed + e.what());
        }
        lock.lock();
    }
}

std::string CrlService::current_der() { return der_named("capf.crl").value_or(""); }

std::optional<std::string> CrlService::der_named(const std::string& name) {
    std::lock_guard lock(served_mutex_);
    return read_served(name);
}

std::optional<std::string> CrlService::read_served(const std::string& name) {
    auto it = served_.find(name);
    if (it == served_.end()) return std::nullopt;
    Served& s = it->second;
    struct stat st {};
    if (::stat(s.file.c_str(), &st) != 0) return s.der;
    const std::int64_t mtime = static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
    if (mtime == s.mtime_ns && st.st_size == s.size) return s.der;
    auto bytes = read_text_file(s.file);
    if (!bytes) return s.der;
    // Only a CRL its CAPF signed is served (never a half-written or foreign file).
    auto crl = parse_crl(*bytes);
    if (!crl || !crl_signed_by(crl->get(), s.capf.get())) return s.der;
    s.der = std::move(*bytes);
    s.mtime_ns = mtime;
    s.size = st.st_size;
    return s.der;
}

Status CrlService::start_http(const std::string& listen) {
    // ADDR:0 asks for any free port (parse_host_port wants 1-65535): tests read it from http_port().
    const bool any_port = listen.size() > 2 && listen.ends_with(":0");
    auto where = parse_host_port(any_port ? listen.substr(0, listen.size() - 1) + "1" : listen);
    if (!where) return fail(ErrorKind::Config, "--crl-http: " + where.message());
    if (any_port) where->port = 0;
    http_ = std::make_unique<httplib::Server>();
    // An unauthenticated listener next to the CAPF: nothing but GET/HEAD, no
    // request body at all (Debian's cpp-httplib would read one of any size into
    // memory), and bounded waits on slow clients.
    http_->set_payload_max_length(1024);
    http_->set_read_timeout(5, 0);
    http_->set_write_timeout(5, 0);
    http_->set_keep_alive_max_count(10);
    http_->set_pre_routing_handler([](const httplib::Request& req, httplib::Response& res) {
        if (req.method == "GET" || req.method == "HEAD") return httplib::Server::HandlerResponse::Unhandled;
        res.status = 405;
        res.set_header("Allow", "GET, HEAD");
        return httplib::Server::HandlerResponse::Handled;
    });
    // /capf.crl and /capf-<SHA16>.crl (16 hex digits): nothing else is looked up.
    http_->Get(R"(/(capf\.crl|capf-[0-9A-F]{16}\.crl))", [this](const httplib::Request& req, httplib::Response& res) {
        const auto der = der_named(req.matches[1].str());
        if (!der) {
            res.status = 404;
            res.set_content("no CRL of that name: not a CAPF this server publishes for\n", "text/plain");
            return;
        }
        if (der->empty()) {
            res.status = 503;
            res.set_content("no CRL yet\n", "text/plain");
            return;
        }
        res.set_content(*der, "application/pkix-crl");
    });
    // Port 0: any free port (tests), reported in the log line.
    http_port_ = where->port == 0 ? http_->bind_to_any_port(where->host)
                                  : (http_->bind_to_port(where->host, where->port) ? where->port : -1);
    if (http_port_ <= 0) return fail(ErrorKind::Unavailable, "--crl-http: cannot listen on " + listen);
    http_thread_ = std::thread([this] {
        http_->listen_after_bind();
        http_returned_.store(true);
    });
    const bool v6 = where->host.find(':') != std::string::npos;
    log_("crl http listening on " + (v6 ? "[" + where->host + "]" : where->host) + ":" + std::to_string(http_port_) +
         " path=/capf.crl");
    return {};
}

}  // namespace lscgate::capf
