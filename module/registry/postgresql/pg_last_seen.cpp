#include "registry/postgresql/pg_last_seen.h"

#include "registry/postgresql/pg_reader_conninfo.h"
#include "registry/postgresql/pq_conninfo.h"
#include "registry/postgresql/pq_handles.h"

#include <arpa/inet.h>
#include <sys/socket.h>

namespace lscgate {
namespace {

constexpr const char* kUpsertName = "lscgate_last_seen_upsert";
// One batch upsert (at most max_pending rows) on a live but stuck server: the
// writer thread is joined at HUP and shutdown, so it must not wait longer.
constexpr int kStatementTimeoutMs = 10000;
constexpr const char* kUpsert =
    "INSERT INTO lscgate.last_seen AS l(device, node, class, nas_ip, calling_station_id, nas_port_id, "
    "acct_session_id, audit_session_id, reason, at, count) "
    "SELECT u.device, $1, u.class, u.nas_ip::inet, u.cs, u.np, u.acs, u.aus, u.reason, to_timestamp(u.at), u.count "
    "FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], "
    "$10::bigint[], $11::bigint[]) AS u(device, class, nas_ip, cs, np, acs, aus, reason, at, count) "
    "ON CONFLICT (device, node) DO UPDATE SET class = excluded.class, nas_ip = excluded.nas_ip, "
    "calling_station_id = excluded.calling_station_id, nas_port_id = excluded.nas_port_id, "
    "acct_session_id = excluded.acct_session_id, audit_session_id = excluded.audit_session_id, "
    "reason = excluded.reason, at = excluded.at, count = l.count + excluded.count";

// The NAS text as an inet value, or NULL: an address the server would refuse
// (a name, an IPv6 zone) must not make the whole batch fail.
std::optional<std::string> inet_or_null(const std::string& nas) {
    unsigned char buf[16];
    if (inet_pton(AF_INET, nas.c_str(), buf) == 1 || inet_pton(AF_INET6, nas.c_str(), buf) == 1) return nas;
    return std::nullopt;
}

class PgLastSeenSink final : public LastSeenSink {
public:
    PgLastSeenSink(std::string conninfo, std::string shown) : conninfo_(std::move(conninfo)), shown_(std::move(shown)) {}

    Status write(const std::vector<SeenRecord>& batch, const std::string& node) override {
        if (!conn_ || !conn_->ok()) {
            conn_.reset();
            auto c = PgConnection::connect(conninfo_, 3, "lscgate-radius-last-seen");
            if (!c) return c.error();
            if (auto set = c->exec("SET statement_timeout = " + std::to_string(kStatementTimeoutMs)); !set)
                return set.error();
            if (auto s = c->prepare(kUpsertName, kUpsert, 11); !s) return s;
            conn_ = std::move(*c);
        }
        std::vector<std::optional<std::string>> cols[10];
        for (auto& c : cols) c.reserve(batch.size());
        for (const auto& rec : batch) {
            const SeenEvent& e = rec.last;
            cols[0].emplace_back(e.device);
            cols[1].emplace_back(e.cls);
            cols[2].push_back(inet_or_null(e.nas));
            cols[3].emplace_back(e.calling_station_id);
            cols[4].emplace_back(e.nas_port_id);
            cols[5].emplace_back(e.acct_session_id);
            cols[6].emplace_back(e.audit_session_id);
            cols[7].emplace_back(e.reason);
            cols[8].emplace_back(std::to_string(e.at));
            cols[9].emplace_back(std::to_string(rec.count));
        }
        PgParams params{pg_param(node)};
        for (const auto& c : cols) params.push_back(pg_text_array(c));
        auto r = conn_->exec_prepared(kUpsertName, params);
        if (!r) {
            if (sqlstate::is_connection_error(conn_->last_sqlstate()) || !conn_->ok()) conn_.reset();
            return r.error();
        }
        return {};
    }

    std::string describe() const override {
        return "postgresql:" + shown_;
    }

private:
    std::string conninfo_;  // the effective conninfo, with the reader's bounds
    std::string shown_;     // the administrator's conninfo, password redacted
    std::optional<PgConnection> conn_;
};

}  // namespace

std::string pg_text_array(const std::vector<std::optional<std::string>>& values) {
    std::string out = "{";
    for (std::size_t i = 0; i < values.size(); ++i) {
        if (i > 0) out += ',';
        if (!values[i]) {
            out += "NULL";
            continue;
        }
        out += '"';
        for (char c : *values[i]) {
            if (c == '"' || c == '\\') out += '\\';
            out += c;
        }
        out += '"';
    }
    out += '}';
    return out;
}

Result<std::unique_ptr<LastSeenSink>> open_pg_last_seen(const std::string& conninfo) {
    // The registry reader's bounds (connect_timeout, tcp_user_timeout,
    // keepalives): a server gone from the network mid-write is noticed in
    // seconds, not after the kernel's ~15 min of retransmissions.
    auto effective = pg_reader_conninfo(conninfo, PgReaderBounds{});
    if (!effective) return effective.error();
    return std::unique_ptr<LastSeenSink>(
        std::make_unique<PgLastSeenSink>(std::move(*effective), redact_conninfo_secrets(conninfo, conninfo)));
}

Result<std::vector<SeenRecord>> read_pg_last_seen(const std::string& conninfo, std::optional<std::string> device) {
    auto conn = PgConnection::connect(conninfo);
    if (!conn) return conn.error();
    auto r = conn->exec_params(
        "SELECT device, class, coalesce(host(nas_ip), ''), reason, floor(extract(epoch FROM at))::bigint, count, "
        "calling_station_id, nas_port_id, acct_session_id, audit_session_id, node FROM lscgate.last_seen "
        "WHERE $1::text IS NULL OR device = $1 ORDER BY device, node",
        {pg_param(device)});
    if (!r) return r.error();
    std::vector<SeenRecord> out;
    for (int i = 0; i < r->rows(); ++i) {
        SeenRecord rec;
        auto at = r->int64(i, 4);
        auto count = r->int64(i, 5);
        if (!at) return at.error();
        if (!count) return count.error();
        rec.last = {r->text(i, 0), r->text(i, 1), r->text(i, 2), r->text(i, 3), *at,
                    r->text(i, 6), r->text(i, 7), r->text(i, 8), r->text(i, 9), r->text(i, 10)};
        rec.count = *count;
        out.push_back(std::move(rec));
    }
    return out;
}

}  // namespace lscgate
