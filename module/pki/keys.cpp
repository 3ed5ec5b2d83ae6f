#include "pki/keys.h"

#include "pki/openssl_error.h"
#include "pki/secure_file.h"

#include <openssl/core_names.h>
#include <openssl/pem.h>

namespace lscgate {

Result<EvpPkeyPtr> generate_key(const KeySpec& spec) {
    EVP_PKEY* raw = nullptr;
    if (spec.type == KeyType::Rsa) {
        raw = EVP_RSA_gen(static_cast<unsigned>(spec.rsa_bits));
    } else {
        raw = EVP_EC_gen(OBJ_nid2sn(curve_nid(spec.curve)));
    }
    if (raw == nullptr) return fail(openssl_error("cannot generate " + spec.to_string() + " key"));
    return EvpPkeyPtr(raw);
}

Result<KeySpec> describe_key(const EVP_PKEY* key) {
    KeySpec spec;
    switch (EVP_PKEY_get_base_id(key)) {
        case EVP_PKEY_RSA:
            spec.type = KeyType::Rsa;
            spec.rsa_bits = EVP_PKEY_get_bits(key);
            return spec;
        case EVP_PKEY_EC: {
            char group[64] = {};
            std::size_t len = 0;
            if (EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group, &len) != 1)
                return fail("EC key without a named curve");
            const int nid = OBJ_sn2nid(group);
            spec.type = KeyType::Ec;
            if (nid == NID_X9_62_prime256v1) spec.curve = EcCurve::P256;
            else if (nid == NID_secp384r1) spec.curve = EcCurve::P384;
            else if (nid == NID_secp521r1) spec.curve = EcCurve::P521;
            else return fail(std::string("unsupported EC curve ") + group);
            return spec;
        }
        default:
            return fail("unsupported key algorithm (only RSA and EC keys are accepted)");
    }
}

Result<EvpPkeyPtr> parse_public_key_der(ByteView spki_der) {
    const unsigned char* p = spki_der.data();
    EvpPkeyPtr key(d2i_PUBKEY(nullptr, &p, static_cast<long>(spki_der.size())));
    if (!key) return fail(openssl_error("public key is not a DER SubjectPublicKeyInfo"));
    if (p != spki_der.data() + spki_der.size()) return fail("public key has trailing bytes after the SubjectPublicKeyInfo");
    return key;
}

Result<Bytes> public_key_der(const EVP_PKEY* key) {
    unsigned char* out = nullptr;
    const int len = i2d_PUBKEY(key, &out);
    if (len <= 0) return fail(openssl_error("cannot encode public key"));
    Bytes der(out, out + len);
    OPENSSL_free(out);
    return der;
}

Result<EvpPkeyPtr> parse_private_key_pem(const std::string& pem) {
    BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
    EvpPkeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
    if (!key) return fail(openssl_error("not a PEM private key (encrypted keys are not supported)"));
    return key;
}

Result<std::string> private_key_pem(const EVP_PKEY* key) {
    BioPtr bio(BIO_new(BIO_s_mem()));
    if (PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1)
        return fail(openssl_error("cannot encode private key"));
    char* data = nullptr;
    const long len = BIO_get_mem_data(bio.get(), &data);
    return std::string(data, static_cast<std::size_t>(len));
}

Result<EvpPkeyPtr> load_private_key(const std::filesystem::path& path) {
    if (auto s = check_secret_file_mode(path); !s) return s.error();
    auto text = read_text_file(path);
    if (!text) return text.error();
    auto key = parse_private_key_pem(*text);
    if (!key) return fail(path.string() + ": " + key.message());
    return key;
}

Status save_private_key(const std::filesystem::path& path, const EVP_PKEY* key, bool synced) {
    auto pem = private_key_pem(key);
    if (!pem) return pem.error();
    return write_file_atomically(path, *pem, FileMode::Secret, synced ? Durability::Synced : Durability::Unsynced);
}

bool same_public_key(const EVP_PKEY* a, const EVP_PKEY* b) { return EVP_PKEY_eq(a, b) == 1; }

}  // namespace lscgate
