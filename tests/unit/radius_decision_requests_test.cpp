// RADIUS requests as rlm_lscgate hands them over: routing by hook and EAP state,
// last seen, what FreeRADIUS 3.2.1 gets wrong (repeated attributes, a CA's CN
// for a certificate without one, another EAP method), one log line per refusal,
// the VPN path by User-Name, and parsing the attribute text itself.

#include "decide/decision_engine.h"
#include "decide/request_refusals.h"
#include "pki/presented_certificate.h"
#include "radius_decision_fixture.h"
#include "test_support.h"

#include <gtest/gtest.h>

#include <fstream>
#include <string>
#include <string_view>
#include <vector>

using namespace lscgate;
using lscgate::test::AttributeStrings;
using lscgate::test::freeradius_attributes;
using lscgate::test::RadiusDecision;

namespace {

TEST_F(RadiusDecision, RequestRoutingAndLastSeen) {
    auto lsc = enroll("SEP001122334455", capf);
    auto mic = test::make_leaf(mic_root, phone_key.get(), "CN=CP-8841-SEP0011223344AA,O=Cisco Systems Inc.");
    EngineConfig cfg;
    cfg.database = db;
    cfg.mic_roots = dir / "mic-roots.pem";
    cfg.last_seen_database = dir / "seen.db";
    auto created = DecisionEngine::create(cfg);
    ASSERT_TRUE(created) << created.message();
    auto& e = **created;

    const auto lsc_attrs = freeradius_attributes(lsc.get());
    RadiusRequest eap{RadiusHook::Authorize, false, lsc_attrs.view(), "SEP001122334455", "192.0.2.10"};
    const RadiusAnswer a = e.decide_request(eap, now);
    EXPECT_EQ(a.outcome, RadiusOutcome::Accept) << a.decision.reason;
    EXPECT_EQ(a.decision.device, "SEP001122334455");
    eap.hook = RadiusHook::PostAuth;
    EXPECT_EQ(e.decide_request(eap, now).outcome, RadiusOutcome::Accept);

    const auto mic_attrs = freeradius_attributes(mic.get());
    const RadiusAnswer m = e.decide_request({RadiusHook::Authorize, false, mic_attrs.view(), {}, "192.0.2.11"}, now);
    EXPECT_EQ(m.outcome, RadiusOutcome::Reject);
    EXPECT_EQ(m.decision.device, "SEP0011223344AA");  // from the MIC's CN

    EXPECT_EQ(e.decide_request({RadiusHook::Authorize, true, {}, "SEP001122334455", "n"}, now).outcome, RadiusOutcome::Noop);
    EXPECT_EQ(e.decide_request({RadiusHook::PostAuth, false, {}, "SEP001122334455", "n"}, now).outcome, RadiusOutcome::Noop);
    EXPECT_EQ(e.decide_request({RadiusHook::Authorize, false, {}, {}, "n"}, now).outcome, RadiusOutcome::Noop);
    CertificateAttributeText broken = lsc_attrs.view();
    broken.expiration = "garbage";
    EXPECT_EQ(e.decide_request({RadiusHook::Authorize, false, broken, {}, "n"}, now).outcome, RadiusOutcome::Error);
    EXPECT_EQ(e.decide_request({RadiusHook::Authorize, false, {}, "SEP001122334455", "198.51.100.1"}, now).outcome,
              RadiusOutcome::Accept);

    created->reset();  // the recorder flushes on the way out
    auto seen = LastSeenRecorder::read_all(dir / "seen.db");
    ASSERT_TRUE(seen) << seen.message();
    ASSERT_EQ(seen->size(), 2u);  // SEP001122334455 and SEP0011223344AA
    const auto find = [&](const std::string& name) -> const SeenRecord* {
        for (const auto& r : *seen)
            if (r.last.device == name) return &r;
        return nullptr;
    };
    const SeenRecord* phone = find("SEP001122334455");
    ASSERT_NE(phone, nullptr);
    EXPECT_EQ(phone->count, 3);  // EAP authorize, the broken request, VPN; post-auth is not counted twice
    EXPECT_EQ(phone->last.nas, "198.51.100.1");
    EXPECT_EQ(phone->last.cls, "lsc-valid");
    const SeenRecord* micd = find("SEP0011223344AA");
    ASSERT_NE(micd, nullptr);
    EXPECT_EQ(micd->last.cls, "mic");
}

// Issue 6 item 8a: an unpatched FreeRADIUS 3.2.1 gives two values per
// TLS-Client-Cert-* attribute when the client sends its chain; a NAS may repeat
// User-Name. Never decide on the first value: refuse, naming the attribute.
TEST_F(RadiusDecision, RepeatedAttributesAreRefusedNamingTheCause) {
    auto lsc = enroll("SEP001122334455", capf);
    auto e = engine();
    const auto attrs = freeradius_attributes(lsc.get());
    RadiusRequest eap{RadiusHook::Authorize, false, attrs.view(), "SEP001122334455", "192.0.2.10"};
    ASSERT_EQ(e->decide_request(eap, now).outcome, RadiusOutcome::Accept);  // the same request, single-valued
    for (const char* name : {"TLS-Client-Cert-Serial", "TLS-Client-Cert-Issuer", "TLS-Client-Cert-Subject",
                             "TLS-Client-Cert-Common-Name", "TLS-Client-Cert-Expiration", "TLS-Client-Cert-Valid-Since",
                             "TLS-Client-Cert-X509v3-Authority-Key-Identifier", "TLS-Client-Cert-X509v3-Basic-Constraints",
                             "NAS-IP-Address", "EAP-Type"}) {
        SCOPED_TRACE(name);
        RadiusRequest twice = eap;
        twice.repeated = {{name, 2}};
        for (RadiusHook hook : {RadiusHook::Authorize, RadiusHook::PostAuth}) {
            twice.hook = hook;
            const RadiusAnswer a = e->decide_request(twice, now);
            EXPECT_EQ(a.outcome, RadiusOutcome::Reject);
            EXPECT_TRUE(a.decision.reply.empty());
            EXPECT_NE(a.decision.reason.find(std::string(name) + " carries 2 values"), std::string::npos) << a.decision.reason;
            EXPECT_EQ(a.log_line.rfind("reject [unknown-issuer] ", 0), 0u) << a.log_line;
        }
    }
    RadiusRequest chain = eap;
    chain.repeated = {{"TLS-Client-Cert-Serial", 2}, {"TLS-Client-Cert-Issuer", 2}};
    const RadiusAnswer c = e->decide_request(chain, now);
    EXPECT_NE(c.decision.reason.find("sends its certificate chain"), std::string::npos) << c.decision.reason;
    EXPECT_NE(c.log_line.find("TLS-Client-Cert-Issuer carries 2 values"), std::string::npos) << c.log_line;
    // VPN: a repeated User-Name is just as ambiguous.
    RadiusRequest vpn{RadiusHook::Authorize, false, {}, "SEP001122334455", "198.51.100.1"};
    ASSERT_EQ(e->decide_request(vpn, now).outcome, RadiusOutcome::Accept);
    vpn.repeated = {{"User-Name", 2}};
    const RadiusAnswer v = e->decide_request(vpn, now);
    EXPECT_EQ(v.outcome, RadiusOutcome::Reject);
    EXPECT_NE(v.log_line.find("User-Name carries 2 values"), std::string::npos) << v.log_line;
}

// Issue 6 item 8b: FreeRADIUS 3.2.1 fills TLS-Client-Cert-Common-Name with the
// issuing CA's CN when the client certificate has none. The log names the full
// subject, and last-seen records nothing under the CA's name.
TEST_F(RadiusDecision, CertificateWithoutCnIsNamedByItsSubject) {
    auto no_cn = test::make_leaf(capf, phone_key.get(), "serialNumber=PID:CP-8841 SN:FCH1234,OU=Voice,O=Example");
    EngineConfig cfg;
    cfg.database = db;
    cfg.last_seen_database = dir / "seen.db";
    auto created = DecisionEngine::create(cfg);
    ASSERT_TRUE(created) << created.message();
    AttributeStrings attrs = freeradius_attributes(no_cn.get());
    ASSERT_TRUE(attrs.cn.empty());
    attrs.cn = "CAPF-current";  // what 3.2.1 substitutes
    const RadiusAnswer a = (*created)->decide_request({RadiusHook::Authorize, false, attrs.view(), {}, "192.0.2.10"}, now);
    EXPECT_EQ(a.outcome, RadiusOutcome::Reject);
    EXPECT_EQ(a.decision.device, "");
    EXPECT_EQ(a.subject_label, "(no CN) " + attrs.subject);
    EXPECT_EQ(a.log_line.rfind("reject [lsc-unregistered] (no CN) /O=Example/OU=Voice/serialNumber=PID:CP-8841 SN:FCH1234: ", 0), 0u)
        << a.log_line;
    EXPECT_EQ(a.log_line.find("CAPF-current:"), std::string::npos) << a.log_line;
    EXPECT_EQ(a.decision.reason.find("CAPF-current serial"), std::string::npos) << a.decision.reason;
    created->reset();
    auto seen = LastSeenRecorder::read_all(dir / "seen.db");
    ASSERT_TRUE(seen) << seen.message();
    EXPECT_TRUE(seen->empty()) << (*seen)[0].last.device;
    // A CN the subject really carries is used as before.
    EXPECT_EQ(common_name_from_attributes("/O=Example/CN=SEP001122334455", "SEP001122334455"), "SEP001122334455");
    EXPECT_EQ(common_name_from_attributes("/O=Example/CN=SEP001122334455", "CAPF-current"), "SEP001122334455");
    EXPECT_EQ(common_name_from_attributes("/O=Example/CN=a/b", "a/b"), "a/b");
    EXPECT_EQ(common_name_from_attributes("/O=Example/OU=Voice", "CAPF-current"), "");
    EXPECT_EQ(common_name_from_attributes("", "SEP001122334455"), "SEP001122334455");
}

// Issue 6 item 8c: post-auth after another EAP method succeeded is refused with
// the method named, and every refusal is one log line with class and cause.
TEST_F(RadiusDecision, PostAuthAfterAnotherEapMethodIsRefusedNamingIt) {
    auto e = engine();
    RadiusRequest md5{RadiusHook::PostAuth, true, {}, "SEP001122334455", "192.0.2.10"};
    md5.eap_type = "MD5";
    md5.eap_success_in_reply = true;
    const RadiusAnswer a = e->decide_request(md5, now);
    EXPECT_EQ(a.outcome, RadiusOutcome::Reject);
    EXPECT_EQ(a.log_line, "reject [unknown-issuer] -: EAP-MD5 succeeded without a client certificate: phones authenticate "
                          "with EAP-TLS (their LSC) only (NAS 192.0.2.10)");
    md5.eap_type = "PEAP";
    md5.eap_success_in_reply = false;
    EXPECT_NE(e->decide_request(md5, now).log_line.find("EAP-PEAP succeeded"), std::string::npos);
    md5.eap_type = {};
    md5.eap_success_in_reply = true;
    EXPECT_NE(e->decide_request(md5, now).log_line.find("an EAP method other than EAP-TLS"), std::string::npos);
    // Authorize while EAP runs, and post-auth of a plain request: nothing to decide.
    md5.hook = RadiusHook::Authorize;
    md5.eap_type = "MD5";
    EXPECT_EQ(e->decide_request(md5, now).outcome, RadiusOutcome::Noop);
    EXPECT_EQ(e->decide_request({RadiusHook::PostAuth, false, {}, "SEP001122334455", "n"}, now).outcome, RadiusOutcome::Noop);
}

TEST_F(RadiusDecision, EveryRefusalIsOneLineWithClassAndCause) {
    auto revoked = enroll("SEP000000000001", capf);
    set_status(revoked.get(), "revoked");
    auto mic = test::make_leaf(mic_root, phone_key.get(), "CN=CP-8841-SEP0011223344AA,O=Cisco Systems Inc.");
    auto rogue_leaf = test::make_leaf(rogue, phone_key.get(), "CN=printer-7,O=Elsewhere");
    auto e = engine();
    const auto r = freeradius_attributes(revoked.get()), m = freeradius_attributes(mic.get()),
               u = freeradius_attributes(rogue_leaf.get());
    struct Case {
        RadiusRequest request;
        std::string prefix;
    };
    const std::vector<Case> cases = {
        {{RadiusHook::Authorize, false, r.view(), {}, "n"}, "reject [lsc-revoked] SEP000000000001: SEP000000000001 LSC serial "},
        {{RadiusHook::PostAuth, false, m.view(), {}, "n"}, "reject [mic] SEP0011223344AA: MIC CP-8841-SEP0011223344AA from "},
        {{RadiusHook::Authorize, false, u.view(), {}, "n"}, "reject [unknown-issuer] printer-7: issuer /O=Elsewhere/CN=Rogue CA"},
        {{RadiusHook::Authorize, false, {}, "SEP00000000FFFF", "n"}, "reject [lsc-unregistered] SEP00000000FFFF: SEP00000000FFFF has no LSC"},
        {{RadiusHook::Authorize, false, {}, "bob; DROP TABLE x", "n"}, "reject [lsc-unregistered] -: User-Name is not a device name"},
    };
    for (const auto& c : cases) {
        const RadiusAnswer a = e->decide_request(c.request, now);
        EXPECT_EQ(a.outcome, RadiusOutcome::Reject);
        EXPECT_EQ(a.log_line.rfind(c.prefix, 0), 0u) << a.log_line;
        EXPECT_NE(a.log_line.find("(NAS n)"), std::string::npos) << a.log_line;
        EXPECT_EQ(a.log_line.find('\n'), std::string::npos);
    }
    ASSERT_TRUE(store.database().exec("ALTER TABLE certificates RENAME TO certificates_gone"));
    const RadiusAnswer err = e->decide_request(cases[0].request, now);
    EXPECT_EQ(err.outcome, RadiusOutcome::Error);
    EXPECT_EQ(err.log_line.rfind("error [error] ", 0), 0u) << err.log_line;
    EXPECT_NE(err.log_line.find("failing closed"), std::string::npos) << err.log_line;
}

// =============================================================================
// The VPN path: the device named by User-Name

TEST_F(RadiusDecision, VpnPathNeedsTheNamedDevicesOwnActiveLsc) {
    enroll("SEP00000000000A", capf);
    auto e = engine();
    const Decision ok = e->decide_vpn("SEP00000000000A", now);
    expect(ok, CertClass::LscValid, RadiusOutcome::Accept);
    EXPECT_FALSE(ok.reply.empty());
    expect(e->decide_vpn("sep00000000000a", now), CertClass::LscValid, RadiusOutcome::Accept);
    expect(e->decide_vpn("CN=SEP00000000000A,OU=Voice,O=Example", now), CertClass::LscValid, RadiusOutcome::Accept);
    expect(e->decide_vpn("/O=Example/OU=Voice/CN=SEP00000000000A", now), CertClass::LscValid, RadiusOutcome::Accept);
    // Another device (with no LSC of its own) gets nothing from SEP00000000000A's LSC.
    expect(e->decide_vpn("SEP00000000000B", now), CertClass::LscUnregistered, RadiusOutcome::Reject);
    expect(e->decide_vpn("bob", now), CertClass::LscUnregistered, RadiusOutcome::Reject);
    expect(e->decide_vpn("SEP 000,CN=x", now), CertClass::LscUnregistered, RadiusOutcome::Reject);
}

// rlm_lscgate asks for the line of a plain (lsc-valid) accept only when debug
// output would print it; every refusal still comes with its line.
TEST_F(RadiusDecision, PlainAcceptsCarryALogLineOnlyWhenAskedFor) {
    enroll("SEP00000000000A", capf);
    auto e = engine();
    RadiusRequest vpn{RadiusHook::Authorize, false, {}, "SEP00000000000A", "192.0.2.1"};
    vpn.log_plain_accepts = false;
    const RadiusAnswer quiet = e->decide_request(vpn, now);
    EXPECT_EQ(quiet.outcome, RadiusOutcome::Accept);
    EXPECT_TRUE(quiet.log_line.empty()) << quiet.log_line;
    EXPECT_FALSE(quiet.decision.reply.empty());
    vpn.log_plain_accepts = true;
    EXPECT_EQ(e->decide_request(vpn, now).log_line.rfind("accept [lsc-valid] SEP00000000000A", 0), 0u);
    vpn.user_name = "SEP00000000000B";
    vpn.log_plain_accepts = false;
    const RadiusAnswer refused = e->decide_request(vpn, now);
    EXPECT_EQ(refused.outcome, RadiusOutcome::Reject);
    EXPECT_EQ(refused.log_line.rfind("reject [lsc-unregistered] SEP00000000000B", 0), 0u) << refused.log_line;
}

TEST_F(RadiusDecision, VpnPathNeverRestrictsAndRejectsNonDeviceNames) {
    EngineConfig cfg;
    cfg.database = db;
    cfg.last_seen_database = dir / "seen.db";
    std::ofstream(dir / "p.toml") << "[actions]\nlsc-valid = \"accept\"\nlsc-unregistered = \"restrict\"\n[restrict]\nvlan = 999\n";
    cfg.policy_file = dir / "p.toml";
    auto created = DecisionEngine::create(cfg);
    ASSERT_TRUE(created) << created.message();
    auto& e = **created;
    const RadiusAnswer unknown = e.decide_request({RadiusHook::Authorize, false, {}, "SEP0000000000EE", "n"}, now);
    EXPECT_EQ(unknown.outcome, RadiusOutcome::Reject) << unknown.decision.reason;
    EXPECT_TRUE(unknown.decision.reply.empty());
    const RadiusAnswer bob = e.decide_request({RadiusHook::Authorize, false, {}, "bob smith", "n"}, now);
    EXPECT_EQ(bob.outcome, RadiusOutcome::Reject);
    created->reset();
    auto seen = LastSeenRecorder::read_all(dir / "seen.db");
    ASSERT_TRUE(seen);
    for (const auto& r : *seen) EXPECT_NE(r.last.device, "bob smith");
}

TEST_F(RadiusDecision, VpnRequestsWithAWholeDn) {
    enroll("SEP00000000000A", capf);
    EngineConfig cfg;
    cfg.database = db;
    cfg.vpn_user_name = VpnNameForm::DistinguishedName;
    auto created = DecisionEngine::create(cfg);
    ASSERT_TRUE(created) << created.message();
    const auto ask = [&](std::string_view name) {
        return (*created)->decide_request({RadiusHook::Authorize, false, {}, name, "n"}, now).outcome;
    };
    EXPECT_EQ(ask("cn=SEP00000000000A,ou=VTG,o=Cisco Systems Inc.,c=US"), RadiusOutcome::Accept);
    EXPECT_EQ(ask("/C=US/O=Cisco Systems Inc./CN=SEP00000000000A"), RadiusOutcome::Accept);
    EXPECT_EQ(ask("SEP00000000000A"), RadiusOutcome::Reject);  // dn mode: a bare name is not a DN
}

// =============================================================================
// The attribute text FreeRADIUS provides

TEST(PresentedCertificate, ParsesFreeRadiusText) {
    EXPECT_EQ(normalize_serial("00:8f:a1"), "8FA1");
    EXPECT_EQ(normalize_serial("0f"), "0F");
    EXPECT_EQ(normalize_serial("000f"), "0F");
    EXPECT_EQ(normalize_serial("f"), "0F");
    EXPECT_EQ(normalize_key_id("keyid:17:C5:c3:0A\nDirName:/CN=x\nserial:01"), "17C5C30A");
    EXPECT_EQ(*parse_asn1_time_text("361125182044Z"), 2111250044);
    EXPECT_EQ(*parse_asn1_time_text("20510101000000Z"), 2556144000);
    EXPECT_EQ(*parse_asn1_time_text("491231235959Z"), 2524607999);
    EXPECT_EQ(*parse_asn1_time_text("500101000000Z"), -631152000);
    for (const char* bad : {"", "361125182044", "3611251820Z", "36112518204XZ", "361325182044Z"})
        EXPECT_FALSE(parse_asn1_time_text(bad)) << bad;
    EXPECT_EQ(common_name_of_oneline("/C=NZ/O=Example/CN=SEP001122334455"), "SEP001122334455");
    EXPECT_EQ(common_name_of_oneline("/O=A/B Corp/CN=x/y"), "x/y");
    EXPECT_EQ(common_name_of_oneline("/CN=first/OU=z"), "first");
    EXPECT_EQ(*device_from_user_name("sep001122334455", VpnNameForm::CommonName), "SEP001122334455");
    EXPECT_EQ(*device_from_user_name("cn=SEP001122334455, ou=Voice", VpnNameForm::DistinguishedName), "SEP001122334455");
    EXPECT_FALSE(device_from_user_name("OU=Voice,O=Example", VpnNameForm::DistinguishedName));
}

}  // namespace
