#pragma once

// What `lscgate registry copy` moves, table by table, and how a row is compared
// across engines: every column common to the SQLite schema (store_schema.h) and
// the PostgreSQL one (postgresql/pg_schema.h), as canonical text (integers and
// Unix-second times in decimal, text as is, NULL distinct from ""), so both
// sides are fingerprinted by this one code path.

#include "pki/openssl_handles.h"
#include "pki/result.h"

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace lscgate {

/// How a column crosses between engines. Time: INTEGER Unix seconds in SQLite,
/// timestamptz in PostgreSQL (to_timestamp($n::bigint) / floor(extract(epoch))).
/// Bool: INTEGER 0/1 in SQLite, boolean in PostgreSQL (read as col::int, written
/// as $n::int::boolean); canonically "0" or "1".
enum class CopyColumnKind { Int, Text, Time, Bool };

struct CopyColumn {
    std::string_view name;
    CopyColumnKind kind;
};

/// One table, its rows read in `order_by` order (a unique key: both engines
/// must list them alike for the fingerprints to match).
struct CopyTable {
    std::string_view name;
    std::vector<CopyColumn> columns;
    std::string_view order_by = "id";
    /// `id` is an identity column: PostgreSQL moves its sequence past the
    /// copied ids (rollout_waves and rollout_devices have none).
    bool identity = true;
};

/// One row in the order of CopyTable::columns; nullopt = NULL.
using CopyRow = std::vector<std::optional<std::string>>;

/// The registry tables in foreign-key order (operations reference devices,
/// rollout waves and devices their rollout): devices, operations, certificates,
/// capf_certificates, audit, capf_sessions, rollouts, rollout_waves,
/// rollout_devices. Not copied: last_seen (what RADIUS nodes saw; the SQLite
/// registry keeps it in another file), schema_version and change_counter (each
/// engine's own).
inline constexpr std::size_t kCopyTableCount = 9;
const std::array<CopyTable, kCopyTableCount>& copy_tables();

/// Row count and SHA-256 over the canonical text of every row added, in order:
/// per value "N;" for NULL, else "S<byte length>:<bytes>;", per row "\n".
/// Length-prefixed, so no two different rows hash alike by concatenation.
class TableFingerprint {
public:
    TableFingerprint();
    Status add(const CopyRow& row);
    /// Lower-case hex SHA-256 of everything added; ends the hash (call once).
    Result<std::string> finish();
    std::int64_t rows() const { return rows_; }

private:
    EvpMdCtxPtr ctx_;
    std::int64_t rows_ = 0;
};

/// "devices.id" style name for messages.
std::string column_label(const CopyTable& table, std::size_t column);

/// Parses a canonical integer value. Errors (Input): not a decimal int64.
Result<std::int64_t> copy_integer(const CopyTable& table, std::size_t column, const std::string& text);

}  // namespace lscgate
