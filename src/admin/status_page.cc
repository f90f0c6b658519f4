#include "admin/status_page.h"

namespace freshet {

// src/admin/status_page.html as a string: defined in a .cc that CMake
// generates from it at configure time (see CMakeLists.txt, after
// freshet_module(admin ...)).
std::string_view StatusPageTemplate();

namespace {

constexpr std::string_view kTitleSlot = "{{title}}";
constexpr std::string_view kJsonSlot = "{{status_json}}";

void AppendHtmlEscaped(std::string& out, std::string_view s) {
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
}

// JSON text made safe inside <script type="application/json">: '<', '>'
// and '&' (which valid JSON has only inside strings) become \u escapes, so
// neither "</script>" nor "<!--" can appear; U+2028 and U+2029 become
// \u2028 and \u2029, as script-embedded JSON conventionally has them. The
// escapes decode to the same string in JSON.parse.
void AppendJsonForScript(std::string& out, std::string_view json) {
  for (size_t i = 0; i < json.size(); ++i) {
    char c = json[i];
    if (c == '<') {
      out += "\\u003c";
    } else if (c == '>') {
      out += "\\u003e";
    } else if (c == '&') {
      out += "\\u0026";
    } else if (c == '\xE2' && i + 2 < json.size() && json[i + 1] == '\x80' &&
               (json[i + 2] == '\xA8' || json[i + 2] == '\xA9')) {
      out += json[i + 2] == '\xA8' ? "\\u2028" : "\\u2029";
      i += 2;
    } else {
      out += c;
    }
  }
}

}  // namespace

std::string RenderStatusPage(std::string_view status_json, std::string_view title) {
  const std::string_view page = StatusPageTemplate();
  std::string out;
  out.reserve(page.size() + status_json.size() + status_json.size() / 8);
  // One pass over the template, so nothing inserted is scanned for slots.
  size_t pos = 0;
  while (pos < page.size()) {
    size_t open = page.find("{{", pos);
    if (open == std::string_view::npos) break;
    out.append(page.substr(pos, open - pos));
    std::string_view rest = page.substr(open);
    if (rest.starts_with(kTitleSlot)) {
      AppendHtmlEscaped(out, title);
      pos = open + kTitleSlot.size();
    } else if (rest.starts_with(kJsonSlot)) {
      AppendJsonForScript(out, status_json);
      pos = open + kJsonSlot.size();
    } else {
      out += "{{";
      pos = open + 2;
    }
  }
  out.append(page.substr(pos));
  return out;
}

}  // namespace freshet
