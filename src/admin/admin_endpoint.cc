#include "admin/admin_endpoint.h"

#include <algorithm>
#include <atomic>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <spdlog/spdlog.h>

#include "admin/admin_routes.h"
#include "admin/admin_server.h"

namespace freshet {
namespace {

namespace asio = boost::asio;

// The event-loop lag probe's period, and its histogram: 0.1 ms .. 6.5 s.
constexpr auto kLagProbePeriod = std::chrono::milliseconds(100);
std::vector<double> LagBuckets() { return ExponentialBuckets(0.0001, 2, 17); }
constexpr double kLagWarning = 0.25;  // seconds: log a lag this long (normal: under 15 ms)

}  // namespace

struct AdminEndpoint::Impl : std::enable_shared_from_this<AdminEndpoint::Impl> {
  // The timers share a strand: with several loop threads, Stop()'s cancel
  // must not run beside a timer's handler.
  Impl(asio::io_context& io, StatusBoard* b, SystemdNotifier* s)
      : board(b), systemd(s), strand(asio::make_strand(io)), lag_timer(strand), sd_timer(strand) {}

  // A timer that should fire every kLagProbePeriod; how late it fires is how
  // long handlers (or the machine) kept every io_context thread busy.
  void ArmLagProbe() {
    lag_deadline = std::chrono::steady_clock::now() + kLagProbePeriod;
    lag_timer.expires_at(lag_deadline);
    lag_timer.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
      if (ec || self->stopped) return;
      const double lag =
          std::max(0.0, std::chrono::duration<double>(std::chrono::steady_clock::now() - self->lag_deadline).count());
      self->loop_lag->Observe(lag);
      // Admin requests, heartbeats and triggers all waited this long.
      if (lag >= kLagWarning) spdlog::warn("event loop blocked: a 100 ms timer fired {:.0f} ms late", lag * 1000);
      self->ArmLagProbe();
    });
  }

  // WATCHDOG=1 at half the unit's WatchdogSec, only while healthy: a wedged
  // or unhealthy daemon stops pinging and systemd restarts it.
  void ArmSystemdWatchdog(std::chrono::microseconds every) {
    sd_timer.expires_after(every);
    sd_timer.async_wait([self = shared_from_this(), every](const boost::system::error_code& ec) {
      if (ec || self->stopped) return;
      if (self->board->Health().healthy) self->systemd->WatchdogPing();
      else spdlog::debug("systemd: unhealthy, WATCHDOG=1 withheld");
      self->ArmSystemdWatchdog(every);
    });
  }

  StatusBoard* board;
  SystemdNotifier* systemd;
  Histogram* loop_lag = nullptr;
  std::unique_ptr<AdminServer> server;
  asio::strand<asio::io_context::executor_type> strand;
  asio::steady_timer lag_timer, sd_timer;
  std::chrono::steady_clock::time_point lag_deadline;
  std::atomic<bool> stopped{false};
};

AdminEndpoint::AdminEndpoint(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}

AdminEndpoint::~AdminEndpoint() = default;

Result<std::unique_ptr<AdminEndpoint>> AdminEndpoint::Start(asio::io_context& io, AdminEndpointOptions options,
                                                            StatusBoard* board, MetricsRegistry* registry,
                                                            SystemdNotifier* systemd) {
  auto impl = std::make_shared<Impl>(io, board, systemd);
  impl->loop_lag = &registry->GetHistogram(
      "freshet_event_loop_lag_seconds",
      "How late a 100 ms timer on the daemon's io_context fires: time handlers kept the loop busy.", LagBuckets());
  if (!options.listen.empty()) {
    AdminServerOptions ao;
    ao.listen = options.listen;
    ao.bearer_token = options.bearer_token;
    AdminViews views;
    views.health = [board] { return board->Health(); };
    views.not_ready = [board] { return board->NotReady(); };
    views.metrics = [registry] { return registry->RenderPrometheus(); };
    views.status_json = [board] { return board->StatusJson(); };
    auto server = AdminServer::Start(
        io, ao, [views = std::move(views)](const AdminRequest& r) { return HandleAdminRequest(views, r); });
    if (!server.ok()) return server.status().WithContext("admin.listen");
    impl->server = std::move(server).value();
    AdminServer* s = impl->server.get();
    // The server lives as long as the endpoint, and the registry's
    // collectors run only while the daemon does (see the REQUIRES above).
    registry->AddCollector([s](MetricsWriter& w) {
      AdminServer::Stats a = s->stats();
      w.Counter("freshet_admin_requests_total", "Requests the admin endpoint answered.", {},
                static_cast<double>(a.requests));
      w.Counter("freshet_admin_unauthorized_total", "Admin requests refused for a missing or wrong bearer token.",
                {}, static_cast<double>(a.unauthorized));
      w.Counter("freshet_admin_rejected_connections_total", "Admin connections closed at once (too many open).", {},
                static_cast<double>(a.connections_rejected));
    });
    spdlog::info("admin endpoint on {} (/healthz /readyz /metrics /status, status page at /){}", impl->server->url(),
                 options.bearer_token.empty() ? ""
                                              : "; bearer token required except for /healthz and /readyz");
  }
  impl->ArmLagProbe();
  if (auto every = systemd->watchdog_interval()) {
    impl->ArmSystemdWatchdog(*every / 2);
    spdlog::info("systemd watchdog: pinging every {} ms while healthy", (*every / 2).count() / 1000);
  }
  return std::unique_ptr<AdminEndpoint>(new AdminEndpoint(std::move(impl)));
}

void AdminEndpoint::Ready() {
  if (impl_->systemd->Ready(impl_->board->StatusLine())) spdlog::debug("systemd: READY=1 sent");
}

void AdminEndpoint::Stopping(const std::string& why) { impl_->systemd->Stopping(why); }

void AdminEndpoint::Stop(std::function<void()> closed) {
  if (!impl_->stopped.exchange(true)) {
    asio::post(impl_->strand, [self = impl_] {
      self->lag_timer.cancel();
      self->sd_timer.cancel();
    });
  }
  if (impl_->server) {
    impl_->server->Stop(std::move(closed));
  } else if (closed) {
    asio::post(impl_->strand, std::move(closed));
  }
}

uint16_t AdminEndpoint::port() const { return impl_->server ? impl_->server->port() : 0; }

}  // namespace freshet
