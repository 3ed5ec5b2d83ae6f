// The RADIUS decision (issue 3) class by class: valid, expired, revoked,
// superseded, unregistered and unconfirmed LSCs, bare MICs under each policy,
// unknown CAs, and failing closed on a broken registry or attribute text. Real
// registry file and generated certificates; each case decided from the full
// certificate and from the attribute text FreeRADIUS provides.

#include "decide/decision_engine.h"
#include "pki/certificate.h"
#include "radius_decision_fixture.h"
#include "test_support.h"

#include <gtest/gtest.h>

#include <string>

using namespace lscgate;
using lscgate::test::AttributeStrings;
using lscgate::test::freeradius_attributes;
using lscgate::test::RadiusDecision;

namespace {

TEST_F(RadiusDecision, ValidLscIsAcceptedWithVoiceReply) {
    auto lsc = enroll("SEP001122334455", capf);
    auto e = engine();
    expect_both(*e, lsc.get(), CertClass::LscValid, RadiusOutcome::Accept);
    const Decision d = e->decide_certificate(lsc.get(), now);
    ASSERT_EQ(d.reply.size(), 1u);
    EXPECT_EQ(d.reply[0].name, "Cisco-AVPair");
    EXPECT_EQ(d.reply[0].value, "device-traffic-class=voice");
}

TEST_F(RadiusDecision, BareMicIsRejectedByDefault) {
    auto mic = test::make_leaf(mic_root, phone_key.get(), "CN=CP-8841-SEP001122334455,O=Cisco Systems Inc.");
    expect_both(*engine(), mic.get(), CertClass::Mic, RadiusOutcome::Reject);
}

TEST_F(RadiusDecision, MicRestrictPolicyPutsThePhoneInTheEnrolmentVlan) {
    auto mic = test::make_leaf(mic_root, phone_key.get(), "CN=CP-8841-SEP001122334455,O=Cisco Systems Inc.");
    auto e = engine(R"([actions]
lsc-valid = "accept"
mic = "restrict"
[restrict]
vlan = 999
filter_id = "ENROLL-ONLY"
)");
    const Decision d = e->decide_certificate(mic.get(), now);
    expect(d, CertClass::Mic, RadiusOutcome::Restrict);
    ASSERT_EQ(d.reply.size(), 4u);
    EXPECT_EQ(d.reply[0].name, "Tunnel-Type");
    EXPECT_EQ(d.reply[0].value, "VLAN");
    EXPECT_EQ(d.reply[1].name, "Tunnel-Medium-Type");
    EXPECT_EQ(d.reply[1].value, "IEEE-802");
    EXPECT_EQ(d.reply[2].name, "Tunnel-Private-Group-Id");
    EXPECT_EQ(d.reply[2].value, "999");
    EXPECT_EQ(d.reply[3].name, "Filter-Id");
    // Anything the policy does not name is rejected.
    auto rogue_leaf = test::make_leaf(rogue, phone_key.get(), "CN=SEP001122334455");
    expect(e->decide_certificate(rogue_leaf.get(), now), CertClass::LscForeign, RadiusOutcome::Reject);
}

TEST_F(RadiusDecision, MicAllowUntilADate) {
    auto mic = test::make_leaf(mic_root, phone_key.get(), "CN=CP-8841-SEP001122334455,O=Cisco Systems Inc.");
    auto future = engine("[actions]\nmic = \"allow-until 2099-12-31\"\n");
    const Decision yes = future->decide_certificate(mic.get(), now);
    expect(yes, CertClass::Mic, RadiusOutcome::Accept);
    EXPECT_NE(yes.reason.find("allowed until 2099-12-31T23:59:59Z"), std::string::npos) << yes.reason;
    auto past = engine("[actions]\nmic = \"allow-until 2020-01-31\"\n");
    expect(past->decide_certificate(mic.get(), now), CertClass::Mic, RadiusOutcome::Reject);
}

TEST_F(RadiusDecision, UnknownCaIsRejected) {
    auto leaf = test::make_leaf(rogue, phone_key.get(), "CN=printer-7,O=Elsewhere");
    expect(engine()->decide_certificate(leaf.get(), now), CertClass::UnknownIssuer, RadiusOutcome::Reject);
}

TEST_F(RadiusDecision, ExpiredAndNotYetValidLscs) {
    auto expired = enroll("SEP000000000001", capf, -400, -2);
    auto future = enroll("SEP000000000002", capf, 3, 365);
    auto e = engine();
    expect_both(*e, expired.get(), CertClass::LscExpired, RadiusOutcome::Reject);
    expect_both(*e, future.get(), CertClass::LscNotYetValid, RadiusOutcome::Reject);
    expect(e->decide_vpn("SEP000000000001", now), CertClass::LscExpired, RadiusOutcome::Reject);
    auto graceful = engine("[actions]\nlsc-valid = \"accept\"\n[expiry]\ngrace_days = 7\n");
    const Decision d = graceful->decide_certificate(expired.get(), now);
    expect(d, CertClass::LscExpired, RadiusOutcome::Accept);
    EXPECT_NE(d.reason.find("7-day expiry grace"), std::string::npos) << d.reason;
    auto long_expired = enroll("SEP000000000003", capf, -400, -30);
    expect(graceful->decide_certificate(long_expired.get(), now), CertClass::LscExpired, RadiusOutcome::Reject);
}

TEST_F(RadiusDecision, RevokedLscIsRejectedOnTheNextDecision) {
    auto lsc = enroll("SEP001122334455", capf);
    auto e = engine();
    expect_both(*e, lsc.get(), CertClass::LscValid, RadiusOutcome::Accept);
    set_status(lsc.get(), "revoked");
    // Same engine, no reload: the registry read sees the revocation at once.
    expect_both(*e, lsc.get(), CertClass::LscRevoked, RadiusOutcome::Reject);
    expect(e->decide_vpn("SEP001122334455", now), CertClass::LscRevoked, RadiusOutcome::Reject);
}

TEST_F(RadiusDecision, RememberedRowsNeverOutliveAChangeByAnotherProcess) {
    auto lsc = enroll("SEP001122334455", capf);
    auto e = engine();
    const auto attrs = freeradius_attributes(lsc.get());
    for (int i = 0; i < 5; ++i) {  // repeats are answered from the remembered row
        expect(e->decide_eap_tls(attrs.view(), now), CertClass::LscValid, RadiusOutcome::Accept);
        expect(e->decide_vpn("SEP001122334455", now), CertClass::LscValid, RadiusOutcome::Accept);
    }
    // Another process (the sqlite3 shell) revokes it: the very next decision sees it.
    auto r = test::run_command("sqlite3 " + db.string() + " \"UPDATE certificates SET status='revoked'\"");
    ASSERT_EQ(r.status, 0) << r.output;
    expect(e->decide_eap_tls(attrs.view(), now), CertClass::LscRevoked, RadiusOutcome::Reject);
    expect(e->decide_vpn("SEP001122334455", now), CertClass::LscRevoked, RadiusOutcome::Reject);
    r = test::run_command("sqlite3 " + db.string() + " \"UPDATE certificates SET status='active'\"");
    ASSERT_EQ(r.status, 0) << r.output;
    expect(e->decide_eap_tls(attrs.view(), now), CertClass::LscValid, RadiusOutcome::Accept);
}

TEST_F(RadiusDecision, SupersededLscIsRejectedAndTheNewOneAccepted) {
    auto old_lsc = enroll("SEP001122334455", capf);
    auto e = engine();
    auto new_lsc = enroll("SEP001122334455", capf);
    expect_both(*e, old_lsc.get(), CertClass::LscSuperseded, RadiusOutcome::Reject);
    expect_both(*e, new_lsc.get(), CertClass::LscValid, RadiusOutcome::Accept);
    set_status(new_lsc.get(), "removed");
    expect_both(*e, new_lsc.get(), CertClass::LscSuperseded, RadiusOutcome::Reject);
}

TEST_F(RadiusDecision, UnregisteredLscFromOurCapf) {
    auto stray = test::make_leaf(capf, phone_key.get(), "CN=SEP00000000BEEF,OU=Voice,O=Example");
    expect_both(*engine(), stray.get(), CertClass::LscUnregistered, RadiusOutcome::Reject);
}

TEST_F(RadiusDecision, FetchedRowsCannotShadowTheActiveLsc) {
    auto lsc = enroll("SEP001122334455", capf);
    const auto facts = describe_certificate(lsc.get());
    // A later, unverified "fetched" row claiming the same issuer and serial.
    auto st = store.database().prepare(
        "INSERT INTO certificates(device_name, kind, serial, fingerprint, subject, issuer, issuer_oneline, not_before, "
        "not_after, key_type, key_bits, pem, status, created_at) VALUES('SEP0000000000EE','lsc',?,'FORGED','CN=x',?,?,0,1,"
        "'ec',256,'','fetched',0)");
    ASSERT_TRUE(st);
    st->bind(1, facts->serial_hex).bind(2, facts->issuer).bind(3, facts->issuer_oneline);
    ASSERT_TRUE(st->run());
    expect_both(*engine(), lsc.get(), CertClass::LscValid, RadiusOutcome::Accept);
    EXPECT_TRUE(store.revoke_serial(facts->serial_hex, "unspecified", "test")) << "the fetched row must not make the serial ambiguous";
}

TEST_F(RadiusDecision, RegistryFailureFailsClosed) {
    auto lsc = enroll("SEP001122334455", capf);
    auto e = engine();
    ASSERT_TRUE(store.database().exec("ALTER TABLE certificates RENAME TO certificates_gone"));
    const Decision d = e->decide_certificate(lsc.get(), now);
    EXPECT_EQ(d.verdict, RadiusOutcome::Reject);
    EXPECT_TRUE(d.error);
    EXPECT_NE(d.reason.find("decision failed"), std::string::npos) << d.reason;
    EXPECT_TRUE(d.reply.empty());
}

TEST_F(RadiusDecision, MalformedAttributesFailClosed) {
    auto e = engine();
    CertificateAttributeText empty{};
    const Decision d = e->decide_eap_tls(empty, now);
    EXPECT_EQ(d.verdict, RadiusOutcome::Reject);
    EXPECT_TRUE(d.error);
    AttributeStrings bad = freeradius_attributes(enroll("SEP001122334455", capf).get());
    bad.expiration = "not-a-time";
    EXPECT_EQ(e->decide_eap_tls(bad.view(), now).verdict, RadiusOutcome::Reject);
}

// =============================================================================
// lsc-unconfirmed (issue 7 item 4): an LSC the phone may hold although its
// "stored" answer was never recorded.

TEST_F(RadiusDecision, UnconfirmedLscNewerThanTheActiveOneIsAcceptedAsItsOwnClass) {
    const std::string dev = "SEP0000000000C1";
    auto active = enroll(dev, capf);
    auto unconfirmed = record_unconfirmed(dev, capf);
    auto e = engine();
    expect_both(*e, unconfirmed.get(), CertClass::LscUnconfirmed, RadiusOutcome::Accept);
    // The same reply as lsc-valid: the phone lands in the voice VLAN either way.
    const Decision got = e->decide_certificate(unconfirmed.get(), now);
    const Decision valid = e->decide_certificate(active.get(), now);
    expect(valid, CertClass::LscValid, RadiusOutcome::Accept);
    ASSERT_FALSE(got.reply.empty());
    ASSERT_EQ(got.reply.size(), valid.reply.size());
    for (std::size_t i = 0; i < got.reply.size(); ++i) {
        EXPECT_EQ(got.reply[i].name, valid.reply[i].name);
        EXPECT_EQ(got.reply[i].value, valid.reply[i].value);
    }
    EXPECT_EQ(got.device, dev);
    EXPECT_NE(got.reason.find("unconfirmed"), std::string::npos) << got.reason;
    // A device with no active LSC at all (its first enrolment was interrupted).
    auto first = record_unconfirmed("SEP0000000000C2", capf);
    expect_both(*e, first.get(), CertClass::LscUnconfirmed, RadiusOutcome::Accept);
    // The policy decides: a file that leaves the class out rejects it.
    auto strict = engine("[actions]\nlsc-valid = \"accept\"\n");
    expect_both(*strict, unconfirmed.get(), CertClass::LscUnconfirmed, RadiusOutcome::Reject);
}

TEST_F(RadiusDecision, UnconfirmedLscOlderThanTheActiveOneIsSuperseded) {
    const std::string dev = "SEP0000000000C3";
    auto stale = record_unconfirmed(dev, capf);
    auto active = enroll(dev, capf);  // confirming a newer LSC supersedes the stale one
    auto e = engine();
    expect_both(*e, stale.get(), CertClass::LscSuperseded, RadiusOutcome::Reject);
    // Even if the row still said unconfirmed (an older lscgate, a hand edit), the
    // newer active LSC wins: an old certificate never overrides a newer one.
    set_status(stale.get(), "unconfirmed");
    expect_both(*e, stale.get(), CertClass::LscSuperseded, RadiusOutcome::Reject);
    expect_both(*e, active.get(), CertClass::LscValid, RadiusOutcome::Accept);
}

TEST_F(RadiusDecision, RevokedUnconfirmedLscStaysRevoked) {
    const std::string dev = "SEP0000000000C4";
    auto active = enroll(dev, capf);
    auto unconfirmed = record_unconfirmed(dev, capf);
    auto e = engine();
    expect_both(*e, unconfirmed.get(), CertClass::LscUnconfirmed, RadiusOutcome::Accept);
    // Revoking the device revokes what its phone may hold: the active and the unconfirmed LSC.
    auto revoked = store.revoke_active_lsc(dev, "key-compromise", "test");
    ASSERT_TRUE(revoked) << revoked.message();
    expect_both(*e, unconfirmed.get(), CertClass::LscRevoked, RadiusOutcome::Reject);
    expect_both(*e, active.get(), CertClass::LscRevoked, RadiusOutcome::Reject);
    // And by serial, an unconfirmed one alone.
    auto other = record_unconfirmed("SEP0000000000C5", capf);
    expect_both(*e, other.get(), CertClass::LscUnconfirmed, RadiusOutcome::Accept);
    ASSERT_TRUE(store.revoke_serial(describe_certificate(other.get())->serial_hex, "unspecified", "test"));
    expect_both(*e, other.get(), CertClass::LscRevoked, RadiusOutcome::Reject);
    // Outside its validity it is expired like any LSC.
    auto expired = record_unconfirmed("SEP0000000000C6", capf);
    ASSERT_TRUE(store.database().exec("UPDATE certificates SET not_after = 1000 WHERE device_name='SEP0000000000C6'"));
    expect(e->decide_certificate(expired.get(), now), CertClass::LscExpired, RadiusOutcome::Reject);
}

TEST_F(RadiusDecision, VpnPathRefusesAnUnconfirmedLscByName) {
    // No active LSC, the newest unconfirmed: the name proves nothing about which
    // certificate the phone holds, so the VPN path refuses, whatever the policy says.
    record_unconfirmed("SEP0000000000C7", capf);
    auto e = engine();
    const Decision d = e->decide_vpn("SEP0000000000C7", now);
    expect(d, CertClass::LscUnconfirmed, RadiusOutcome::Reject);
    EXPECT_TRUE(d.reply.empty());
    const RadiusAnswer a = e->decide_request({RadiusHook::Authorize, false, {}, "SEP0000000000C7", "10.0.0.1"}, now);
    EXPECT_EQ(a.outcome, RadiusOutcome::Reject);
    // With an active LSC beside a newer unconfirmed one, the device is decided by the active one.
    enroll("SEP0000000000C8", capf);
    record_unconfirmed("SEP0000000000C8", capf);
    expect(e->decide_vpn("SEP0000000000C8", now), CertClass::LscValid, RadiusOutcome::Accept);
}

}  // namespace
