#pragma once

// Fixtures shared by the unit tests: temporary directories, a CAPF (self-signed
// or under an intermediate), phone keys and MIC-like certificates, and a way to
// run openssl(1) on what the code produced.

#include "pki/issuer.h"
#include "pki/key_spec.h"
#include "pki/openssl_handles.h"
#include "registry/store.h"

#include <filesystem>
#include <string>

namespace lscgate::test {

// A fresh directory under $LSCGATE_TEST_TMP (or /tmp), removed on destruction.
class TempDir {
public:
    TempDir();
    ~TempDir();
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    const std::filesystem::path& path() const { return path_; }
    std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

private:
    std::filesystem::path path_;
};

EvpPkeyPtr make_key(const KeySpec& spec);
EvpPkeyPtr make_key(const std::string& spec);  // "rsa:2048", "ec:p256"

// A self-signed CA usable as a CAPF, MIC root or rogue CA.
struct TestCa {
    X509Ptr cert;
    EvpPkeyPtr key;
};
TestCa make_root_ca(const std::string& subject, const std::string& key_spec = "rsa:2048");
// An intermediate CA (CA:TRUE pathlen:0) signed by `parent`.
TestCa make_intermediate_ca(const TestCa& parent, const std::string& subject, const std::string& key_spec = "rsa:2048");
// A leaf (phone MIC-like) certificate signed by `issuer`, valid [now+from_days, now+to_days].
X509Ptr make_leaf(const TestCa& issuer, EVP_PKEY* leaf_key, const std::string& subject, long from_days = -1,
                  long to_days = 365, bool ca = false);

CapfAuthority authority_from(const TestCa& ca);

// A store in a temp dir, migrated.
Store make_store(const std::filesystem::path& file);

// Writes a PEM file and runs a shell command; returns exit status and output.
void write_pem(const std::filesystem::path& path, const X509* cert);
struct CommandResult {
    int status = -1;
    std::string output;
};
CommandResult run_command(const std::string& command);

}  // namespace lscgate::test
