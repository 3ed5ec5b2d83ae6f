#pragma once

// Read-only, thread-safe lookups into the registry for the RADIUS hot path: a
// few read connections opened once, each with its prepared statements, so a
// request costs one indexed query and never opens the database. WAL mode lets
// these readers see every commit of the CAPF issuer at once, so a revocation or
// a new LSC counts on the next authentication.
//
// Each connection also remembers recent rows in a small fixed table. A
// remembered row is used only after PRAGMA data_version shows that no other
// connection or process (lscgate, the sqlite3 shell) committed anything since
// before it was read; otherwise it is read again. So a repeat lookup (the
// post-auth after check-eap-tls, a phone re-authenticating, a busy NAS) costs
// one PRAGMA instead of a query, and an answer is never staler than a query's.

#include "core/openssl_handles.h"
#include "core/records.h"
#include "core/sqlite_handles.h"

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
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
};

class RegistryReader {
public:
    static Result<std::unique_ptr<RegistryReader>> open(const std::string& path, std::size_t connections = 4);

    Result<std::optional<RegisteredCertificate>> by_serial(const std::string& serial_hex, const std::string& issuer_oneline);
    // The device's active LSC, or else its most recent one (to say why it is not active).
    Result<std::optional<RegisteredCertificate>> current_lsc(const std::string& device);
    // CAPF certificates still trusted: current and previous (not retired).
    Result<std::vector<X509Ptr>> trusted_capf_certificates();
    // Changes whenever the set of trusted CAPF certificates changes (a rotation,
    // an import, a retirement): cheap to poll.
    Result<std::string> capf_signature();

private:
    struct Remembered {
        std::string key;
        std::optional<RegisteredCertificate> row;
        std::int64_t version = -2;  // data_version seen before the row was read
    };
    struct Connection {
        std::mutex mutex;
        SqliteDatabase db;
        std::int64_t version = -1;  // the last data_version this connection saw
        std::array<Remembered, 512> remembered;
    };
    RegistryReader() = default;
    Connection& pick();
    Result<std::optional<RegisteredCertificate>> lookup(std::string key, const std::string& sql, const std::string& a,
                                                        const std::string* b);

    std::vector<std::unique_ptr<Connection>> connections_;
    std::atomic<std::size_t> next_{0};
};

}  // namespace lscgate
