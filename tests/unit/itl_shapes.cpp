#include "itl_shapes.h"

#include "test_support.h"

namespace lscgate::test {

ItlShapesPki make_itl_shapes_pki() {
    ItlShapesPki p;
    const Bytes sast_serial{0x12, 0x34, 0x56, 0x78, 0x90, 0xab, 0xcd, 0xef, 0x12, 0x34, 0x56, 0x78, 0x90, 0xab, 0xcd, 0xef};
    p.sast_key = make_key("rsa:1024");
    p.sast = make_self_signed(p.sast_key.get(), "ITLRECOVERY_cucm-pub", "SHA1", sast_serial);
    p.capf_key = make_key("rsa:2048");
    p.capf = make_self_signed(p.capf_key.get(), "CAPF-lscgate", "SHA256", {0x4c, 0x53, 0x43});
    p.other_key = make_key("rsa:2048");
    p.other_capf = make_self_signed(p.other_key.get(), "CAPF-cucm-pub", "SHA256", {0x0a, 0x0b});
    p.tvs_key = make_key("ec:p256");
    p.tvs = make_self_signed(p.tvs_key.get(), "cucm-pub.example.net", "SHA256", {0x7e, 0x55});
    return p;
}

ItlSpec real_shapes_spec(const ItlShapesPki& pki, const X509* capf) {
    ItlSpec spec;
    spec.signer_name = "CN=ITLRECOVERY_cucm-pub;OU=VoIP;O=Example";
    spec.ca_name = "CN=ITLRECOVERY_cucm-pub;OU=VoIP;O=Example";
    spec.signer_serial = serial_bytes(pki.sast.get());
    spec.digest_code = 1;
    spec.records.push_back(certificate_record(pki.sast.get(), 0, "  \"CN=ITLRECOVERY_cucm-pub,OU=VoIP,O=Example\"  ",
                                              "\"CN=ITLRECOVERY_cucm-pub,OU=VoIP,O=Example\"   "));
    const std::string empty;
    spec.records.push_back(certificate_record(pki.sast.get(), 2, "CN=ITLRECOVERY_cucm-pub ; OU=VoIP;  O=Example",
                                              " CN=ITLRECOVERY_cucm-pub;OU=VoIP ;O=Example ", &empty));
    if (capf != nullptr) spec.records.push_back(certificate_record(capf, 4, "CN=CAPF-lscgate;OU=VoIP;O=Example",
                                                                   "CN=CAPF-lscgate;OU=VoIP;O=Example"));
    spec.records.push_back(server_record("10.0.0.5", 3, {10, 0, 0, 5}));
    const std::string tvs_dns = "tvs.example.net";
    auto tvs = certificate_record(pki.tvs.get(), 21, "CN=cucm-pub.example.net;OU=VoIP;O=Example",
                                  "CN=cucm-pub.example.net;OU=VoIP;O=Example", &tvs_dns);
    std::erase_if(tvs.fields, [](const TlvItem& f) { return f.tag == 7 || f.tag == 8; });
    spec.records.push_back(std::move(tvs));
    return spec;
}

}  // namespace lscgate::test
