#pragma once

// doctor --raddb, what eap's TLS layer refuses before rlm_lscgate runs
// (decide/eap_tls_limits.h): OpenSSL verifies every client chain against
// ca_file (X509_verify_cert, from rlm_eap_tls) and refuses certificates past
// notAfter ("certificate has expired") and, at the cipher_list security level,
// weak keys and SHA-1 signatures, before any policy can speak.

#include "cli/doctor_report.h"
#include "cli/raddb_reader.h"
#include "registry/config.h"
#include "registry/store.h"

namespace lscgate::cli::doctor {

/// Active LSCs of the registry (`store`, may be null: skipped) already past notAfter
/// (fail raddb.lsc-expired) or within 30 days of it (warn raddb.lsc-expiring).
void check_lsc_expiry(Store* store, UnixTime now, Report& report);

/// The module's mic_roots (mods-enabled/lscgate) and policy against eap's TLS:
///  - raddb.mic-root-expired / -expiring / -weak (key below the security level, or
///    SHA-1 signed, so are its MICs): Fail when the policy lets MICs in (the
///    allowance is impossible), else Warn (phones are refused either way, but by
///    TLS: no `lscgate` line, nothing in last-seen);
///  - raddb.policy-grace, raddb.policy-lsc-expired (grace_days, lsc-expired /
///    lsc-not-yet-valid actions: VPN only), raddb.accept-expired-mic (lscgate.toml's
///    [auth] accept_expired_mic with a MIC allowance: CAPF only), raddb.policy-mic-untrusted
///    (a MIC allowance whose roots eap's ca_file lacks), raddb.policy-mic-no-roots;
///  - raddb.ca-file-mic-roots / raddb.ca-path-mic-roots: eap's ca_file is the
///    MIC roots bundle, or ca_path the MIC roots directory (TLS trusts every
///    certificate the manufacturing CA ever signed, and no LSC).
/// `cfg` gives lscgate.toml's own mic_roots and accept_expired_mic.
void check_mic_roots_and_policy(const Config& cfg, const RaddbConfig& raddb, UnixTime now, Report& report);

}  // namespace lscgate::cli::doctor
