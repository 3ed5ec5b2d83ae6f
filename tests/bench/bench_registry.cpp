#include "bench_registry.h"

#include "../unit/pg_cluster.h"
#include "../unit/test_support.h"
#include "pki/bytes.h"
#include "pki/certificate.h"
#include "registry/postgresql/pg_migrate.h"
#include "registry/postgresql/pq_handles.h"
#include "registry/sqlite_handles.h"

#include <cstdio>
#include <random>

namespace lscgate::bench {

namespace {

// Validity of every benchmark LSC: 2026-01-01T00:00:00Z .. 2036-12-31T23:59:59Z.
constexpr std::int64_t kNotBefore = 1767225600;
constexpr std::int64_t kNotAfter = 2114380799;

// A PostgreSQL text[] literal of `items` (each quoted; they hold no '"' or '\').
std::string text_array(const std::vector<std::string>& items) {
    std::string out = "{";
    for (const auto& s : items) {
        if (out.size() > 1) out += ',';
        out += '"' + s + '"';
    }
    return out + '}';
}

}  // namespace

BenchRows make_rows(const X509* capf, int count) {
    BenchRows rows;
    auto facts = describe_certificate(capf);
    if (facts) {
        rows.issuer = facts->subject;
        rows.issuer_oneline = facts->subject_oneline;  // an LSC's issuer is the CAPF's subject
    }
    std::mt19937_64 rng(42);
    for (int i = 0; i < count; ++i) {
        char name[16];
        std::snprintf(name, sizeof name, "SEP%012X", 0x100000 + i);
        unsigned char serial[16];
        for (auto& b : serial) b = static_cast<unsigned char>(rng());
        serial[0] |= 0x10;
        rows.devices.emplace_back(name);
        rows.serials.push_back(to_hex(ByteView(serial, sizeof serial)));
        rows.fingerprints.push_back(sha256_hex(ByteView(serial, sizeof serial)));
        rows.statuses.emplace_back(i % 10 == 0 ? "revoked" : "active");
    }
    return rows;
}

Result<std::string> seed_sqlite(const std::filesystem::path& file, const X509* capf, const BenchRows& rows) {
    Store store = test::make_store(file);
    if (auto s = store.add_capf_certificate(capf, "bench"); !s) return s.error();
    auto& db = store.database();
    if (auto s = db.exec("BEGIN"); !s) return s.error();
    auto dev = db.prepare("INSERT INTO devices(name, created_at, updated_at) VALUES(?, 0, 0)");
    auto cert = db.prepare(
        "INSERT INTO certificates(device_name, kind, serial, fingerprint, subject, issuer, issuer_oneline, "
        "not_before, not_after, key_type, key_bits, pem, status, created_at) "
        "VALUES(?, 'lsc', ?, ?, ?, ?, ?, ?, ?, 'ec', 256, '', ?, 0)");
    if (!dev) return dev.error();
    if (!cert) return cert.error();
    for (std::size_t i = 0; i < rows.devices.size(); ++i) {
        dev->bind(1, rows.devices[i]);
        if (auto s = dev->run(); !s) return s.error();
        cert->bind(1, rows.devices[i]).bind(2, rows.serials[i]).bind(3, rows.fingerprints[i])
            .bind(4, "CN=" + rows.devices[i]).bind(5, rows.issuer).bind(6, rows.issuer_oneline)
            .bind(7, kNotBefore).bind(8, kNotAfter).bind(9, rows.statuses[i]);
        if (auto s = cert->run(); !s) return s.error();
    }
    if (auto s = db.exec("COMMIT"); !s) return s.error();
    return file.string();
}

Result<std::string> seed_postgresql(const X509* capf, const BenchRows& rows) {
    auto cluster = test::PgCluster::shared();
    if (!cluster) return cluster.error();
    auto db = (*cluster)->create_database();
    if (!db) return db.error();
    auto conn = PgConnection::connect(db->issuer);
    if (!conn) return conn.error();
    if (auto s = pg_migrate(*conn); !s) return s.error();
    auto facts = describe_certificate(capf);
    if (!facts) return facts.error();
    auto capf_row = conn->exec_params(
        "INSERT INTO lscgate.capf_certificates(fingerprint, subject, issuer, serial, not_before, not_after, pem, "
        "status, created_at) VALUES($1, $2, $3, $4, to_timestamp($5::bigint), to_timestamp($6::bigint), $7, "
        "'current', now())",
        {pg_param(facts->sha256), pg_param(facts->subject), pg_param(facts->issuer), pg_param(facts->serial_hex),
         pg_param(static_cast<std::int64_t>(facts->not_before)), pg_param(static_cast<std::int64_t>(facts->not_after)),
         pg_param(certificate_pem(capf))});
    if (!capf_row) return capf_row.error();
    // Set-based: 100 000 rows in two statements, every value bound (as text[] arrays).
    auto devices = conn->exec_params(
        "INSERT INTO lscgate.devices(name, created_at, updated_at) SELECT n, now(), now() FROM unnest($1::text[]) n",
        {pg_param(text_array(rows.devices))});
    if (!devices) return devices.error();
    auto certs = conn->exec_params(
        "INSERT INTO lscgate.certificates(device_name, kind, serial, fingerprint, subject, issuer, issuer_oneline, "
        "not_before, not_after, key_type, key_bits, pem, status, created_at) "
        "SELECT n, 'lsc', s, f, 'CN=' || n, $5, $6, to_timestamp($7::bigint), to_timestamp($8::bigint), 'ec', 256, "
        "'', st, now() FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) AS u(n, s, f, st)",
        {pg_param(text_array(rows.devices)), pg_param(text_array(rows.serials)), pg_param(text_array(rows.fingerprints)),
         pg_param(text_array(rows.statuses)), pg_param(rows.issuer), pg_param(rows.issuer_oneline), pg_param(kNotBefore),
         pg_param(kNotAfter)});
    if (!certs) return certs.error();
    if (auto analyze = conn->exec("ANALYZE"); !analyze) return analyze.error();
    return db->radius;
}

}  // namespace lscgate::bench
