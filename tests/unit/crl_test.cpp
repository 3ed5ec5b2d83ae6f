// The CAPF's CRL (issue 12 item 1): the CRL itself (number, AKI, times, reason
// codes, signature) checked by openssl(1); what it lists from a real registry;
// when it is renewed, with an injected clock; the CRL Distribution Point in
// new LSCs; and the HTTP endpoint of `lscgate serve --crl-http`, fetched.

#include "capf/crl_publisher.h"
#include "capf/crl_service.h"
#include "pg_cluster.h"
#include "pki/crl.h"
#include "pki/keys.h"
#include "pki/secure_file.h"
#include "registry/config.h"
#include "registry/sqlite_handles.h"
#include "test_support.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <openssl/x509v3.h>

#include <fstream>
#include <map>

using namespace lscgate;
using lscgate::test::TempDir;

namespace {

constexpr UnixTime kT0 = 1900000000;  // a fixed "now" for the injected clock
constexpr int kWeek = 7 * 86400;

class CrlTest : public ::testing::Test {
protected:
    TempDir dir;
    test::TestCa capf = test::make_root_ca("CN=CAPF-crl,OU=Voice,O=Example");
    CapfAuthority authority = test::authority_from(capf);
    Store store = test::make_store(dir / "lscgate.db");
    capf::CrlSettings settings{dir / "capf.crl", kWeek, false, dir.path()};

    // An active LSC for `device` signed by `by` (the fixture's CAPF when null), recorded through the store.
    X509Ptr enrol(const std::string& device, std::optional<UnixTime> issued_at = std::nullopt,
                  const CapfAuthority* by = nullptr) {
        if (!store.find_device(device)->has_value()) {
            EXPECT_TRUE(store.add_device(device, "", "", "test"));
        }
        auto op = store.schedule_operation(device, OperationRequest{}, "test");
        EXPECT_TRUE(op) << op.message();
        auto key = test::make_key("ec:p256");
        auto cert = (by != nullptr ? *by : authority).issue_lsc(device, key.get(), 30, issued_at);
        EXPECT_TRUE(cert) << cert.message();
        EXPECT_TRUE(store.commit_issued_lsc(*op, cert->get()));
        return std::move(*cert);
    }
    std::string serial_of(const X509* cert) { return describe_certificate(cert)->serial_hex; }
    capf::CrlOutcome refresh(UnixTime now, bool force = false) {
        auto r = capf::refresh_crl(store, authority, settings, now, force);
        EXPECT_TRUE(r) << r.message();
        return r ? std::move(*r) : capf::CrlOutcome{};
    }
    std::string write_crl_pem(const std::string& der, const std::string& name = "capf.crl.pem") {
        auto crl = parse_crl(der);
        EXPECT_TRUE(crl) << crl.message();
        const auto path = dir / name;
        std::ofstream(path) << *crl_pem(crl->get());
        return path.string();
    }
};

// `cert` with extension `nid` replaced by `value` (or removed when null),
// signed again by `key`; read back from DER so nothing cached is left.
X509Ptr with_extension(const X509* cert, int nid, const char* value, const X509* issuer, EVP_PKEY* key) {
    X509Ptr copy(X509_dup(const_cast<X509*>(cert)));
    const int at = X509_get_ext_by_NID(copy.get(), nid, -1);
    if (at >= 0) X509_EXTENSION_free(X509_delete_ext(copy.get(), at));
    if (value != nullptr) {
        X509V3_CTX ctx;
        X509V3_set_ctx_nodb(&ctx);
        X509V3_set_ctx(&ctx, const_cast<X509*>(issuer), copy.get(), nullptr, nullptr, 0);
        X509ExtensionPtr ext(X509V3_EXT_conf_nid(nullptr, &ctx, nid, value));
        EXPECT_TRUE(ext && X509_add_ext(copy.get(), ext.get(), -1) == 1);
    }
    EXPECT_GT(X509_sign(copy.get(), key, EVP_sha256()), 0);
    auto again = parse_certificate_der(certificate_der(copy.get()));
    EXPECT_TRUE(again) << again.message();
    return std::move(*again);
}

TEST_F(CrlTest, ACrlCarriesNumberTimesAkiAndReasonsAndVerifiesWithOpenssl) {
    CrlRequest request{42, kT0, kT0 + kWeek, {{"0A1B2C", kT0 - 60, CrlReason::KeyCompromise}, {"FF", kT0 - 30, CrlReason::Unspecified}}};
    auto crl = build_crl(capf.cert.get(), capf.key.get(), request);
    ASSERT_TRUE(crl) << crl.message();
    EXPECT_TRUE(crl_signed_by(crl->get(), capf.cert.get()));
    auto other = test::make_root_ca("CN=CAPF-crl,OU=Voice,O=Example");  // same name, another key
    EXPECT_FALSE(crl_signed_by(crl->get(), other.cert.get()));
    auto facts = describe_crl(crl->get());
    ASSERT_TRUE(facts) << facts.message();
    EXPECT_EQ(facts->number, 42);
    EXPECT_EQ(facts->this_update, kT0);
    EXPECT_EQ(facts->next_update, kT0 + kWeek);
    ASSERT_EQ(facts->entries.size(), 2u);
    EXPECT_EQ(facts->entries[0], (CrlEntry{"FF", kT0 - 30, CrlReason::Unspecified}));  // sorted by serial
    EXPECT_EQ(facts->entries[1], (CrlEntry{"0A1B2C", kT0 - 60, CrlReason::KeyCompromise}));

    // The AKI names the CAPF's SKI.
    auto* aki = static_cast<AUTHORITY_KEYID*>(X509_CRL_get_ext_d2i(crl->get(), NID_authority_key_identifier, nullptr, nullptr));
    ASSERT_NE(aki, nullptr);
    const ASN1_OCTET_STRING* ski = X509_get0_subject_key_id(capf.cert.get());
    ASSERT_NE(ski, nullptr);
    EXPECT_EQ(ASN1_OCTET_STRING_cmp(aki->keyid, ski), 0);
    AUTHORITY_KEYID_free(aki);

    // openssl(1): signature, and the fields as an independent parser reads them.
    test::write_pem(dir / "capf.crt", capf.cert.get());
    ASSERT_TRUE(write_file_atomically(dir / "test.crl", *crl_der(crl->get()), FileMode::Public));
    auto verified = test::run_command("openssl crl -inform DER -in " + (dir / "test.crl").string() + " -CAfile " +
                                      (dir / "capf.crt").string() + " -noout -verify 2>&1");
    EXPECT_EQ(verified.status, 0) << verified.output;
    EXPECT_NE(verified.output.find("verify OK"), std::string::npos) << verified.output;
    auto text = test::run_command("openssl crl -inform DER -in " + (dir / "test.crl").string() + " -noout -text 2>&1");
    EXPECT_NE(text.output.find("X509v3 CRL Number"), std::string::npos) << text.output;
    EXPECT_NE(text.output.find("42"), std::string::npos);
    EXPECT_NE(text.output.find("X509v3 Authority Key Identifier"), std::string::npos);
    EXPECT_NE(text.output.find("Key Compromise"), std::string::npos);
    EXPECT_EQ(text.output.find("Unspecified"), std::string::npos) << "reason unspecified is left out (RFC 5280 §5.3.1)";
}

TEST_F(CrlTest, OpensslVerifyWithCrlCheckRefusesTheRevokedLscAndAcceptsTheValidOne) {
    auto good = enrol("SEP000000000001");
    auto bad = enrol("SEP000000000002");
    ASSERT_TRUE(store.revoke_active_lsc("SEP000000000002", "key-compromise", "test"));
    auto out = refresh(now_utc());
    ASSERT_TRUE(out.renewed);
    ASSERT_EQ(out.facts.entries.size(), 1u);
    EXPECT_EQ(out.facts.entries[0].serial_hex, serial_of(bad.get()));
    EXPECT_EQ(out.facts.entries[0].reason, CrlReason::KeyCompromise);
    const auto crl = write_crl_pem(out.der);
    test::write_pem(dir / "capf.crt", capf.cert.get());
    test::write_pem(dir / "good.pem", good.get());
    test::write_pem(dir / "bad.pem", bad.get());
    const std::string verify = "openssl verify -crl_check -CAfile " + (dir / "capf.crt").string() + " -CRLfile " + crl + " ";
    auto ok = test::run_command(verify + (dir / "good.pem").string() + " 2>&1");
    EXPECT_EQ(ok.status, 0) << ok.output;
    EXPECT_NE(ok.output.find(": OK"), std::string::npos) << ok.output;
    auto refused = test::run_command(verify + (dir / "bad.pem").string() + " 2>&1");
    EXPECT_NE(refused.status, 0) << refused.output;
    EXPECT_NE(refused.output.find("certificate revoked"), std::string::npos) << refused.output;
}

TEST_F(CrlTest, RenewedOnRevocationAndOnceHalfItsValidityHasPassed) {
    enrol("SEP000000000001", kT0);  // valid at the injected times
    auto first = refresh(kT0);
    EXPECT_TRUE(first.renewed);
    EXPECT_EQ(first.facts.number, 1);
    EXPECT_EQ(first.facts.this_update, kT0);
    EXPECT_EQ(first.facts.next_update, kT0 + kWeek);
    EXPECT_TRUE(first.facts.entries.empty());

    auto early = refresh(kT0 + kWeek / 2 - 1);  // one second before half
    EXPECT_FALSE(early.renewed);
    EXPECT_EQ(early.facts.number, 1);

    auto half = refresh(kT0 + kWeek / 2);
    EXPECT_TRUE(half.renewed);
    EXPECT_EQ(half.facts.number, 2);
    EXPECT_EQ(half.facts.this_update, kT0 + kWeek / 2);
    EXPECT_EQ(half.facts.next_update, kT0 + kWeek / 2 + kWeek);

    // A revocation renews it at once, long before half of the new validity.
    ASSERT_TRUE(store.revoke_active_lsc("SEP000000000001", "cessation-of-operation", "test"));
    auto revoked = refresh(kT0 + kWeek / 2 + 10);
    EXPECT_TRUE(revoked.renewed);
    EXPECT_EQ(revoked.facts.number, 3);
    ASSERT_EQ(revoked.facts.entries.size(), 1u);
    EXPECT_EQ(revoked.facts.entries[0].reason, CrlReason::CessationOfOperation);
    EXPECT_FALSE(refresh(kT0 + kWeek / 2 + 20).renewed);
    EXPECT_EQ(refresh(kT0 + kWeek / 2 + 20, true).facts.number, 4);  // forced
}

TEST_F(CrlTest, ACrlOfAnotherSignerIsReplacedAndTheNumberGoesOn) {
    auto foreign = test::make_root_ca("CN=CAPF-crl,OU=Voice,O=Example");
    auto crl = build_crl(foreign.cert.get(), foreign.key.get(), CrlRequest{7, kT0, kT0 + kWeek, {}});
    ASSERT_TRUE(crl);
    ASSERT_TRUE(write_file_atomically(settings.file, *crl_der(crl->get()), FileMode::Public));
    auto out = refresh(kT0 + 1);
    EXPECT_TRUE(out.renewed);
    EXPECT_EQ(out.facts.number, 8);
    ASSERT_TRUE(write_file_atomically(settings.file, "garbage", FileMode::Public));
    EXPECT_TRUE(refresh(kT0 + 2).renewed);
}

TEST_F(CrlTest, SupersededLscsAreListedOnlyWhenAsked) {
    auto old_lsc = enrol("SEP000000000001");
    enrol("SEP000000000001");  // supersedes the first
    auto without = capf::crl_entries(store, capf.cert.get(), false, now_utc());
    ASSERT_TRUE(without);
    EXPECT_TRUE(without->empty());
    auto with = capf::crl_entries(store, capf.cert.get(), true, now_utc());
    ASSERT_TRUE(with);
    ASSERT_EQ(with->size(), 1u);
    EXPECT_EQ((*with)[0].serial_hex, serial_of(old_lsc.get()));
    EXPECT_EQ((*with)[0].reason, CrlReason::Superseded);
    // Expired ones leave the list.
    auto later = capf::crl_entries(store, capf.cert.get(), true, now_utc() + 31 * 86400);
    ASSERT_TRUE(later);
    EXPECT_TRUE(later->empty());
}

TEST_F(CrlTest, ASupersededLscIsDatedWhenItsDevicesNextLscWasRecorded) {
    // Device A: LSCs 1, 2, 3 (1 superseded by 2, 2 by 3); device B's LSC between
    // them counts for nothing. Each dated from its own device's next LSC, whichever
    // walk found it (only the candidates are kept, not the fleet).
    const UnixTime t0 = now_utc() - 86400;  // the LSCs are valid now: dated within their validity
    auto a1 = enrol("SEP00000000000A");
    auto b1 = enrol("SEP00000000000B");
    auto a2 = enrol("SEP00000000000A");
    auto a3 = enrol("SEP00000000000A");
    {
        auto db = SqliteDatabase::open((dir / "lscgate.db").string(), SqliteDatabase::Mode::ReadWrite, 5000);
        ASSERT_TRUE(db) << db.message();
        // Four distinct recording times, in id order: 1000, 2000, 3000, 4000 s after t0.
        ASSERT_TRUE(db->exec("UPDATE certificates SET created_at = " + std::to_string(t0) +
                             " + 1000 * (SELECT count(*) FROM certificates c WHERE c.kind = 'lsc' AND c.id <= "
                             "certificates.id) WHERE kind = 'lsc'"));
    }
    auto with = capf::crl_entries(store, capf.cert.get(), true, now_utc());
    ASSERT_TRUE(with) << with.message();
    ASSERT_EQ(with->size(), 2u);
    std::map<std::string, UnixTime> dated;
    for (const auto& e : *with) dated[e.serial_hex] = e.revoked_at;
    EXPECT_EQ(dated[serial_of(a1.get())], t0 + 3000) << "a1 ends when a2 was recorded, not b1";
    EXPECT_EQ(dated[serial_of(a2.get())], t0 + 4000) << "a2 ends when a3 was recorded";
    EXPECT_EQ(dated.count(serial_of(b1.get())), 0u);
    EXPECT_EQ(dated.count(serial_of(a3.get())), 0u);
}

// The same list from a PostgreSQL registry (a revocation made by another
// issuer on the shared registry reaches this directory's CRL).
TEST_F(CrlTest, APostgresqlRegistryGivesTheSameList) {
    auto cluster = test::PgCluster::shared();
    ASSERT_TRUE(cluster) << cluster.message();
    auto db = (*cluster)->create_database();
    ASSERT_TRUE(db) << db.message();
    auto pg = Store::open(db->issuer, Store::OpenMode::CreateAndMigrate);
    ASSERT_TRUE(pg) << pg.message();
    ASSERT_TRUE(pg->add_device("SEP000000000009", "", "", "test"));
    auto op = pg->schedule_operation("SEP000000000009", OperationRequest{}, "test");
    ASSERT_TRUE(op) << op.message();
    auto key = test::make_key("ec:p256");
    auto lsc = authority.issue_lsc("SEP000000000009", key.get(), 30);
    ASSERT_TRUE(lsc);
    ASSERT_TRUE(pg->commit_issued_lsc(*op, lsc->get()));
    ASSERT_TRUE(pg->revoke_active_lsc("SEP000000000009", "privilege-withdrawn", "test"));
    auto out = capf::refresh_crl(*pg, authority, settings, now_utc());
    ASSERT_TRUE(out) << out.message();
    ASSERT_EQ(out->facts.entries.size(), 1u);
    EXPECT_EQ(out->facts.entries[0].serial_hex, serial_of(lsc->get()));
    EXPECT_EQ(out->facts.entries[0].reason, CrlReason::PrivilegeWithdrawn);
}

TEST_F(CrlTest, TheCrlUrlBecomesADistributionPointOfNewLscs) {
    ASSERT_TRUE(authority.set_crl_url("http://capf.example.net:8080/capf.crl"));
    auto key = test::make_key("ec:p256");
    auto lsc = authority.issue_lsc("SEP000000000001", key.get(), 30);
    ASSERT_TRUE(lsc);
    auto* cdp = static_cast<CRL_DIST_POINTS*>(X509_get_ext_d2i(lsc->get(), NID_crl_distribution_points, nullptr, nullptr));
    ASSERT_NE(cdp, nullptr);
    ASSERT_EQ(sk_DIST_POINT_num(cdp), 1);
    const GENERAL_NAMES* names = sk_DIST_POINT_value(cdp, 0)->distpoint->name.fullname;
    ASSERT_EQ(sk_GENERAL_NAME_num(names), 1);
    int type = 0;
    const auto* uri = static_cast<const ASN1_STRING*>(GENERAL_NAME_get0_value(sk_GENERAL_NAME_value(names, 0), &type));
    EXPECT_EQ(type, GEN_URI);
    EXPECT_EQ(std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(uri)), static_cast<std::size_t>(ASN1_STRING_length(uri))),
              "http://capf.example.net:8080/capf.crl");
    CRL_DIST_POINTS_free(cdp);

    for (const char* bad : {"ldap://x/capf.crl", "http://a,b/capf.crl", "http://a b/", "http://"})
        EXPECT_FALSE(authority.set_crl_url(bad)) << bad;
    ASSERT_TRUE(authority.set_crl_url(""));
    auto plain = authority.issue_lsc("SEP000000000002", key.get(), 30);
    ASSERT_TRUE(plain);
    EXPECT_EQ(X509_get_ext_by_NID(plain->get(), NID_crl_distribution_points, -1), -1);
}

// `lscgate serve --crl-http`: GET /capf.crl answers the current CRL (DER),
// and one renewed by another process (lscgate revoke) from the next request on.
TEST_F(CrlTest, TheHttpEndpointServesTheCurrentCrl) {
    test::write_pem(dir / "capf.crt", capf.cert.get());
    ASSERT_TRUE(save_private_key(dir / "capf.key", capf.key.get()));
    std::ofstream(dir / "lscgate.toml") << default_config_text();
    auto cfg = load_config(dir.path());
    ASSERT_TRUE(cfg) << cfg.message();
    auto bad = enrol("SEP000000000003");

    std::vector<std::string> log;
    std::mutex log_mutex;
    auto service = capf::CrlService::start(*cfg, "127.0.0.1:0", [&](const std::string& line) {
        std::lock_guard lock(log_mutex);
        log.push_back(line);
    });
    ASSERT_TRUE(service) << service.message();
    const int port = (*service)->http_port();
    ASSERT_GT(port, 0);
    // The port is bound and listening once start() returned: no waiting needed.
    httplib::Client client("127.0.0.1", port);
    client.set_connection_timeout(10);
    client.set_read_timeout(10);
    auto res = client.Get("/capf.crl");
    ASSERT_TRUE(res) << httplib::to_string(res.error());
    EXPECT_EQ(res->status, 200);
    EXPECT_EQ(res->get_header_value("Content-Type"), "application/pkix-crl");
    auto crl = parse_crl(res->body);
    ASSERT_TRUE(crl) << crl.message();
    EXPECT_TRUE(crl_signed_by(crl->get(), capf.cert.get()));
    const auto first = describe_crl(crl->get())->number;
    EXPECT_TRUE(describe_crl(crl->get())->entries.empty());
    // Nothing but GET/HEAD, and no body of any size is read into memory.
    auto post = client.Post("/capf.crl", std::string(64 * 1024, 'x'), "application/octet-stream");
    ASSERT_TRUE(post) << httplib::to_string(post.error());
    EXPECT_TRUE(post->status == 405 || post->status == 413) << post->status;
    auto head = client.Head("/capf.crl");
    ASSERT_TRUE(head);
    EXPECT_EQ(head->status, 200);

    // Another process revokes and renews the file.
    ASSERT_TRUE(store.revoke_active_lsc("SEP000000000003", "key-compromise", "test"));
    auto renewed = refresh(now_utc());
    ASSERT_TRUE(renewed.renewed);
    auto again = client.Get("/capf.crl");
    ASSERT_TRUE(again);
    auto crl2 = parse_crl(again->body);
    ASSERT_TRUE(crl2);
    auto facts2 = describe_crl(crl2->get());
    EXPECT_EQ(facts2->number, first + 1);
    ASSERT_EQ(facts2->entries.size(), 1u);
    EXPECT_EQ(facts2->entries[0].serial_hex, serial_of(bad.get()));

    EXPECT_EQ(client.Get("/other")->status, 404);
    service->reset();  // stops the HTTP server and the refresh thread
    std::lock_guard lock(log_mutex);
    ASSERT_GE(log.size(), 2u);
    EXPECT_NE(log[1].find("crl http listening on 127.0.0.1:" + std::to_string(port)), std::string::npos) << log[1];
}

// Issue 12 review: two CAPF certificates with one subject (re-keyed under the
// same name). Each revoked LSC goes on the CRL of the CAPF that issued it, and
// each CRL is signed by its own CAPF; without the previous CAPF's key its
// revocations are reported, never signed by the current key.
TEST_F(CrlTest, ACapfReKeyedUnderTheSameNameListsOnlyItsOwnLscs) {
    auto old_capf = test::make_root_ca("CN=CAPF-crl,OU=Voice,O=Example");  // the fixture's subject, another key
    auto old_authority = test::authority_from(old_capf);
    ASSERT_TRUE(store.add_capf_certificate(old_capf.cert.get(), "test"));
    ASSERT_TRUE(store.add_capf_certificate(capf.cert.get(), "test"));  // the old one becomes previous
    auto old_lsc = enrol("SEP0000000000A1", std::nullopt, &old_authority);
    auto new_lsc = enrol("SEP0000000000A2");
    ASSERT_TRUE(store.revoke_active_lsc("SEP0000000000A1", "key-compromise", "test"));
    ASSERT_TRUE(store.revoke_active_lsc("SEP0000000000A2", "key-compromise", "test"));
    settings.key_dir = dir.path();

    // The previous CAPF's key is gone: its revocation is reported, not signed by the current key.
    auto out = refresh(now_utc());
    ASSERT_EQ(out.facts.entries.size(), 1u) << "the current CAPF's CRL lists its own LSC only";
    EXPECT_EQ(out.facts.entries[0].serial_hex, serial_of(new_lsc.get()));
    ASSERT_EQ(out.crls.size(), 1u);
    ASSERT_EQ(out.unpublished.size(), 1u);
    EXPECT_NE(out.unpublished[0].find("previous CAPF CN=CAPF-crl"), std::string::npos) << out.unpublished[0];
    EXPECT_NE(out.unpublished[0].find("1 revocation cannot be published (" + serial_of(old_lsc.get()) + " SEP0000000000A1)"),
              std::string::npos) << out.unpublished[0];
    EXPECT_NE(out.unpublished[0].find("its key is not available"), std::string::npos) << out.unpublished[0];

    // With its key kept beside the current one, the previous CAPF signs its own CRL.
    const auto old_facts = describe_certificate(old_capf.cert.get());
    ASSERT_TRUE(save_private_key(dir / (capf::capf_name_stem(*old_facts) + ".key"), old_capf.key.get()));
    auto both = refresh(now_utc());
    EXPECT_TRUE(both.unpublished.empty()) << both.unpublished.front();
    ASSERT_EQ(both.crls.size(), 2u);
    const auto& previous = both.crls[1];
    EXPECT_EQ(previous.file, capf::previous_crl_file(settings, *old_facts));
    EXPECT_EQ(previous.file.filename().string(), "capf-" + old_facts->sha256.substr(0, 16) + ".crl");
    EXPECT_TRUE(std::filesystem::exists(previous.file));
    ASSERT_EQ(previous.facts.entries.size(), 1u);
    EXPECT_EQ(previous.facts.entries[0].serial_hex, serial_of(old_lsc.get()));
    EXPECT_GT(previous.facts.number, out.facts.number) << "one numbering for every CRL of the directory";
    auto parsed = parse_crl(previous.der);
    ASSERT_TRUE(parsed);
    EXPECT_TRUE(crl_signed_by(parsed->get(), old_capf.cert.get()));
    EXPECT_FALSE(crl_signed_by(parsed->get(), capf.cert.get()));

    // openssl: each LSC is refused with its own CAPF's CRL.
    test::write_pem(dir / "old.crt", old_capf.cert.get());
    test::write_pem(dir / "old_lsc.pem", old_lsc.get());
    const auto old_crl = write_crl_pem(previous.der, "old.crl.pem");
    auto refused = test::run_command("openssl verify -crl_check -CAfile " + (dir / "old.crt").string() + " -CRLfile " +
                                     old_crl + " " + (dir / "old_lsc.pem").string() + " 2>&1");
    EXPECT_NE(refused.status, 0) << refused.output;
    EXPECT_NE(refused.output.find("certificate revoked"), std::string::npos) << refused.output;
}

// An LSC without authorityKeyIdentifier is told apart by its signature.
TEST_F(CrlTest, AnLscWithoutAuthorityKeyIdIsMatchedByItsSignature) {
    auto old_capf = test::make_root_ca("CN=CAPF-crl,OU=Voice,O=Example");
    auto old_authority = test::authority_from(old_capf);
    ASSERT_TRUE(store.add_capf_certificate(old_capf.cert.get(), "test"));
    ASSERT_TRUE(store.add_capf_certificate(capf.cert.get(), "test"));
    auto issued = old_authority.issue_lsc("SEP0000000000B1", test::make_key("ec:p256").get(), 30);
    ASSERT_TRUE(issued);
    auto bare = with_extension(issued->get(), NID_authority_key_identifier, nullptr, old_capf.cert.get(), old_capf.key.get());
    ASSERT_EQ(X509_get0_authority_key_id(bare.get()), nullptr);
    EXPECT_TRUE(certificate_issued_by(bare.get(), old_capf.cert.get()));
    EXPECT_FALSE(certificate_issued_by(bare.get(), capf.cert.get())) << "same issuer name, another key";
    ASSERT_TRUE(store.add_device("SEP0000000000B1", "", "", "test"));
    auto op = store.schedule_operation("SEP0000000000B1", OperationRequest{}, "test");
    ASSERT_TRUE(op);
    ASSERT_TRUE(store.commit_issued_lsc(*op, bare.get()));
    ASSERT_TRUE(store.revoke_active_lsc("SEP0000000000B1", "key-compromise", "test"));
    auto listed = capf::crl_listings(store, {capf.cert.get(), old_capf.cert.get()}, false, now_utc());
    ASSERT_TRUE(listed) << listed.message();
    EXPECT_TRUE((*listed)[0].empty()) << "not on the current CAPF's CRL";
    ASSERT_EQ((*listed)[1].size(), 1u);
    EXPECT_EQ((*listed)[1][0].entry.serial_hex, serial_of(bare.get()));
}

// Issue 12 review: a revocation no CRL can list is said, not left out in
// silence: an LSC of a retired CAPF, and a registry row whose PEM is unreadable.
TEST_F(CrlTest, RevocationsInNoCrlAreReportedWithTheirCause) {
    auto old_capf = test::make_root_ca("CN=CAPF-crl-retired,OU=Voice,O=Example");
    ASSERT_TRUE(store.add_capf_certificate(old_capf.cert.get(), "test"));
    ASSERT_TRUE(store.add_capf_certificate(capf.cert.get(), "test"));
    auto old_lsc = test::authority_from(old_capf).issue_lsc("SEP0000000000D1", test::make_key("ec:p256").get(), 30);
    ASSERT_TRUE(old_lsc);
    ASSERT_TRUE(store.add_device("SEP0000000000D1", "", "", "test"));
    auto op = store.schedule_operation("SEP0000000000D1", OperationRequest{}, "test");
    ASSERT_TRUE(op);
    ASSERT_TRUE(store.commit_issued_lsc(*op, old_lsc->get()));
    ASSERT_TRUE(store.revoke_active_lsc("SEP0000000000D1", "key-compromise", "test"));
    const auto old_facts = describe_certificate(old_capf.cert.get());
    ASSERT_TRUE(store.retire_capf_certificate(old_facts->sha256, "test"));

    auto out = refresh(now_utc());
    const std::string serial = serial_of(old_lsc->get());
    ASSERT_EQ(out.unpublished.size(), 1u);
    EXPECT_NE(out.unpublished[0].find("1 revocation is in no CRL (" + serial + " SEP0000000000D1)"), std::string::npos)
        << out.unpublished[0];
    EXPECT_NE(out.unpublished[0].find("issued by no CAPF that is current or previous"), std::string::npos)
        << out.unpublished[0];
    EXPECT_TRUE(out.facts.entries.empty()) << "never listed on another CAPF's CRL";

    // A row whose PEM no longer parses (a damaged registry) is named too.
    ASSERT_TRUE(store.database().exec("UPDATE certificates SET pem = 'garbage' WHERE device_name = 'SEP0000000000D1'"));
    auto damaged = refresh(now_utc());
    ASSERT_EQ(damaged.unpublished.size(), 1u);
    EXPECT_NE(damaged.unpublished[0].find(serial + " SEP0000000000D1): unreadable in the registry"), std::string::npos)
        << damaged.unpublished[0];
}

// Issue 12 review: a process that still runs the CAPF a rotation replaced (serve
// not reloaded yet) calls the registry's new current CAPF what it is, and says
// to reload, instead of asking for a kept key of a "previous" CAPF.
TEST_F(CrlTest, TheRegistrysNewCurrentCapfIsNotCalledPrevious) {
    ASSERT_TRUE(store.add_capf_certificate(capf.cert.get(), "test"));
    auto rotated = test::make_root_ca("CN=CAPF-crl-rotated,OU=Voice,O=Example");
    ASSERT_TRUE(store.add_capf_certificate(rotated.cert.get(), "test"));  // `init --force` elsewhere
    auto out = refresh(now_utc());  // still signing with the fixture's CAPF
    ASSERT_EQ(out.unpublished.size(), 1u);
    const std::string& line = out.unpublished[0];
    EXPECT_NE(line.find("new current (not loaded here) CAPF CN=CAPF-crl-rotated"), std::string::npos) << line;
    EXPECT_NE(line.find("reload it (SIGHUP"), std::string::npos) << line;
    EXPECT_EQ(line.find("previous CAPF"), std::string::npos) << line;
    EXPECT_EQ(line.find("Keep its key as"), std::string::npos) << line;
}

// Issue 12 review: a CAPF certificate whose keyUsage lacks cRLSign signs no
// CRL (the ASA and OpenSSL refuse it); the error says how to fix it.
TEST_F(CrlTest, ACapfWithoutCrlSignIsRefusedWithTheFix) {
    auto no_crl_sign = with_extension(capf.cert.get(), NID_key_usage, "critical,digitalSignature,keyCertSign",
                                      capf.cert.get(), capf.key.get());
    EXPECT_NE(crl_signer_problem(no_crl_sign.get()).find("cRLSign"), std::string::npos);
    CapfAuthority weak(std::move(no_crl_sign), share(capf.key.get()), {});
    auto r = capf::refresh_crl(store, weak, settings, now_utc());
    ASSERT_FALSE(r) << "a CRL signed without cRLSign is refused by every verifier";
    EXPECT_NE(r.message().find("keyUsage lacks cRLSign"), std::string::npos) << r.message();
    EXPECT_NE(r.message().find("keyCertSign, cRLSign"), std::string::npos) << r.message();
    EXPECT_FALSE(std::filesystem::exists(settings.file));
}

// `lscgate init` makes a CAPF that may sign CRLs.
TEST_F(CrlTest, InitsCapfCertificateCarriesCrlSign) {
    auto key = test::make_key("ec:p256");
    auto cert = create_capf_certificate(key.get(), CapfCertificateRequest{});
    ASSERT_TRUE(cert) << cert.message();
    EXPECT_NE(X509_get_key_usage(cert->get()) & KU_CRL_SIGN, 0u);
    EXPECT_EQ(crl_signer_problem(cert->get()), "");
}

}  // namespace
