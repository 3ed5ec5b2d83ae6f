#include "itl/itl_show.h"

#include "itl/itl_signature.h"
#include "itl/itl_tags.h"
#include "itl/itl_values.h"
#include "pki/certificate.h"
#include "pki/printable.h"

#include <openssl/objects.h>

#include <iomanip>
#include <sstream>

namespace lscgate::itl {
namespace {

void add_certificate(nlohmann::json& j, const Field& field) {
    j["sha1"] = digest_hex(field.value, "SHA1");
    j["value"] = j["sha1"];
    j["sha256"] = digest_hex(field.value, "SHA256");
    auto cert = parse_certificate_der(field.value);
    if (!cert) {
        j["certificate_error"] = cert.message();
        return;
    }
    auto facts = describe_certificate(cert->get());
    if (!facts) {
        j["certificate_error"] = facts.message();
        return;
    }
    const int nid = X509_get_signature_nid(cert->get());
    j["certificate"] = {{"subject", escape_nonprintable(facts->subject)},
                        {"issuer", escape_nonprintable(facts->issuer)},
                        {"serial", facts->serial_hex},
                        {"not_before", format_utc(facts->not_before)},
                        {"not_after", format_utc(facts->not_after)},
                        {"key", facts->key_type + ":" + std::to_string(facts->key_bits)},
                        {"signature_algorithm", nid == NID_undef ? "unknown" : OBJ_nid2ln(nid)}};
}

}  // namespace

nlohmann::json field_json(const Field& field, bool in_header) {
    const Where where = in_header ? Where::Header : Where::Record;
    nlohmann::json j = {{"offset", field.offset},
                        {"tag", field.tag},
                        {"name", tag_label(field.tag, where)},
                        {"length", field.length}};
    if (field.padding) {
        j["padding"] = true;
        j["value"] = nullptr;
        return j;
    }
    if (field.container) {
        j["container"] = true;
        j["value"] = nullptr;
        j["depth"] = field.depth;
        return j;
    }
    if (in_header) j["depth"] = field.depth;
    switch (value_kind(field.tag, where)) {
        case ValueKind::Text: {
            const std::string text = field_text(field);
            j["value"] = escape_nonprintable(text);
            j["normalized"] = escape_nonprintable(normalize_name(text));
            break;
        }
        case ValueKind::Number: {
            const auto n = field_number(field);
            j["value"] = n;
            if (!in_header && field.tag == tags::kFunction) j["role"] = role_name(static_cast<std::uint16_t>(n));
            if ((in_header && field.tag == tags::kDigestAlgorithm) || (!in_header && field.tag == tags::kHashAlgorithm))
                j["algorithm"] = hash_name(static_cast<std::uint8_t>(n)).value_or("unknown");
            if (in_header && field.tag == tags::kSignatureModulus) {
                const auto bits = modulus_bits(static_cast<std::uint8_t>(n));
                j["bits"] = bits ? nlohmann::json(*bits) : nlohmann::json(nullptr);
            }
            break;
        }
        case ValueKind::Version:
            j["value"] = std::to_string(field.value[0]) + "." + std::to_string(field.value[1]);
            break;
        case ValueKind::Address: j["value"] = address_text(field.value); break;
        case ValueKind::Certificate: add_certificate(j, field); break;
        default: j["value"] = to_hex(field.value); break;
    }
    return j;
}

nlohmann::json file_json(const File& file) {
    nlohmann::json j = {{"size", file.size},
                        {"version", std::to_string(file.version_major) + "." + std::to_string(file.version_minor)},
                        {"header_length", file.header_length},
                        {"signed", file.header_field(tags::kSignature) != nullptr}};
    const auto signer = find_signer(file);
    j["signer_record"] = signer ? nlohmann::json(*signer + 1) : nlohmann::json(nullptr);
    j["header"] = nlohmann::json::array();
    for (const auto& f : file.header) j["header"].push_back(field_json(f, true));
    j["records"] = nlohmann::json::array();
    for (std::size_t i = 0; i < file.records.size(); ++i) {
        const Record& r = file.records[i];
        nlohmann::json rj = {{"index", i + 1}, {"offset", r.offset}, {"length", r.length}};
        const auto function = r.function();
        rj["function"] = function ? nlohmann::json(*function) : nlohmann::json(nullptr);
        rj["role"] = function ? nlohmann::json(role_name(*function)) : nlohmann::json(nullptr);
        rj["fields"] = nlohmann::json::array();
        for (const auto& f : r.fields) rj["fields"].push_back(field_json(f, false));
        j["records"].push_back(std::move(rj));
    }
    return j;
}

namespace {

std::string value_text(const nlohmann::json& f) {
    if (f.contains("padding")) return "";
    if (f.contains("container")) return "(container)";
    const auto& name = f["name"].get_ref<const std::string&>();
    if (f.contains("sha1")) {
        std::string s = "SHA-1 " + f["sha1"].get<std::string>();
        if (f.contains("certificate"))
            s += "  " + f["certificate"]["subject"].get<std::string>() + "  " + f["certificate"]["key"].get<std::string>() +
                 " " + f["certificate"]["signature_algorithm"].get<std::string>() + "  until " +
                 f["certificate"]["not_after"].get<std::string>();
        return s;
    }
    if (name == "PUBLICKEY" || name == "SIGNATURE") return "Not displayed";  // as `show itl` prints them
    std::string s = f["value"].is_string() ? f["value"].get<std::string>() : f["value"].dump();
    if (f.contains("role")) s += " (" + (f["role"].get<std::string>().empty() ? "unknown role" : f["role"].get<std::string>()) + ")";
    if (f.contains("algorithm")) s += " (" + f["algorithm"].get<std::string>() + ")";
    if (f.contains("bits") && !f["bits"].is_null()) s += " (" + std::to_string(f["bits"].get<int>()) + " bits)";
    return s;
}

void field_lines(std::ostringstream& out, const nlohmann::json& fields) {
    out << "    OFFSET  TAG  NAME                  LENGTH  VALUE\n";
    for (const auto& f : fields) {
        const int depth = f.value("depth", 0);
        out << "    " << std::setw(6) << f["offset"].get<std::size_t>() << "  " << std::setw(3) << f["tag"].get<int>()
            << "  " << std::string(static_cast<std::size_t>(depth) * 2, ' ') << std::left
            << std::setw(22 - depth * 2) << f["name"].get<std::string>() << std::right << std::setw(6)
            << (f.contains("padding") ? std::string("-") : std::to_string(f["length"].get<std::size_t>())) << "  "
            << value_text(f) << "\n";
    }
}

}  // namespace

std::string file_text(const File& file) {
    const auto j = file_json(file);
    std::ostringstream out;
    out << "Length of file: " << file.size << " bytes\n"
        << "Version: " << j["version"].get<std::string>() << "\n"
        << "HeaderLength: " << file.header_length << " (BYTES)\n"
        << (j["signed"].get<bool>() ? "" : "The file carries no SIGNATURE: it is not signed.\n") << "\n";
    field_lines(out, j["header"]);
    for (const auto& r : j["records"]) {
        out << "\nRecord #" << r["index"].get<std::size_t>() << " at offset " << r["offset"].get<std::size_t>() << ", "
            << r["length"].get<std::size_t>() << " bytes";
        if (!r["role"].is_null()) out << ", " << (r["role"].get<std::string>().empty() ? "role " + r["function"].dump() : r["role"].get<std::string>());
        out << "\n";
        field_lines(out, r["fields"]);
        if (j["signer_record"] == r["index"]) out << "    This record's certificate signed the file (SIGNERID).\n";
    }
    return out.str();
}

}  // namespace lscgate::itl
