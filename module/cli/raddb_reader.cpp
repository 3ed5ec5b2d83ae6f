#include "cli/raddb_reader.h"

#include "pki/key_strength.h"
#include "pki/secure_file.h"

#include <algorithm>
#include <regex>
#include <sstream>

namespace lscgate::cli::doctor {
namespace {

std::string trim(const std::string& s) {
    const auto b = s.find_first_not_of(" \t\r");
    if (b == std::string::npos) return "";
    return s.substr(b, s.find_last_not_of(" \t\r") - b + 1);
}

// The line without its comment: '#' outside double or single quotes.
std::string strip_comment(const std::string& line) {
    char quote = 0;
    for (std::size_t i = 0; i < line.size(); ++i) {
        const char c = line[i];
        if (quote != 0) {
            if (c == '\\') ++i;
            else if (c == quote) quote = 0;
        } else if (c == '"' || c == '\'') {
            quote = c;
        } else if (c == '#') {
            return line.substr(0, i);
        }
    }
    return line;
}

std::string unquote(std::string v) {
    v = trim(v);
    if (v.size() >= 2 && (v.front() == '"' || v.front() == '\'') && v.back() == v.front()) v = v.substr(1, v.size() - 2);
    return v;
}

// ${name} replaced from `vars` (unknown names are left as written); bounded passes.
std::string expand(std::string v, const std::map<std::string, std::string>& vars) {
    for (int pass = 0; pass < 8; ++pass) {
        const auto open = v.find("${");
        if (open == std::string::npos) break;
        const auto close = v.find('}', open);
        if (close == std::string::npos) break;
        const auto it = vars.find(v.substr(open + 2, close - open - 2));
        if (it == vars.end()) break;
        v.replace(open, close - open + 1, it->second);
    }
    return v;
}

void parse_text(const std::string& text, const std::string& file, std::map<std::string, std::string>& vars,
                bool define_variables, std::vector<RaddbItem>& out) {
    std::istringstream in(text);
    std::string raw;
    std::vector<std::string> sections;
    int line_no = 0;
    while (std::getline(in, raw)) {
        ++line_no;
        std::string line = trim(strip_comment(raw));
        while (!line.empty() && line.front() == '}') {  // "}" possibly followed by more
            if (!sections.empty()) sections.pop_back();
            line = trim(line.substr(1));
        }
        if (line.empty() || line.front() == '$') continue;  // $INCLUDE / $-INCLUDE / $template
        const auto eq = line.find('=');
        const auto brace = line.find('{');
        if (brace != std::string::npos && (eq == std::string::npos || brace < eq)) {
            std::string header = trim(line.substr(0, brace));
            std::replace(header.begin(), header.end(), '\t', ' ');
            sections.push_back(header);
            if (line.find('}', brace) != std::string::npos) sections.pop_back();  // "name { }" on one line
            continue;
        }
        if (eq == std::string::npos) {  // a bare word: a module call in a site's section ("lscgate")
            out.push_back({file, line_no, sections, line.substr(0, line.find_first_of(" \t")), ""});
            continue;
        }
        std::string key = trim(line.substr(0, eq));
        if (!key.empty() && (key.back() == ':' || key.back() == '+' || key.back() == '-')) key.pop_back();
        const std::string value = expand(unquote(line.substr(eq + 1)), vars);
        if (define_variables && sections.empty()) vars[trim(key)] = value;
        out.push_back({file, line_no, sections, trim(key), value});
    }
}

}  // namespace

bool in_section(const RaddbItem& item, const std::string& name) {
    return std::any_of(item.sections.begin(), item.sections.end(), [&](const std::string& s) {
        return s.substr(0, s.find(' ')) == name;
    });
}

std::vector<const RaddbItem*> module_items(const RaddbConfig& raddb, const std::string& module, const std::string& key) {
    std::vector<const RaddbItem*> out;
    for (const auto& i : raddb.items)
        if (i.key == key && i.file.rfind("mods-enabled/", 0) == 0 && in_section(i, module)) out.push_back(&i);
    return out;
}

std::string module_setting(const RaddbConfig& raddb, const std::string& module, const std::string& key) {
    const auto items = module_items(raddb, module, key);
    return items.empty() ? std::string() : items.front()->value;
}

std::filesystem::path resolve_path(const RaddbConfig& raddb, const std::string& value) {
    const std::filesystem::path p(value);
    return p.is_absolute() ? p : raddb.dir / p;
}

std::string where(const RaddbItem& item) { return item.file + ":" + std::to_string(item.line); }

SecurityLevel eap_security_level(const RaddbConfig& raddb) {
    SecurityLevel out{kDebianSecurityLevel, "Debian's default"};
    for (const auto* i : module_items(raddb, "eap", "cipher_list")) {
        std::smatch m;
        if (std::regex_search(i->value, m, std::regex("@SECLEVEL=([0-9])"))) {
            out.level = std::stoi(m[1].str());
            out.from = where(*i);
        }
    }
    return out;
}

int security_bits_required(int level) {
    constexpr int kBits[] = {0, 80, 112, 128, 192, 256};
    return kBits[std::clamp(level, 0, 5)];
}

Result<RaddbConfig> read_raddb(const std::filesystem::path& dir) {
    std::error_code ec;
    if (!std::filesystem::is_directory(dir, ec))
        return fail(ErrorKind::Config, dir.string() + " is not a directory (give the FreeRADIUS configuration directory, e.g. /etc/freeradius/3.0)");
    RaddbConfig cfg;
    cfg.dir = dir;
    cfg.variables = {{"raddbdir", dir.string()}, {"confdir", dir.string()}, {"certdir", (dir / "certs").string()},
                     {"cadir", (dir / "certs").string()}};
    if (auto text = read_text_file(dir / "radiusd.conf", 1024 * 1024); text) {
        std::vector<RaddbItem> top;
        parse_text(*text, "radiusd.conf", cfg.variables, true, top);
        // Without `user` FreeRADIUS keeps the identity it was started with (root).
        cfg.run_user = "root";
        for (const auto& i : top)
            if (i.key == "user" && i.sections.size() == 1 && i.sections[0] == "security") cfg.run_user = i.value;
    }
    bool any = false;
    for (const char* sub : {"mods-enabled", "sites-enabled"}) {
        if (!std::filesystem::is_directory(dir / sub, ec)) continue;
        any = true;
        std::vector<std::filesystem::path> files;
        for (const auto& entry : std::filesystem::directory_iterator(dir / sub, ec)) {
            const std::string name = entry.path().filename().string();
            if (name.empty() || name.front() == '.' || name.back() == '~') continue;
            files.push_back(entry.path());
        }
        std::sort(files.begin(), files.end());
        for (const auto& f : files) {
            auto text = read_text_file(f, 1024 * 1024);
            if (!text) continue;  // a dangling link: freeradius -C says so
            parse_text(*text, std::string(sub) + "/" + f.filename().string(), cfg.variables, false, cfg.items);
        }
    }
    if (!any) return fail(ErrorKind::Config, dir.string() + " has neither mods-enabled/ nor sites-enabled/: not a FreeRADIUS 3 configuration directory");
    return cfg;
}

}  // namespace lscgate::cli::doctor
