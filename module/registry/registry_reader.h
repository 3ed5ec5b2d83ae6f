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
//
// data_version only sees commits made through the files the connections hold.
// So every call first checks (three stat() calls, see registry_files.h) that the
// path still names those files and the file did not shrink. If not, every
// connection this process has to the registry is closed and opened again (one
// pool per file per process, shared by every reader: SQLite shares one WAL index
// per database inode in a process, so a fresh connection beside an old one would
// see the old index). Whatever cannot be opened, or is a new database beside the
// old file's -wal/-shm, is refused with the cause until the files change again:
// the caller fails closed. The cause is logged once per change.

#include "pki/openssl_handles.h"
#include "registry/records.h"
#include "registry/sqlite_handles.h"
#include "pki/trust_loader.h"

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
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

class RegistryReader : public CapfCertificateSource {
public:
    // Where a reader reports a change of the registry files (once per change):
    // reopened, or refused with the cause. Called from request threads.
    using LogSink = std::function<void(const std::string& message)>;

    // Opens `connections` read-only connections (or joins the pool this process
    // already has for the same file). Errors: missing file, not a registry, a
    // schema version this code does not understand.
    static Result<std::unique_ptr<RegistryReader>> open(const std::string& path, std::size_t connections = 4,
                                                        LogSink log = {});
    ~RegistryReader() override;
    RegistryReader(const RegistryReader&) = delete;
    RegistryReader& operator=(const RegistryReader&) = delete;

    Result<std::optional<RegisteredCertificate>> by_serial(const std::string& serial_hex, const std::string& issuer_oneline);
    // The device's active LSC, or else its most recent one (to say why it is not active).
    Result<std::optional<RegisteredCertificate>> current_lsc(const std::string& device);
    // CAPF certificates still trusted: current and previous (not retired).
    Result<std::vector<X509Ptr>> trusted_capf_certificates() override;
    // Changes whenever the set of trusted CAPF certificates changes (a rotation,
    // an import, a retirement): cheap to poll.
    Result<std::string> capf_signature() override;

    class Pool;  // registry_reader.cpp

private:
    explicit RegistryReader(std::shared_ptr<Pool> pool) : pool_(std::move(pool)) {}
    Result<std::optional<RegisteredCertificate>> lookup(std::string key, const std::string& sql, const std::string& a,
                                                        const std::string* b);

    std::shared_ptr<Pool> pool_;
};
}  // namespace lscgate
