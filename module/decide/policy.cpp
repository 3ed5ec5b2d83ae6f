#include "decide/policy.h"

#include "pki/secure_file.h"
#include "pki/time_text.h"
#include "registry/toml_reader.h"

#include <toml++/toml.h>

#include <sstream>

namespace lscgate {

std::vector<ReplyAttribute> ReplySet::attributes() const {
    std::vector<ReplyAttribute> out;
    if (!vlan.empty()) {
        // RFC 3580 dynamic VLAN: what Cisco, Aruba, Juniper... switches read.
        out.push_back({"Tunnel-Type", "VLAN"});
        out.push_back({"Tunnel-Medium-Type", "IEEE-802"});
        out.push_back({"Tunnel-Private-Group-Id", vlan});
    }
    for (const auto& av : cisco_avpair) out.push_back({"Cisco-AVPair", av});
    if (!filter_id.empty()) out.push_back({"Filter-Id", filter_id});
    out.insert(out.end(), extra.begin(), extra.end());
    return out;
}

std::string default_policy_text() {
    return R"(# lscgate RADIUS policy. Classes and what happens to each:
#   accept | reject | restrict | "allow-until YYYY-MM-DD" (accept until the end of that day, UTC)
# Which path honours what: over 802.1X (EAP-TLS) the TLS layer checks the client's
# chain before rlm_lscgate runs and refuses expired and not-yet-valid certificates
# (LSCs and MICs alike) and, at OpenSSL security level 2, RSA keys below 2048 bits
# and SHA-1 signatures. So grace_days and the lsc-expired / lsc-not-yet-valid
# actions apply to VPN authorization only, and a MIC allowance only to MICs that
# TLS accepts. "restrict" applies to 802.1X only (VPN: reject). The module logs a
# warning at load for every setting here that 802.1X cannot honour.
[actions]
lsc-valid = "accept"          # chains to our CAPF, active in the registry, within validity
lsc-unconfirmed = "accept"    # as lsc-valid, but issued and never confirmed (the server died before
                              # recording the phone's "stored" answer); newer than the active LSC.
                              # EAP-TLS only: refused on the VPN path whatever this says
lsc-revoked = "reject"
lsc-superseded = "reject"     # replaced by a newer LSC, or deleted from the phone
lsc-expired = "reject"        # see [expiry] grace_days
lsc-not-yet-valid = "reject"
lsc-unregistered = "reject"   # chains to our CAPF, unknown to the registry
lsc-foreign = "reject"        # LSC from a CAPF we do not trust (another cluster, forged)
mic = "reject"                # bare MIC: "restrict" for an enrolment VLAN, or "allow-until 2027-03-31"
unknown-issuer = "reject"

[expiry]
grace_days = 0                # accept an expired LSC this many days after notAfter (as lsc-valid); VPN only

[accept]                      # reply attributes for accepted phones
vlan = ""                     # voice VLAN: Tunnel-Type=VLAN, Tunnel-Medium-Type=IEEE-802, Tunnel-Private-Group-Id
cisco_avpair = ["device-traffic-class=voice"]
filter_id = ""

[restrict]                    # reply attributes for "restrict" (e.g. the enrolment VLAN)
vlan = ""
cisco_avpair = []
filter_id = ""
)";
}

Policy Policy::defaults() {
    auto p = parse(default_policy_text(), "built-in policy");
    return std::move(*p);  // the built-in text is tested; it always parses
}

namespace {

Result<PolicyAction> parse_action(std::string_view text) {
    PolicyAction a;
    if (text == "accept") a.kind = PolicyAction::Kind::Accept;
    else if (text == "reject") a.kind = PolicyAction::Kind::Reject;
    else if (text == "restrict") a.kind = PolicyAction::Kind::Restrict;
    else if (text.rfind("allow-until ", 0) == 0) {
        auto day = parse_time_text(std::string(text.substr(12)) + "T23:59:59Z", 0);
        if (!day) return fail("invalid date in '" + std::string(text) + "' (use allow-until YYYY-MM-DD)");
        a.kind = PolicyAction::Kind::AllowUntil;
        a.until = *day;
    } else {
        return fail("invalid action '" + std::string(text) + "' (accept, reject, restrict or allow-until YYYY-MM-DD)");
    }
    return a;
}

Result<ReplySet> parse_reply(const toml::table& t, std::string_view section) {
    ReplySet r;
    const auto* sec = t[section].as_table();
    if (sec == nullptr) return r;
    for (const auto& [key, node] : *sec) {
        const std::string k(key.str());
        if (k == "vlan") {
            if (auto v = node.value<std::string>()) r.vlan = *v;
            else if (auto n = node.value<int64_t>()) r.vlan = std::to_string(*n);
            else return fail("[" + std::string(section) + "] vlan must be a string or a number");
        } else if (k == "filter_id") {
            auto v = node.value<std::string>();
            if (!v) return fail("[" + std::string(section) + "] filter_id must be a string");
            r.filter_id = *v;
        } else if (k == "cisco_avpair") {
            const auto* arr = node.as_array();
            if (arr == nullptr) return fail("[" + std::string(section) + "] cisco_avpair must be a list of strings");
            for (const auto& e : *arr) {
                auto v = e.value<std::string>();
                if (!v) return fail("[" + std::string(section) + "] cisco_avpair must be a list of strings");
                r.cisco_avpair.push_back(*v);
            }
        } else if (k == "attributes") {
            const auto* attrs = node.as_table();
            if (attrs == nullptr) return fail("[" + std::string(section) + ".attributes] must be a table");
            for (const auto& [name, value] : *attrs) {
                auto v = value.value<std::string>();
                if (!v) return fail("[" + std::string(section) + ".attributes] " + std::string(name.str()) + " must be a string");
                r.extra.push_back({std::string(name.str()), *v});
            }
        } else {
            return fail("[" + std::string(section) + "] unknown key '" + k + "'");
        }
    }
    return r;
}

}  // namespace

Result<Policy> Policy::parse(const std::string& toml_text, const std::string& origin) {
    toml::table t;
    try {
        t = toml::parse(toml_text, origin);
    } catch (const toml::parse_error& e) {
        std::ostringstream os;
        os << origin << ":" << e.source().begin.line << ": " << e.description();
        return fail(os.str());
    }
    Policy p;
    // Anything not named is rejected: an incomplete policy fails closed.
    for (auto& a : p.actions_) a.kind = PolicyAction::Kind::Reject;
    if (const auto* actions = t["actions"].as_table()) {
        for (const auto& [key, node] : *actions) {
            auto cls = parse_cert_class(key.str());
            if (!cls) return fail(origin + ": [actions] " + cls.message());
            auto text = node.value<std::string>();
            if (!text) return fail(origin + ": [actions] " + std::string(key.str()) + " must be a string");
            auto action = parse_action(*text);
            if (!action) return fail(origin + ": [actions] " + std::string(key.str()) + ": " + action.message());
            p.actions_[static_cast<std::size_t>(*cls)] = *action;
        }
    }
    // The same strict reader as lscgate.toml: ranges with FILE:LINE, unknown keys refused.
    TomlReader reader(t, origin);
    std::int64_t grace_days = 0;
    if (auto s = reader.integer("expiry", "grace_days", 0, 365, grace_days); !s) return s.error();
    p.grace_seconds_ = static_cast<long>(grace_days) * 86400;
    auto accept = parse_reply(t, "accept");
    if (!accept) return fail(origin + ": " + accept.message());
    auto restrict = parse_reply(t, "restrict");
    if (!restrict) return fail(origin + ": " + restrict.message());
    p.accept_ = std::move(*accept);
    p.restrict_ = std::move(*restrict);
    // [actions], [accept] and [restrict] check their own keys above.
    for (const char* section : {"actions", "accept", "restrict"}) reader.claim_section(section);
    if (auto s = reader.reject_unknown(); !s) return s.error();
    return p;
}

Result<Policy> Policy::load(const std::filesystem::path& file) {
    auto text = read_text_file(file, 1024 * 1024);
    if (!text) return text.error();
    return parse(*text, file.string());
}

Decision Policy::decide(const Classification& c, UnixTime now) const {
    Decision d;
    d.cls = c.cls;
    d.reason = c.reason;
    const PolicyAction* a = &action(c.cls);
    if (c.cls == CertClass::LscExpired && grace_seconds_ > 0 && c.not_after && now - *c.not_after <= grace_seconds_) {
        a = &action(CertClass::LscValid);
        d.reason += " (within the " + std::to_string(grace_seconds_ / 86400) + "-day expiry grace)";
    }
    switch (a->kind) {
        case PolicyAction::Kind::Accept: d.verdict = RadiusOutcome::Accept; break;
        case PolicyAction::Kind::Reject: d.verdict = RadiusOutcome::Reject; break;
        case PolicyAction::Kind::Restrict: d.verdict = RadiusOutcome::Restrict; break;
        case PolicyAction::Kind::AllowUntil:
            d.verdict = now <= a->until ? RadiusOutcome::Accept : RadiusOutcome::Reject;
            d.reason += (d.verdict == RadiusOutcome::Accept ? " (allowed until " : " (allowance ended ") + format_utc(a->until) + ")";
            break;
    }
    if (d.verdict == RadiusOutcome::Accept) d.reply = accept_.attributes();
    if (d.verdict == RadiusOutcome::Restrict) d.reply = restrict_.attributes();
    return d;
}

std::string action_text(const PolicyAction& a) {
    switch (a.kind) {
        case PolicyAction::Kind::Accept: return "\"accept\"";
        case PolicyAction::Kind::Reject: return "\"reject\"";
        case PolicyAction::Kind::Restrict: return "\"restrict\"";
        case PolicyAction::Kind::AllowUntil: return "\"allow-until " + format_utc(a.until).substr(0, 10) + "\"";
    }
    return "\"reject\"";
}

}  // namespace lscgate
