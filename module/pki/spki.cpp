#include "pki/spki.h"

#include "pki/openssl_error.h"

#include <openssl/asn1.h>
#include <openssl/err.h>
#include <openssl/objects.h>

namespace lscgate {
namespace {

// One DER SEQUENCE header at *p (definite length, within `size` bytes): advances
// *p to its contents and returns their length, or -1.
long sequence_contents(const unsigned char** p, long size) {
    long length = 0;
    int tag = 0;
    int cls = 0;
    const int r = ASN1_get_object(p, &length, &tag, &cls, size);
    if ((r & 0x80) != 0 || r != V_ASN1_CONSTRUCTED || tag != V_ASN1_SEQUENCE || cls != V_ASN1_UNIVERSAL) {
        ERR_clear_error();
        return -1;
    }
    return length;
}

// The modulus size of an RSAPublicKey (RFC 8017 A.1.1: SEQUENCE { n, e }).
Result<int> rsa_modulus_bits(const unsigned char* der, int size) {
    const unsigned char* p = der;
    const long length = sequence_contents(&p, size);
    if (length < 0 || p + length != der + size) return fail(ErrorKind::Input, "RSA public key is not an RSAPublicKey");
    const unsigned char* end = p + length;
    Asn1IntegerPtr n(d2i_ASN1_INTEGER(nullptr, &p, end - p));
    Asn1IntegerPtr e(n ? d2i_ASN1_INTEGER(nullptr, &p, end - p) : nullptr);
    if (!n || !e || p != end) return fail(ErrorKind::Input, openssl_error("RSA public key is not an RSAPublicKey"));
    BignumPtr modulus(ASN1_INTEGER_to_BN(n.get(), nullptr));
    BignumPtr exponent(ASN1_INTEGER_to_BN(e.get(), nullptr));
    if (!modulus || !exponent) return fail(openssl_error("cannot read the RSA public key"));
    if (BN_is_negative(modulus.get()) || BN_is_zero(modulus.get()) || BN_is_negative(exponent.get()) ||
        BN_is_zero(exponent.get()))
        return fail(ErrorKind::Input, "RSA public key with a modulus or exponent that is not positive");
    return BN_num_bits(modulus.get());
}

// P-256, P-384 and P-521, made once and then only read (EC_POINT_oct2point takes
// a const group), so every session's check shares them.
const EC_GROUP* supported_group(int nid) {
    static const EcGroupPtr p256(EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1));
    static const EcGroupPtr p384(EC_GROUP_new_by_curve_name(NID_secp384r1));
    static const EcGroupPtr p521(EC_GROUP_new_by_curve_name(NID_secp521r1));
    if (nid == NID_X9_62_prime256v1) return p256.get();
    if (nid == NID_secp384r1) return p384.get();
    if (nid == NID_secp521r1) return p521.get();
    return nullptr;
}

// The named curve of an id-ecPublicKey algorithm (NID_undef when the parameters
// are not a curve's OID: explicit parameters, implicitlyCA, absent).
int named_curve(const X509_ALGOR* alg) {
    const ASN1_OBJECT* oid = nullptr;
    int ptype = V_ASN1_UNDEF;
    const void* pval = nullptr;
    X509_ALGOR_get0(&oid, &ptype, &pval, alg);
    if (ptype != V_ASN1_OBJECT) return NID_undef;
    return OBJ_obj2nid(static_cast<const ASN1_OBJECT*>(pval));
}

// What a decoder would refuse in the key bits of a supported algorithm.
Status check_key_bits(const X509_ALGOR* alg, const unsigned char* bits, int size) {
    const ASN1_OBJECT* oid = nullptr;
    int ptype = V_ASN1_UNDEF;
    const void* pval = nullptr;
    X509_ALGOR_get0(&oid, &ptype, &pval, alg);
    const int nid = OBJ_obj2nid(oid);
    if (nid == NID_rsaEncryption) {
        if (ptype != V_ASN1_NULL && ptype != V_ASN1_UNDEF)
            return fail(ErrorKind::Input, "RSA public key with algorithm parameters other than NULL");
        auto modulus = rsa_modulus_bits(bits, size);
        if (!modulus) return modulus.error();
        return {};
    }
    if (nid != NID_X9_62_id_ecPublicKey) return {};
    const int curve = named_curve(alg);
    const EC_GROUP* group = supported_group(curve);
    if (group == nullptr) {
        if (curve == NID_X9_62_prime256v1 || curve == NID_secp384r1 || curve == NID_secp521r1)
            return fail(openssl_error("cannot check the EC public key"));
        return {};  // another curve, or no named curve: describe_spki refuses it
    }
    EcPointPtr point(EC_POINT_new(group));
    if (!point) return fail(openssl_error("cannot check the EC public key"));
    if (EC_POINT_oct2point(group, point.get(), bits, static_cast<std::size_t>(size), nullptr) != 1 ||
        EC_POINT_is_at_infinity(group, point.get()) == 1)
        return fail(ErrorKind::Input, openssl_error(std::string("EC public key is not a point on ") + OBJ_nid2sn(curve)));
    return {};
}

}  // namespace

Result<X509PubkeyPtr> parse_subject_public_key_info(ByteView spki_der) {
    const char* const not_spki = "public key is not a DER SubjectPublicKeyInfo";
    const unsigned char* p = spki_der.data();
    const long length = sequence_contents(&p, static_cast<long>(spki_der.size()));
    if (length < 0) return fail(ErrorKind::Input, not_spki);
    const unsigned char* end = p + length;
    if (end != spki_der.data() + spki_der.size())
        return fail(ErrorKind::Input, "public key has trailing bytes after the SubjectPublicKeyInfo");
    X509AlgorPtr alg(d2i_X509_ALGOR(nullptr, &p, end - p));
    Asn1BitStringPtr bits(alg ? d2i_ASN1_BIT_STRING(nullptr, &p, end - p) : nullptr);
    if (!alg || !bits || p != end) return fail(ErrorKind::Input, openssl_error(not_spki));
    // A key is whole bytes: unused bits in the last byte mean a garbled encoding.
    if ((bits->flags & ASN1_STRING_FLAG_BITS_LEFT) != 0 && (bits->flags & 0x07) != 0)
        return fail(ErrorKind::Input, "public key bit string has unused bits");
    const int size = ASN1_STRING_length(bits.get());
    if (auto s = check_key_bits(alg.get(), ASN1_STRING_get0_data(bits.get()), size); !s) return s.error();

    X509PubkeyPtr spki(X509_PUBKEY_new());
    if (!spki) return fail(openssl_error("cannot hold the public key"));
    if (auto s = set_subject_public_key_info(spki.get(), alg.get(), ASN1_STRING_get0_data(bits.get()), size); !s)
        return s.error();
    return spki;
}

Status set_subject_public_key_info(X509_PUBKEY* to, const X509_ALGOR* alg, const unsigned char* bits, int size) {
    const ASN1_OBJECT* oid = nullptr;
    int ptype = V_ASN1_UNDEF;
    const void* pval = nullptr;
    X509_ALGOR_get0(&oid, &ptype, &pval, alg);
    void* param = nullptr;
    if (ptype == V_ASN1_OBJECT) param = OBJ_dup(static_cast<const ASN1_OBJECT*>(pval));
    else if (ptype == V_ASN1_SEQUENCE) param = ASN1_STRING_dup(static_cast<const ASN1_STRING*>(pval));
    else if (ptype != V_ASN1_NULL && ptype != V_ASN1_UNDEF) return fail(ErrorKind::Input, "unsupported public key parameters");
    // set0_param takes the OID, parameters and bytes handed to it (on success only).
    auto* copy = static_cast<unsigned char*>(OPENSSL_memdup(bits, static_cast<std::size_t>(size)));
    ASN1_OBJECT* oid_copy = OBJ_dup(oid);
    if (copy == nullptr || oid_copy == nullptr || X509_PUBKEY_set0_param(to, oid_copy, ptype, param, copy, size) != 1) {
        OPENSSL_free(copy);
        ASN1_OBJECT_free(oid_copy);
        if (ptype == V_ASN1_OBJECT) ASN1_OBJECT_free(static_cast<ASN1_OBJECT*>(param));
        else ASN1_STRING_free(static_cast<ASN1_STRING*>(param));
        return fail(openssl_error("cannot set the public key"));
    }
    return {};
}

Result<KeySpec> describe_spki(const X509_PUBKEY* spki) {
    ASN1_OBJECT* oid = nullptr;
    const unsigned char* bits = nullptr;
    int size = 0;
    X509_ALGOR* alg = nullptr;
    if (spki == nullptr || X509_PUBKEY_get0_param(&oid, &bits, &size, &alg, spki) != 1 || alg == nullptr)
        return fail(ErrorKind::Input, "unreadable SubjectPublicKeyInfo");
    KeySpec spec;
    switch (OBJ_obj2nid(oid)) {
        case NID_rsaEncryption: {
            auto modulus = rsa_modulus_bits(bits, size);
            if (!modulus) return modulus.error();
            spec.type = KeyType::Rsa;
            spec.rsa_bits = *modulus;
            return spec;
        }
        case NID_X9_62_id_ecPublicKey: {
            const int curve = named_curve(alg);
            spec.type = KeyType::Ec;
            if (curve == NID_X9_62_prime256v1) spec.curve = EcCurve::P256;
            else if (curve == NID_secp384r1) spec.curve = EcCurve::P384;
            else if (curve == NID_secp521r1) spec.curve = EcCurve::P521;
            else if (curve == NID_undef) return fail(ErrorKind::Input, "EC key without a named curve");
            else return fail(ErrorKind::Input, std::string("unsupported EC curve ") + OBJ_nid2sn(curve));
            return spec;
        }
        default:
            return fail(ErrorKind::Input, "unsupported key algorithm (only RSA and EC keys are accepted)");
    }
}

}  // namespace lscgate
