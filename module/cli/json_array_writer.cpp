#include "cli/json_array_writer.h"

#include "cli/cli_context.h"

#include <string>

namespace lscgate::cli {

void JsonArrayWriter::add(const nlohmann::json& element) {
    out_ << (any_ ? ",\n  " : "[\n  ");
    any_ = true;
    // An element inside dump(2)'s array is its own dump(2) shifted by one level.
    // JSON strings escape newlines, so every '\n' here is layout.
    const std::string text = json_text(element, 2);
    std::string shifted;
    shifted.reserve(text.size() + text.size() / 8);
    for (char c : text) {
        shifted.push_back(c);
        if (c == '\n') shifted += "  ";
    }
    out_ << shifted;
}

void JsonArrayWriter::finish() {
    out_ << (any_ ? "\n]" : "[]") << std::endl;
}

}  // namespace lscgate::cli
