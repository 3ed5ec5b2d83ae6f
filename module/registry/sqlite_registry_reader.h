#pragma once

// The registry reader over an SQLite registry file (see registry_reader.h for
// the interface). Read-only, thread-safe lookups for the RADIUS hot path: a few
// read connections opened once, each with its prepared statements, so a request
// costs one indexed query and never opens the database. WAL mode lets these
// readers see every commit of the CAPF issuer at once, so a revocation or a new
// LSC counts on the next authentication.
//
// Each connection also remembers recent rows in a small fixed table. A
// remembered row is used only when nothing can have changed since before it was
// read: the registry watch (registry_watch.h: inotify on the registry's directory,
// one poll() per call) saw no write, creation, deletion or rename of lscgate.db,
// -wal or -shm, and no directory on the path moved - every commit writes the -wal
// before it returns, so it is seen by the next call (which then reads again).
// Without the watch (no inotify, a symbolic link on the path) PRAGMA data_version
// must show that no other connection or process (lscgate, the sqlite3 shell)
// committed anything since; otherwise the row is read again. So a repeat lookup
// (the post-auth after check-eap-tls, a phone re-authenticating, a busy NAS)
// costs one poll(), or one PRAGMA, instead of a query, and an answer is never
// staler than a query's.
//
// data_version only sees commits made through the files the connections hold.
// So every call that the watch cannot vouch for first checks (three stat() calls,
// see registry_files.h) that the path still names those files and the file did
// not shrink. If not, every
// connection this process has to the registry is closed and opened again (one
// pool per file per process, shared by every reader: SQLite shares one WAL index
// per database inode in a process, so a fresh connection beside an old one would
// see the old index). Whatever cannot be opened, or is a new database beside the
// old file's -wal/-shm, is refused with the cause until the files change again:
// the caller fails closed. The cause is logged once per change.
//
// The outage grace (RegistryReaderOptions::outage_grace) does not apply: a file
// that cannot be read is refused at once.

#include "registry/registry_reader.h"

#include <memory>
#include <string>

namespace lscgate {

class SqliteRegistryReader final : public RegistryReader {
public:
    /// Opens `connections` read-only connections to the file at `path` (or joins
    /// the pool this process already has for the same file). Errors: missing
    /// file, not a registry, a schema version this code does not understand.
    static Result<std::unique_ptr<RegistryReader>> open(const std::string& path, std::size_t connections = 4,
                                                        LogSink log = {});
    ~SqliteRegistryReader() override;

    Result<std::optional<RegisteredCertificate>> by_serial(const std::string& serial_hex,
                                                           const std::string& issuer_oneline, UnixTime now) override;
    Result<std::optional<RegisteredCertificate>> current_lsc(const std::string& device, UnixTime now) override;
    Result<std::vector<X509Ptr>> trusted_capf_certificates() override;
    Result<std::string> capf_signature() override;

    class Pool;  // sqlite_registry_reader.cpp

private:
    explicit SqliteRegistryReader(std::shared_ptr<Pool> pool) : pool_(std::move(pool)) {}
    Result<std::optional<RegisteredCertificate>> lookup(std::string key, const std::string& sql, const std::string& a,
                                                        const std::string* b);

    std::shared_ptr<Pool> pool_;
};

}  // namespace lscgate
