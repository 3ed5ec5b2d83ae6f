#pragma once

// ITL files in the shapes real files take (module/itl/FORMAT.md, "What real files
// do"), built with itl_builder for the ITL parser, CLI and doctor tests and for
// tests/e2e (through the itl_fixture tool).

#include "itl_builder.h"

namespace lscgate::test {

struct ItlShapesPki {
    EvpPkeyPtr sast_key;  ///< rsa:1024: the signer, as on old clusters
    X509Ptr sast;         ///< self-signed with SHA-1, serial 12 34 .. ef (16 bytes)
    EvpPkeyPtr capf_key;  ///< rsa:2048
    X509Ptr capf;         ///< the CAPF certificate the ITL names (SHA-256)
    EvpPkeyPtr other_key;
    X509Ptr other_capf;   ///< another CAPF certificate (a "wrong CAPF" ITL)
    EvpPkeyPtr tvs_key;
    X509Ptr tvs;
};
ItlShapesPki make_itl_shapes_pki();

/// Records, in order:
///  1 SAST    the signer; names quoted and space-padded
///  2 CCM+TFTP the same certificate again; ';'-separated DNs with stray spaces; empty DNSNAME
///  3 CAPF    `capf` (or none when capf == nullptr)
///  4 TFTP    no certificate: DNSNAME "10.0.0.5" as text and IPADDRESS 10.0.0.5
///  5 TVS     DNSNAME "tvs.example.net", no PUBLICKEY and no SIGNATURE tag
ItlSpec real_shapes_spec(const ItlShapesPki& pki, const X509* capf);

}  // namespace lscgate::test
