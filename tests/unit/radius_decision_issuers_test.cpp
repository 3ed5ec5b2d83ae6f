// The RADIUS decision on who issued an LSC: the current and the previous CAPF
// are trusted, a retired one is not; forged CAPFs (our DN, another key or a bad
// signature), another cluster's CAPF, a CA:TRUE leaf and an LSC without an
// authority key id are refused; a CAPF rotation or retirement is picked up by a
// running engine.

#include "decide/decision_engine.h"
#include "pki/bytes.h"
#include "pki/certificate.h"
#include "radius_decision_fixture.h"
#include "test_support.h"

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <thread>

using namespace lscgate;
using lscgate::test::freeradius_attributes;
using lscgate::test::RadiusDecision;

namespace {

TEST_F(RadiusDecision, LscFromThePreviousCapfStaysValidDuringRotation) {
    auto lsc = enroll("SEP001122334455", previous_capf);
    expect_both(*engine(), lsc.get(), CertClass::LscValid, RadiusOutcome::Accept);
}

TEST_F(RadiusDecision, LscFromARetiredCapfIsForeign) {
    auto lsc = enroll("SEP001122334455", retired_capf);
    auto e = engine();
    expect(e->decide_certificate(lsc.get(), now), CertClass::LscForeign, RadiusOutcome::Reject);
    expect(e->decide_vpn("SEP001122334455", now), CertClass::LscForeign, RadiusOutcome::Reject);
}

TEST_F(RadiusDecision, SelfSignedCertificateCarryingTheCapfDnIsForeign) {
    auto key = test::make_key("rsa:2048");
    auto forged_capf = test::make_root_ca("CN=CAPF-current,OU=Voice,O=Example");
    // As a client certificate itself (self-signed, our CAPF's DN) ...
    expect(engine()->decide_certificate(forged_capf.cert.get(), now), CertClass::UnknownIssuer, RadiusOutcome::Reject);
    // ... and as the issuer of a phone certificate.
    auto leaf = test::make_leaf(forged_capf, phone_key.get(), "CN=SEP001122334455,OU=Voice,O=Example");
    expect(engine()->decide_certificate(leaf.get(), now), CertClass::LscForeign, RadiusOutcome::Reject);
}

TEST_F(RadiusDecision, CorrectIssuerDnWithABadSignatureIsForeign) {
    auto lsc = enroll("SEP001122334455", capf);
    Bytes der = certificate_der(lsc.get());
    der[der.size() - 7] ^= 0x5a;  // inside the signature
    auto tampered = parse_certificate_der(der);
    ASSERT_TRUE(tampered);
    expect(engine()->decide_certificate(tampered->get(), now), CertClass::LscForeign, RadiusOutcome::Reject);
}

TEST_F(RadiusDecision, LeafWithCaTrueIsRejected) {
    auto ca_leaf = test::make_leaf(capf, phone_key.get(), "CN=SEP001122334455,OU=Voice,O=Example", -1, 365, true);
    expect_both(*engine(), ca_leaf.get(), CertClass::UnknownIssuer, RadiusOutcome::Reject);
}

TEST_F(RadiusDecision, LscFromAnotherClustersCapfIsForeign) {
    auto branch = test::make_leaf(other_cluster, phone_key.get(), "CN=SEP001122334455,OU=Voice,O=Example");
    expect(engine()->decide_certificate(branch.get(), now), CertClass::LscForeign, RadiusOutcome::Reject);
    // Same DN as our CAPF, different key: the AKI gives it away in the attribute path too.
    auto twin = test::make_leaf(same_name_cluster, phone_key.get(), "CN=SEP001122334455,OU=Voice,O=Example");
    auto e = engine();
    expect(e->decide_certificate(twin.get(), now), CertClass::LscForeign, RadiusOutcome::Reject);
    expect(e->decide_eap_tls(freeradius_attributes(twin.get()).view(), now), CertClass::LscForeign, RadiusOutcome::Reject);
}

TEST_F(RadiusDecision, AnLscWithoutAuthorityKeyIdIsNeverMatchedByNameAlone) {
    auto lsc = enroll("SEP001122334455", capf);
    auto attrs = freeradius_attributes(lsc.get());
    attrs.aki.clear();  // a same-DN CA could mint exactly this: our DN, a registered serial, no AKI
    expect(engine()->decide_eap_tls(attrs.view(), now), CertClass::LscForeign, RadiusOutcome::Reject);
}

// =============================================================================
// CAPF rotation and retirement in a running engine

TEST_F(RadiusDecision, CapfRotationIsPickedUpWithoutRestart) {
    auto old_lsc = enroll("SEP000000000001", capf);
    EngineConfig cfg;
    cfg.database = db;
    cfg.trust_refresh = std::chrono::milliseconds(20);
    auto created = DecisionEngine::create(cfg);
    ASSERT_TRUE(created) << created.message();
    auto& e = **created;
    auto next_capf = test::make_root_ca("CN=CAPF-next,OU=Voice,O=Example", "ec:p256");
    ASSERT_TRUE(store.add_capf_certificate(next_capf.cert.get(), "test"));  // current → previous
    auto new_lsc = enroll("SEP000000000002", next_capf);
    // Until the trust set is refreshed, an LSC of the new CAPF is foreign...
    const auto before = e.authorities();
    // ...then the background refresh swaps the trust set in (bounded wait).
    bool accepted = false;
    for (int i = 0; i < 3000 && !accepted; ++i) {  // up to 30 s on a loaded machine
        accepted = e.decide_certificate(new_lsc.get(), now).verdict == RadiusOutcome::Accept;
        if (!accepted) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    EXPECT_TRUE(accepted);
    EXPECT_NE(e.authorities().get(), before.get());
    // The old CAPF is "previous" now: its LSCs stay valid.
    expect(e.decide_certificate(old_lsc.get(), now), CertClass::LscValid, RadiusOutcome::Accept);
    // Retiring it ends that.
    ASSERT_TRUE(store.database().exec("UPDATE capf_certificates SET status='retired' WHERE subject LIKE 'CN=CAPF-current%'"));
    auto changed = e.refresh_trust();
    ASSERT_TRUE(changed) << changed.message();
    EXPECT_TRUE(*changed);
    expect(e.decide_certificate(old_lsc.get(), now), CertClass::LscForeign, RadiusOutcome::Reject);
    auto unchanged = e.refresh_trust();
    ASSERT_TRUE(unchanged);
    EXPECT_FALSE(*unchanged);
}

TEST_F(RadiusDecision, RetiringEveryCapfTrustsNoLsc) {
    auto lsc = enroll("SEP001122334455", capf);
    auto e = engine();
    expect(e->decide_certificate(lsc.get(), now), CertClass::LscValid, RadiusOutcome::Accept);
    ASSERT_TRUE(store.database().exec("UPDATE capf_certificates SET status='retired'"));
    ASSERT_TRUE(e->refresh_trust());
    expect(e->decide_certificate(lsc.get(), now), CertClass::LscForeign, RadiusOutcome::Reject);
}

}  // namespace
