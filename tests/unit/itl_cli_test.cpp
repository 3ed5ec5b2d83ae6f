// `lscgate itl show --json / verify / check-capf` run as the administrator runs
// them, on files built in every real shape (itl_shapes). The expected output is
// worked out here from the file's specification (offsets, lengths, values), not
// from the parser, and compared field by field.

#include "itl_shapes.h"
#include "pki/certificate.h"
#include "test_support.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>

namespace lscgate {
namespace {

using nlohmann::json;

std::string shell_quote(const std::string& s) { return "'" + s + "'"; }

test::CommandResult lscgate(const std::string& args) { return test::run_command(std::string(LSCGATE_BIN) + " " + args); }

void write_file(const std::filesystem::path& path, const Bytes& data) {
    std::ofstream out(path, std::ios::binary);
    out.write(reinterpret_cast<const char*>(data.data()), static_cast<std::streamsize>(data.size()));
}

std::string digest(const X509* cert, const EVP_MD* md) {
    Bytes out(EVP_MAX_MD_SIZE);
    unsigned int n = 0;
    X509_digest(cert, md, out.data(), &n);
    out.resize(n);
    return to_hex(out);
}

// What `itl show --json` must say of one record field written as `item`.
json expected_record_field(const test::TlvItem& item, const X509* cert_of_record) {
    json j = {{"tag", item.tag}};
    const std::string text(item.value.begin(), item.value.end() - (item.value.empty() ? 0 : 1));
    switch (item.tag) {
        case 2: j["name"] = "DNSNAME"; j["value"] = text; break;
        case 3: j["name"] = "SUBJECTNAME"; j["value"] = text; break;
        case 5: j["name"] = "ISSUERNAME"; j["value"] = text; break;
        case 4: {
            const int fn = (item.value[0] << 8) | item.value[1];
            j["name"] = "FUNCTION";
            j["value"] = fn;
            j["role"] = fn == 0 ? "SAST" : fn == 2 ? "CCM+TFTP" : fn == 3 ? "TFTP" : fn == 4 ? "CAPF" : fn == 21 ? "TVS" : "";
            break;
        }
        case 6: j["name"] = "SERIALNUMBER"; j["value"] = to_hex(item.value); break;
        case 7: j["name"] = "PUBLICKEY"; j["value"] = to_hex(item.value); break;
        case 8: j["name"] = "SIGNATURE"; j["value"] = to_hex(item.value); break;
        case 9:
            j["name"] = "CERTIFICATE";
            j["value"] = j["sha1"] = digest(cert_of_record, EVP_sha1());
            j["sha256"] = digest(cert_of_record, EVP_sha256());
            break;
        case 10:
            j["name"] = "IPADDRESS";
            j["value"] = std::to_string(item.value[0]) + "." + std::to_string(item.value[1]) + "." +
                         std::to_string(item.value[2]) + "." + std::to_string(item.value[3]);
            break;
        default: break;
    }
    j["length"] = item.value.size();
    return j;
}

void expect_fields(const json& actual, const json& expected, const std::string& where) {
    ASSERT_EQ(actual.size(), expected.size()) << where << ": field count";
    for (std::size_t i = 0; i < expected.size(); ++i)
        for (const auto& [key, value] : expected[i].items())
            EXPECT_EQ(actual[i].value(key, json()), value) << where << " field " << i + 1 << " key '" << key << "'";
}

class ItlCli : public ::testing::Test {
protected:
    test::TempDir dir;
    test::ItlShapesPki pki = test::make_itl_shapes_pki();
};

TEST_F(ItlCli, ShowJsonMatchesTheFileFieldByField) {
    const test::ItlSpec spec = test::real_shapes_spec(pki, pki.capf.get());
    write_file(dir / "ITLFile.tlv", test::build_itl(spec, pki.sast_key.get()));
    const auto r = lscgate("itl show --json " + shell_quote((dir / "ITLFile.tlv").string()));
    ASSERT_EQ(r.status, 0) << r.output;
    const json out = json::parse(r.output);

    // Header, worked out from FORMAT.md's layout: 1, 2, 28, 3{4, 6, 5}, 7{8, 9{10, 11}}, 12, 14, 15, padding.
    const auto text = [](const std::string& s) { return s; };
    json header = json::array({
        {{"tag", 1}, {"name", "VERSION"}, {"length", 2}, {"value", "1.2"}},
        {{"tag", 2}, {"name", "HEADERLENGTH"}, {"length", 2}},
        {{"tag", 28}, {"name", "SIGNERVERSION"}, {"length", 2}, {"value", "1.0"}},
        {{"tag", 3}, {"name", "SIGNERID"}, {"container", true},
         {"length", 9 + 2 * (spec.signer_name.size() + 1) + spec.signer_serial.size()}},
        {{"tag", 4}, {"name", "SIGNERNAME"}, {"length", spec.signer_name.size() + 1}, {"value", text(spec.signer_name)},
         {"normalized", "CN=ITLRECOVERY_cucm-pub,OU=VoIP,O=Example"}, {"depth", 1}},
        {{"tag", 6}, {"name", "CANAME"}, {"length", spec.ca_name.size() + 1}, {"value", text(spec.ca_name)}},
        {{"tag", 5}, {"name", "SERIALNUMBER"}, {"length", 16}, {"value", "1234567890ABCDEF1234567890ABCDEF"}},
        {{"tag", 7}, {"name", "SIGNATUREINFO"}, {"container", true}, {"length", 15}},
        {{"tag", 8}, {"name", "DIGESTALGORITHM"}, {"length", 1}, {"value", 1}, {"algorithm", "SHA1"}},
        {{"tag", 9}, {"name", "SIGNATUREALGOINFO"}, {"container", true}, {"length", 8}, {"depth", 1}},
        {{"tag", 10}, {"name", "SIGNATUREALGORITHM"}, {"length", 1}, {"value", 0}, {"depth", 2}},
        {{"tag", 11}, {"name", "SIGNATUREMODULUS"}, {"length", 1}, {"value", 1}, {"bits", 1024}},
        {{"tag", 12}, {"name", "SIGNATURE"}, {"length", 128}},
        {{"tag", 14}, {"name", "FILENAME"}, {"length", 12}, {"value", "ITLFile.tlv"}},
        {{"tag", 15}, {"name", "TIMESTAMP"}, {"length", 4}, {"value", 1735689600}},
    });
    std::size_t at = 0;
    for (auto& f : header) {
        f["offset"] = at;
        at += f.contains("container") ? 3 : 3 + f["length"].get<std::size_t>();
    }
    const std::size_t header_length = (at + 3) / 4 * 4;
    for (; at < header_length; ++at) header.push_back({{"tag", 13}, {"name", "PADDING"}, {"offset", at}, {"padding", true}});
    header[1]["value"] = header_length;
    EXPECT_EQ(out["version"], "1.2");
    EXPECT_EQ(out["header_length"], header_length);
    EXPECT_EQ(out["signed"], true);
    EXPECT_EQ(out["signer_record"], 1);
    expect_fields(out["header"], header, "header");

    // Records: RECORDLENGTH then the fields as written, offsets accumulated from HEADERLENGTH.
    const X509* certs[] = {pki.sast.get(), pki.sast.get(), pki.capf.get(), nullptr, pki.tvs.get()};
    ASSERT_EQ(out["records"].size(), spec.records.size());
    std::size_t record_at = header_length;
    for (std::size_t i = 0; i < spec.records.size(); ++i) {
        const auto& rs = spec.records[i];
        std::size_t length = 5;
        for (const auto& f : rs.fields) length += 3 + f.value.size();
        json fields = json::array({{{"tag", 1}, {"name", "RECORDLENGTH"}, {"length", 2}, {"value", length},
                                    {"offset", record_at}}});
        std::size_t field_at = record_at + 5;
        for (const auto& f : rs.fields) {
            json e = expected_record_field(f, certs[i]);
            e["offset"] = field_at;
            field_at += 3 + f.value.size();
            fields.push_back(e);
        }
        const json& rec = out["records"][i];
        EXPECT_EQ(rec["index"], i + 1);
        EXPECT_EQ(rec["offset"], record_at);
        EXPECT_EQ(rec["length"], length);
        expect_fields(rec["fields"], fields, "record " + std::to_string(i + 1));
        record_at += length;
    }
    EXPECT_EQ(out["size"], record_at);
    // Facts about the certificates: the 1024-bit SHA-1 signer, the CAPF.
    const auto sast_cert = out["records"][0]["fields"][7]["certificate"];
    EXPECT_EQ(sast_cert["key"], "rsa:1024");
    EXPECT_EQ(sast_cert["signature_algorithm"], "sha1WithRSAEncryption");
    EXPECT_EQ(out["records"][2]["fields"][7]["certificate"]["subject"], describe_certificate(pki.capf.get())->subject);
    EXPECT_EQ(out["records"][0]["fields"][1]["normalized"], "CN=ITLRECOVERY_cucm-pub,OU=VoIP,O=Example");
    EXPECT_EQ(out["records"][1]["fields"][2]["normalized"], "CN=ITLRECOVERY_cucm-pub,OU=VoIP,O=Example");
}

TEST_F(ItlCli, ShowTextNamesTheSignerAndHashes) {
    write_file(dir / "ITLFile.tlv", test::build_itl(test::real_shapes_spec(pki, pki.capf.get()), pki.sast_key.get()));
    const auto r = lscgate("itl show " + shell_quote((dir / "ITLFile.tlv").string()));
    ASSERT_EQ(r.status, 0) << r.output;
    EXPECT_NE(r.output.find("SHA-1 " + digest(pki.capf.get(), EVP_sha1())), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("Record #3"), std::string::npos);
    EXPECT_NE(r.output.find("CAPF"), std::string::npos);
    EXPECT_NE(r.output.find("This record's certificate signed the file"), std::string::npos);
}

TEST_F(ItlCli, MalformedFileIsAnErrorWithTheOffset) {
    Bytes data = test::build_itl(test::real_shapes_spec(pki, pki.capf.get()), pki.sast_key.get());
    data.resize(data.size() - 10);
    write_file(dir / "cut.tlv", data);
    const auto r = lscgate("itl show --json " + shell_quote((dir / "cut.tlv").string()));
    EXPECT_EQ(r.status, 1);
    EXPECT_NE(r.output.find("not a valid ITL/CTL file: byte offset "), std::string::npos) << r.output;
    EXPECT_NE(r.output.find(": bad-length: "), std::string::npos) << r.output;
}

TEST_F(ItlCli, VerifyAndCheckCapfExitCodes) {
    const auto itl = [&](const char* name, const X509* capf, EVP_PKEY* signer) {
        write_file(dir / name, test::build_itl(test::real_shapes_spec(pki, capf), signer));
        return shell_quote((dir / name).string());
    };
    const std::string good = itl("good.tlv", pki.capf.get(), pki.sast_key.get());
    const std::string unsigned_file = itl("unsigned.tlv", pki.capf.get(), nullptr);
    const std::string other = itl("other.tlv", pki.other_capf.get(), pki.sast_key.get());
    const std::string missing = itl("missing.tlv", nullptr, pki.sast_key.get());
    const std::string wrong_signer = itl("wrong-signer.tlv", pki.capf.get(), pki.other_key.get());
    test::write_pem(dir / "capf.pem", pki.capf.get());
    const std::string cert = "--cert " + shell_quote((dir / "capf.pem").string());

    auto v = lscgate("itl verify --json " + good);
    EXPECT_EQ(v.status, 0) << v.output;
    EXPECT_EQ(json::parse(v.output)["verdict"], "valid");
    EXPECT_EQ(lscgate("itl verify " + unsigned_file).status, 2);
    auto w = lscgate("itl verify --json " + wrong_signer);
    EXPECT_EQ(w.status, 2);
    EXPECT_EQ(json::parse(w.output)["verdict"], "invalid");

    auto same = lscgate("itl check-capf --json " + cert + " " + good);
    EXPECT_EQ(same.status, 0) << same.output;
    EXPECT_EQ(json::parse(same.output)["verdict"], "same");
    EXPECT_EQ(json::parse(same.output)["capf_records"][0]["record"], 3);
    auto o = lscgate("itl check-capf " + cert + " " + other);
    EXPECT_EQ(o.status, 2) << o.output;
    EXPECT_NE(o.output.find("LSC: Connection Failed"), std::string::npos) << o.output;
    auto m = lscgate("itl check-capf " + cert + " " + missing);
    EXPECT_EQ(m.status, 3) << m.output;
    EXPECT_NE(m.output.find("No valid CAPF server"), std::string::npos) << m.output;
}

// A file whose names carry terminal escapes and bytes that are not UTF-8, under a
// file name that is not UTF-8 either: text output shows them escaped, JSON output
// stays valid JSON (nlohmann's default dump would throw on the invalid UTF-8).
TEST_F(ItlCli, HostileNamesAreEscapedAndJsonStaysValid) {
    const std::string hostile = "CN=capf\x1b[2J\x1b]0;owned\x07\xff";
    test::ItlSpec spec = test::real_shapes_spec(pki, pki.other_capf.get());
    spec.records.push_back(test::server_record(hostile, 4, {10, 0, 0, 9}));
    const std::filesystem::path file = dir / "ITL\xff\xfe.tlv";
    write_file(file, test::build_itl(spec, pki.sast_key.get()));
    test::write_pem(dir / "capf.pem", pki.capf.get());
    const std::string cert = "--cert " + shell_quote((dir / "capf.pem").string());

    const auto text = lscgate("itl show " + shell_quote(file.string()));
    ASSERT_EQ(text.status, 0) << text.output;
    EXPECT_EQ(text.output.find('\x1b'), std::string::npos) << "a raw ESC reached the terminal";
    EXPECT_NE(text.output.find("CN=capf\\x1B[2J\\x1B]0;owned\\x07\\xFF"), std::string::npos) << text.output;

    const auto shown = lscgate("itl show --json " + shell_quote(file.string()));
    ASSERT_EQ(shown.status, 0) << shown.output;
    json parsed;
    ASSERT_NO_THROW(parsed = json::parse(shown.output)) << shown.output;
    EXPECT_EQ(parsed["file"], (dir / "ITL").string() + "\xEF\xBF\xBD\xEF\xBF\xBD.tlv");  // U+FFFD for each invalid byte
    EXPECT_EQ(parsed["records"][5]["fields"][1]["value"], "CN=capf\\x1B[2J\\x1B]0;owned\\x07\\xFF");

    const auto capf = lscgate("itl check-capf " + cert + " " + shell_quote(file.string()));
    EXPECT_EQ(capf.status, 2) << capf.output;
    EXPECT_EQ(capf.output.find('\x1b'), std::string::npos) << capf.output;
    EXPECT_NE(capf.output.find("only DNSNAME 'CN=capf\\x1B[2J"), std::string::npos) << capf.output;
    const auto capf_json = lscgate("itl check-capf --json " + cert + " " + shell_quote(file.string()));
    EXPECT_EQ(capf_json.status, 2) << capf_json.output;
    ASSERT_NO_THROW(parsed = json::parse(capf_json.output)) << capf_json.output;
    EXPECT_EQ(parsed["capf_records"][1]["detail"], "no certificate and no CERTHASH, only DNSNAME 'CN=capf\\x1B[2J\\x1B]0;owned\\x07\\xFF'");
}

// Containers nested 3 deep: refused with the byte offset, not walked into.
TEST_F(ItlCli, NestingTooDeepIsAnErrorWithTheOffset) {
    const Bytes three = {1, 0, 2, 1, 2, 2, 0, 2, 0, 23, 7, 0, 10, 9, 0, 7, 3, 0, 4, 4, 0, 1, 'x'};
    write_file(dir / "deep.tlv", three);
    const auto r = lscgate("itl show " + shell_quote((dir / "deep.tlv").string()));
    EXPECT_EQ(r.status, 1) << r.output;
    EXPECT_NE(r.output.find("not a valid ITL/CTL file: byte offset 16: too-deep: "), std::string::npos) << r.output;
}

}  // namespace
}  // namespace lscgate
