// The operations surface's moving parts on the daemon's io_context: the
// admin HTTP server over a StatusBoard (/healthz, /readyz, /metrics,
// /status, the page), the event-loop lag probe, and systemd's READY,
// WATCHDOG (only while healthy) and STOPPING.
//
// The lag probe measures the real event loop, so it runs on the steady
// clock, not on the pipeline's Clock: a ManualClock would hide the lag.
//
// Thread: Start() and Stop() on any thread; everything else runs on the
// io_context. REQUIRES: the board, registry and notifier outlive it, and
// Stop() runs before the io_context is destroyed.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "admin/status_board.h"
#include "admin/systemd_notify.h"
#include "freshet/status.h"
#include "metrics/metrics.h"

namespace boost::asio {
class io_context;
}

namespace freshet {

struct AdminEndpointOptions {
  std::string listen;        // "" = no HTTP server (the probe and systemd still run)
  std::string bearer_token;  // see AdminServerOptions
};

class AdminEndpoint {
 public:
  // Binds the listener before returning: a bad or busy address is an error
  // naming `admin.listen`.
  static Result<std::unique_ptr<AdminEndpoint>> Start(boost::asio::io_context& io, AdminEndpointOptions options,
                                                      StatusBoard* board, MetricsRegistry* registry,
                                                      SystemdNotifier* systemd);
  ~AdminEndpoint();

  // READY=1 with the board's status line (call once the pipeline runs).
  void Ready();
  // STOPPING=1 (a drain began); the endpoint keeps answering.
  void Stopping(const std::string& why);
  // The admin server closes its listener and connections; timers stop.
  // `closed`, if given, runs on the io_context once the listener and the
  // connections are closed (also when Stop() was called before).
  void Stop(std::function<void()> closed = {});
  uint16_t port() const;  // 0 without an HTTP server

 private:
  struct Impl;
  explicit AdminEndpoint(std::shared_ptr<Impl> impl);
  std::shared_ptr<Impl> impl_;
};

}  // namespace freshet
