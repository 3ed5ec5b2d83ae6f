#pragma once

#include "cli/cli_context.h"

#include <CLI/CLI.hpp>

namespace lscgate::cli {

void add_init_command(CLI::App& app, CliContext& ctx);
void add_capf_command(CLI::App& app, CliContext& ctx);
/// `capf sessions [--device NAME] [--since TIME] [--limit N] [--json]`, under the
/// `capf` command (cmd_capf_sessions.cpp): the recorded CAPF sessions, newest first.
void add_capf_sessions_command(CLI::App& capf, CliContext& ctx);
void add_serve_command(CLI::App& app, CliContext& ctx);
void add_device_command(CLI::App& app, CliContext& ctx);
// `device seen`, under the `device` command (cmd_device_seen.cpp).
void add_device_seen_command(CLI::App& device, CliContext& ctx);
void add_op_command(CLI::App& app, CliContext& ctx);
void add_cert_command(CLI::App& app, CliContext& ctx);
/// `cert purge-stale` (cmd_report.cpp): revokes stale (unconfirmed) LSCs, issue 10 item 5.
void add_cert_purge_stale_command(CLI::App& cert, CliContext& ctx);
/// `cert adopt` (cmd_cert_adopt.cpp): a fetched LSC becomes the device's active LSC, issue 10 item 8.
void add_cert_adopt_command(CLI::App& cert, CliContext& ctx);
/// `report lsc|stale|foreign` (cmd_report.cpp): the fleet reports, issue 10 item 5.
void add_report_command(CLI::App& app, CliContext& ctx);
void add_phone_command(CLI::App& app, CliContext& ctx);
void add_audit_command(CLI::App& app, CliContext& ctx);
void add_revoke_command(CLI::App& app, CliContext& ctx);
void add_registry_command(CLI::App& app, CliContext& ctx);
// `itl show / verify / check-capf` (cmd_itl.cpp).
void add_itl_command(CLI::App& app, CliContext& ctx);
// `doctor` (cmd_doctor.cpp, checks in doctor_*.cpp).
void add_doctor_command(CLI::App& app, CliContext& ctx);
void add_crl_command(CLI::App& app, CliContext& ctx);

/// What renew_crl left in one CRL file.
struct CrlSummary {
    bool renewed = false;
    std::int64_t number = 0;
    std::size_t entries = 0;
    UnixTime this_update = 0;
    UnixTime next_update = 0;
    std::string file;
    std::string der;
    std::string capf;  ///< "current CAPF CN=… (SHA-256 …)" (capf/crl_scope.h CrlIssuer::label)
    /// The previous CAPFs' CRLs (in the current one's summary only).
    std::vector<CrlSummary> previous;
    /// The CAPFs that get no CRL: which revocations cannot be published, and why.
    std::vector<std::string> unpublished;
};
/// Renews the CRLs of ctx's directory when due (or `force`), from the
/// registry, each signed by its own CAPF's key (cmd_crl.cpp): the current
/// CAPF's ([crl] file) and each previous CAPF's. Errors: config, CAPF key,
/// registry, file system, a current CAPF certificate that cannot sign CRLs.
Result<CrlSummary> renew_crl(CliContext& ctx, bool force);
/// Before a rotation replaces [capf] key (`init --force`, `capf import`):
/// keeps the CAPF key that is about to become previous as capf-<SHA16>.key
/// (0600) beside it, so that CAPF still signs the CRL of its LSCs until `capf
/// retire` (capf/crl_scope.h). `replacing_with`: the SHA-256 of the incoming
/// certificate (nothing is kept when it is the same one). Returns the line to
/// print: where the key was kept, or why not (missing, another certificate's,
/// unwritable); "" when there was no CAPF yet. Never stops the rotation.
std::string keep_previous_capf_key(const Config& cfg, const std::string& replacing_with);
// `check`: the expiry monitoring plugin (cmd_check.cpp).
void add_check_command(CLI::App& app, CliContext& ctx);

}  // namespace lscgate::cli
