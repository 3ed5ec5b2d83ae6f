#pragma once

// Owning wrappers for libpq (the PostgreSQL C client, Debian libpq-dev): a
// connection, its results, and transactions. Errors come back as values with an
// ErrorKind and the SQLSTATE; nothing here throws (libpq is C, and these objects
// live inside FreeRADIUS). Values always travel as bound parameters, never in
// the SQL text. One PgConnection is used by one thread at a time (libpq's rule);
// open one per thread or keep them in a pool.
//
// Text format throughout: parameters are sent as text and results read as text
// (libpq docs §34.3), which PostgreSQL converts with the column's input function
// (bigint, inet, timestamptz, ...). Timestamps cross as Unix seconds: the SQL
// says to_timestamp($1::bigint) and floor(extract(epoch FROM col))::bigint.

#include "pki/result.h"

#include <libpq-fe.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace lscgate {

/// Frees a PGconn (PQfinish). Also closes the socket.
struct PgConnDeleter {
    void operator()(PGconn* conn) const noexcept { PQfinish(conn); }
};
/// Frees a PGresult (PQclear).
struct PgResultDeleter {
    void operator()(PGresult* result) const noexcept { PQclear(result); }
};
using PgConnPtr = std::unique_ptr<PGconn, PgConnDeleter>;
using PgResultPtr = std::unique_ptr<PGresult, PgResultDeleter>;

/// SQLSTATE codes the registry acts on (PostgreSQL docs, Appendix A).
namespace sqlstate {
inline constexpr std::string_view kUniqueViolation = "23505";       ///< a UNIQUE index refused the row
inline constexpr std::string_view kCheckViolation = "23514";        ///< a CHECK constraint refused the row
inline constexpr std::string_view kRestrictViolation = "23001";     ///< lscgate.audit is append-only
inline constexpr std::string_view kSerializationFailure = "40001";  ///< retry the transaction
inline constexpr std::string_view kDeadlockDetected = "40P01";      ///< retry the transaction
inline constexpr std::string_view kLockNotAvailable = "55P03";      ///< NOWAIT / lock_timeout
inline constexpr std::string_view kQueryCanceled = "57014";         ///< statement_timeout
inline constexpr std::string_view kAdminShutdown = "57P01";         ///< the server is shutting down
inline constexpr std::string_view kCannotConnectNow = "57P03";      ///< the server is starting up
inline constexpr std::string_view kInsufficientPrivilege = "42501";  ///< the role may not do this
inline constexpr std::string_view kUndefinedTable = "42P01";        ///< no such table (not migrated)
/// Class 08 (connection exception) or 57P01..57P03 (the server went away): the
/// connection is unusable, reset() it.
bool is_connection_error(std::string_view code);
/// 40001 or 40P01: the whole transaction may be retried as is.
bool is_retryable(std::string_view code);
}  // namespace sqlstate

/// One bound parameter: text, or NULL (nullopt).
using PgParam = std::optional<std::string>;
using PgParams = std::vector<PgParam>;

/// Parameter values in PostgreSQL's text input format.
inline PgParam pg_param(std::int64_t v) { return std::to_string(v); }
inline PgParam pg_param(int v) { return std::to_string(v); }
inline PgParam pg_param(bool v) { return std::string(v ? "true" : "false"); }
inline PgParam pg_param(std::string_view v) { return std::string(v); }
inline PgParam pg_param(const char* v) { return std::string(v); }
inline PgParam pg_param(const std::string& v) { return v; }
inline PgParam pg_param(std::nullopt_t) { return std::nullopt; }
template <class T>
PgParam pg_param(const std::optional<T>& v) {
    return v ? pg_param(*v) : PgParam{};
}

/// The rows (or the command tag) of one successful command. Row and column
/// indexes are 0-based; an index out of range reads as NULL.
class PgResult {
public:
    PgResult() = default;
    explicit PgResult(PgResultPtr result) : result_(std::move(result)) {}

    int rows() const;
    int columns() const;
    /// Rows the command inserted/updated/deleted (PQcmdTuples; 0 when it says nothing).
    std::int64_t affected_rows() const;
    bool is_null(int row, int col) const;
    /// The value's text; "" for NULL.
    std::string text(int row, int col) const;
    std::optional<std::string> optional_text(int row, int col) const;
    /// A bigint/integer column. Errors (Internal): NULL, or not a decimal integer.
    Result<std::int64_t> int64(int row, int col) const;
    /// As int64, NULL → nullopt.
    Result<std::optional<std::int64_t>> optional_int64(int row, int col) const;
    /// A boolean column ('t'/'f'). Errors (Internal): NULL or another text.
    Result<bool> boolean(int row, int col) const;
    PGresult* raw() const { return result_.get(); }

private:
    std::string column_label(int col) const;
    PgResultPtr result_;
};

/// A notification received on a LISTENing connection.
struct PgNotification {
    std::string channel;
    std::string payload;
    int backend_pid = 0;  ///< the server process of the connection that sent it
};

class PgTransaction;

class PgConnection {
public:
    /// Connects (blocking, at most `connect_timeout_s` seconds per address: libpq's
    /// connect_timeout, overridden by one written in the conninfo itself).
    /// `conninfo` is a libpq URI (postgresql://…, postgres://…) or keyword/value
    /// string (host=… dbname=…), libpq docs §34.1.1.
    /// Errors: Config — a malformed conninfo, an authentication failure (wrong or
    /// missing password, no pg_hba.conf entry, unknown role or database);
    /// Unavailable — the server cannot be reached, is starting or shutting down,
    /// or has no free connection slot. Messages never contain the password.
    static Result<PgConnection> connect(const std::string& conninfo, int connect_timeout_s = 5,
                                        const std::string& application_name = "lscgate");

    PgConnection() = default;
    PgConnection(PgConnection&&) noexcept = default;
    PgConnection& operator=(PgConnection&&) noexcept = default;
    PgConnection(const PgConnection&) = delete;
    PgConnection& operator=(const PgConnection&) = delete;
    ~PgConnection() = default;

    /// Runs SQL text without parameters, possibly several statements (simple
    /// query protocol): migrations, BEGIN/COMMIT, LISTEN. Returns the last
    /// statement's result.
    Result<PgResult> exec(const std::string& sql);
    /// Runs one statement with bound parameters ($1, $2, …), unprepared.
    Result<PgResult> exec_params(const std::string& sql, const PgParams& params);
    /// Prepares `sql` under `name` on this session and remembers it, so that after
    /// reset() (a new server session has no prepared statements) exec_prepared
    /// prepares it again by itself. Preparing a known name with the same SQL is a
    /// no-op; with other SQL it is an error (Internal).
    Status prepare(const std::string& name, const std::string& sql, int nparams);
    /// Runs a statement prepared with prepare(). Errors: unknown name (Internal),
    /// a parameter count other than the prepared one (Internal), or the server's.
    Result<PgResult> exec_prepared(const std::string& name, const PgParams& params);

    /// BEGIN (or, inside an open transaction, a SAVEPOINT): see PgTransaction.
    /// `isolation` is the text after ISOLATION LEVEL ("READ COMMITTED",
    /// "REPEATABLE READ", "SERIALIZABLE"); it applies to the outermost level only.
    Result<PgTransaction> begin(std::string_view isolation = "READ COMMITTED");

    /// LISTEN on `channel` (quoted as an identifier).
    Status listen(std::string_view channel);
    /// Waits at most `timeout` for data from the server (poll(2) on the socket),
    /// then returns every notification received so far (possibly none).
    /// Errors (Unavailable): the connection is broken.
    Result<std::vector<PgNotification>> wait_notifications(std::chrono::milliseconds timeout);

    /// True when the connection is open and usable (PQstatus CONNECTION_OK).
    bool ok() const;
    /// PQstatus of the connection; CONNECTION_BAD when there is none.
    ConnStatusType status() const;
    /// Reconnects with the same parameters (PQreset): any transaction is gone,
    /// prepared statements are prepared again on first use. Errors as connect().
    Status reset();
    /// SQLSTATE of the last failed command, "" after a success or when the failure
    /// carried none (then a broken connection reads as "08006").
    const std::string& last_sqlstate() const { return last_sqlstate_; }
    /// The server's process id for this session (pg_backend_pid()), 0 if none.
    int backend_pid() const;
    PGconn* raw() const { return conn_.get(); }

private:
    friend class PgTransaction;
    struct Prepared {
        std::string sql;
        int nparams = 0;
        std::uint64_t generation = 0;  // the session it was prepared in; 0 = not yet
    };
    PgConnection(PgConnPtr conn, std::string conninfo) : conn_(std::move(conn)), conninfo_(std::move(conninfo)) {}
    Result<PgResult> finish(PGresult* raw, std::string_view what);
    Error connection_error(std::string_view what) const;

    PgConnPtr conn_;
    std::string conninfo_;  // kept to redact its secrets from messages after reset()
    std::map<std::string, Prepared, std::less<>> prepared_;
    std::uint64_t generation_ = 1;
    int depth_ = 0;  // open transaction levels (BEGIN + savepoints)
    std::string last_sqlstate_;
};

/// An open transaction level: BEGIN at the outermost level, SAVEPOINT inside one,
/// so store methods compose into one all-or-nothing change. Destroyed without
/// commit(): ROLLBACK (or ROLLBACK TO SAVEPOINT) — an early return never leaves
/// half of a change behind. Errors in the rollback are swallowed (a broken
/// connection has rolled back already). Must not outlive its connection.
class PgTransaction {
public:
    PgTransaction(PgTransaction&& other) noexcept
        : conn_(other.conn_), level_(other.level_), generation_(other.generation_) {
        other.conn_ = nullptr;
    }
    PgTransaction& operator=(PgTransaction&&) = delete;
    PgTransaction(const PgTransaction&) = delete;
    PgTransaction& operator=(const PgTransaction&) = delete;
    ~PgTransaction();

    /// COMMIT (or RELEASE SAVEPOINT). Errors: the server's (e.g. 40001 at commit
    /// of a SERIALIZABLE transaction); the transaction is then rolled back.
    Status commit();
    /// Rolls back now rather than at destruction.
    Status rollback();
    /// 1 for the outermost transaction, 2 for the first savepoint inside it, ...
    int level() const { return level_; }

private:
    friend class PgConnection;
    PgTransaction(PgConnection* conn, int level, std::uint64_t generation)
        : conn_(conn), level_(level), generation_(generation) {}
    PgConnection* conn_;
    int level_;
    std::uint64_t generation_;  // a reset() in between means the server rolled back already
};

}  // namespace lscgate
