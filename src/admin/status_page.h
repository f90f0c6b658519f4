// The human status page served at "/": one self-contained HTML document (no
// external scripts, styles, fonts or images) that draws charts of the
// recent batches from the /status JSON (schema: src/admin/STATUS_JSON.md):
// input rate, batch duration against the trigger interval, freshness lag,
// plus the current state (watermark, generations, health, pending inputs).
//
// The JSON of the moment is embedded in the page, so it draws at once and
// without a second request; a script then refreshes it from /status every
// few seconds (same origin). When that fetch fails (the daemon stopped, or
// a bearer token the page cannot send), the page keeps what it has and
// says so.
#pragma once

#include <string>
#include <string_view>

namespace freshet {

// The page with `status_json` (a /status document) embedded. The JSON is
// escaped for a <script type="application/json"> block ("</" and U+2028/9
// cannot end it early). `title` is HTML-escaped.
std::string RenderStatusPage(std::string_view status_json, std::string_view title = "freshet");

}  // namespace freshet
