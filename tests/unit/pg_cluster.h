#pragma once

// A real, throwaway PostgreSQL cluster for unit tests (no mocks): one per test
// binary process, started on first use and stopped by the gtest Environment at
// the end (or, should the test binary die, by the kernel: the server gets
// SIGQUIT when its parent exits, PR_SET_PDEATHSIG). ctest runs each test case in
// its own process, so the cluster is copied from a template data directory
// (initdb once per build tree, under a file lock) instead of initdb each time.
//
// The server runs as the `postgres` OS user when the tests run as root (it
// refuses root), listens on 127.0.0.1 only on a free port, with its Unix socket
// in its own directory; local socket connections are trusted (the superuser's
// way in), TCP connections need a password (scram-sha-256), as in production.
// Durability is off (fsync=off): the data is thrown away.
//
// Each test takes a fresh database (create_database) with
// policy/postgresql/setup.sql applied as a DBA would, so tests are independent.

#include "pki/result.h"

#include <sys/types.h>

#include <filesystem>
#include <string>

namespace lscgate::test {

/// Passwords setup.sql gives the two roles in test clusters.
inline constexpr const char* kPgIssuerPassword = "issuer-pw-Xq7";
inline constexpr const char* kPgRadiusPassword = "radius-pw-Zk4";

/// One fresh database of the test cluster: setup.sql applied (roles
/// lscgate_issuer and lscgate_radius, schema lscgate), not migrated.
struct PgTestDatabase {
    std::string name;
    std::string superuser;  ///< conninfo: `postgres` over the Unix socket (trust)
    std::string issuer;     ///< conninfo: lscgate_issuer over TCP 127.0.0.1 (password)
    std::string radius;     ///< conninfo: lscgate_radius over TCP 127.0.0.1 (password)
};

class PgCluster {
public:
    /// The cluster of this test binary, started on first call. Errors: no
    /// PostgreSQL server binaries (/usr/lib/postgresql/*/bin, or $LSCGATE_PG_BIN),
    /// initdb failed, the server did not accept connections within 60 s.
    static Result<PgCluster*> shared();

    /// A new database (lscgate_t1, lscgate_t2, ...) with setup.sql run in it by psql.
    Result<PgTestDatabase> create_database();
    /// Runs policy/postgresql/setup.sql again in `db` as the superuser, with psql,
    /// as a DBA re-running it would. Errors: psql failed (the tail of its log).
    Status run_setup_sql(const PgTestDatabase& db);

    /// Fast shutdown (SIGINT to the postmaster), waiting (bounded, 60 s) for it to
    /// exit: an outage. Connections see their server go away.
    Status stop();
    /// Starts the stopped cluster again on the same port and data (a recovery).
    Status start();
    bool running() const { return pid_ > 0; }

    int port() const { return port_; }
    /// The postmaster's process id (0 when stopped).
    pid_t pid() const { return pid_; }
    /// conninfo for the superuser `postgres` over the Unix socket.
    std::string superuser_conninfo(const std::string& database = "postgres") const;
    /// conninfo for `role` with `password` over TCP (127.0.0.1:port).
    std::string tcp_conninfo(const std::string& role, const std::string& password, const std::string& database) const;
    /// The psql of the cluster's PostgreSQL version.
    std::filesystem::path psql() const { return bin_ / "psql"; }

    ~PgCluster();
    PgCluster(const PgCluster&) = delete;
    PgCluster& operator=(const PgCluster&) = delete;

    /// Stops and removes the shared cluster, if started (the Environment's TearDown).
    static void shutdown_shared();

private:
    PgCluster() = default;
    Status init();
    Status launch();

    std::filesystem::path bin_;
    std::filesystem::path root_;        // data/ and the log; removed at the end
    std::filesystem::path socket_dir_;  // a short /tmp directory for the Unix socket; removed at the end
    int port_ = 0;
    pid_t pid_ = 0;
    int databases_ = 0;
};

}  // namespace lscgate::test
