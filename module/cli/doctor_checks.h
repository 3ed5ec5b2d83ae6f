#pragma once

// The checks of `lscgate doctor`, one group per file. Each adds findings to the
// report and never throws; a check that cannot run says so as a finding.

#include "cli/doctor_report.h"
#include "pki/certificate.h"
#include "registry/config.h"

#include <string>

namespace lscgate::cli::doctor {

/// [capf] cert and key (doctor_capf.cpp): loadable and a pair, not expired or
/// expiring within 30 days of `now`, CA:TRUE with pathlen:0 and keyCertSign, not a
/// weak key or SHA-1 signature (OpenSSL security level 2, pki/key_strength.h).
void check_capf_certificate(const Config& cfg, UnixTime now, Report& report);

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

/// --device NAME (doctor_device.cpp): registered; lockout; its open operation (mode,
/// deadline: Late/Timedout); a mode asking for an existing certificate (LSC) while
/// the registry knows no LSC of the phone; the active LSC; last session cause.
void check_device(const Config& cfg, const std::string& name, UnixTime now, Report& report);

/// --raddb DIR (doctor_raddb.cpp): eap's ca_file holds exactly the trusted CAPF
/// certificates and MIC roots (no public bundle, no ca_path, no retired CAPF), session
/// cache off, check-eap-tls wired to the lscgate module, reject_unknown_intermediate_ca
/// on FreeRADIUS < 3.2.7, cipher_list security level against the active LSCs' keys,
/// the module's SQLite database readable by freerad.
void check_raddb(const Config& cfg, const std::string& dir, Report& report);

}  // namespace lscgate::cli::doctor
