#pragma once

// Strict reading of a TOML document (lscgate.toml, policy.toml): every value is
// type- and range-checked before it is narrowed, and every key or section the
// caller did not ask for is an error. A misspelled key therefore fails loudly
// instead of silently leaving a default (lockout_secnds = 60 meaning 900), and
// lockout_seconds = 4294967296 is refused instead of wrapping to 0.
// Errors read "FILE:LINE: [section] key ...", with the line from toml++'s source
// positions.

#include "pki/result.h"

#include <toml++/toml.h>

#include <cstdint>
#include <filesystem>
#include <initializer_list>
#include <map>
#include <set>
#include <string>
#include <string_view>

namespace lscgate {

class TomlReader {
public:
    /// `origin` names the document in errors (normally its path).
    TomlReader(const toml::table& root, std::string origin) : root_(root), origin_(std::move(origin)) {}

    /// "ORIGIN:LINE" of a node, or just ORIGIN when toml++ has no position.
    std::string where(const toml::node& node) const;

    /// Reads [section] key as an integer in [min, max] into `out`; an absent key
    /// leaves `out` alone. Errors: not an integer, or out of range.
    Status integer(std::string_view section, std::string_view key, std::int64_t min, std::int64_t max,
                   std::int64_t& out);
    template <class T>
    Status integer(std::string_view section, std::string_view key, std::int64_t min, std::int64_t max, T& out) {
        std::int64_t v = out;
        auto s = integer(section, key, min, max, v);
        if (s) out = static_cast<T>(v);  // in range by construction: no wrap
        return s;
    }
    Status boolean(std::string_view section, std::string_view key, bool& out);
    Status string(std::string_view section, std::string_view key, std::string& out);
    Status path(std::string_view section, std::string_view key, std::filesystem::path& out);
    /// A string that must be one of `allowed`.
    Status choice(std::string_view section, std::string_view key, std::initializer_list<std::string_view> allowed,
                  std::string& out);

    /// Declares a section whose keys the caller checks itself (e.g. [actions]).
    void claim_section(std::string_view section) { open_sections_.insert(std::string(section)); }

    /// Fails on the first key or section nobody read or claimed, naming its line
    /// and the keys that section does know.
    Status reject_unknown() const;

private:
    const toml::node* find(std::string_view section, std::string_view key);
    Error error_at(const toml::node& node, std::string_view section, std::string_view key, const std::string& what) const;

    const toml::table& root_;
    std::string origin_;
    std::map<std::string, std::set<std::string, std::less<>>, std::less<>> known_;  // section -> keys read
    std::set<std::string, std::less<>> open_sections_;
};

}  // namespace lscgate
