// What each admin path answers, as pure logic over the pipeline's views:
//   /healthz  200 "ok" while the Watchdog's verdict is healthy (every actor
//             answers its heartbeat, no stalled batch, the last commit is
//             recent); 503 with one problem per line otherwise
//   /readyz   200 once the watermark is loaded and the first listing is
//             done; 503 with what is missing
//   /metrics  the Prometheus text exposition
//   /status   the JSON of src/admin/STATUS_JSON.md
//   /         the status page (src/admin/status_page.h)
// Anything else is 404 naming the paths that exist. The server (and its
// bearer token) is AdminServer's business; this only maps requests.
#pragma once

#include <functional>
#include <optional>
#include <string>

#include "admin/health_verdict.h"
#include "admin/admin_server.h"

namespace freshet {

struct AdminViews {
  std::function<HealthVerdict()> health;
  std::function<std::optional<std::string>()> not_ready;  // nullopt = ready, else why not
  std::function<std::string()> metrics;
  std::function<std::string()> status_json;
};

AdminResponse HandleAdminRequest(const AdminViews& views, const AdminRequest& request);

}  // namespace freshet
