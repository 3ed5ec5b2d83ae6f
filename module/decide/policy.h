#pragma once

// The RADIUS policy: per certificate class an action, an expiry grace period,
// and the reply attributes that switches and ASAs understand.

#include "decide/cert_class.h"
#include "decide/classifier.h"
#include "decide/outcome.h"
#include "pki/result.h"

#include <array>
#include <filesystem>
#include <string>
#include <vector>

namespace lscgate {

struct PolicyAction {
    enum class Kind { Accept, Reject, Restrict, AllowUntil } kind = Kind::Reject;
    UnixTime until = 0;  // AllowUntil: accepted up to this instant, rejected after
};

/// The action as the policy file writes it, quoted: "accept", "reject",
/// "restrict", "allow-until 2027-01-31" (doctor findings and warnings quote it).
std::string action_text(const PolicyAction& a);

struct ReplyAttribute {
    std::string name;   // FreeRADIUS dictionary name, e.g. "Tunnel-Private-Group-Id"
    std::string value;
};

struct ReplySet {
    std::string vlan;                       // → Tunnel-Type, Tunnel-Medium-Type, Tunnel-Private-Group-Id
    std::vector<std::string> cisco_avpair;  // → Cisco-AVPair
    std::string filter_id;                  // → Filter-Id
    std::vector<ReplyAttribute> extra;      // [accept.attributes] name = "value"
    std::vector<ReplyAttribute> attributes() const;
};

struct Decision {
    // Accept, Restrict or Reject: the policy never answers Noop or Error (a failed
    // decision is Reject with `error` set; the engine reports it as Error).
    RadiusOutcome verdict = RadiusOutcome::Reject;
    CertClass cls = CertClass::UnknownIssuer;
    std::string reason;
    std::string device;  // the device this was about, when known (registry name, or from the CN)
    std::vector<ReplyAttribute> reply;
    bool error = false;  // the decision failed (store unreadable, ...): rejected, logged as an error
};

class Policy {
public:
    // The built-in default: only lsc-valid is accepted (voice traffic class), everything else rejected.
    static Policy defaults();
    static Result<Policy> parse(const std::string& toml_text, const std::string& origin);
    static Result<Policy> load(const std::filesystem::path& file);

    Decision decide(const Classification& c, UnixTime now) const;  // sets everything but `device`

    const PolicyAction& action(CertClass c) const { return actions_[static_cast<std::size_t>(c)]; }
    long grace_seconds() const { return grace_seconds_; }

private:
    std::array<PolicyAction, kAllCertClasses.size()> actions_{};
    long grace_seconds_ = 0;
    ReplySet accept_;
    ReplySet restrict_;
};

std::string default_policy_text();

}  // namespace lscgate
