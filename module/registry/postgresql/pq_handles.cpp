#include "registry/postgresql/pq_handles.h"

#include "registry/postgresql/pq_conninfo.h"

#include <poll.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cstring>

namespace lscgate {

namespace sqlstate {

bool is_connection_error(std::string_view code) {
    return code.substr(0, 2) == "08" || code == "57P01" || code == "57P02" || code == "57P03";
}

bool is_retryable(std::string_view code) { return code == kSerializationFailure || code == kDeadlockDetected; }

}  // namespace sqlstate

namespace {

bool contains(std::string_view haystack, std::string_view needle) {
    return haystack.find(needle) != std::string_view::npos;
}

// What a caller can do about a server error, by SQLSTATE class (PostgreSQL docs, Appendix A).
ErrorKind kind_for_sqlstate(std::string_view code) {
    if (sqlstate::is_connection_error(code) || sqlstate::is_retryable(code)) return ErrorKind::Unavailable;
    if (code == sqlstate::kLockNotAvailable || code == sqlstate::kQueryCanceled) return ErrorKind::Unavailable;
    if (code.substr(0, 2) == "53") return ErrorKind::Unavailable;  // disk full, out of memory, too many connections
    if (code.substr(0, 2) == "28" || code == "3D000" || code == sqlstate::kInsufficientPrivilege ||
        code == sqlstate::kUndefinedTable || code == "3F000")  // auth, no database, privilege, not migrated
        return ErrorKind::Config;
    if (code.substr(0, 2) == "22" || code.substr(0, 2) == "23") return ErrorKind::Input;  // bad value, constraint
    return ErrorKind::Internal;
}

// A failed connection attempt: the server was not reached (or not ready, or
// full) → Unavailable; it was reached and refused who we are → Config. libpq
// reports connection failures as text only; the server's part is in English
// for the phrases below (lc_messages of a server initialised in C/en, the
// usual case) and the password checks do not depend on the language at all.
ErrorKind kind_for_connect_failure(PGconn* conn, std::string_view message) {
    static constexpr std::array<std::string_view, 6> kBusy = {
        "too many clients", "remaining connection slots", "starting up", "shutting down", "in recovery",
        "not yet accepting connections"};
    for (std::string_view phrase : kBusy)
        if (contains(message, phrase)) return ErrorKind::Unavailable;
    if (conn != nullptr && (PQconnectionNeedsPassword(conn) != 0 || PQconnectionUsedPassword(conn) != 0))
        return ErrorKind::Config;
    static constexpr std::array<std::string_view, 6> kRefused = {
        "authentication failed", "pg_hba.conf", "does not exist", "no password supplied", "permission denied",
        "SSL"};
    for (std::string_view phrase : kRefused)
        if (contains(message, phrase)) return ErrorKind::Config;
    return ErrorKind::Unavailable;
}

// The primary message and, when present, the detail (which names the offending
// key of a unique violation, for instance).
std::string server_message(const PGresult* r) {
    const char* primary = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);
    if (primary == nullptr) return trim_pq_message(PQresultErrorMessage(r));
    std::string out = primary;
    if (const char* detail = PQresultErrorField(r, PG_DIAG_MESSAGE_DETAIL); detail != nullptr)
        out += std::string(" (") + detail + ")";
    return out;
}

constexpr std::array<std::string_view, 3> kIsolationLevels = {"READ COMMITTED", "REPEATABLE READ", "SERIALIZABLE"};

}  // namespace

// ---- PgResult ---------------------------------------------------------------

int PgResult::rows() const { return result_ ? PQntuples(result_.get()) : 0; }
int PgResult::columns() const { return result_ ? PQnfields(result_.get()) : 0; }

std::int64_t PgResult::affected_rows() const {
    if (!result_) return 0;
    const std::string_view tuples = PQcmdTuples(result_.get());
    std::int64_t n = 0;
    std::from_chars(tuples.data(), tuples.data() + tuples.size(), n);
    return n;
}

bool PgResult::is_null(int row, int col) const {
    if (row < 0 || col < 0 || row >= rows() || col >= columns()) return true;
    return PQgetisnull(result_.get(), row, col) != 0;
}

std::string PgResult::text(int row, int col) const {
    if (is_null(row, col)) return {};
    return std::string(PQgetvalue(result_.get(), row, col),
                       static_cast<std::size_t>(PQgetlength(result_.get(), row, col)));
}

std::optional<std::string> PgResult::optional_text(int row, int col) const {
    if (is_null(row, col)) return std::nullopt;
    return text(row, col);
}

std::string PgResult::column_label(int col) const {
    const char* name = (col >= 0 && col < columns()) ? PQfname(result_.get(), col) : nullptr;
    return name != nullptr ? std::string("column ") + name : "column " + std::to_string(col);
}

Result<std::optional<std::int64_t>> PgResult::optional_int64(int row, int col) const {
    if (is_null(row, col)) return std::optional<std::int64_t>{};
    const std::string value = text(row, col);
    std::int64_t n = 0;
    const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
    if (ec != std::errc() || end != value.data() + value.size())
        return fail(column_label(col) + " is not an integer: '" + value.substr(0, 40) + "'");
    return std::optional<std::int64_t>(n);
}

Result<std::int64_t> PgResult::int64(int row, int col) const {
    auto v = optional_int64(row, col);
    if (!v) return v.error();
    if (!*v) return fail(column_label(col) + " is NULL");
    return **v;
}

Result<bool> PgResult::boolean(int row, int col) const {
    const std::string value = text(row, col);
    if (!is_null(row, col) && value == "t") return true;
    if (!is_null(row, col) && value == "f") return false;
    return fail(column_label(col) + " is not a boolean: '" + value.substr(0, 40) + "'");
}

// ---- PgConnection -----------------------------------------------------------

namespace {

// Every session resolves unqualified names in pg_catalog first and pg_temp last, and
// never in `public` or "$user": a role that may create objects there (PUBLIC has CREATE
// on `public` on PostgreSQL <= 14 and in databases upgraded from it) could otherwise
// plant e.g. public.to_timestamp(bigint), an exact match that beats
// pg_catalog.to_timestamp(double precision), and run its code as the issuer
// (CVE-2018-1058; PostgreSQL docs 5.9.6 "Usage Patterns"). Set per session rather
// than through `options=-c...`, which the administrator's conninfo would override.
// Every lscgate statement names `lscgate.` explicitly (pg_schema.h).
constexpr const char* kPinSearchPath = "SELECT pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', false)";

std::string pin_search_path(PGconn* conn) {
    PgResultPtr r(PQexec(conn, kPinSearchPath));
    if (r && PQresultStatus(r.get()) == PGRES_TUPLES_OK) return {};
    return r ? trim_pq_message(PQresultErrorMessage(r.get())) : trim_pq_message(PQerrorMessage(conn));
}

}  // namespace

Result<PgConnection> PgConnection::connect(const std::string& conninfo, int connect_timeout_s,
                                           const std::string& application_name) {
    // Parsed first: a malformed string is the caller's to fix (Config), and the
    // message libpq gives for it may quote the password, so it is redacted.
    char* parse_error = nullptr;
    PQconninfoOption* options = PQconninfoParse(conninfo.c_str(), &parse_error);
    if (options == nullptr) {
        const std::string why =
            parse_error != nullptr ? conninfo_parse_error_text(parse_error, conninfo) : "out of memory";
        PQfreemem(parse_error);
        return fail(ErrorKind::Config, "malformed PostgreSQL connection string: " + why);
    }
    PQconninfoFree(options);

    // Keywords are applied in order and the expanded `dbname` (the caller's
    // conninfo) comes last, so what the administrator wrote wins over our defaults.
    const std::string timeout = std::to_string(std::max(1, connect_timeout_s));
    const std::array<const char*, 4> keywords = {"connect_timeout", "application_name", "dbname", nullptr};
    const std::array<const char*, 4> values = {timeout.c_str(), application_name.c_str(), conninfo.c_str(), nullptr};
    PgConnPtr conn(PQconnectdbParams(keywords.data(), values.data(), 1));
    if (!conn) return fail(ErrorKind::Unavailable, "PostgreSQL: out of memory");
    if (PQstatus(conn.get()) != CONNECTION_OK) {
        const std::string why = redact_conninfo_secrets(trim_pq_message(PQerrorMessage(conn.get())), conninfo);
        return fail(kind_for_connect_failure(conn.get(), why), "cannot connect to PostgreSQL: " + why);
    }
    // libpq prints NOTICEs to stderr by default: inside FreeRADIUS that is noise
    // in its log; the registry's SQL raises none that matter.
    PQsetNoticeProcessor(conn.get(), [](void*, const char*) {}, nullptr);
    if (const std::string why = pin_search_path(conn.get()); !why.empty())
        return fail(ErrorKind::Unavailable,
                    "PostgreSQL: cannot set search_path: " + redact_conninfo_secrets(why, conninfo));
    return PgConnection(std::move(conn), conninfo);
}

bool PgConnection::ok() const { return conn_ && PQstatus(conn_.get()) == CONNECTION_OK; }

ConnStatusType PgConnection::status() const { return conn_ ? PQstatus(conn_.get()) : CONNECTION_BAD; }

int PgConnection::backend_pid() const { return conn_ ? PQbackendPID(conn_.get()) : 0; }

Error PgConnection::connection_error(std::string_view what) const {
    const std::string why =
        conn_ ? redact_conninfo_secrets(trim_pq_message(PQerrorMessage(conn_.get())), conninfo_) : "not connected";
    return fail(ErrorKind::Unavailable, std::string(what) + ": PostgreSQL connection lost: " + why);
}

Result<PgResult> PgConnection::finish(PGresult* raw, std::string_view what) {
    PgResultPtr r(raw);
    if (!r) {
        last_sqlstate_ = ok() ? "" : "08006";
        return connection_error(what);
    }
    const ExecStatusType st = PQresultStatus(r.get());
    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK || st == PGRES_EMPTY_QUERY) {
        last_sqlstate_.clear();
        return PgResult(std::move(r));
    }
    const char* code = PQresultErrorField(r.get(), PG_DIAG_SQLSTATE);
    // A connection that died mid-command yields an error result without SQLSTATE.
    last_sqlstate_ = code != nullptr ? code : (ok() ? "" : "08006");
    if (st != PGRES_FATAL_ERROR && st != PGRES_NONFATAL_ERROR && last_sqlstate_.empty())
        return fail(std::string(what) + ": unexpected PostgreSQL result " + PQresStatus(st));
    if (code == nullptr && !ok()) return connection_error(what);
    const std::string code_note = last_sqlstate_.empty() ? "" : " (SQLSTATE " + last_sqlstate_ + ")";
    return fail(kind_for_sqlstate(last_sqlstate_), std::string(what) + ": " + server_message(r.get()) + code_note);
}

Result<PgResult> PgConnection::exec(const std::string& sql) {
    if (!conn_) return connection_error("query");
    return finish(PQexec(conn_.get(), sql.c_str()), "query");
}

namespace {

// libpq wants parallel arrays of C strings, NULL for an SQL NULL.
std::vector<const char*> param_pointers(const PgParams& params) {
    std::vector<const char*> out;
    out.reserve(params.size());
    for (const PgParam& p : params) out.push_back(p ? p->c_str() : nullptr);
    return out;
}

}  // namespace

Result<PgResult> PgConnection::exec_params(const std::string& sql, const PgParams& params) {
    if (!conn_) return connection_error("query");
    const auto values = param_pointers(params);
    return finish(PQexecParams(conn_.get(), sql.c_str(), static_cast<int>(values.size()), nullptr, values.data(),
                               nullptr, nullptr, 0),
                  "query");
}

Status PgConnection::prepare(const std::string& name, const std::string& sql, int nparams) {
    if (auto it = prepared_.find(name); it != prepared_.end()) {
        if (it->second.sql != sql || it->second.nparams != nparams)
            return fail("prepared statement '" + name + "' already exists with other SQL");
        if (it->second.generation == generation_) return {};
    }
    if (!conn_) return connection_error("prepare " + name);
    auto r = finish(PQprepare(conn_.get(), name.c_str(), sql.c_str(), nparams, nullptr), "prepare " + name);
    if (!r) return r.error();
    prepared_[name] = Prepared{sql, nparams, generation_};
    return {};
}

Result<PgResult> PgConnection::exec_prepared(const std::string& name, const PgParams& params) {
    auto it = prepared_.find(name);
    if (it == prepared_.end()) return fail("no prepared statement '" + name + "'");
    if (static_cast<int>(params.size()) != it->second.nparams)
        return fail("statement '" + name + "' takes " + std::to_string(it->second.nparams) + " parameters, got " +
                    std::to_string(params.size()));
    if (!conn_) return connection_error(name);
    if (it->second.generation != generation_) {  // a new session since it was prepared (reset())
        auto r = finish(PQprepare(conn_.get(), name.c_str(), it->second.sql.c_str(), it->second.nparams, nullptr),
                        "prepare " + name);
        if (!r) return r.error();
        it->second.generation = generation_;
    }
    const auto values = param_pointers(params);
    return finish(PQexecPrepared(conn_.get(), name.c_str(), static_cast<int>(values.size()), values.data(), nullptr,
                                 nullptr, 0),
                  name);
}

Status PgConnection::reset() {
    if (!conn_) return fail(ErrorKind::Unavailable, "PostgreSQL: not connected");
    PQreset(conn_.get());
    ++generation_;  // the old session's prepared statements and transaction are gone
    depth_ = 0;
    if (PQstatus(conn_.get()) != CONNECTION_OK) {
        const std::string why = redact_conninfo_secrets(trim_pq_message(PQerrorMessage(conn_.get())), conninfo_);
        return fail(kind_for_connect_failure(conn_.get(), why), "cannot reconnect to PostgreSQL: " + why);
    }
    PQsetNoticeProcessor(conn_.get(), [](void*, const char*) {}, nullptr);
    if (const std::string why = pin_search_path(conn_.get()); !why.empty())
        return fail(ErrorKind::Unavailable,
                    "PostgreSQL: cannot set search_path: " + redact_conninfo_secrets(why, conninfo_));
    last_sqlstate_.clear();
    return {};
}

Status PgConnection::listen(std::string_view channel) {
    if (!conn_) return connection_error("LISTEN");
    char* quoted = PQescapeIdentifier(conn_.get(), channel.data(), channel.size());
    if (quoted == nullptr) return fail("LISTEN: " + trim_pq_message(PQerrorMessage(conn_.get())));
    const std::string sql = std::string("LISTEN ") + quoted;
    PQfreemem(quoted);
    auto r = exec(sql);
    if (!r) return r.error();
    return {};
}

Result<std::vector<PgNotification>> PgConnection::wait_notifications(std::chrono::milliseconds timeout) {
    if (!ok()) return connection_error("waiting for notifications");
    std::vector<PgNotification> out;
    auto collect = [&] {
        while (PGnotify* n = PQnotifies(conn_.get())) {
            out.push_back({n->relname != nullptr ? n->relname : "", n->extra != nullptr ? n->extra : "", n->be_pid});
            PQfreemem(n);
        }
    };
    if (PQconsumeInput(conn_.get()) == 0) return connection_error("waiting for notifications");
    collect();
    if (!out.empty()) return out;
    pollfd fd{PQsocket(conn_.get()), POLLIN, 0};
    const int ready = ::poll(&fd, 1, static_cast<int>(std::max<std::int64_t>(0, timeout.count())));
    if (ready < 0 && errno != EINTR)
        return fail(ErrorKind::Unavailable, std::string("waiting for notifications: ") + std::strerror(errno));
    if (ready > 0 && PQconsumeInput(conn_.get()) == 0) return connection_error("waiting for notifications");
    collect();
    return out;
}

Result<PgTransaction> PgConnection::begin(std::string_view isolation) {
    if (std::find(kIsolationLevels.begin(), kIsolationLevels.end(), isolation) == kIsolationLevels.end())
        return fail("unknown isolation level '" + std::string(isolation) + "'");
    const int level = depth_ + 1;
    const std::string sql = level == 1 ? "BEGIN ISOLATION LEVEL " + std::string(isolation)
                                       : "SAVEPOINT lscgate_sp_" + std::to_string(level);
    auto r = exec(sql);
    if (!r) return r.error();
    depth_ = level;
    return PgTransaction(this, level, generation_);
}

// ---- PgTransaction ----------------------------------------------------------

PgTransaction::~PgTransaction() {
    if (conn_ != nullptr) (void)rollback();
}

Status PgTransaction::commit() {
    if (conn_ == nullptr) return fail("transaction already finished");
    PgConnection* conn = conn_;
    if (conn->generation_ != generation_) {
        conn_ = nullptr;
        return fail(ErrorKind::Unavailable, "the PostgreSQL connection was reset: the transaction was rolled back");
    }
    if (level_ > 1) {
        auto r = conn->exec("RELEASE SAVEPOINT lscgate_sp_" + std::to_string(level_));
        if (!r) {
            const Error error = r.error();
            (void)rollback();  // the enclosing transaction is in error: undo this level
            return error;
        }
        conn->depth_ = level_ - 1;
        conn_ = nullptr;
        return {};
    }
    // COMMIT of a transaction in which a statement failed succeeds with the
    // command tag ROLLBACK: that is a failure for the caller.
    const bool aborted = PQtransactionStatus(conn->raw()) == PQTRANS_INERROR;
    auto r = conn->exec("COMMIT");
    conn->depth_ = 0;
    conn_ = nullptr;
    if (!r) return r.error();
    if (aborted || std::string_view(PQcmdStatus(r->raw())) == "ROLLBACK")
        return fail("transaction rolled back: a statement in it failed");
    return {};
}

Status PgTransaction::rollback() {
    if (conn_ == nullptr) return {};
    PgConnection* conn = conn_;
    conn_ = nullptr;
    if (conn->generation_ != generation_) return {};  // the server ended it with the old session
    conn->depth_ = level_ - 1;
    const std::string sp = "lscgate_sp_" + std::to_string(level_);
    auto r = conn->exec(level_ == 1 ? std::string("ROLLBACK")
                                    : "ROLLBACK TO SAVEPOINT " + sp + "; RELEASE SAVEPOINT " + sp);
    if (!r) return r.error();
    return {};
}

}  // namespace lscgate
