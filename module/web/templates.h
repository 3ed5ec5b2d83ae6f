#pragma once

// The pages' templates (issue 14): Mustache files under policy/web/, compiled
// into the binary at build time (embed_templates.cmake), rendered with kainjow
// mustache (Debian libkainjow-mustache-dev). {{name}} HTML-escapes & < > " '
// — every value from the registry goes through it; the only unescaped values
// are page bodies and panels ({{{body}}}, {{{html}}}), which are themselves the
// output of a template. Sections ({{#x}}) test booleans and lists only: kainjow
// renders a section over any string, the empty one included.

#include "pki/result.h"

#include <kainjow/mustache.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace lscgate::web {

/// The data a template is rendered with (objects, lists, strings, booleans).
using TemplateData = kainjow::mustache::data;
using TemplateObject = kainjow::mustache::object;
using TemplateList = kainjow::mustache::list;

/// One file of policy/web/ as compiled in.
struct EmbeddedFile {
    std::string_view name;  ///< "device.mustache", "app.css"
    std::string_view text;
};

/// Every file of policy/web/ (generated: web_templates.cpp in the build tree).
const std::vector<EmbeddedFile>& embedded_files();

/// The text of embedded file `name`. Errors (Internal): no such file.
Result<std::string_view> embedded_file(std::string_view name);

/// Renders template `name` ("device" → device.mustache) with `data`.
/// Errors (Internal): no such template, or it does not parse.
Result<std::string> render_template(std::string_view name, const TemplateData& data);

/// Parses every embedded template: `lscgate web` refuses to start with a broken
/// one rather than failing page by page. Errors (Internal) name the file.
Status check_templates();

}  // namespace lscgate::web
