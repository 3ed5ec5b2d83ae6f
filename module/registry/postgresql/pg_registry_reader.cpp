#include "registry/postgresql/pg_registry_reader.h"

#include "pki/certificate.h"
#include "registry/postgresql/pg_migrate.h"
#include "registry/postgresql/pg_reader_conninfo.h"
#include "registry/postgresql/pq_conninfo.h"
#include "registry/postgresql/pg_server_identity.h"

#include <algorithm>

namespace lscgate {
namespace {

// One LSC row (or none) with the change counter, read in one statement and so
// from one snapshot: a row tagged with the counter is exactly as current as it.
// Columns: 0 counter; 1 device (NULL: no row), kind, status, serial, issuer,
// fingerprint, not_before, not_after (Unix seconds), older_than_active.
std::string row_sql(const char* where) {
    return std::string(
               "SELECT cc.value, r.device_name, r.kind, r.status, r.serial, r.issuer_oneline, r.fingerprint, r.nb, "
               "r.na, r.older FROM lscgate.change_counter cc LEFT JOIN LATERAL ("
               "SELECT c.device_name, c.kind, c.status, c.serial, c.issuer_oneline, c.fingerprint, "
               "floor(extract(epoch FROM c.not_before))::bigint AS nb, "
               "floor(extract(epoch FROM c.not_after))::bigint AS na, "
               "(c.status = 'unconfirmed' AND EXISTS(SELECT 1 FROM lscgate.certificates a WHERE "
               "a.device_name = c.device_name AND a.kind = 'lsc' AND a.status = 'active' AND a.id > c.id)) AS older "
               "FROM lscgate.certificates c WHERE ") +
           where + " ORDER BY (c.status = 'active') DESC, c.id DESC LIMIT 1) r ON true";
}

constexpr const char* kBySerial = "lscgate_lsc_by_serial";
constexpr const char* kByDevice = "lscgate_lsc_by_device";
constexpr const char* kCounter = "lscgate_change_counter";
constexpr const char* kCapfSignature = "lscgate_capf_signature";
constexpr const char* kCapfTrusted = "lscgate_capf_trusted";

Result<std::optional<RegisteredCertificate>> read_row(const PgResult& r) {
    if (r.rows() != 1) return fail("change counter row missing from lscgate.change_counter");
    if (r.is_null(0, 1)) return std::optional<RegisteredCertificate>{};
    RegisteredCertificate c;
    c.device_name = r.text(0, 1);
    auto kind = parse_certificate_kind(r.text(0, 2));
    auto status = parse_certificate_status(r.text(0, 3));
    if (!kind || !status) return fail("corrupt certificate row for " + c.device_name);
    c.kind = *kind;
    c.status = *status;
    c.serial_hex = r.text(0, 4);
    c.issuer_oneline = r.text(0, 5);
    c.fingerprint = r.text(0, 6);
    auto nb = r.int64(0, 7);
    auto na = r.int64(0, 8);
    auto older = r.boolean(0, 9);
    if (!nb) return nb.error();
    if (!na) return na.error();
    if (!older) return older.error();
    c.not_before = *nb;
    c.not_after = *na;
    c.older_than_active = *older;
    return std::optional<RegisteredCertificate>{std::move(c)};
}

bool broken(const PgConnection& c) { return !c.ok() || sqlstate::is_connection_error(c.last_sqlstate()); }

}  // namespace

struct PgRegistryReader::Connection {
    std::mutex mutex;
    std::optional<PgConnection> conn;
    std::uint64_t server = 0;       // pg_server_identity of the database it reached
    std::int64_t last_counter = -1;  // the last change counter it read: lower later = registry replaced
};

PgRegistryReader::PgRegistryReader(std::string conninfo, std::string shown, const RegistryReaderOptions& options,
                                   LogSink log)
    : conninfo_(std::move(conninfo)),
      shown_(std::move(shown)),
      options_(options),
      log_(std::move(log)),
      size_(std::max<std::size_t>(1, options.connections)),
      gate_(options.reconnect_backoff_min, options.reconnect_backoff_max),
      remembered_(std::make_unique<PgRememberedRows>()) {
    connections_ = std::make_unique<Connection[]>(size_);
}

PgRegistryReader::~PgRegistryReader() {
    // First: the watch's thread calls new_generation() on members declared after it.
    watch_.reset();
}

Result<std::unique_ptr<RegistryReader>> PgRegistryReader::open(const std::string& conninfo,
                                                               const RegistryReaderOptions& options, LogSink log) {
    PgReaderBounds bounds;
    bounds.connect_timeout = options.connect_timeout;
    auto effective = pg_reader_conninfo(conninfo, bounds);
    if (!effective) return effective.error();
    std::unique_ptr<PgRegistryReader> reader(
        new PgRegistryReader(std::move(*effective), redact_conninfo_secrets(conninfo, conninfo), options, std::move(log)));
    for (std::size_t i = 0; i < reader->size_; ++i) {
        Connection& c = reader->connections_[i];
        if (auto s = reader->connect(c); !s) return s.error();
        // Checking the schema once proves the role can read the registry at all.
        if (i == 0)
            if (auto s = pg_check_schema_version(*c.conn); !s)
                return fail(s.kind(), "registry " + reader->shown_ + ": " + s.message());
    }
    reader->note_reachable();
    return std::unique_ptr<RegistryReader>(std::move(reader));
}

std::chrono::steady_clock::time_point PgRegistryReader::clock_now() const {
    return options_.clock ? options_.clock() : std::chrono::steady_clock::now();
}

// Opens c's connection, when the back-off allows an attempt now. Caller holds c.mutex.
Status PgRegistryReader::connect(Connection& c) {
    c.conn.reset();
    if (!gate_.try_begin(clock_now())) {
        std::lock_guard lock(outage_mutex_);
        return fail(ErrorKind::Unavailable, "registry " + shown_ + " unreachable (" + last_cause_ +
                                                "); next connection attempt in " +
                                                std::to_string(gate_.wait_left(clock_now()).count()) + " ms");
    }
    attempts_.fetch_add(1);
    auto conn = PgConnection::connect(conninfo_, static_cast<int>(options_.connect_timeout.count()), "lscgate-radius");
    Status setup = conn ? Status{} : Status(conn.error());
    if (setup) {
        // statement_timeout bounds a query on a live but stuck server; read-only
        // transactions make this connection unable to change the registry even
        // with a role that could.
        auto set = conn->exec("SET statement_timeout = " + std::to_string(options_.statement_timeout.count()) +
                              "; SET default_transaction_read_only = on");
        if (!set) setup = set.error();
    }
    const std::pair<const char*, std::string> statements[] = {
        {kBySerial, row_sql("c.serial = $1 AND c.issuer_oneline = $2 AND c.kind = 'lsc' AND c.status <> 'fetched'")},
        {kByDevice, row_sql("c.device_name = $1 AND c.kind = 'lsc'")},
        {kCounter, "SELECT value FROM lscgate.change_counter"},
        {kCapfSignature,
         "SELECT coalesce(string_agg(fingerprint || ':' || status, ',' ORDER BY id), '') FROM lscgate.capf_certificates"},
        {kCapfTrusted, "SELECT pem FROM lscgate.capf_certificates WHERE status IN ('current','previous') ORDER BY id"},
    };
    for (const auto& [name, sql] : statements) {
        if (!setup) break;
        const int nparams = name == kBySerial ? 2 : name == kByDevice ? 1 : 0;
        setup = conn->prepare(name, sql, nparams);
    }
    if (!setup) {
        gate_.failed(clock_now());
        std::lock_guard lock(outage_mutex_);
        last_cause_ = setup.message();
        return fail(setup.kind(), "registry " + shown_ + ": " + setup.message());
    }
    std::uint64_t server = 0;
    if (setup) {
        auto id = pg_server_identity(*conn);
        if (id) server = *id;
        else setup = id.error();
    }
    if (!setup) {
        gate_.failed(clock_now());
        std::lock_guard lock(outage_mutex_);
        last_cause_ = setup.message();
        return fail(setup.kind(), "registry " + shown_ + ": " + setup.message());
    }
    gate_.succeeded();
    c.conn = std::move(*conn);
    c.server = server;
    c.last_counter = -1;
    new_generation();
    return {};
}

// Runs fn(Connection&) on an idle pooled connection (or the next one, waiting
// for it). A connection found broken is replaced once: after a server restart
// every pooled connection is dead, and the request that finds out need not fail.
template <class T, class F>
Result<T> PgRegistryReader::with_connection(F&& fn) {
    const std::size_t start = next_.fetch_add(1, std::memory_order_relaxed);
    Connection* chosen = &connections_[start % size_];
    for (std::size_t i = 0; i < size_; ++i) {
        Connection& c = connections_[(start + i) % size_];
        if (c.mutex.try_lock()) {
            c.mutex.unlock();
            chosen = &c;
            break;
        }
    }
    std::lock_guard lock(chosen->mutex);
    for (int round = 0;; ++round) {
        const bool fresh = !chosen->conn || !chosen->conn->ok();
        if (fresh)
            if (auto s = connect(*chosen); !s) return s.error();
        auto r = fn(*chosen);
        if (r || !broken(*chosen->conn)) return r;
        chosen->conn.reset();
        if (fresh || round > 0) return r;
    }
}

Result<std::optional<RegisteredCertificate>> PgRegistryReader::lookup(std::string key, const char* statement,
                                                                      const PgParams& params, UnixTime now) {
    using Row = std::optional<RegisteredCertificate>;
    (void)now;  // the grace runs on the monotonic clock_now(), not on `now`
    // From memory when the watch vouches that nothing was written to the
    // database the row was read from since it was read.
    bool known_stale = false;
    PgChangeWatch* watch = change_watch();
    if (auto hit = remembered_->find(key); hit && watch != nullptr) {
        const std::uint64_t generation = current_generation();
        auto known = hit->generation == generation ? watch->latest() : std::nullopt;
        if (known && known->server == hit->server) {
            if (known->counter == hit->counter && current_generation() == generation) {
                from_memory_.fetch_add(1, std::memory_order_relaxed);
                touch_reachable();
                return hit->row;
            }
            known_stale = known->counter > hit->counter;  // written since: read the row, not the counter
        }
    }
    auto r = with_connection<Row>([&](Connection& pc) -> Result<Row> {
        PgConnection& c = *pc.conn;
        // Taken before the query: a row read by a connection opened before a
        // reconnect (possibly to another database) is never used after it.
        const std::uint64_t generation = current_generation();
        auto hit = remembered_->find(key);
        if (hit && hit->generation == generation && hit->server == pc.server && !known_stale) {
            auto counter = c.exec_prepared(kCounter, {});
            if (!counter) return counter.error();
            auto value = counter->int64(0, 0);
            if (!value) return value.error();
            // Nothing written since the row was read: it is what the query would return.
            if (note_connection_counter(pc, generation, *value) && *value == hit->counter) return hit->row;
        }
        auto res = c.exec_prepared(statement, params);
        if (!res) return res.error();
        auto counter = res->int64(0, 0);
        if (!counter) return counter.error();
        auto row = read_row(*res);
        if (!row) return row.error();
        const std::uint64_t tagged = note_connection_counter(pc, generation, *counter) ? generation : 0;
        remembered_->put(key, {*row, *counter, tagged, pc.server});
        return row;
    });
    if (r) {
        note_reachable();
        return r;
    }
    return outage_answer(key, r.error());
}

// Records the counter `pc` read under `generation`. False when it is lower than
// the last one this connection read: the registry behind it was replaced in
// place (a restore), so every remembered row is forgotten (a new generation)
// and nothing read now is trusted as remembered.
bool PgRegistryReader::note_connection_counter(Connection& pc, std::uint64_t generation, std::int64_t counter) {
    if (counter < pc.last_counter) {
        pc.last_counter = counter;
        new_generation();
        return false;
    }
    pc.last_counter = counter;
    note_counter(generation, counter);
    return true;
}

// The change watch, started by the first lookup rather than at open(): a
// reader that is never asked (freeradius -C, which exits without detaching the
// module) then has no thread running while the process exits. Null when
// options.change_watch is off or its thread could not start.
PgChangeWatch* PgRegistryReader::change_watch() {
    if (!options_.change_watch) return nullptr;
    std::call_once(watch_once_, [this] {
        PgChangeWatch::Options watch;
        watch.connect_timeout = options_.connect_timeout;
        watch.statement_timeout = options_.statement_timeout;
        watch.reconnect_backoff_min = options_.reconnect_backoff_min;
        watch.reconnect_backoff_max = options_.reconnect_backoff_max;
        auto started = PgChangeWatch::start(
            conninfo_, watch, [this] { new_generation(); }, [this](const std::string& m) { log(m); });
        // Without the watch every lookup reads the counter itself: slower, as exact.
        if (started) watch_ = std::move(*started);
        else log(started.message() + "; every lookup reads the change counter");
    });
    return watch_.get();
}

std::uint64_t PgRegistryReader::current_generation() {
    std::lock_guard lock(counter_mutex_);
    return generation_;
}

void PgRegistryReader::new_generation() {
    std::lock_guard lock(counter_mutex_);
    ++generation_;
    latest_counter_ = -1;
}

void PgRegistryReader::note_counter(std::uint64_t generation, std::int64_t counter) {
    std::lock_guard lock(counter_mutex_);
    if (generation == generation_ && counter > latest_counter_) latest_counter_ = counter;
}

// Whether a row read in `generation` under `counter` is still what the registry would answer as far as this node
// knows: read in this connection generation under the highest change counter
// any read here has seen. A revoke committed elsewhere and learned through any
// other lookup makes every older row unusable.
bool PgRegistryReader::current_as_far_as_known(std::uint64_t generation, std::int64_t counter) {
    std::lock_guard lock(counter_mutex_);
    return generation == generation_ && counter == latest_counter_;
}

// A failed lookup: fail closed, unless the registry is unreachable, the grace
// has not run out, and the key has a remembered row.
Result<std::optional<RegisteredCertificate>> PgRegistryReader::outage_answer(const std::string& key,
                                                                             const Error& error) {
    if (error.kind != ErrorKind::Unavailable) return error;
    note_unreachable(error.message);
    const auto grace = options_.outage_grace;
    if (grace.count() <= 0) return error;
    const std::chrono::steady_clock::time_point since{
        std::chrono::steady_clock::duration(last_reachable_.load())};
    if (clock_now() - since > grace)
        return fail(ErrorKind::Unavailable, error.message + " (the outage grace of " + std::to_string(grace.count()) +
                                                " s after the registry last answered has run out)");
    auto hit = remembered_->find(key);
    if (!hit) return fail(ErrorKind::Unavailable, error.message + " (no row known from before the outage)");
    if (!current_as_far_as_known(hit->generation, hit->counter))
        return fail(ErrorKind::Unavailable,
                    error.message + " (the row known from before the outage is older than the registry's last change)");
    return hit->row;
}

// The registry was heard from (a round trip, or the watch vouching): the
// outage grace counts from here. No log line: a watch vouching while the pool
// fails is not the end of an outage.
void PgRegistryReader::touch_reachable() {
    const auto now = clock_now().time_since_epoch().count();
    auto seen = last_reachable_.load();
    while (now > seen && !last_reachable_.compare_exchange_weak(seen, now)) {
    }
}

void PgRegistryReader::note_reachable() {
    touch_reachable();
    if (!unreachable_.load()) return;
    std::lock_guard lock(outage_mutex_);
    if (unreachable_.exchange(false)) log("registry " + shown_ + " answers again: the outage is over");
}

void PgRegistryReader::note_unreachable(const std::string& cause) {
    if (unreachable_.load()) return;
    std::lock_guard lock(outage_mutex_);
    if (unreachable_.exchange(true)) return;
    const auto grace = options_.outage_grace.count();
    log(cause + " - registry outage: " +
        (grace > 0 ? "answering devices seen before it from their last known rows for up to " + std::to_string(grace) +
                         " s, then failing closed"
                   : std::string("failing closed until it answers again")));
}

void PgRegistryReader::log(const std::string& message) const {
    if (log_) log_(message);
}

Result<std::optional<RegisteredCertificate>> PgRegistryReader::by_serial(const std::string& serial_hex,
                                                                         const std::string& issuer_oneline,
                                                                         UnixTime now) {
    return lookup("s\n" + serial_hex + "\n" + issuer_oneline, kBySerial, {serial_hex, issuer_oneline}, now);
}

Result<std::optional<RegisteredCertificate>> PgRegistryReader::current_lsc(const std::string& device, UnixTime now) {
    return lookup("d\n" + device, kByDevice, {device}, now);
}

Result<std::string> PgRegistryReader::capf_signature() {
    auto r = with_connection<std::string>([](Connection& pc) -> Result<std::string> {
        auto res = pc.conn->exec_prepared(kCapfSignature, {});
        if (!res) return res.error();
        return res->text(0, 0);
    });
    if (r) note_reachable();
    else if (r.kind() == ErrorKind::Unavailable) note_unreachable(r.message());
    return r;
}

Result<std::vector<X509Ptr>> PgRegistryReader::trusted_capf_certificates() {
    auto r = with_connection<std::vector<X509Ptr>>([](Connection& pc) -> Result<std::vector<X509Ptr>> {
        auto res = pc.conn->exec_prepared(kCapfTrusted, {});
        if (!res) return res.error();
        std::vector<X509Ptr> out;
        for (int i = 0; i < res->rows(); ++i) {
            auto cert = parse_certificate_pem(res->text(i, 0));
            if (!cert) return fail("corrupt CAPF certificate in the registry: " + cert.message());
            out.push_back(std::move(*cert));
        }
        return out;
    });
    if (r) note_reachable();
    else if (r.kind() == ErrorKind::Unavailable) note_unreachable(r.message());
    return r;
}

}  // namespace lscgate
