// itl_fixture DIR [CAPF_PEM]: writes ITL files in the real shapes (tests/unit/itl_shapes.h)
// and the certificates they name, for tests/e2e/test_itl_cli.sh and the doctor
// tests. Not installed.
//   DIR/real.tlv          signed (SHA-1, 1024-bit SAST), CAPF record = DIR/capf.pem
//   DIR/unsigned.tlv      the same without SIGNATURE
//   DIR/other-capf.tlv    signed, CAPF record = DIR/other-capf.pem
//   DIR/no-capf.tlv       signed, no CAPF record
//   DIR/tampered.tlv      real.tlv with one byte of the CAPF record's subject changed
//   DIR/truncated.tlv     real.tlv cut 10 bytes short
//   DIR/capf.pem, DIR/capf.key (0600), DIR/other-capf.pem, DIR/sast.pem
//   DIR/expired-capf.pem, DIR/expired-capf.key: expired since yesterday
// With CAPF_PEM, that certificate is the CAPF record of real/unsigned/tampered/truncated
// (e.g. the capf.crt of an lscgate directory), and capf.pem/capf.key are not written.

#include "itl/itl_file.h"
#include "itl/itl_tags.h"
#include "itl_shapes.h"
#include "pki/certificate.h"
#include "pki/keys.h"
#include "pki/secure_file.h"
#include "test_support.h"

#include <fstream>
#include <iostream>

using namespace lscgate;

namespace {

void write_bytes(const std::filesystem::path& path, const Bytes& data) {
    std::ofstream out(path, std::ios::binary);
    out.write(reinterpret_cast<const char*>(data.data()), static_cast<std::streamsize>(data.size()));
    if (!out) throw std::runtime_error("cannot write " + path.string());
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 2 && argc != 3) {
        std::cerr << "usage: itl_fixture DIR [CAPF_PEM]\n";
        return 2;
    }
    const std::filesystem::path dir = argv[1];
    try {
        std::filesystem::create_directories(dir);
        const auto pki = test::make_itl_shapes_pki();
        X509Ptr given;
        if (argc == 3) {
            auto loaded = load_certificate(argv[2]);
            if (!loaded) throw std::runtime_error(loaded.message());
            given = std::move(*loaded);
        }
        const X509* capf = given ? given.get() : pki.capf.get();
        const Bytes real = test::build_itl(test::real_shapes_spec(pki, capf), pki.sast_key.get());
        write_bytes(dir / "real.tlv", real);
        write_bytes(dir / "unsigned.tlv", test::build_itl(test::real_shapes_spec(pki, capf), nullptr));
        write_bytes(dir / "other-capf.tlv",
                    test::build_itl(test::real_shapes_spec(pki, pki.other_capf.get()), pki.sast_key.get()));
        write_bytes(dir / "no-capf.tlv", test::build_itl(test::real_shapes_spec(pki, nullptr), pki.sast_key.get()));
        Bytes tampered = real;
        const auto parsed = itl::parse(real);
        if (!parsed) throw std::runtime_error(parsed.fault.message());
        tampered[parsed.file->records[2].find(itl::tags::kSubjectName)->offset + 5] ^= 0x01;
        write_bytes(dir / "tampered.tlv", tampered);
        write_bytes(dir / "truncated.tlv", Bytes(real.begin(), real.end() - 10));
        if (!given) {
            test::write_pem(dir / "capf.pem", pki.capf.get());
            if (auto s = save_private_key(dir / "capf.key", pki.capf_key.get()); !s) throw std::runtime_error(s.message());
        }
        test::write_pem(dir / "other-capf.pem", pki.other_capf.get());
        test::write_pem(dir / "sast.pem", pki.sast.get());
        auto expired = test::make_self_signed(pki.other_key.get(), "CAPF-expired", "SHA256", {0x0e}, -1);
        test::write_pem(dir / "expired-capf.pem", expired.get());
        if (auto s = save_private_key(dir / "expired-capf.key", pki.other_key.get()); !s) throw std::runtime_error(s.message());
    } catch (const std::exception& e) {
        std::cerr << "itl_fixture: " << e.what() << "\n";
        return 1;
    }
    return 0;
}
