#pragma once

// The RADIUS decision fixture shared by radius_decision_*_test.cpp and
// radius_engine_config_test.cpp: a real registry file with a current, a previous
// and a retired CAPF, a MIC root file, other CAs (rogue, another cluster, one
// carrying our CAPF's DN), LSCs issued through the registry as the CAPF server
// does, and the attribute text FreeRADIUS 3.2 gives for a certificate.

#include "decide/decision_engine.h"
#include "pki/bytes.h"
#include "pki/certificate.h"
#include "pki/presented_certificate.h"
#include "registry/sqlite_handles.h"
#include "registry/store.h"
#include "test_support.h"

#include <gtest/gtest.h>

#include <openssl/x509v3.h>

#include <cctype>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

namespace lscgate::test {

// What FreeRADIUS 3.2 puts in TLS-Client-Cert-* for a certificate.
struct AttributeStrings {
    std::string serial, issuer, subject, cn, since, expiration, aki, basic;
    CertificateAttributeText view() const { return {serial, issuer, subject, cn, since, expiration, aki, basic}; }
};

inline AttributeStrings freeradius_attributes(const X509* cert) {
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

}  // namespace lscgate::test
