#include "admin/admin_routes.h"

#include "admin/status_page.h"
#include "metrics/metrics.h"

namespace freshet {
namespace {

AdminResponse Text(int status, std::string body) {
  AdminResponse r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

}  // namespace

AdminResponse HandleAdminRequest(const AdminViews& views, const AdminRequest& request) {
  const std::string& path = request.path;
  if (path == "/healthz") {
    HealthVerdict v = views.health();
    if (v.healthy) return Text(200, "ok\n");
    std::string body = "unhealthy\n";
    for (const std::string& p : v.problems) body += "- " + p + "\n";
    return Text(503, std::move(body));
  }
  if (path == "/readyz") {
    std::optional<std::string> why = views.not_ready();
    if (!why) return Text(200, "ready\n");
    return Text(503, "not ready: " + *why + "\n");
  }
  if (path == "/metrics") {
    AdminResponse r = Text(200, views.metrics());
    r.content_type = std::string(kPrometheusContentType);
    return r;
  }
  if (path == "/status") {
    AdminResponse r = Text(200, views.status_json());
    r.content_type = "application/json";
    return r;
  }
  if (path == "/" || path == "/index.html") {
    AdminResponse r = Text(200, RenderStatusPage(views.status_json()));
    r.content_type = "text/html; charset=utf-8";
    return r;
  }
  return Text(404, "not found: " + path + "\npaths: / /healthz /readyz /metrics /status\n");
}

}  // namespace freshet
