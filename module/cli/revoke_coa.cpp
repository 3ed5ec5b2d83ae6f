#include "cli/revoke_coa.h"

#include "coa/coa_client.h"
#include "coa/coa_sessions.h"
#include "coa/nas_secrets.h"
#include "pki/printable.h"
#include "registry/database_setting.h"

#include <filesystem>

namespace lscgate::cli {
namespace {

// "192.0.2.10:1700", "[2001:db8::1]:1700".
std::string host_port(const std::string& nas, std::uint16_t port) {
    const bool v6 = nas.find(':') != std::string::npos;
    return (v6 ? "[" + nas + "]" : nas) + ":" + std::to_string(port);
}

// The last-seen files to read on a SQLite registry: --last-seen, else [coa] last_seen.
std::vector<std::filesystem::path> last_seen_files(const Config& cfg, const RevokeCoaOptions& options) {
    std::vector<std::filesystem::path> files(options.last_seen.begin(), options.last_seen.end());
    if (files.empty() && !cfg.coa_last_seen.empty()) files.push_back(cfg.resolve(cfg.coa_last_seen));
    return files;
}

// One NAS: build, look up its secret, send, and say how it went.
CoaReply tell_nas(const Config& cfg, const NasSecrets& secrets, const std::filesystem::path& secrets_file,
                  const CoaTarget& target, CoaMode mode, std::int64_t now, std::uint16_t& port) {
    CoaReply reply;
    port = static_cast<std::uint16_t>(cfg.coa_port);
    auto attributes = coa_attributes(target.session, mode, now);
    if (!attributes) {
        reply.error = attributes.error();
        return reply;
    }
    const NasSecret* secret = secrets.find(target.nas);
    if (secret == nullptr) {
        reply.error = fail(ErrorKind::Config, "no shared secret for NAS " + target.nas + " in " + secrets_file.string() +
                                                  " (nothing sent)");
        return reply;
    }
    port = secret->port.value_or(port);
    const CoaRequest request{mode, target.nas, port, std::move(*attributes)};
    const CoaRetry retry{cfg.coa_retries + 1, std::chrono::seconds(cfg.coa_timeout_s)};
    return send_coa(request, secret->secret, retry);
}

nlohmann::json reply_json(const CoaTarget& target, std::uint16_t port, CoaMode mode, const CoaReply& reply) {
    return {{"nas", target.nas},
            {"port", port},
            {"mode", to_string(mode)},
            {"result", to_string(reply.outcome)},
            {"tries", reply.tries},
            {"error_cause", reply.error_cause != 0 ? nlohmann::json(reply.error_cause) : nlohmann::json(nullptr)},
            {"error_cause_name", reply.error_cause != 0 ? nlohmann::json(error_cause_name(reply.error_cause))
                                                        : nlohmann::json(nullptr)},
            {"error", reply.outcome == CoaOutcome::Error ? nlohmann::json(reply.error.message) : nlohmann::json(nullptr)},
            {"calling_station_id", target.session.calling_station_id},
            {"audit_session_id", target.session.audit_session_id},
            {"node", target.session.node}};
}

}  // namespace

RevokeCoaResult send_revoke_coa(const Config& cfg, const std::string& device, const RevokeCoaOptions& options,
                                std::int64_t now) {
    RevokeCoaResult out;
    const std::string shown = escape_nonprintable(device);
    const CoaMode mode = options.mode.value_or(parse_coa_mode(cfg.coa_mode).value_or(CoaMode::Reauthenticate));
    const std::string database = cfg.database_location();
    auto rows = device_last_seen(database, last_seen_files(cfg, options), device);
    if (!rows) {
        out.error = without_database_secrets(rows.error(), database);
        return out;
    }
    const auto targets = coa_targets(*rows);
    out.targets = targets.size();
    if (targets.empty()) {
        out.lines.push_back("coa " + shown + ": not seen by any RADIUS node (no last-seen row): no session to end");
        return out;
    }
    const auto secrets_file = cfg.resolve(cfg.coa_secrets_file);
    auto secrets = NasSecrets::load(secrets_file);
    if (!secrets) {
        out.error = secrets.error();
        out.not_acked = targets.size();
        return out;
    }
    for (const auto& target : targets) {
        std::uint16_t port = 0;
        const CoaReply reply = tell_nas(cfg, *secrets, secrets_file, target, mode, now, port);
        if (reply.outcome != CoaOutcome::Ack) ++out.not_acked;
        out.lines.push_back("coa " + shown + " nas=" + host_port(escape_nonprintable(target.nas), port) + " " +
                            describe(reply));
        out.json.push_back(reply_json(target, port, mode, reply));
    }
    return out;
}

}  // namespace lscgate::cli
