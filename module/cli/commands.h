#pragma once

#include "cli/cli_context.h"

#include <CLI/CLI.hpp>

namespace lscgate::cli {

void add_init_command(CLI::App& app, CliContext& ctx);
void add_capf_command(CLI::App& app, CliContext& ctx);
void add_serve_command(CLI::App& app, CliContext& ctx);
void add_device_command(CLI::App& app, CliContext& ctx);
// `device seen`, under the `device` command (cmd_device_seen.cpp).
void add_device_seen_command(CLI::App& device, CliContext& ctx);
void add_op_command(CLI::App& app, CliContext& ctx);
void add_cert_command(CLI::App& app, CliContext& ctx);
void add_phone_command(CLI::App& app, CliContext& ctx);
void add_audit_command(CLI::App& app, CliContext& ctx);
void add_revoke_command(CLI::App& app, CliContext& ctx);
void add_registry_command(CLI::App& app, CliContext& ctx);
// `check`: the expiry monitoring plugin (cmd_check.cpp).
void add_check_command(CLI::App& app, CliContext& ctx);

}  // namespace lscgate::cli
