#include "registry/toml_reader.h"

namespace lscgate {

std::string TomlReader::where(const toml::node& node) const {
    const auto& src = node.source();
    if (src.begin.line == 0) return origin_;
    return origin_ + ":" + std::to_string(src.begin.line);
}

Error TomlReader::error_at(const toml::node& node, std::string_view section, std::string_view key,
                           const std::string& what) const {
    return fail(ErrorKind::Config,
                where(node) + ": [" + std::string(section) + "] " + std::string(key) + " " + what);
}

const toml::node* TomlReader::find(std::string_view section, std::string_view key) {
    known_[std::string(section)].insert(std::string(key));
    const auto* table = root_.get_as<toml::table>(section);
    return table == nullptr ? nullptr : table->get(key);
}

Status TomlReader::integer(std::string_view section, std::string_view key, std::int64_t min, std::int64_t max,
                           std::int64_t& out) {
    const auto* node = find(section, key);
    if (node == nullptr) return {};
    // as_integer(), not value<int64_t>(): a float such as 1.5 or 1e9 is refused, not truncated.
    const auto* v = node->as_integer();
    if (v == nullptr) return error_at(*node, section, key, "must be an integer");
    const std::int64_t n = v->get();
    if (n < min || n > max)
        return error_at(*node, section, key,
                        "= " + std::to_string(n) + " is out of range: use " + std::to_string(min) + " to " +
                            std::to_string(max));
    out = n;
    return {};
}

Status TomlReader::boolean(std::string_view section, std::string_view key, bool& out) {
    const auto* node = find(section, key);
    if (node == nullptr) return {};
    const auto* v = node->as_boolean();
    if (v == nullptr) return error_at(*node, section, key, "must be true or false");
    out = v->get();
    return {};
}

Status TomlReader::string(std::string_view section, std::string_view key, std::string& out) {
    const auto* node = find(section, key);
    if (node == nullptr) return {};
    const auto* v = node->as_string();
    if (v == nullptr) return error_at(*node, section, key, "must be a string");
    out = v->get();
    return {};
}

Status TomlReader::path(std::string_view section, std::string_view key, std::filesystem::path& out) {
    std::string text = out.string();
    auto s = string(section, key, text);
    if (s) out = text;
    return s;
}

Status TomlReader::choice(std::string_view section, std::string_view key,
                          std::initializer_list<std::string_view> allowed, std::string& out) {
    std::string v = out;
    if (auto s = string(section, key, v); !s) return s;
    std::string options;
    for (auto a : allowed) {
        if (a == v) {
            out = v;
            return {};
        }
        options += (options.empty() ? "" : ", ") + std::string(a);
    }
    // The value came from the file (a default is always one of `allowed`), but
    // never dereference what may be absent: report at the table, or the file's top.
    const auto* table = root_.get_as<toml::table>(section);
    const toml::node* node = table != nullptr ? table->get(key) : nullptr;
    const toml::node& at = node != nullptr ? *node : table != nullptr ? static_cast<const toml::node&>(*table) : root_;
    return error_at(at, section, key, "= \"" + v + "\" is not one of: " + options);
}

Status TomlReader::reject_unknown() const {
    for (const auto& [name, node] : root_) {
        const std::string section(name.str());
        if (open_sections_.count(section) != 0) continue;
        const auto known = known_.find(section);
        if (known == known_.end()) {
            std::string sections;
            for (const auto& [s, keys] : known_) sections += (sections.empty() ? "[" : ", [") + s + "]";
            for (const auto& s : open_sections_) sections += (sections.empty() ? "[" : ", [") + s + "]";
            const std::string what = node.is_table() ? "unknown section [" + section + "]"
                                                     : "key '" + section + "' outside a section";
            return fail(ErrorKind::Config, where(node) + ": " + what + " (known sections: " + sections + ")");
        }
        const auto* table = node.as_table();
        if (table == nullptr) return fail(ErrorKind::Config, where(node) + ": '" + section + "' must be a [section]");
        for (const auto& [key, value] : *table) {
            if (known->second.count(key.str()) != 0) continue;
            std::string keys;
            for (const auto& k : known->second) keys += (keys.empty() ? "" : ", ") + k;
            return fail(ErrorKind::Config, where(value) + ": unknown key '" + std::string(key.str()) + "' in [" +
                                               section + "] (known keys: " + keys + ")");
        }
    }
    return {};
}

}  // namespace lscgate
