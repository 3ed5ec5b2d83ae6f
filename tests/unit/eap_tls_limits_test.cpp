// Issue 6 item 5: the settings an 802.1X (EAP-TLS) TLS layer defeats are flagged
// when the module loads - the policy's expiry promises, MIC allowances, and CAPF /
// MIC root certificates OpenSSL refuses at security level 2.

#include "decide/decision_engine.h"
#include "decide/eap_tls_limits.h"
#include "decide/policy.h"
#include "test_support.h"

#include <gtest/gtest.h>

#include <fstream>

using namespace lscgate;

namespace {

Policy policy(const std::string& text) {
    auto p = Policy::parse(text, "policy.toml");
    EXPECT_TRUE(p) << p.message();
    return p ? std::move(*p) : Policy::defaults();
}

// One warning containing every needle, or a failure listing them all.
void expect_warning(const std::vector<std::string>& warnings, std::initializer_list<std::string_view> needles) {
    for (const auto& w : warnings) {
        bool all = true;
        for (auto n : needles) all = all && w.find(n) != std::string::npos;
        if (all) return;
    }
    std::string list;
    for (const auto& w : warnings) list += "\n  " + w;
    ADD_FAILURE() << "no warning with " << *needles.begin() << "...; got:" << list;
}

// Re-signs `cert` with `md` (and new validity, in days from now) under `key`.
void resign(X509* cert, EVP_PKEY* key, const EVP_MD* md, long from_days = -1, long to_days = 3650) {
    X509_gmtime_adj(X509_getm_notBefore(cert), from_days * 86400);
    X509_gmtime_adj(X509_getm_notAfter(cert), to_days * 86400);
    ASSERT_GT(X509_sign(cert, key, md), 0);
}

const UnixTime kNow = now_utc();

}  // namespace

TEST(EapTlsLimits, TheDefaultPolicyWithSoundCertificatesWarnsOfNothing) {
    auto capf = test::make_root_ca("CN=CAPF-1,O=Example", "ec:p256");
    EXPECT_TRUE(eap_tls_policy_warnings(Policy::defaults(), {}, {capf.cert.get()}, kNow).empty());
}

TEST(EapTlsLimits, ExpiryGraceAndExpiredActionsCannotApplyTo8021X) {
    const auto w = eap_tls_policy_warnings(policy("[expiry]\ngrace_days = 7\n[actions]\nlsc-expired = \"allow-until 2099-01-31\"\n"
                                                  "lsc-not-yet-valid = \"restrict\"\n"),
                                           {}, {}, kNow);
    ASSERT_EQ(w.size(), 3u);
    expect_warning(w, {"[expiry] grace_days = 7", "cannot apply to 802.1X", "certificate has expired", "lscgate-vpn",
                       "grace_days = 0"});
    expect_warning(w, {"lsc-expired = \"allow-until 2099-01-31\"", "only VPN authorization"});
    expect_warning(w, {"lsc-not-yet-valid = \"restrict\"", "certificate is not yet valid", "applies nowhere"});
}

TEST(EapTlsLimits, MicAllowancesNameWhatTheTlsLayerRefuses) {
    const Policy restrict = policy("[actions]\nmic = \"restrict\"\n");
    // No mic_roots: a MIC is never even classed as one.
    auto none = eap_tls_policy_warnings(restrict, {}, {}, kNow);
    ASSERT_EQ(none.size(), 1u);
    expect_warning(none, {"mic = \"restrict\"", "can never apply", "mic_roots is empty"});

    // Sound roots: only the standing limit (expired / SHA-1 MICs never reach the module).
    auto good = test::make_root_ca("CN=Cisco Manufacturing CA SHA2,O=Cisco", "ec:p256");
    auto w = eap_tls_policy_warnings(restrict, {good.cert.get()}, {}, kNow);
    ASSERT_EQ(w.size(), 1u);
    expect_warning(w, {"mic = \"restrict\" applies over 802.1X only to MICs the TLS layer accepts", "expired",
                       "--auth mic"});

    // An old SHA-1 root, an expired one, an RSA-1024 one.
    auto sha1 = test::make_root_ca("CN=Cisco Manufacturing CA,O=Cisco", "rsa:2048");
    resign(sha1.cert.get(), sha1.key.get(), EVP_sha1());
    auto expired = test::make_root_ca("CN=Old Manufacturing CA,O=Cisco", "ec:p256");
    resign(expired.cert.get(), expired.key.get(), EVP_sha256(), -4000, -10);
    auto weak = test::make_root_ca("CN=Weak Manufacturing CA,O=Cisco", "rsa:1024");
    w = eap_tls_policy_warnings(policy("[actions]\nmic = \"allow-until 2099-12-31\"\n"),
                                {sha1.cert.get(), expired.cert.get(), weak.cert.get()}, {}, kNow);
    ASSERT_EQ(w.size(), 4u);
    expect_warning(w, {"mic = \"allow-until 2099-12-31\"", "CN=Cisco Manufacturing CA", "SHA1",
                       "CA signature digest algorithm too weak"});
    expect_warning(w, {"CN=Old Manufacturing CA", "expired", "certificate has expired", "every MIC"});
    expect_warning(w, {"CN=Weak Manufacturing CA", "1024-bit rsa key", "security level 2", "key too weak"});
    // mic = "reject": the roots do not matter.
    EXPECT_TRUE(eap_tls_policy_warnings(Policy::defaults(), {weak.cert.get()}, {}, kNow).empty());
}

TEST(EapTlsLimits, CapfCertificatesTheTlsLayerRefuses) {
    auto weak = test::make_root_ca("CN=CAPF-old,O=Example", "rsa:1024");
    resign(weak.cert.get(), weak.key.get(), EVP_sha1());
    // Under a root, signed with SHA-1: its own signature is checked.
    auto root = test::make_root_ca("CN=Root,O=Example", "ec:p256");
    auto sha1_sub = test::make_intermediate_ca(root, "CN=CAPF-sub,O=Example", "ec:p256");
    resign(sha1_sub.cert.get(), root.key.get(), EVP_sha1());
    // Self-signed with SHA-1 but a strong key: the trust anchor's own signature is not checked.
    auto sha1_self = test::make_root_ca("CN=CAPF-selfsigned,O=Example", "ec:p256");
    resign(sha1_self.cert.get(), sha1_self.key.get(), EVP_sha1());
    const auto w = eap_tls_policy_warnings(Policy::defaults(), {}, {weak.cert.get(), sha1_sub.cert.get(), sha1_self.cert.get()}, kNow);
    ASSERT_EQ(w.size(), 2u);
    expect_warning(w, {"CAPF certificate \"/O=Example/CN=CAPF-old\"", "1024-bit rsa key", "every LSC it signed",
                       "Rotating the CAPF certificate"});
    expect_warning(w, {"CN=CAPF-sub", "signed with SHA1", "digest algorithm too weak"});
}

TEST(EapTlsLimits, TheEngineReportsThemAtLoad) {
    test::TempDir dir;
    Store store = test::make_store(dir / "lscgate.db");
    auto capf = test::make_root_ca("CN=CAPF-weak,O=Example", "rsa:1024");
    ASSERT_TRUE(store.add_capf_certificate(capf.cert.get(), "test"));
    std::ofstream(dir / "policy.toml") << "[actions]\nlsc-valid = \"accept\"\n[expiry]\ngrace_days = 3\n";
    EngineConfig cfg;
    cfg.database = dir / "lscgate.db";
    cfg.policy_file = dir / "policy.toml";
    cfg.trust_refresh = std::chrono::milliseconds(0);
    auto engine = DecisionEngine::create(cfg);
    ASSERT_TRUE(engine) << engine.message();
    const auto w = (*engine)->load_warnings(kNow);
    ASSERT_EQ(w.size(), 2u);
    expect_warning(w, {"grace_days = 3"});
    expect_warning(w, {"CAPF certificate", "CN=CAPF-weak", "1024-bit"});
}
