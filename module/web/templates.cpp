#include "web/templates.h"

namespace lscgate::web {

Result<std::string_view> embedded_file(std::string_view name) {
    for (const auto& f : embedded_files())
        if (f.name == name) return f.text;
    return fail("no embedded file " + std::string(name));
}

Result<std::string> render_template(std::string_view name, const TemplateData& data) {
    auto text = embedded_file(std::string(name) + ".mustache");
    if (!text) return text.error();
    // Parsed per render: a kainjow template object is not safe to render from
    // two threads at once, and parsing a few KiB costs microseconds next to the
    // registry query behind every page.
    kainjow::mustache::mustache tmpl{std::string(*text)};
    if (!tmpl.is_valid()) return fail("template " + std::string(name) + ": " + tmpl.error_message());
    std::string out = tmpl.render(data);
    if (!tmpl.is_valid()) return fail("template " + std::string(name) + ": " + tmpl.error_message());
    return out;
}

Status check_templates() {
    for (const auto& f : embedded_files()) {
        if (!f.name.ends_with(".mustache")) continue;
        kainjow::mustache::mustache tmpl{std::string(f.text)};
        if (!tmpl.is_valid()) return fail("template " + std::string(f.name) + ": " + tmpl.error_message());
    }
    return {};
}

}  // namespace lscgate::web
