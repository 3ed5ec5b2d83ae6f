#pragma once

// Everything a RADIUS server needs to decide one phone, built once (module
// instantiate, or again on HUP) and then used read-only by every worker thread:
// the trusted issuers, read connections to the registry, and the policy.
// A request costs at most one indexed registry lookup (plus one signature check
// when a full certificate is given); nothing here parses PEM or opens files per
// request. Every failure becomes a reject (fail closed) with the reason.

#include "pki/authority_set.h"
#include "registry/last_seen_recorder.h"
#include "decide/classifier.h"
#include "decide/outcome.h"
#include "decide/policy.h"
#include "pki/presented_certificate.h"
#include "registry/registry_reader.h"
#include "pki/trust_loader.h"

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

namespace lscgate {

enum class VpnNameForm { CommonName, DistinguishedName };

struct EngineConfig {
    std::filesystem::path database;     // lscgate.db, or a PostgreSQL URI/conninfo (is_postgresql_database)
    std::filesystem::path capf_extra;   // optional PEM file/dir: more CAPF certificates to trust
    std::filesystem::path mic_roots;    // optional PEM file/dir: manufacturing roots (for the "mic" class)
    std::filesystem::path policy_file;  // optional; empty = built-in default policy
    // Where per-device "last seen" is recorded (registry/last_seen_sink.h
    // open_last_seen_sink): "" = the registry when it is PostgreSQL, else nowhere;
    // "none"; a SQLite file; a PostgreSQL conninfo.
    std::filesystem::path last_seen_database;
    std::string node_name;  // this RADIUS node in last-seen; "" = the host name
    std::size_t read_connections = 4;   // RegistryReaderOptions::connections
    // PostgreSQL: how long a device seen before a registry outage is still
    // answered from its last known row (RegistryReaderOptions::outage_grace); 0:
    // fail closed at once.
    std::chrono::seconds registry_outage_grace{0};
    // PostgreSQL: watch the registry's change notifications and answer a
    // device whose remembered row is unchanged without a round trip
    // (RegistryReaderOptions::change_watch); false: read the counter per request.
    bool registry_change_watch = true;
    VpnNameForm vpn_user_name = VpnNameForm::CommonName;
    // How often a background thread checks the registry for a CAPF rotation and
    // rebuilds the trust set (0: only at creation, i.e. module instantiate/HUP).
    std::chrono::milliseconds trust_refresh{std::chrono::seconds(10)};
    // Where the registry reader reports that its files changed (reopened, or
    // refused with the cause) or that a PostgreSQL outage began or ended; once
    // per change. Empty: not reported.
    RegistryReader::LogSink log;
};

// An attribute the module reads that arrived with more than one value.
struct RepeatedAttribute {
    std::string_view name;  // dictionary name, e.g. "TLS-Client-Cert-Serial"
    unsigned count = 0;     // how many values it carried (> 1)
};

// One RADIUS request as the FreeRADIUS glue sees it.
enum class RadiusHook { Authorize, PostAuth };
struct RadiusRequest {
    RadiusHook hook = RadiusHook::Authorize;
    bool eap_in_progress = false;          // EAP-Message present
    CertificateAttributeText client_cert;  // TLS-Client-Cert-*, empty views when absent (first value of each)
    std::string_view user_name;
    std::string_view nas;
    // Every single-valued attribute above that carried more than one value. Any
    // entry makes the request ambiguous: it is refused, never decided on the first
    // value (FreeRADIUS 3.2.1 adds a second set of TLS-Client-Cert-* values when
    // the client sends its chain).
    std::vector<RepeatedAttribute> repeated{};
    std::string_view eap_type{};  // EAP-Type as FreeRADIUS names it ("TLS", "MD5", "PEAP"), "" when absent
    bool eap_success_in_reply = false;  // post-auth: rlm_eap already put an EAP-Success in the reply
    // For last-seen only, never part of the decision (first value of each; "" when absent):
    std::string_view calling_station_id{};          // Calling-Station-Id, RFC 2865 §5.31
    std::string_view nas_port_id{};                 // NAS-Port-Id, RFC 2869 §5.17
    std::string_view acct_session_id{};             // Acct-Session-Id, RFC 2866 §5.5
    std::vector<std::string_view> cisco_avpairs{};  // every Cisco-AVPair value (audit-session-id=…), seen_facts.h
    // false: leave log_line empty for a plain accept (lsc-valid), which the glue
    // logs only in debug output - building and escaping it was about a fifth of
    // the module's CPU per VPN request (scripts/bench radius, perf).
    bool log_plain_accepts = true;
};

// What the glue does with it (decide/outcome.h): Noop when there is nothing to decide on yet.
struct RadiusAnswer {
    RadiusOutcome outcome = RadiusOutcome::Error;
    Decision decision;  // class, reason, reply attributes (empty for Noop)
    // Who the log line names: the device, else "(no CN) <full subject>", else "-".
    std::string subject_label;
    // The one line the glue logs (at normal level for Reject and Error), e.g.
    // "reject [mic] SEP001122334455: MIC CP-8841-SEP… from … (NAS 192.0.2.1)".
    std::string log_line;
};

class DecisionEngine {
public:
    /// Opens the registry reader, trust material, policy and last-seen recorder
    /// of `config`. Errors: Config for a database or last_seen_database setting
    /// libpq cannot parse (validate_database_setting) and the open errors of each
    /// part; no message carries a password of either setting.
    static Result<std::unique_ptr<DecisionEngine>> create(const EngineConfig& config);
    ~DecisionEngine();
    DecisionEngine(const DecisionEngine&) = delete;
    DecisionEngine& operator=(const DecisionEngine&) = delete;

    // Routes a request: certificate attributes → EAP-TLS decision; a plain request
    // with a User-Name in authorize → VPN decision; an EAP conversation still
    // running, or post-auth without a certificate → Noop. Records "last seen".
    RadiusAnswer decide_request(const RadiusRequest& request, UnixTime now) const;

    Decision decide_eap_tls(const CertificateAttributeText& client_cert, UnixTime now) const;
    Decision decide_vpn(std::string_view user_name, UnixTime now) const;
    Decision decide_device(const std::string& device, UnixTime now) const;  // an already parsed device name
    Decision decide_certificate(const X509* cert, UnixTime now) const;

    // The trust set in use now (shared: a refresh never pulls it from under a request).
    std::shared_ptr<const AuthoritySet> authorities() const;
    const Policy& policy() const { return policy_; }
    // What the policy and the configured certificates promise that the TLS layer of
    // an 802.1X (EAP-TLS) server cannot keep (see eap_tls_limits.h): one text per
    // problem, naming the setting, why, and what to do. For the module's load.
    std::vector<std::string> load_warnings(UnixTime now) const;
    // Checks the registry for a CAPF change now and rebuilds the trust set if there
    // was one; returns whether it changed. The background thread calls this.
    Result<bool> refresh_trust();
    std::string last_refresh_error() const {
        std::lock_guard lock(trust_mutex_);
        return last_refresh_error_;
    }

private:
    /// create() without the redaction of its errors.
    static Result<std::unique_ptr<DecisionEngine>> create_unredacted(const EngineConfig& config);
    DecisionEngine(std::unique_ptr<RegistryReader> registry, Policy policy, const EngineConfig& config,
                   TrustLoader trust_loader, std::unique_ptr<LastSeenRecorder> recorder);
    Decision finish(const Result<Classification>& c, UnixTime now) const;
    RadiusAnswer route_request(const RadiusRequest& request, UnixTime now) const;  // decide_request without the bookkeeping
    void refresh_loop();

    std::unique_ptr<RegistryReader> registry_;
    Policy policy_;
    VpnNameForm vpn_form_;
    TrustLoader trust_loader_;
    std::unique_ptr<LastSeenRecorder> recorder_;

    mutable std::mutex trust_mutex_;
    std::shared_ptr<const AuthoritySet> authorities_;
    std::string trust_signature_;
    std::string last_refresh_error_;

    std::chrono::milliseconds refresh_interval_;
    std::mutex stop_mutex_;
    std::condition_variable stop_cv_;
    bool stopping_ = false;
    std::thread refresher_;
};

// The device a VPN User-Name stands for: the CN itself, or the CN inside a DN
// ("CN=SEP…,OU=…" or "/O=…/CN=SEP…"); SEP names upper-cased.
Result<std::string> device_from_user_name(std::string_view user_name, VpnNameForm form);

}  // namespace lscgate
