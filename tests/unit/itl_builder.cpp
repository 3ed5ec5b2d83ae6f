#include "itl_builder.h"

#include "pki/certificate.h"

#include <openssl/bn.h>
#include <openssl/rsa.h>

#include <stdexcept>

namespace lscgate::test {

Bytes text_value(const std::string& text, bool with_nul) {
    Bytes b(text.begin(), text.end());
    if (with_nul) b.push_back(0);
    return b;
}
Bytes u8_value(std::uint8_t v) { return {v}; }
Bytes u16_value(std::uint16_t v) { return {static_cast<std::uint8_t>(v >> 8), static_cast<std::uint8_t>(v)}; }
Bytes u32_value(std::uint32_t v) {
    return {static_cast<std::uint8_t>(v >> 24), static_cast<std::uint8_t>(v >> 16), static_cast<std::uint8_t>(v >> 8),
            static_cast<std::uint8_t>(v)};
}

namespace {

void put(Bytes& out, std::uint8_t tag, const Bytes& value) {
    out.push_back(tag);
    out.push_back(static_cast<std::uint8_t>(value.size() >> 8));
    out.push_back(static_cast<std::uint8_t>(value.size()));
    out.insert(out.end(), value.begin(), value.end());
}
void put_container(Bytes& out, std::uint8_t tag, std::size_t length) {
    put(out, tag, {});
    out[out.size() - 2] = static_cast<std::uint8_t>(length >> 8);
    out[out.size() - 1] = static_cast<std::uint8_t>(length);
}

Bytes cert_signature(const X509* cert) {
    const ASN1_BIT_STRING* sig = nullptr;
    const X509_ALGOR* alg = nullptr;
    X509_get0_signature(&sig, &alg, cert);
    return Bytes(sig->data, sig->data + sig->length);
}

Bytes public_key_bytes(const X509* cert) {
    unsigned char* buf = nullptr;
    const int n = i2d_PublicKey(X509_get0_pubkey(cert), &buf);
    if (n <= 0) throw std::runtime_error("i2d_PublicKey");
    Bytes b(buf, buf + n);
    OPENSSL_free(buf);
    return b;
}

// Header bytes before SIGNATURE (the signed prefix) and after it, for a signature of sig_len bytes (0: unsigned).
struct HeaderParts {
    Bytes before, after;
};

HeaderParts header_parts(const ItlSpec& spec, std::size_t sig_len, int modulus_code) {
    HeaderParts h;
    put(h.before, 1, {1, 2});
    put(h.before, 2, {0, 0});  // patched below
    if (spec.signer_version_tag) put(h.before, 28, {1, 0});
    const Bytes name = text_value(spec.signer_name), ca = text_value(spec.ca_name);
    put_container(h.before, 3, 9 + name.size() + ca.size() + spec.signer_serial.size());
    put(h.before, 4, name);
    put(h.before, 6, ca);
    put(h.before, 5, spec.signer_serial);
    put_container(h.before, 7, 15);
    put(h.before, 8, u8_value(spec.digest_code));
    put_container(h.before, 9, 8);
    put(h.before, 10, u8_value(0));
    put(h.before, 11, u8_value(static_cast<std::uint8_t>(modulus_code)));
    put(h.after, 14, text_value(spec.filename));
    put(h.after, 15, u32_value(spec.timestamp));
    const std::size_t sig_wire = sig_len == 0 ? 0 : 3 + sig_len;
    while ((h.before.size() + sig_wire + h.after.size()) % 4 != 0) h.after.push_back(13);
    const std::size_t header_length = h.before.size() + sig_wire + h.after.size();
    h.before[8] = static_cast<std::uint8_t>(header_length >> 8);
    h.before[9] = static_cast<std::uint8_t>(header_length);
    return h;
}

Bytes records_bytes(const ItlSpec& spec) {
    Bytes out;
    for (const auto& r : spec.records) {
        Bytes body;
        for (const auto& f : r.fields) put(body, f.tag, f.value);
        put(out, 1, u16_value(static_cast<std::uint16_t>(body.size() + 5)));
        out.insert(out.end(), body.begin(), body.end());
    }
    return out;
}

const char* digest_name(std::uint8_t code) { return code == 1 ? "SHA1" : code == 2 ? "SHA256" : "SHA512"; }

}  // namespace

ItlRecordSpec certificate_record(const X509* cert, std::uint16_t function, const std::string& subject_text,
                                 const std::string& issuer_text, const std::string* dns) {
    ItlRecordSpec r;
    if (dns != nullptr) r.fields.push_back({2, text_value(*dns)});
    r.fields.push_back({3, text_value(subject_text)});
    r.fields.push_back({5, text_value(issuer_text)});
    r.fields.push_back({6, serial_bytes(cert)});
    r.fields.push_back({4, u16_value(function)});
    r.fields.push_back({7, public_key_bytes(cert)});
    r.fields.push_back({8, cert_signature(cert)});
    r.fields.push_back({9, certificate_der(cert)});
    return r;
}

ItlRecordSpec server_record(const std::string& dns_text, std::uint16_t function, const std::vector<std::uint8_t>& ipv4) {
    ItlRecordSpec r;
    r.fields.push_back({2, text_value(dns_text)});
    r.fields.push_back({4, u16_value(function)});
    r.fields.push_back({10, Bytes(ipv4.begin(), ipv4.end())});
    return r;
}

Bytes build_itl(const ItlSpec& spec, EVP_PKEY* signer) {
    const std::size_t sig_len = signer == nullptr ? 0 : static_cast<std::size_t>(EVP_PKEY_get_size(signer));
    const int bits = signer == nullptr ? 2048 : EVP_PKEY_get_bits(signer);
    const int code = bits <= 512 ? 0 : bits <= 1024 ? 1 : bits <= 2048 ? 2 : 3;
    const HeaderParts h = header_parts(spec, sig_len, code);
    const Bytes records = records_bytes(spec);
    Bytes signed_bytes = h.before;
    signed_bytes.insert(signed_bytes.end(), h.after.begin(), h.after.end());
    signed_bytes.insert(signed_bytes.end(), records.begin(), records.end());
    Bytes out = h.before;
    if (signer != nullptr) {
        EvpMdCtxPtr ctx(EVP_MD_CTX_new());
        EVP_PKEY_CTX* pctx = nullptr;
        std::size_t n = sig_len;
        Bytes sig(sig_len);
        if (EVP_DigestSignInit_ex(ctx.get(), &pctx, digest_name(spec.digest_code), nullptr, nullptr, signer, nullptr) != 1 ||
            EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) != 1 ||
            EVP_DigestSign(ctx.get(), sig.data(), &n, signed_bytes.data(), signed_bytes.size()) != 1)
            throw std::runtime_error("ITL signing failed");
        put(out, 12, sig);
    }
    out.insert(out.end(), h.after.begin(), h.after.end());
    out.insert(out.end(), records.begin(), records.end());
    return out;
}

std::size_t signature_offset(const ItlSpec& spec) { return header_parts(spec, 256, 2).before.size(); }

X509Ptr make_self_signed(EVP_PKEY* key, const std::string& subject, const char* md, const Bytes& serial, int days) {
    X509Ptr cert(X509_new());
    X509_set_version(cert.get(), 2);
    BignumPtr bn(BN_bin2bn(serial.data(), static_cast<int>(serial.size()), nullptr));
    BN_to_ASN1_INTEGER(bn.get(), X509_get_serialNumber(cert.get()));
    // days < 0: an expired certificate, valid from days-1 to days (relative to now).
    X509_gmtime_adj(X509_getm_notBefore(cert.get()), days < 0 ? (static_cast<long>(days) - 1) * 86400 : -86400);
    X509_gmtime_adj(X509_getm_notAfter(cert.get()), static_cast<long>(days) * 86400);
    X509NamePtr name(X509_NAME_new());
    for (const auto& [field, value] : {std::pair<const char*, std::string>{"CN", subject}, {"O", "Example"}, {"OU", "VoIP"}})
        X509_NAME_add_entry_by_txt(name.get(), field, MBSTRING_ASC,
                                   reinterpret_cast<const unsigned char*>(value.c_str()), -1, -1, 0);
    X509_set_subject_name(cert.get(), name.get());
    X509_set_issuer_name(cert.get(), name.get());
    X509_set_pubkey(cert.get(), key);
    EvpMdCtxPtr ctx(EVP_MD_CTX_new());
    if (EVP_DigestSignInit_ex(ctx.get(), nullptr, md, nullptr, nullptr, key, nullptr) != 1 ||
        X509_sign_ctx(cert.get(), ctx.get()) <= 0)
        throw std::runtime_error(std::string("self-signing with ") + md + " failed");
    return cert;
}

Bytes serial_bytes(const X509* cert) {
    BignumPtr bn(ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), nullptr));
    Bytes b(static_cast<std::size_t>(BN_num_bytes(bn.get())));
    BN_bn2bin(bn.get(), b.data());
    return b;
}

}  // namespace lscgate::test
