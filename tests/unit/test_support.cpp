#include "test_support.h"

#include "pki/certificate.h"
#include "pki/distinguished_name.h"
#include "pki/keys.h"

#include <gtest/gtest.h>
#include <openssl/rand.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <fstream>

namespace lscgate::test {

TempDir::TempDir() {
    const char* base = std::getenv("LSCGATE_TEST_TMP");
    std::filesystem::path root = base != nullptr ? base : std::filesystem::temp_directory_path();
    std::filesystem::create_directories(root);
    std::string tmpl = (root / "lscgate-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = tmpl;
}

TempDir::~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
}

EvpPkeyPtr make_key(const KeySpec& spec) {
    auto k = generate_key(spec);
    if (!k) throw std::runtime_error(k.message());
    return std::move(*k);
}

EvpPkeyPtr make_key(const std::string& spec) {
    auto s = parse_key_spec(spec);
    if (!s) throw std::runtime_error(s.message());
    return make_key(*s);
}

namespace {

void add_ext(X509* cert, X509* issuer, int nid, const char* value) {
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
    X509ExtensionPtr ext(X509V3_EXT_conf_nid(nullptr, &ctx, nid, value));
    if (!ext) throw std::runtime_error(std::string("extension ") + value);
    X509_add_ext(cert, ext.get(), -1);
}

// ca: 0 leaf, 1 CA with pathlen:0 (a CAPF), 2 CA without a path length limit (a root).
X509Ptr build(X509* issuer_cert, EVP_PKEY* issuer_key, EVP_PKEY* subject_key, const std::string& subject, long from_days,
              long to_days, int ca, bool self_signed) {
    X509Ptr cert(X509_new());
    X509_set_version(cert.get(), X509_VERSION_3);
    unsigned char serial[16];
    RAND_bytes(serial, sizeof serial);
    serial[0] |= 0x40;
    serial[0] &= 0x7f;
    BignumPtr bn(BN_bin2bn(serial, sizeof serial, nullptr));
    Asn1IntegerPtr s(BN_to_ASN1_INTEGER(bn.get(), nullptr));
    X509_set_serialNumber(cert.get(), s.get());
    auto name = parse_distinguished_name(subject);
    if (!name) throw std::runtime_error(name.message());
    X509_set_subject_name(cert.get(), name->get());
    X509_set_issuer_name(cert.get(), self_signed ? name->get() : X509_get_subject_name(issuer_cert));
    X509_gmtime_adj(X509_getm_notBefore(cert.get()), from_days * 86400);
    X509_gmtime_adj(X509_getm_notAfter(cert.get()), to_days * 86400);
    X509_set_pubkey(cert.get(), subject_key);
    X509* iss = self_signed ? cert.get() : issuer_cert;
    add_ext(cert.get(), iss, NID_basic_constraints,
            ca == 2 ? "critical,CA:TRUE" : ca == 1 ? "critical,CA:TRUE,pathlen:0" : "critical,CA:FALSE");
    add_ext(cert.get(), iss, NID_key_usage, ca ? "critical,digitalSignature,keyCertSign,cRLSign" : "critical,digitalSignature");
    add_ext(cert.get(), iss, NID_subject_key_identifier, "hash");
    add_ext(cert.get(), iss, NID_authority_key_identifier, "keyid:always");
    X509_sign(cert.get(), issuer_key, EVP_sha256());
    return cert;
}

}  // namespace

TestCa make_root_ca(const std::string& subject, const std::string& key_spec) {
    TestCa ca;
    ca.key = make_key(key_spec);
    ca.cert = build(nullptr, ca.key.get(), ca.key.get(), subject, -1, 3650, 2, true);
    return ca;
}

TestCa make_intermediate_ca(const TestCa& parent, const std::string& subject, const std::string& key_spec) {
    TestCa ca;
    ca.key = make_key(key_spec);
    ca.cert = build(parent.cert.get(), parent.key.get(), ca.key.get(), subject, -1, 3650, 1, false);
    return ca;
}

X509Ptr make_leaf(const TestCa& issuer, EVP_PKEY* leaf_key, const std::string& subject, long from_days, long to_days,
                  bool ca) {
    return build(issuer.cert.get(), issuer.key.get(), leaf_key, subject, from_days, to_days, ca ? 1 : 0, false);
}

CapfAuthority authority_from(const TestCa& ca) {
    return CapfAuthority(share(ca.cert.get()), share(ca.key.get()), {});
}

Store make_store(const std::filesystem::path& file) {
    auto s = Store::open(file.string(), Store::OpenMode::CreateAndMigrate);
    if (!s) throw std::runtime_error(s.message());
    return std::move(*s);
}

void write_pem(const std::filesystem::path& path, const X509* cert) {
    std::ofstream(path) << certificate_pem(cert);
}

CommandResult run_command(const std::string& command) {
    CommandResult r;
    FILE* p = ::popen((command + " 2>&1").c_str(), "r");
    if (p == nullptr) return r;
    std::array<char, 4096> buf{};
    std::size_t n = 0;
    while ((n = std::fread(buf.data(), 1, buf.size(), p)) > 0) r.output.append(buf.data(), n);
    const int status = ::pclose(p);
    r.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return r;
}

}  // namespace lscgate::test
