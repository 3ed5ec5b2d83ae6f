#pragma once

// Just enough of FreeRADIUS 3.2's configuration syntax (described at the top of
// raddb/radiusd.conf) for `lscgate doctor --raddb` to read what it checks: sections `name [instance] {`
// … `}`, pairs `key = value` (quoted or bare), `#` comments, `${var}` references
// to top-level radiusd.conf variables. $INCLUDE lines are not followed (doctor reads
// mods-enabled/ and sites-enabled/ itself). Not a validator: `freeradius -C` is.

#include "pki/result.h"

#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace lscgate::cli::doctor {

/// One `key = value` (or a bare word such as a module call, with an empty value) with where it sits: `sections` outermost first, each as its
/// header words ("eap", "tls-config tls-common", "cache").
struct RaddbItem {
    std::string file;  ///< path relative to the raddb directory
    int line = 0;
    std::vector<std::string> sections;
    std::string key;
    std::string value;  ///< unquoted, ${var} expanded
};

struct RaddbConfig {
    std::filesystem::path dir;
    std::map<std::string, std::string> variables;  ///< radiusd.conf top level (confdir, certdir, …)
    std::vector<RaddbItem> items;                  ///< mods-enabled/* and sites-enabled/*, in file order
    /// The user FreeRADIUS switches to (radiusd.conf `security { user = … }`):
    /// "freerad" when there is no radiusd.conf (Debian's), "root" when it sets none.
    std::string run_user = "freerad";
};

/// Reads DIR/radiusd.conf (variables, optional), then every file in
/// DIR/mods-enabled and DIR/sites-enabled (links followed, hidden and backup
/// files skipped). Errors (Config): DIR is not a directory or has neither subdirectory.
Result<RaddbConfig> read_raddb(const std::filesystem::path& dir);

/// Whether `item` lies in a section whose first header word is `name` at any depth.
bool in_section(const RaddbItem& item, const std::string& name);

/// Every `key` of module `module` (a section whose first word is `module`, in a
/// mods-enabled/ file), in file order: ("eap", "ca_file"), ("lscgate", "mic_roots").
std::vector<const RaddbItem*> module_items(const RaddbConfig& raddb, const std::string& module, const std::string& key);

/// The value of the module's first `key`, "" when it is not set; a relative path is
/// not resolved here (resolve_path).
std::string module_setting(const RaddbConfig& raddb, const std::string& module, const std::string& key);

/// A path from the configuration as FreeRADIUS opens it: absolute as written,
/// else relative to the raddb directory (where `freeradius -d DIR` runs).
std::filesystem::path resolve_path(const RaddbConfig& raddb, const std::string& value);

/// "mods-enabled/eap:12", for findings.
std::string where(const RaddbItem& item);

/// The OpenSSL security level eap's TLS runs at: the last `@SECLEVEL=N` in a
/// cipher_list of the eap module, else Debian 12's system default
/// (kDebianSecurityLevel, /etc/ssl/openssl.cnf). `from` says which ("mods-enabled/eap:9"
/// or "Debian's default").
struct SecurityLevel {
    int level = 2;
    std::string from;
};
SecurityLevel eap_security_level(const RaddbConfig& raddb);

/// Bits of security OpenSSL requires at `level` (SSL_CTX_set_security_level(3):
/// 0, 80, 112, 128, 192, 256 for levels 0-5).
int security_bits_required(int level);

}  // namespace lscgate::cli::doctor
