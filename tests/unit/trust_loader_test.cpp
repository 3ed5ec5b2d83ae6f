// The one trust loader (issue 7 item 7): what the CAPF server, the decision
// engine and `lscgate capf bundle` trust, from a real registry file.

#include "pki/certificate.h"
#include "registry/registry_reader.h"
#include "pki/trust_loader.h"
#include "test_support.h"

#include <gtest/gtest.h>

#include <fstream>

using namespace lscgate;
using lscgate::test::TempDir;

namespace {

std::size_t count(const std::string& text, const std::string& needle) {
    std::size_t n = 0;
    for (auto pos = text.find(needle); pos != std::string::npos; pos = text.find(needle, pos + 1)) ++n;
    return n;
}

TEST(TrustLoader, RegistryCurrentAndPreviousPlusExtrasNeverRetired) {
    TempDir dir;
    const auto db = dir / "lscgate.db";
    Store store = test::make_store(db);
    auto retired = test::make_root_ca("CN=CAPF-retired", "ec:p256");
    auto previous = test::make_root_ca("CN=CAPF-previous", "ec:p256");
    auto current = test::make_root_ca("CN=CAPF-current", "ec:p256");
    auto mic = test::make_root_ca("CN=Cisco Manufacturing CA", "ec:p256");
    for (const auto* ca : {&retired, &previous, &current}) ASSERT_TRUE(store.add_capf_certificate(ca->cert.get(), "t"));
    ASSERT_TRUE(store.retire_capf_certificate(describe_certificate(retired.cert.get())->sha256, "t"));
    test::write_pem(dir / "mic.pem", mic.cert.get());

    std::vector<X509Ptr> extra;
    extra.push_back(share(current.cert.get()));  // e.g. serve's own certificate: listed once in the bundle
    auto loader = TrustLoader::create(std::move(extra), {}, dir / "mic.pem");
    ASSERT_TRUE(loader) << loader.message();
    auto reader = RegistryReader::open(db.string(), 1);
    ASSERT_TRUE(reader) << reader.message();
    auto loaded = loader->load(**reader);
    ASSERT_TRUE(loaded) << loaded.message();
    ASSERT_TRUE(loaded->has_value());
    const TrustMaterial& m = **loaded;
    EXPECT_EQ(m.registry_capf, 2u);
    EXPECT_EQ(m.capf.size(), 3u);
    EXPECT_EQ(m.mic_roots.size(), 1u);
    auto pem = m.pem_bundle();
    ASSERT_TRUE(pem);
    EXPECT_EQ(count(*pem, "-----BEGIN CERTIFICATE-----"), 3u);  // previous, current, MIC root
    EXPECT_EQ(pem->find(certificate_pem(retired.cert.get())), std::string::npos);

    // Unchanged registry: nothing to rebuild. A retirement: the new set.
    auto again = loader->load(**reader, m.signature);
    ASSERT_TRUE(again);
    EXPECT_FALSE(again->has_value());
    ASSERT_TRUE(store.retire_capf_certificate(describe_certificate(previous.cert.get())->sha256, "t"));
    auto after = loader->load(**reader, m.signature);
    ASSERT_TRUE(after) << after.message();
    ASSERT_TRUE(after->has_value());
    EXPECT_EQ((*after)->registry_capf, 1u);
    EXPECT_EQ(count(*(*after)->pem_bundle(), "-----BEGIN CERTIFICATE-----"), 2u);
}

TEST(TrustLoader, UnreadableFilesAreNamed) {
    TempDir dir;
    std::ofstream(dir / "bad.pem") << "not a certificate";
    auto loader = TrustLoader::create({}, {}, dir / "bad.pem");
    ASSERT_FALSE(loader);
    EXPECT_NE(loader.message().find("bad.pem"), std::string::npos) << loader.message();
    EXPECT_EQ(loader.kind(), ErrorKind::Config);
}

}  // namespace
