// lscgate itl show / verify / check-capf: ITL and CTL trust-list files
// (module/itl/FORMAT.md). Exit codes are documented in README.md, "ITL and CTL files".

#include "cli/commands.h"
#include "itl/itl_capf_check.h"
#include "itl/itl_show.h"
#include "itl/itl_signature.h"
#include "pki/certificate.h"
#include "pki/secure_file.h"

namespace lscgate::cli {
namespace {

// check-capf: the file has CAPF records, none is this certificate / it has none.
inline constexpr int kExitCapfOther = 2;
inline constexpr int kExitCapfMissing = 3;

struct LoadedItl {
    std::string bytes;
    itl::File file;
};

// Reads and parses FILE; a malformed file is an error naming the byte offset and the fault kind.
Result<LoadedItl> load_itl(const std::string& path) {
    auto bytes = read_text_file(path, itl::kMaxFileBytes);
    if (!bytes) return fail(ErrorKind::Input, bytes.message());
    auto parsed = itl::parse(as_bytes(*bytes));
    if (!parsed) return fail(ErrorKind::Input, path + ": not a valid ITL/CTL file: " + parsed.fault.message());
    return LoadedItl{std::move(*bytes), std::move(*parsed.file)};
}

int run_show(CliContext& ctx, const std::string& path) {
    auto loaded = load_itl(path);
    if (!loaded) return ctx.error(loaded.message());
    if (ctx.json) {
        auto j = itl::file_json(loaded->file);
        j["file"] = path;
        ctx.print_json(j);
    } else {
        std::cout << "ITL/CTL file " << path << "\n" << itl::file_text(loaded->file) << std::flush;
    }
    return kExitOk;
}

int run_verify(CliContext& ctx, const std::string& path) {
    auto loaded = load_itl(path);
    if (!loaded) return ctx.error(loaded.message());
    const auto check = itl::verify_signature(loaded->file, as_bytes(loaded->bytes));
    if (ctx.json) {
        ctx.print_json({{"file", path},
                        {"verdict", itl::to_string(check.verdict)},
                        {"digest", check.digest},
                        {"signature_bits", check.signature_bits},
                        {"signer_serial", check.signer_serial},
                        {"signer_record", check.signer_record ? nlohmann::json(*check.signer_record + 1) : nlohmann::json()},
                        {"detail", check.detail}});
    } else {
        std::cout << path << ": " << itl::to_string(check.verdict) << ": " << check.detail;
        if (check.verdict == itl::SignatureVerdict::Valid)
            std::cout << " (" << check.digest << ", " << check.signature_bits << "-bit RSA"
                      << (check.digest == "SHA1" ? "; SHA-1 is what older phones need" : "") << ")";
        std::cout << std::endl;
    }
    return check.verdict == itl::SignatureVerdict::Valid ? kExitOk : kExitRefused;
}

int run_check_capf(CliContext& ctx, const std::string& path, const std::string& cert_path) {
    std::string capf_path = cert_path;
    if (capf_path.empty()) {
        auto cfg = ctx.config();
        if (!cfg) return ctx.error(cfg.message() + " (or name the CAPF certificate with --cert)");
        capf_path = cfg->resolve(cfg->capf_cert).string();
    }
    auto cert = load_certificate(capf_path);
    if (!cert) return ctx.error(cert.message());
    auto loaded = load_itl(path);
    if (!loaded) return ctx.error(loaded.message());
    const Bytes der = certificate_der(cert->get());
    const auto check = itl::check_capf(loaded->file, der);
    if (ctx.json) {
        nlohmann::json records = nlohmann::json::array();
        for (const auto& r : check.records)
            records.push_back({{"record", r.index + 1}, {"sha256", r.sha256}, {"subject", r.subject},
                               {"matches", r.matches}, {"detail", r.detail}});
        ctx.print_json({{"file", path}, {"capf_certificate", capf_path}, {"verdict", itl::to_string(check.match)},
                        {"expected_sha256", check.expected_sha256}, {"capf_records", records}});
    } else if (check.match == itl::CapfMatch::Missing) {
        std::cout << path << ": missing: no CAPF record (FUNCTION 4). Phones given this file show \"No valid CAPF "
                  << "server\". Fix: add the CAPF certificate " << capf_path << " to the ITL/CTL." << std::endl;
    } else {
        for (const auto& r : check.records)
            std::cout << path << ": record " << r.index + 1 << " (CAPF" << (r.subject.empty() ? "" : ", " + r.subject)
                      << "): " << r.detail << "\n";
        if (check.match == itl::CapfMatch::Same)
            std::cout << path << ": same: the CAPF record is " << capf_path << " (SHA-256 " << check.expected_sha256 << ")"
                      << std::endl;
        else
            std::cout << path << ": other: no CAPF record is " << capf_path << " (SHA-256 " << check.expected_sha256
                      << "). Phones given this file show \"LSC: Connection Failed\". Fix: rebuild the ITL/CTL with this "
                      << "CAPF certificate, or serve the CAPF certificate the ITL names." << std::endl;
    }
    switch (check.match) {
        case itl::CapfMatch::Same: return kExitOk;
        case itl::CapfMatch::Other: return kExitCapfOther;
        case itl::CapfMatch::Missing: return kExitCapfMissing;
    }
    return kExitError;
}

}  // namespace

void add_itl_command(CLI::App& app, CliContext& ctx) {
    auto* itl_cmd = app.add_subcommand("itl", "ITL/CTL trust-list files (ITLFile.tlv, CTLFile.tlv)");
    itl_cmd->require_subcommand(1);

    auto* show = itl_cmd->add_subcommand("show", "Print the header and every record (tag, length, value), as 'show itl' does");
    auto show_file = std::make_shared<std::string>();
    show->add_option("FILE", *show_file, "ITL/CTL file")->required();
    show->add_flag("--json", ctx.json, "JSON output");
    show->callback([&ctx, show_file] { ctx.exit_code = run_show(ctx, *show_file); });

    auto* verify = itl_cmd->add_subcommand("verify", "Check the file signature with the signer record's certificate "
                                                     "(exit 0 valid, 2 invalid or unsigned, 1 unreadable)");
    auto verify_file = std::make_shared<std::string>();
    verify->add_option("FILE", *verify_file, "ITL/CTL file")->required();
    verify->add_flag("--json", ctx.json, "JSON output");
    verify->callback([&ctx, verify_file] { ctx.exit_code = run_verify(ctx, *verify_file); });

    auto* capf = itl_cmd->add_subcommand("check-capf", "Is the file's CAPF record this CAPF certificate? "
                                                       "(exit 0 same, 2 another one, 3 no CAPF record, 1 error)");
    auto capf_file = std::make_shared<std::string>();
    auto capf_cert = std::make_shared<std::string>();
    capf->add_option("FILE", *capf_file, "ITL/CTL file")->required();
    capf->add_option("--cert", *capf_cert, "CAPF certificate (PEM); default: [capf] cert of --dir");
    capf->add_flag("--json", ctx.json, "JSON output");
    capf->callback([&ctx, capf_file, capf_cert] { ctx.exit_code = run_check_capf(ctx, *capf_file, *capf_cert); });
}

}  // namespace lscgate::cli
