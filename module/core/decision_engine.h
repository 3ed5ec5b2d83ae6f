#pragma once

// Everything a RADIUS server needs to decide one phone, built once (module
// instantiate, or again on HUP) and then used read-only by every worker thread:
// the trusted issuers, read connections to the registry, and the policy.
// A request costs at most one indexed registry lookup (plus one signature check
// when a full certificate is given); nothing here parses PEM or opens files per
// request. Every failure becomes a reject (fail closed) with the reason.

#include "core/authority_set.h"
#include "core/classifier.h"
#include "core/policy.h"
#include "core/presented_certificate.h"
#include "core/registry_reader.h"

#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

namespace lscgate {

enum class VpnNameForm { CommonName, DistinguishedName };

struct EngineConfig {
    std::filesystem::path database;     // lscgate.db
    std::filesystem::path capf_extra;   // optional PEM file/dir: more CAPF certificates to trust
    std::filesystem::path mic_roots;    // optional PEM file/dir: manufacturing roots (for the "mic" class)
    std::filesystem::path policy_file;  // optional; empty = built-in default policy
    std::size_t read_connections = 4;
    VpnNameForm vpn_user_name = VpnNameForm::CommonName;
};

class DecisionEngine {
public:
    static Result<std::unique_ptr<DecisionEngine>> create(const EngineConfig& config);

    Decision decide_eap_tls(const CertificateAttributeText& client_cert, UnixTime now) const;
    Decision decide_vpn(std::string_view user_name, UnixTime now) const;
    Decision decide_certificate(const X509* cert, UnixTime now) const;

    const AuthoritySet& authorities() const { return authorities_; }
    const Policy& policy() const { return policy_; }

private:
    DecisionEngine(AuthoritySet authorities, std::unique_ptr<RegistryReader> registry, Policy policy, VpnNameForm form)
        : authorities_(std::move(authorities)), registry_(std::move(registry)), policy_(std::move(policy)), vpn_form_(form) {}
    Decision finish(const Result<Classification>& c, UnixTime now) const;

    AuthoritySet authorities_;
    std::unique_ptr<RegistryReader> registry_;
    Policy policy_;
    VpnNameForm vpn_form_;
};

// The device a VPN User-Name stands for: the CN itself, or the CN inside a DN
// ("CN=SEP…,OU=…" or "/O=…/CN=SEP…"); SEP names upper-cased.
Result<std::string> device_from_user_name(std::string_view user_name, VpnNameForm form);

}  // namespace lscgate
