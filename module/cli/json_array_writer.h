#pragma once

// Writes a JSON array to a stream one element at a time, as rows are read from
// the registry, so `device list --json` over 100 000 devices holds one row in
// memory, not the whole array. The text is byte for byte what
// nlohmann::json::dump(2) gives for the same array, so scripts see no change.

#include <nlohmann/json.hpp>

#include <ostream>

namespace lscgate::cli {

class JsonArrayWriter {
public:
    explicit JsonArrayWriter(std::ostream& out) : out_(out) {}
    JsonArrayWriter(const JsonArrayWriter&) = delete;
    JsonArrayWriter& operator=(const JsonArrayWriter&) = delete;

    /// Appends one element (any JSON value).
    void add(const nlohmann::json& element);
    /// Closes the array ("]" or "[]" when empty), ends the line and flushes.
    void finish();

private:
    std::ostream& out_;
    bool any_ = false;
};

}  // namespace lscgate::cli
