#pragma once

// The registry decision_bench decides over, written into either backend: one
// CAPF certificate (current) and kDevices devices, each with one LSC issued by
// it (every tenth revoked). The rows are made up (no PEM): the decision reads
// issuer, serial, validity and status, never the certificate itself.

#include "pki/result.h"

#include <openssl/x509.h>

#include <filesystem>
#include <string>
#include <vector>

namespace lscgate::bench {

/// The devices of the benchmark registry, in insertion order.
struct BenchRows {
    std::vector<std::string> devices;  // SEP000000100000 ...
    std::vector<std::string> serials;  // 32 upper-case hex digits, first digit >= 1 (no leading zero byte)
    std::vector<std::string> fingerprints;  // SHA-256 of the serial bytes, hex
    std::vector<std::string> statuses;      // "active" or "revoked"
    std::string issuer;                     // the CAPF's subject DN (RFC 2253)
    std::string issuer_oneline;             // the CAPF's subject as FreeRADIUS prints it
};

/// Makes `count` devices with random serials (deterministic seed).
BenchRows make_rows(const X509* capf, int count);

/// Writes `rows` and the CAPF certificate into a new SQLite registry `file`.
/// Returns the value for EngineConfig::database (the file). Errors: SQLite's.
Result<std::string> seed_sqlite(const std::filesystem::path& file, const X509* capf, const BenchRows& rows);

/// Writes them into a new database of a throwaway PostgreSQL cluster
/// (tests/unit/pg_cluster.h: setup.sql, migrated as lscgate_issuer). Returns the
/// RADIUS role's conninfo, what a FreeRADIUS node's module reads with.
/// Errors: no PostgreSQL server binaries, the cluster did not start, SQL errors.
Result<std::string> seed_postgresql(const X509* capf, const BenchRows& rows);

}  // namespace lscgate::bench
