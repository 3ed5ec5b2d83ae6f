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

}  // namespace lscgate::cli::doctor
