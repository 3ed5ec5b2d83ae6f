// capf_sign_cost KEY [SECONDS]: the CPU cost of one SHA-256 signature with the
// private key in KEY (PEM), read the way `lscgate serve` reads the CAPF key, so
// that `scripts/bench capf` divides the server's CPU per enrolment by the cost
// of two signatures with the same key, measured in the same run (issue 9 item 2)
// rather than by `openssl speed`'s built-in key.
//
// Prints "sign_ms=M signatures=N": M is this thread's CPU time (user + system,
// CLOCK_THREAD_CPUTIME_ID) per signature, in milliseconds, over N signatures made
// for about SECONDS (default 2) of CPU. Each signature is what X509_sign does for
// an LSC: EVP_DigestSignInit + EVP_DigestSign over a certificate-sized message,
// with one EVP_PKEY shared by all of them. Exit 1 when the key cannot be read or
// a signature fails.

#include "pki/keys.h"
#include "pki/openssl_handles.h"

#include <openssl/evp.h>

#include <cstdio>
#include <ctime>
#include <string>
#include <vector>

namespace {

double thread_cpu_seconds() {
    timespec t{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) / 1e9;
}

// One signature as X509_sign makes it: a fresh digest context over the shared key.
bool sign_once(EVP_PKEY* key, const std::vector<unsigned char>& message, std::vector<unsigned char>& signature) {
    lscgate::EvpMdCtxPtr md(EVP_MD_CTX_new());
    if (!md || EVP_DigestSignInit(md.get(), nullptr, EVP_sha256(), nullptr, key) != 1) return false;
    std::size_t len = signature.size();
    return EVP_DigestSign(md.get(), signature.data(), &len, message.data(), message.size()) == 1;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: capf_sign_cost KEY [SECONDS]\n");
        return 2;
    }
    const double budget = argc > 2 ? std::stod(argv[2]) : 2.0;
    auto key = lscgate::load_private_key(argv[1]);
    if (!key) {
        std::fprintf(stderr, "capf_sign_cost: %s\n", key.message().c_str());
        return 1;
    }
    const std::vector<unsigned char> message(700, 0x5a);  // about an LSC's TBSCertificate
    std::vector<unsigned char> signature(static_cast<std::size_t>(EVP_PKEY_get_size(key->get())));
    // Warm-up: the first signature sets up the key's Montgomery and blinding data.
    if (!sign_once(key->get(), message, signature)) {
        std::fprintf(stderr, "capf_sign_cost: signing failed\n");
        return 1;
    }
    const double start = thread_cpu_seconds();
    double now = start;
    long count = 0;
    while (now - start < budget) {
        for (int i = 0; i < 50; ++i) {
            if (!sign_once(key->get(), message, signature)) {
                std::fprintf(stderr, "capf_sign_cost: signing failed\n");
                return 1;
            }
        }
        count += 50;
        now = thread_cpu_seconds();
    }
    std::printf("sign_ms=%.4f signatures=%ld\n", 1000.0 * (now - start) / static_cast<double>(count), count);
    return 0;
}
