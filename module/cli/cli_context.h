#pragma once

#include "registry/config.h"
#include "pki/result.h"
#include "registry/store.h"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

namespace lscgate::cli {

// Exit codes: 0 ok, 1 error (bad argument, missing file, database trouble),
// 2 the operation ran but was refused (phone rejected, nothing issued).
inline constexpr int kExitOk = 0;
inline constexpr int kExitError = 1;
inline constexpr int kExitRefused = 2;
// 3: `audit verify` found the audit trail's hash chain broken (edited, deleted,
// inserted or reordered rows).
inline constexpr int kExitTampered = 3;
// 4: `revoke --disconnect` committed the revocation, but a NAS did not answer the
// Change of Authorization with an ACK (NAK, timeout, no secret, last-seen unreadable).
inline constexpr int kExitCoaNotAcked = 4;

/// `j` as JSON text (`indent` < 0: one line). Strings from outside (file names,
/// ITL names, a registry row) may hold invalid UTF-8, on which nlohmann-json's
/// default dump throws (type_error 316): such bytes are written as U+FFFD
/// instead, so every JSON output is valid and never stops half-way.
inline std::string json_text(const nlohmann::json& j, int indent = -1) {
    return j.dump(indent, ' ', false, nlohmann::json::error_handler_t::replace);
}

struct CliContext {
    std::string dir;
    std::optional<std::string> database;  // --database: overrides LSCGATE_DATABASE and [store] database
    bool json = false;
    int exit_code = kExitOk;

    /// lscgate.toml of dir with the database setting in force (--database >
    /// LSCGATE_DATABASE > [store] database > "lscgate.db"), validated.
    Result<Config> config() const;
    /// The registry of config(), opened read-write; messages never show a password.
    Result<Store> store() const;
    int error(const std::string& message);  // prints "lscgate: message" to stderr, returns kExitError
    void print_json(const nlohmann::json& j) const { std::cout << json_text(j, 2) << std::endl; }
};

std::string actor_name();  // who is running the command, for the audit trail

}  // namespace lscgate::cli
