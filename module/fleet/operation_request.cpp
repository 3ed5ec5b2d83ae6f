#include "fleet/operation_request.h"

#include "pki/auth_secret.h"
#include "pki/key_strength.h"
#include "pki/printable.h"
#include "pki/time_text.h"
#include "registry/device_name.h"

#include <openssl/rand.h>

namespace lscgate {

Result<RequestOptions> parse_request_options(OperationKind kind, const std::string& auth, const std::string& key,
                                             bool allow_weak_key) {
    RequestOptions out;
    out.request.kind = kind;
    auto spec = parse_key_spec(key);
    if (!spec) return spec.error();
    out.request.key = *spec;
    // Only an install makes the phone generate a key; fetch and delete ignore the key.
    if (auto weak = weak_lsc_key_reason(*spec); !weak.empty() && kind == OperationKind::Install) {
        if (!allow_weak_key) return fail(ErrorKind::Input, weak);
        out.warnings.push_back(spec->to_string() +
                               " LSCs are refused by FreeRADIUS's EAP-TLS at OpenSSL security level 2 (Debian 12): "
                               "lower the eap module's level (tls { cipher_list = \"DEFAULT@SECLEVEL=1\" }) for "
                               "these phones");
    }
    // "string:DIGITS" uses the given string; bare "string" generates one per device.
    if (auth.rfind("string", 0) == 0) {
        out.request.auth_mode = AuthMode::String;
        if (auth == "string") out.generate = true;
        else if (auth.rfind("string:", 0) == 0) out.fixed_digits = auth.substr(7);
        else return fail(ErrorKind::Input, "invalid --auth '" + escape_nonprintable(auth) + "': use string or string:DIGITS");
        if (!out.generate)
            if (auto s = validate_auth_string(out.fixed_digits); !s) return s.error();
        return out;
    }
    auto mode = parse_auth_mode(auth);
    if (!mode) return fail(mode.kind(), mode.message() + " (or string / string:DIGITS)");
    out.request.auth_mode = *mode;
    return out;
}

Result<std::optional<UnixTime>> parse_completes_by(const std::string& text, UnixTime now) {
    if (text.empty()) return std::optional<UnixTime>{};
    auto by = parse_time_text(text, now);
    if (!by) return fail(ErrorKind::Input, by.message());
    if (*by <= now) return fail(ErrorKind::Input, "--by " + escape_nonprintable(text) + " is in the past");
    return std::optional<UnixTime>{*by};
}

std::string random_auth_digits(int n) {
    std::string out;
    while (static_cast<int>(out.size()) < n) {
        unsigned char b = 0;
        if (RAND_bytes(&b, 1) != 1) continue;  // no byte: draw again (RAND_bytes fails only without entropy)
        if (b < 250) out.push_back(static_cast<char>('0' + b % 10));  // reject 250..255: no modulo bias
    }
    return out;
}

// Soft clients have no MIC and a name anyone can guess (usually from the user
// name); with auth=null, whoever reaches the CAPF port first gets their LSC.
std::vector<std::string> soft_client_warnings(const std::vector<std::string>& names, OperationKind kind) {
    std::vector<std::string> out;
    if (kind != OperationKind::Install) return out;
    for (const auto& name : names) {
        const DeviceClass cls = device_class(name);
        if (!is_soft_client(cls)) continue;
        out.push_back(name + " is a " + describe(cls) +
                      " soft client: with --auth null any computer that claims this name gets its LSC; use --auth "
                      "string (Jabber prompts the user for it)");
    }
    return out;
}

Result<PreparedSchedule> prepare_schedule(const std::vector<std::string>& names, const RequestOptions& options,
                                          std::optional<UnixTime> completes_by) {
    PreparedSchedule out;
    out.items.reserve(names.size());
    out.auth_strings.reserve(names.size());
    for (const auto& name : names) {
        OperationRequest r = options.request;
        r.completes_by = completes_by;
        std::string digits;
        if (r.auth_mode == AuthMode::String) {
            digits = options.generate ? random_auth_digits(kGeneratedAuthDigits) : options.fixed_digits;
            auto hash = hash_auth_string(digits);
            if (!hash) return hash.error();
            r.auth_secret_hash = *hash;
        }
        out.items.emplace_back(name, std::move(r));
        out.auth_strings.push_back(options.generate ? digits : "");
    }
    return out;
}

}  // namespace lscgate
