# cmake -DOUT=web_templates.cpp -DFILES="a.mustache|b.css" -P embed_templates.cmake
# Writes OUT: every file as a raw string literal in lscgate::web::embedded_files()
# (web/templates.h). Files are '|'-separated: ';' would split the list on the
# command line. A file must not contain the delimiter )lscgate_embed".
string(REPLACE "|" ";" files "${FILES}")
set(text "// Generated from policy/web by module/web/embed_templates.cmake: do not edit.\n")
string(APPEND text "#include \"web/templates.h\"\n\nnamespace lscgate::web {\n\n")
string(APPEND text "const std::vector<EmbeddedFile>& embedded_files() {\n    static const std::vector<EmbeddedFile> files = {\n")
foreach(f IN LISTS files)
  file(READ "${f}" content)
  string(FIND "${content}" ")lscgate_embed\"" clash)
  if(NOT clash EQUAL -1)
    message(FATAL_ERROR "${f} contains the raw string delimiter )lscgate_embed\"")
  endif()
  get_filename_component(name "${f}" NAME)
  string(APPEND text "        {\"${name}\", R\"lscgate_embed(${content})lscgate_embed\"},\n")
endforeach()
string(APPEND text "    };\n    return files;\n}\n\n}  // namespace lscgate::web\n")
file(WRITE "${OUT}.tmp" "${text}")
# Rewritten only when it changed: an unchanged template rebuilds nothing.
file(COPY_FILE "${OUT}.tmp" "${OUT}" ONLY_IF_DIFFERENT)
file(REMOVE "${OUT}.tmp")
