#pragma once

// The RADIUS side's read-only view of the registry, whichever engine holds it:
// the LSC rows a decision needs (by issuer + serial, by device) and the trusted
// CAPF certificates. Implementations are thread-safe and cheap per call (a
// bounded pool of open connections with prepared lookups and remembered rows):
//   - SqliteRegistryReader (sqlite_registry_reader.h): a registry file;
//   - PgRegistryReader (postgresql/pg_registry_reader.h): a registry on a
//     PostgreSQL server shared by several RADIUS nodes.
// Every failure is an error value: the caller fails closed.

#include "pki/openssl_handles.h"
#include "pki/trust_loader.h"
#include "registry/records.h"

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace lscgate {

struct RegisteredCertificate {
    std::string device_name;
    CertificateKind kind = CertificateKind::Lsc;
    CertificateStatus status = CertificateStatus::Active;
    std::string serial_hex;
    std::string issuer_oneline;
    std::string fingerprint;
    UnixTime not_before = 0;
    UnixTime not_after = 0;
    // For an unconfirmed row: the device has an active LSC issued after it, so it
    // is stale (a newer certificate was confirmed), whatever its own status says.
    bool older_than_active = false;

    bool operator==(const RegisteredCertificate&) const = default;
};

/// How a reader connects and what it does while the registry is unreachable.
/// Fields marked PostgreSQL are ignored for an SQLite file.
struct RegistryReaderOptions {
    /// Read connections. SQLite: per registry file per process (shared by every
    /// reader of the file). PostgreSQL: per reader, i.e. per module instance, so
    /// per RADIUS node; keep it at most the FreeRADIUS worker threads (more are
    /// never used at once) and mind the server's max_connections: nodes × this
    /// (+ last-seen writers) must stay below it.
    std::size_t connections = 4;
    /// PostgreSQL: while the server is unreachable, answer a lookup from the
    /// remembered row of the same key for at most this long after the registry
    /// was last reachable (measured on `clock`, never on the wall clock), then
    /// fail closed. 0: fail closed at once. A key never read is never answered,
    /// nor one whose row predates the newest registry change this node has seen.
    std::chrono::seconds outage_grace{0};
    /// PostgreSQL: keep the registry's newest change counter known through
    /// LISTEN lscgate_registry on one more connection (pg_change_watch.h), so a
    /// lookup whose remembered row is unchanged makes no round trip; a change
    /// counts once PostgreSQL delivered its notification (it starts at commit).
    /// false (the default here; the RADIUS decision engine turns it on): every
    /// lookup reads the counter (exact at the next request, one round trip each).
    bool change_watch = false;
    /// PostgreSQL: libpq connect_timeout, unless the conninfo sets it (seconds, >= 1).
    std::chrono::seconds connect_timeout{3};
    /// PostgreSQL: server-side statement_timeout of each read connection.
    std::chrono::milliseconds statement_timeout{2000};
    /// PostgreSQL: after a failed connection attempt, none is made for this long,
    /// doubling per failure up to reconnect_backoff_max; requests meanwhile fail
    /// (or use the grace) at once instead of each waiting on a dead server.
    std::chrono::milliseconds reconnect_backoff_min{500};
    std::chrono::milliseconds reconnect_backoff_max{10000};
    /// PostgreSQL: the monotonic clock the back-off and the outage grace are
    /// measured on; empty =
    /// std::chrono::steady_clock::now (tests pass their own).
    std::function<std::chrono::steady_clock::time_point()> clock;
};

class RegistryReader : public CapfCertificateSource {
public:
    // Where a reader reports a change of the registry's availability (once per
    // change): SQLite files reopened or refused with the cause; a PostgreSQL
    // outage starting and ending. Called from request threads; must not throw.
    using LogSink = std::function<void(const std::string& message)>;

    /// Opens the registry `database` names: a PostgreSQL URI or conninfo (see
    /// is_postgresql_database) or an SQLite file path. Errors: missing file, not a
    /// registry, a schema version this code does not understand, the server
    /// unreachable or refusing the role (the message never shows a password).
    static Result<std::unique_ptr<RegistryReader>> open(const std::string& database,
                                                        const RegistryReaderOptions& options = {}, LogSink log = {});
    /// As above with only the connection count (the CLI and `serve`).
    static Result<std::unique_ptr<RegistryReader>> open(const std::string& database, std::size_t connections,
                                                        LogSink log = {});

    RegistryReader() = default;
    ~RegistryReader() override = default;
    RegistryReader(const RegistryReader&) = delete;
    RegistryReader& operator=(const RegistryReader&) = delete;

    /// The LSC row with this serial (upper-case hex, as the registry
    /// stores it) and issuer (OpenSSL one-line
    /// DN), preferring the active one; nullopt: none. `now` (Unix seconds) judges
    /// the outage grace (PostgreSQL) and nothing else.
    virtual Result<std::optional<RegisteredCertificate>> by_serial(const std::string& serial_hex,
                                                                   const std::string& issuer_oneline, UnixTime now) = 0;
    /// The device's active LSC, or else its most recent one (to say why it is not
    /// active); nullopt: none. `now` as for by_serial.
    virtual Result<std::optional<RegisteredCertificate>> current_lsc(const std::string& device, UnixTime now) = 0;
    /// CAPF certificates still trusted: current and previous (not retired).
    Result<std::vector<X509Ptr>> trusted_capf_certificates() override = 0;
    /// Changes whenever the set of trusted CAPF certificates changes (a rotation,
    /// an import, a retirement): cheap to poll.
    Result<std::string> capf_signature() override = 0;
};

}  // namespace lscgate
