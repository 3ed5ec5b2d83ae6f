// The RADIUS decision (issue 3): classification x policy with generated
// certificates against a real registry file, including every hostile case, both
// from full certificates and from the attribute text FreeRADIUS provides.

#include "registry/sqlite_handles.h"
#include "pki/bytes.h"
#include "pki/certificate.h"
#include "decide/decision_engine.h"
#include "decide/policy.h"
#include "pki/presented_certificate.h"
#include "decide/request_refusals.h"
#include "test_support.h"

#include <gtest/gtest.h>

#include <fstream>
#include <thread>

using namespace lscgate;
using lscgate::test::TempDir;

namespace {

// What FreeRADIUS 3.2 puts in TLS-Client-Cert-* for a certificate.
struct AttributeStrings {
    std::string serial, issuer, subject, cn, since, expiration, aki, basic;
    CertificateAttributeText view() const { return {serial, issuer, subject, cn, since, expiration, aki, basic}; }
};

AttributeStrings freeradius_attributes(const X509* cert) {
    AttributeStrings a;
    const ASN1_INTEGER* serial = X509_get0_serialNumber(cert);
    std::string hex = to_hex(ByteView(ASN1_STRING_get0_data(serial), static_cast<std::size_t>(ASN1_STRING_length(serial))));
    for (auto& c : hex) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    a.serial = hex;
    auto facts = describe_certificate(cert);
    a.issuer = facts->issuer_oneline;
    a.subject = facts->subject_oneline;
    a.cn = facts->common_name;
    const auto time_text = [](const ASN1_TIME* t) {
        return std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(t)), static_cast<std::size_t>(ASN1_STRING_length(t)));
    };
    a.since = time_text(X509_get0_notBefore(cert));
    a.expiration = time_text(X509_get0_notAfter(cert));
    if (const ASN1_OCTET_STRING* aki = X509_get0_authority_key_id(const_cast<X509*>(cert)))
        a.aki = to_colon_hex(ByteView(ASN1_STRING_get0_data(aki), static_cast<std::size_t>(ASN1_STRING_length(aki))));
    a.basic = facts->is_ca ? "CA:TRUE" : "CA:FALSE";
    return a;
}

class RadiusDecision : public ::testing::Test {
protected:
    TempDir dir;
    std::filesystem::path db = dir / "lscgate.db";
    Store store = test::make_store(db);
    // EC keys keep the fixture fast; one RSA CAPF keeps RSA signatures covered.
    test::TestCa previous_capf =
        test::make_intermediate_ca(test::make_root_ca("CN=Old Root", "ec:p256"), "CN=CAPF-old,OU=Voice,O=Example", "ec:p256");
    test::TestCa capf = test::make_root_ca("CN=CAPF-current,OU=Voice,O=Example", "rsa:2048");
    test::TestCa retired_capf = test::make_root_ca("CN=CAPF-retired,OU=Voice,O=Example", "ec:p256");
    test::TestCa mic_root = test::make_root_ca("CN=Cisco Manufacturing CA SHA2,O=Cisco", "ec:p256");
    test::TestCa rogue = test::make_root_ca("CN=Rogue CA,O=Elsewhere", "ec:p256");
    test::TestCa other_cluster = test::make_root_ca("CN=CAPF-branch,OU=Voice,O=Example", "ec:p256");
    // Another cluster whose CAPF happens to carry our CAPF's exact DN.
    test::TestCa same_name_cluster = test::make_root_ca("CN=CAPF-current,OU=Voice,O=Example", "ec:p256");
    EvpPkeyPtr phone_key = test::make_key("ec:p256");
    UnixTime now = now_utc();

    void SetUp() override {
        ASSERT_TRUE(store.add_capf_certificate(retired_capf.cert.get(), "test"));
        ASSERT_TRUE(store.add_capf_certificate(previous_capf.cert.get(), "test"));
        ASSERT_TRUE(store.add_capf_certificate(capf.cert.get(), "test"));
        ASSERT_TRUE(store.database().exec("UPDATE capf_certificates SET status='retired' WHERE subject LIKE 'CN=CAPF-retired%'"));
        std::ofstream(dir / "mic-roots.pem") << certificate_pem(mic_root.cert.get());
    }

    std::unique_ptr<DecisionEngine> engine(const std::string& policy_text = "") {
        EngineConfig cfg;
        cfg.database = db;
        cfg.mic_roots = dir / "mic-roots.pem";
        if (!policy_text.empty()) {
            std::ofstream(dir / "policy.toml") << policy_text;
            cfg.policy_file = dir / "policy.toml";
        }
        auto e = DecisionEngine::create(cfg);
        EXPECT_TRUE(e) << e.message();
        return e ? std::move(*e) : nullptr;
    }

    // Issues through the registry, as the CAPF server does.
    X509Ptr enroll(const std::string& device, const test::TestCa& ca, long from_days = -1, long to_days = 365) {
        if (!store.find_device(device)->has_value()) {
            EXPECT_TRUE(store.add_device(device, "", "", "test"));
        }
        auto op = store.schedule_operation(device, OperationRequest{}, "test");
        EXPECT_TRUE(op);
        X509Ptr cert = test::make_leaf(ca, phone_key.get(), "CN=" + device + ",OU=Voice,O=Example", from_days, to_days);
        EXPECT_TRUE(store.commit_issued_lsc(*op, cert.get()));
        return cert;
    }
    // Issued and recorded, but the phone's "stored" answer never recorded (the
    // server was killed in between): what record_issued_lsc leaves behind.
    X509Ptr record_unconfirmed(const std::string& device, const test::TestCa& ca) {
        if (!store.find_device(device)->has_value()) {
            EXPECT_TRUE(store.add_device(device, "", "", "test"));
        }
        auto op = store.schedule_operation(device, OperationRequest{}, "test");
        EXPECT_TRUE(op);
        X509Ptr cert = test::make_leaf(ca, phone_key.get(), "CN=" + device + ",OU=Voice,O=Example");
        auto rec = store.record_issued_lsc(*op, cert.get());
        EXPECT_TRUE(rec) << rec.message();
        return cert;
    }
    void set_status(const X509* cert, const std::string& status) {
        auto st = store.database().prepare("UPDATE certificates SET status=? WHERE fingerprint=?");
        ASSERT_TRUE(st);
        st->bind(1, status).bind(2, describe_certificate(cert)->sha256);
        ASSERT_TRUE(st->run());
    }
    void expect(const Decision& d, CertClass cls, RadiusOutcome verdict) {
        EXPECT_EQ(to_string(d.cls), to_string(cls)) << d.reason;
        EXPECT_EQ(to_string(d.verdict), to_string(verdict)) << d.reason;
        EXPECT_FALSE(d.error) << d.reason;
        EXPECT_FALSE(d.reason.empty());
    }
    // Both entry points must agree for certificates the TLS layer would let through.
    void expect_both(DecisionEngine& e, const X509* cert, CertClass cls, RadiusOutcome verdict) {
        SCOPED_TRACE(describe_certificate(cert)->subject);
        expect(e.decide_certificate(cert, now), cls, verdict);
        const auto attrs = freeradius_attributes(cert);
        expect(e.decide_eap_tls(attrs.view(), now), cls, verdict);
    }
};

TEST_F(RadiusDecision, ValidLscIsAcceptedWithVoiceReply) {
    auto lsc = enroll("SEP001122334455", capf);
    auto e = engine();
    expect_both(*e, lsc.get(), CertClass::LscValid, RadiusOutcome::Accept);
    const Decision d = e->decide_certificate(lsc.get(), now);
    ASSERT_EQ(d.reply.size(), 1u);
    EXPECT_EQ(d.reply[0].name, "Cisco-AVPair");
    EXPECT_EQ(d.reply[0].value, "device-traffic-class=voice");
}

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

// A conninfo libpq cannot parse is a configuration error, not a SQLite path
// whose "does not exist" message would quote the password into the log.
TEST_F(RadiusDecision, AMalformedConninfoIsAConfigErrorWithoutThePassword) {
    const std::string secret = "S3cret-Pw-4711";
    const std::string malformed = "host=db.example.net password=" + secret + " dbname='radius";
    EngineConfig cfg;
    cfg.database = malformed;
    auto r = DecisionEngine::create(cfg);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.kind(), ErrorKind::Config) << r.message();
    EXPECT_NE(r.message().find("database"), std::string::npos) << r.message();
    EXPECT_EQ(r.message().find(secret), std::string::npos) << r.message();

    cfg.database = db;
    cfg.mic_roots = dir / "mic-roots.pem";
    cfg.last_seen_database = malformed;
    auto seen = DecisionEngine::create(cfg);
    ASSERT_FALSE(seen);
    EXPECT_EQ(seen.kind(), ErrorKind::Config) << seen.message();
    EXPECT_NE(seen.message().find("last_seen_database"), std::string::npos) << seen.message();
    EXPECT_EQ(seen.message().find(secret), std::string::npos) << seen.message();
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

TEST_F(RadiusDecision, AnLscWithoutAuthorityKeyIdIsNeverMatchedByNameAlone) {
    auto lsc = enroll("SEP001122334455", capf);
    auto attrs = freeradius_attributes(lsc.get());
    attrs.aki.clear();  // a same-DN CA could mint exactly this: our DN, a registered serial, no AKI
    expect(engine()->decide_eap_tls(attrs.view(), now), CertClass::LscForeign, RadiusOutcome::Reject);
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

TEST_F(RadiusDecision, RetiringEveryCapfTrustsNoLsc) {
    auto lsc = enroll("SEP001122334455", capf);
    auto e = engine();
    expect(e->decide_certificate(lsc.get(), now), CertClass::LscValid, RadiusOutcome::Accept);
    ASSERT_TRUE(store.database().exec("UPDATE capf_certificates SET status='retired'"));
    ASSERT_TRUE(e->refresh_trust());
    expect(e->decide_certificate(lsc.get(), now), CertClass::LscForeign, RadiusOutcome::Reject);
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

TEST(RadiusEngineCreate, ClearErrors) {
    TempDir dir;
    EngineConfig cfg;
    cfg.database = dir / "absent.db";
    auto missing = DecisionEngine::create(cfg);
    ASSERT_FALSE(missing);
    EXPECT_NE(missing.message().find("does not exist"), std::string::npos);
    std::ofstream(dir / "garbage.db") << std::string(4096, 'g');
    cfg.database = dir / "garbage.db";
    EXPECT_FALSE(DecisionEngine::create(cfg));
    Store store = test::make_store(dir / "empty.db");
    cfg.database = dir / "empty.db";
    auto no_capf = DecisionEngine::create(cfg);
    ASSERT_FALSE(no_capf);
    EXPECT_NE(no_capf.message().find("no trusted CAPF"), std::string::npos);
    auto capf = test::make_root_ca("CN=CAPF-x");
    ASSERT_TRUE(store.add_capf_certificate(capf.cert.get(), "test"));
    std::ofstream(dir / "bad-policy.toml") << "[actions]\nmic = \"maybe\"\n";
    cfg.policy_file = dir / "bad-policy.toml";
    auto bad_policy = DecisionEngine::create(cfg);
    ASSERT_FALSE(bad_policy);
    EXPECT_NE(bad_policy.message().find("bad-policy.toml"), std::string::npos) << bad_policy.message();
    cfg.policy_file.clear();
    cfg.mic_roots = dir / "absent-roots.pem";
    EXPECT_FALSE(DecisionEngine::create(cfg));
}

TEST(RadiusPolicy, DefaultsAndParsing) {
    const Policy p = Policy::defaults();
    for (CertClass c : kAllCertClasses)
        EXPECT_EQ(p.action(c).kind == PolicyAction::Kind::Accept,
                  c == CertClass::LscValid || c == CertClass::LscUnconfirmed)
            << to_string(c);
    EXPECT_FALSE(Policy::parse("[actions]\nlsc-valid = \"yes\"\n", "p"));
    EXPECT_FALSE(Policy::parse("[actions]\nlsc-awesome = \"accept\"\n", "p"));
    EXPECT_FALSE(Policy::parse("[actions]\nmic = \"allow-until someday\"\n", "p"));
    EXPECT_FALSE(Policy::parse("[expiry]\ngrace_days = -1\n", "p"));
    EXPECT_FALSE(Policy::parse("[accept]\ncolour = \"blue\"\n", "p"));
    EXPECT_FALSE(Policy::parse("[bogus]\n", "p"));
    auto syntax = Policy::parse("[actions\n", "policy.toml");
    ASSERT_FALSE(syntax);
    EXPECT_NE(syntax.message().find("policy.toml:1"), std::string::npos) << syntax.message();
    auto extra = Policy::parse("[actions]\nlsc-valid = \"accept\"\n[accept]\nvlan = \"110\"\n[accept.attributes]\nClass = \"phones\"\n", "p");
    ASSERT_TRUE(extra) << extra.message();
    const Decision d = extra->decide(Classification{CertClass::LscValid, "ok", {}, {}}, 0);
    ASSERT_EQ(d.reply.size(), 4u);
    EXPECT_EQ(d.reply[2].value, "110");
    EXPECT_EQ(d.reply[3].name, "Class");
    // Classes left out of [actions] are rejected.
    EXPECT_EQ(extra->decide(Classification{CertClass::Mic, "mic", {}, {}}, 0).verdict, RadiusOutcome::Reject);
}

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
