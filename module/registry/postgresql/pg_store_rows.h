#pragma once

// Internal to PgStore (pg_store.cpp, pg_store_lsc.cpp): column lists, row
// readers, and the write-transaction template with its retry.

#include "registry/postgresql/pg_store.h"

#include <optional>
#include <string>

namespace lscgate {

/// `col` (timestamptz) as Unix seconds (bigint), the registry's time unit.
inline std::string pg_epoch(const std::string& col) { return "floor(extract(epoch FROM " + col + "))::bigint"; }

inline constexpr const char* kPgDeviceColumns =
    "id, name, model, description, security_profile, auth_failures, "
    "floor(extract(epoch FROM locked_until))::bigint, floor(extract(epoch FROM created_at))::bigint, "
    "floor(extract(epoch FROM updated_at))::bigint";

inline constexpr const char* kPgOperationColumns =
    "o.id, o.device_id, d.name, o.kind, o.auth_mode, o.auth_secret, o.key_type, o.rsa_bits, o.ec_curve, "
    "floor(extract(epoch FROM o.completes_by))::bigint, o.state, o.last_error, "
    "floor(extract(epoch FROM o.created_at))::bigint, floor(extract(epoch FROM o.updated_at))::bigint, "
    "floor(extract(epoch FROM o.finished_at))::bigint";

inline constexpr const char* kPgCertificateColumns =
    "id, device_name, kind, status, serial, fingerprint, subject, issuer, issuer_oneline, "
    "floor(extract(epoch FROM not_before))::bigint, floor(extract(epoch FROM not_after))::bigint, key_type, key_bits, "
    "pem, operation_id, floor(extract(epoch FROM revoked_at))::bigint, revocation_reason, "
    "floor(extract(epoch FROM created_at))::bigint";

/// Row `i` of a result selecting kPgDeviceColumns / kPgOperationColumns /
/// kPgCertificateColumns. Errors (Internal): a value that is not what the schema allows.
Result<Device> read_pg_device(const PgResult& r, int i);
Result<Operation> read_pg_operation(const PgResult& r, int i);
Result<CertificateRecord> read_pg_certificate(const PgResult& r, int i);

template <class F>
auto PgStore::write(F&& body) -> decltype(body()) {
    // Only the outermost level may start over: a savepoint's failure belongs to
    // the caller's transaction, which is then aborted as a whole.
    const bool outermost = open_levels_ == 0;
    for (int attempt = 1;; ++attempt) {
        auto tx = begin_outermost_or_nested();
        if (!tx) return tx.error();
        struct Level {  // counts this level as open while `body` runs
            int& n;
            explicit Level(int& levels) : n(levels) { ++n; }
            ~Level() { --n; }
            Level(const Level&) = delete;
            Level& operator=(const Level&) = delete;
        };
        std::optional<Level> level(std::in_place, open_levels_);
        auto result = body();
        level.reset();
        if (result) {
            auto committed = tx->commit();
            if (committed) return result;
            if (!outermost || !sqlstate::is_retryable(conn_.last_sqlstate()) || attempt >= kPgWriteAttempts)
                return committed.error();
        } else if (!outermost || !sqlstate::is_retryable(conn_.last_sqlstate()) || attempt >= kPgWriteAttempts) {
            return result;
        }
        // `tx` rolls back here; the next attempt starts from a clean state.
    }
}

}  // namespace lscgate
