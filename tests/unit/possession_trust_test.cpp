// Proof of possession (raw PKCS#1 / ECDSA over the digest) and which
// certificates the trust set accepts as LSC or MIC, including hostile ones.

#include "pki/certificate.h"
#include "pki/possession_proof.h"
#include "pki/trust_set.h"
#include "test_support.h"

#include <gtest/gtest.h>
#include <openssl/rsa.h>

#include <fstream>

using namespace lscgate;

namespace {

Bytes msg() { return certificate_proof_message("SEP001122334455", Bytes{0x30, 0x03, 0x02, 0x01, 0x01}); }

TEST(PossessionProof, MessageLayout) {
    const Bytes m = msg();
    ASSERT_EQ(m.size(), 15u + 1 + 5);
    EXPECT_EQ(m[15], 0);
    EXPECT_EQ(m[16], 0x30);
}

TEST(PossessionProof, RsaIsRawPkcs1WithoutDigestInfo) {
    auto key = test::make_key("rsa:2048");
    auto sig = sign_proof(key.get(), ProofHash::Sha512, msg());
    ASSERT_TRUE(sig);
    EXPECT_EQ(sig->size(), 256u);
    EXPECT_TRUE(verify_proof(key.get(), ProofHash::Sha512, msg(), *sig));
    // Recover the block: 00 01 FF..FF 00 || SHA-512(M), no ASN.1 DigestInfo.
    EvpPkeyCtxPtr ctx(EVP_PKEY_CTX_new(key.get(), nullptr));
    ASSERT_EQ(EVP_PKEY_verify_recover_init(ctx.get()), 1);
    ASSERT_EQ(EVP_PKEY_CTX_set_rsa_padding(ctx.get(), RSA_NO_PADDING), 1);
    Bytes em(256);
    std::size_t len = em.size();
    ASSERT_EQ(EVP_PKEY_verify_recover(ctx.get(), em.data(), &len, sig->data(), sig->size()), 1);
    ASSERT_EQ(len, 256u);
    EXPECT_EQ(em[0], 0x00);
    EXPECT_EQ(em[1], 0x01);
    const std::size_t digest_at = 256 - 64;
    EXPECT_EQ(em[digest_at - 1], 0x00);
    for (std::size_t i = 2; i < digest_at - 1; ++i) ASSERT_EQ(em[i], 0xFF) << i;
    const Bytes d = proof_digest(ProofHash::Sha512, msg());
    EXPECT_TRUE(std::equal(d.begin(), d.end(), em.begin() + static_cast<std::ptrdiff_t>(digest_at)));
}

TEST(PossessionProof, RejectsWrongMessageHashOrKey) {
    auto key = test::make_key("rsa:2048");
    auto other = test::make_key("rsa:2048");
    auto sig = sign_proof(key.get(), ProofHash::Sha1, msg());
    ASSERT_TRUE(sig);
    EXPECT_TRUE(verify_proof(key.get(), ProofHash::Sha1, msg(), *sig));
    EXPECT_FALSE(verify_proof(key.get(), ProofHash::Sha512, msg(), *sig));
    EXPECT_FALSE(verify_proof(other.get(), ProofHash::Sha1, msg(), *sig));
    Bytes m2 = msg();
    m2.back() ^= 1;
    EXPECT_FALSE(verify_proof(key.get(), ProofHash::Sha1, m2, *sig));
    Bytes bad = *sig;
    bad[10] ^= 0x40;
    EXPECT_FALSE(verify_proof(key.get(), ProofHash::Sha1, msg(), bad));
    EXPECT_FALSE(verify_proof(key.get(), ProofHash::Sha1, msg(), Bytes{}));
}

TEST(PossessionProof, RsaWithDigestInfoIsNotAccepted) {
    // An ordinary PKCS#1 signature (with DigestInfo) is a different block; CAPF proofs must be raw.
    auto key = test::make_key("rsa:2048");
    EvpMdCtxPtr md(EVP_MD_CTX_new());
    ASSERT_EQ(EVP_DigestSignInit(md.get(), nullptr, EVP_sha512(), nullptr, key.get()), 1);
    std::size_t len = 0;
    const Bytes m = msg();
    ASSERT_EQ(EVP_DigestSign(md.get(), nullptr, &len, m.data(), m.size()), 1);
    Bytes sig(len);
    ASSERT_EQ(EVP_DigestSign(md.get(), sig.data(), &len, m.data(), m.size()), 1);
    EXPECT_FALSE(verify_proof(key.get(), ProofHash::Sha512, m, sig));
}

TEST(PossessionProof, EcDerAndRawRs) {
    auto key = test::make_key("ec:p256");
    auto sig = sign_proof(key.get(), ProofHash::Sha512, msg());
    ASSERT_TRUE(sig);
    EXPECT_TRUE(verify_proof(key.get(), ProofHash::Sha512, msg(), *sig));
    // The same signature as raw r||s (32+32 bytes) is accepted too.
    const unsigned char* p = sig->data();
    ECDSA_SIG* es = d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(sig->size()));
    ASSERT_NE(es, nullptr);
    Bytes raw(64);
    BN_bn2binpad(ECDSA_SIG_get0_r(es), raw.data(), 32);
    BN_bn2binpad(ECDSA_SIG_get0_s(es), raw.data() + 32, 32);
    ECDSA_SIG_free(es);
    EXPECT_TRUE(verify_proof(key.get(), ProofHash::Sha512, msg(), raw));
    raw[40] ^= 1;
    EXPECT_FALSE(verify_proof(key.get(), ProofHash::Sha512, msg(), raw));
    EXPECT_FALSE(verify_proof(key.get(), ProofHash::Sha512, msg(), Bytes(63, 1)));
}

class TrustSetTest : public ::testing::Test {
protected:
    test::TestCa capf = test::make_root_ca("CN=CAPF-trust,O=Example");
    test::TestCa old_capf = test::make_root_ca("CN=CAPF-old,O=Example");
    test::TestCa mic_root = test::make_root_ca("CN=Cisco Manufacturing CA SHA2,O=Cisco");
    test::TestCa other_cluster = test::make_root_ca("CN=CAPF-other-cluster,O=Elsewhere");
    EvpPkeyPtr phone = test::make_key("ec:p256");
    TrustSet trust = std::move(*TrustSet::build({capf.cert.get(), old_capf.cert.get()}, {mic_root.cert.get()}));
};

TEST_F(TrustSetTest, AcceptsLscsFromCurrentAndPreviousCapf) {
    auto lsc = test::make_leaf(capf, phone.get(), "CN=SEP001122334455");
    auto old = test::make_leaf(old_capf, phone.get(), "CN=SEP001122334455");
    EXPECT_TRUE(trust.verify_lsc(lsc.get(), now_utc()));
    EXPECT_TRUE(trust.verify_lsc(old.get(), now_utc()));
    EXPECT_FALSE(trust.verify_mic(lsc.get(), now_utc(), true));
}

TEST_F(TrustSetTest, RejectsHostileCertificates) {
    // Another cluster's CAPF
    auto foreign = test::make_leaf(other_cluster, phone.get(), "CN=SEP001122334455");
    EXPECT_FALSE(trust.verify_lsc(foreign.get(), now_utc()));
    // Self-signed certificate that carries our CAPF's DN as issuer
    auto impostor_ca = test::make_root_ca("CN=CAPF-trust,O=Example");
    auto impostor = test::make_leaf(impostor_ca, phone.get(), "CN=SEP001122334455");
    auto facts = describe_certificate(impostor.get());
    EXPECT_EQ(facts->issuer, "CN=CAPF-trust,O=Example");
    EXPECT_FALSE(trust.verify_lsc(impostor.get(), now_utc()));
    EXPECT_FALSE(trust.verify_lsc(impostor_ca.cert.get(), now_utc()));
    // Correct issuer DN, signature broken
    auto good = test::make_leaf(capf, phone.get(), "CN=SEP001122334455");
    Bytes der = certificate_der(good.get());
    der[der.size() - 5] ^= 0x01;
    auto tampered = parse_certificate_der(der);
    ASSERT_TRUE(tampered);
    EXPECT_FALSE(trust.verify_lsc(tampered->get(), now_utc()));
    // Leaf with CA:TRUE
    auto ca_leaf = test::make_leaf(capf, phone.get(), "CN=SEP001122334455", -1, 365, true);
    auto why = trust.verify_lsc(ca_leaf.get(), now_utc());
    ASSERT_FALSE(why);
    EXPECT_NE(why.message().find("CA certificate"), std::string::npos);
    // Expired and not yet valid
    auto expired = test::make_leaf(capf, phone.get(), "CN=SEP001122334455", -30, -1);
    auto future = test::make_leaf(capf, phone.get(), "CN=SEP001122334455", 2, 30);
    EXPECT_NE(trust.verify_lsc(expired.get(), now_utc()).message().find("expired"), std::string::npos);
    EXPECT_NE(trust.verify_lsc(future.get(), now_utc()).message().find("not yet valid"), std::string::npos);
}

TEST_F(TrustSetTest, MicsAndTheirExpiryPolicy) {
    auto mic = test::make_leaf(mic_root, phone.get(), "CN=CP-8841-SEP001122334455");
    EXPECT_TRUE(trust.verify_mic(mic.get(), now_utc(), true));
    auto old_mic = test::make_leaf(mic_root, phone.get(), "CN=CP-7942G-SEP001122334455", -4000, -10);
    EXPECT_FALSE(trust.verify_mic(old_mic.get(), now_utc(), true));
    EXPECT_TRUE(trust.verify_mic(old_mic.get(), now_utc(), false));  // accept_expired_mic
    auto no_roots = std::move(*TrustSet::build({capf.cert.get()}, {}));
    auto r = no_roots.verify_mic(mic.get(), now_utc(), true);
    ASSERT_FALSE(r);
    EXPECT_NE(r.message().find("no MIC roots"), std::string::npos);
}

TEST(TrustSetLoad, FileDirectoryAndErrors) {
    test::TempDir dir;
    auto a = test::make_root_ca("CN=A");
    auto b = test::make_root_ca("CN=B");
    std::filesystem::create_directories(dir / "roots");
    test::write_pem(dir / "roots" / "a.pem", a.cert.get());
    test::write_pem(dir / "roots" / "b.crt", b.cert.get());
    std::ofstream(dir / "roots" / "README") << "ignored";
    auto from_dir = load_certificates_from(dir / "roots");
    ASSERT_TRUE(from_dir) << from_dir.message();
    EXPECT_EQ(from_dir->size(), 2u);
    auto from_file = load_certificates_from(dir / "roots" / "a.pem");
    ASSERT_TRUE(from_file);
    EXPECT_EQ(from_file->size(), 1u);
    std::filesystem::create_directories(dir / "empty");
    EXPECT_FALSE(load_certificates_from(dir / "empty"));
    std::ofstream(dir / "broken.pem") << "-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n";
    auto broken = load_certificates_from(dir / "broken.pem");
    ASSERT_FALSE(broken);
    EXPECT_NE(broken.message().find("broken.pem"), std::string::npos);
}

}  // namespace
