#include "cli/op_request.h"

#include "pki/auth_secret.h"
#include "pki/key_strength.h"
#include "pki/printable.h"
#include "registry/device_name.h"

#include <openssl/rand.h>

#include <iostream>

namespace lscgate::cli {

Result<RequestOptions> parse_request_options(OperationKind kind, const std::string& auth, const std::string& key,
                                             bool allow_weak_key) {
    RequestOptions out;
    out.request.kind = kind;
    auto spec = parse_key_spec(key);
    if (!spec) return spec.error();
    out.request.key = *spec;
    // Only an install makes the phone generate a key; fetch and delete ignore --key.
    if (auto weak = weak_lsc_key_reason(*spec); !weak.empty() && kind == OperationKind::Install) {
        if (!allow_weak_key) return fail(ErrorKind::Input, weak);
        std::cerr << "lscgate: warning: " << spec->to_string()
                  << " LSCs are refused by FreeRADIUS's EAP-TLS at OpenSSL security level 2 (Debian 12): lower the eap "
                     "module's level (tls { cipher_list = \"DEFAULT@SECLEVEL=1\" }) for these phones\n";
    }
    // --auth string:DIGITS uses the given string; bare "string" generates one per device.
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

std::string random_digits(int n) {
    std::string out;
    while (static_cast<int>(out.size()) < n) {
        unsigned char b = 0;
        RAND_bytes(&b, 1);
        if (b < 250) out.push_back(static_cast<char>('0' + b % 10));  // reject 250..255: no modulo bias
    }
    return out;
}

// Soft clients have no MIC and a name anyone can guess (usually from the user
// name); with auth=null, whoever reaches the CAPF port first gets their LSC.
void warn_null_for_soft_clients(const std::vector<std::string>& names, OperationKind kind) {
    if (kind != OperationKind::Install) return;
    for (const auto& name : names) {
        const DeviceClass cls = device_class(name);
        if (!is_soft_client(cls)) continue;
        std::cerr << "lscgate: warning: " << name << " is a " << describe(cls)
                  << " soft client: with --auth null any computer that claims this name gets its LSC; "
                     "use --auth string (Jabber prompts the user for it)\n";
    }
}

}  // namespace lscgate::cli
