#pragma once

// Where the last-seen writer thread (last_seen_recorder.h) puts its batches: a
// SQLite file of its own (one RADIUS node) or the shared PostgreSQL registry's
// lscgate.last_seen table (every node, one row per device and node). A sink is
// used by the writer thread only (and flush() at shutdown, never at the same
// time), so it needs no lock of its own.

#include "pki/result.h"

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace lscgate {

/// One RADIUS authentication as last-seen keeps it. Texts come from the RADIUS
/// request and are bounded and printable before they get here (decide/seen_facts.h).
struct SeenEvent {
    std::string device;              ///< the device name the decision was about
    std::string cls;                 ///< certificate class ("lsc-valid", "mic", ...) or "error"
    std::string nas;                 ///< NAS-IP-Address / NAS-IPv6-Address (else the packet source), text
    std::string reason;              ///< the decision's reason
    std::int64_t at = 0;             ///< Unix seconds
    std::string calling_station_id{};  ///< Calling-Station-Id (RFC 2865 §5.31), the phone's MAC on 802.1X
    std::string nas_port_id{};         ///< NAS-Port-Id (RFC 2869 §5.17), e.g. "GigabitEthernet1/0/7"
    std::string acct_session_id{};     ///< Acct-Session-Id (RFC 2866 §5.5) when the NAS sends it in Access-Request
    std::string audit_session_id{};    ///< Cisco-AVPair "audit-session-id=…" (Cisco ISE/switch session id)
    std::string node{};                ///< the RADIUS node that saw it (filled by the recorder; read back from a sink)
};

/// One device's coalesced news: the last event and how many were recorded.
struct SeenRecord {
    SeenEvent last;
    std::int64_t count = 0;
};

class LastSeenSink {
public:
    virtual ~LastSeenSink() = default;
    /// Writes a batch all-or-nothing (one transaction / statement): every record
    /// of `node`, inserted or merged (newer fields win, counts add). Errors:
    /// Unavailable when the database cannot be reached (the recorder keeps the
    /// batch and retries with back-off), others as the engine reports them.
    virtual Status write(const std::vector<SeenRecord>& batch, const std::string& node) = 0;
    /// "sqlite:<file>" or "postgresql:<conninfo without password>", for messages.
    virtual std::string describe() const = 0;
};

/// The SQLite sink: creates (or upgrades, adding the new columns) the file's
/// last_seen table. Errors: the file cannot be opened or created.
Result<std::unique_ptr<LastSeenSink>> open_sqlite_last_seen(const std::filesystem::path& file);

/// Every row of a SQLite last-seen file, by device; only `device`'s row when
/// given (the primary key: one indexed lookup). Errors: unreadable file.
Result<std::vector<SeenRecord>> read_sqlite_last_seen(const std::filesystem::path& file,
                                                      const std::optional<std::string>& device = std::nullopt);

/// The sink a RADIUS node uses, from its two settings:
///  * `last_seen_database` = "none": not recorded (nullptr);
///  * a PostgreSQL conninfo/URI (database_kind.h): that registry's lscgate.last_seen;
///  * another non-empty text: a SQLite file;
///  * empty: the registry's lscgate.last_seen when `registry_database` is
///    PostgreSQL, else not recorded (nullptr) — a SQLite registry is read-only
///    to RADIUS nodes.
/// The PostgreSQL sink connects on its first write, so an unreachable server at
/// start is not an error (the batch waits in memory). Errors: a SQLite file that
/// cannot be created.
Result<std::unique_ptr<LastSeenSink>> open_last_seen_sink(std::string_view last_seen_database,
                                                          std::string_view registry_database);

}  // namespace lscgate
