#pragma once

// The checks of `lscgate doctor`, one group per file. Each adds findings to the
// report and never throws; a check that cannot run says so as a finding.

#include "cli/doctor_report.h"
#include "pki/certificate.h"
#include "registry/config.h"
#include "registry/records.h"

#include <optional>

#include <string>

namespace lscgate::cli::doctor {

/// [capf] cert and key (doctor_capf.cpp): loadable and a pair, not expired or
/// expiring within 30 days of `now`, CA:TRUE with pathlen:0 and keyCertSign, not a
/// weak key or SHA-1 signature (OpenSSL security level 2, pki/key_strength.h).
void check_capf_certificate(const Config& cfg, UnixTime now, Report& report);

/// The keys kept for previous CAPFs' CRLs, capf-<SHA16>.key beside [capf] key
/// (doctor_kept_keys.cpp, capf/crl_scope.h): one of a retired CAPF or of none
/// in the registry (warning: delete it), one readable by others (failure), a
/// previous CAPF without one (warning: it gets no CRL).
void check_kept_capf_keys(const Config& cfg, Report& report);

/// --itl FILE (doctor_itl.cpp): parses; signed and the signature checks out; its CAPF
/// record is the configured CAPF certificate ("No valid CAPF server" /
/// "LSC: Connection Failed" when not).
void check_itl(const Config& cfg, const std::string& path, Report& report);

/// --capf-host NAME (doctor_network.cpp): resolves (A and AAAA) and to an address
/// `serve` listens on ([server] listen).
void check_capf_host(const Config& cfg, const std::string& host, Report& report);

/// `serve` on [server] listen (doctor_network.cpp): accepts TCP and completes a TLS
/// handshake presenting the configured CAPF certificate.
void check_serve(const Config& cfg, Report& report);

/// Where doctor --device reads what RADIUS last saw of a phone (registry/last_seen_sink.h).
struct SeenSource {
    std::string file;   ///< --last-seen: a node's SQLite last-seen file, or a PostgreSQL conninfo
    std::string raddb;  ///< --raddb: the lscgate module's last_seen_database (or its PostgreSQL registry)
};

/// --device NAME (doctor_device.cpp): registered; lockout; its open operation (mode,
/// deadline: Late/Timedout); a mode asking for an existing certificate (LSC) while
/// the registry knows no LSC of the phone; the active LSC; the last few operations
/// with their outcomes and causes (the registry keeps no per-session table: each
/// operation holds its last session's outcome); what RADIUS last saw (check_last_seen).
void check_device(const Config& cfg, const std::string& name, const SeenSource& seen, UnixTime now, Report& report);

/// What RADIUS last saw of `name` (doctor_device_seen.cpp), from `seen`, else the
/// PostgreSQL registry's lscgate.last_seen: fail device.seen-mic when the newest
/// record (any node) is class mic although `lsc` (its active LSC) was recorded
/// before it - the phone does not present its LSC for 802.1X; warn device.seen-refused
/// for another refused class; ok otherwise, or when nothing can be read (said why).
void check_last_seen(const Config& cfg, const std::string& name, const std::optional<CertificateRecord>& lsc,
                     const SeenSource& seen, Report& report);

/// --raddb DIR (doctor_raddb.cpp): eap's ca_file holds exactly the trusted CAPF
/// certificates and MIC roots (no public bundle, no ca_path, no retired CAPF), session
/// cache off, check-eap-tls wired to the lscgate module, reject_unknown_intermediate_ca
/// on FreeRADIUS < 3.2.7, cipher_list security level against the active LSCs' keys,
/// the module's SQLite database readable by freerad; and what TLS refuses before any
/// policy at `now` (doctor_raddb_tls.h): expired/expiring active LSCs and MIC roots,
/// weak MIC roots, grace/MIC policies TLS makes impossible, eap trusting the MIC roots.
void check_raddb(const Config& cfg, const std::string& dir, UnixTime now, Report& report);

}  // namespace lscgate::cli::doctor
