// The Watchdog's judgement as the operations surface shows it (/healthz,
// freshet_healthy, systemd's WATCHDOG=1). Produced by actors/health_tracker.h.
#pragma once

#include <string>
#include <vector>

namespace freshet {

struct HealthVerdict {
  bool healthy = true;                // every actor answers and commits are recent
  std::vector<std::string> problems;  // one readable line each
  bool restart_due = false;           // max_uptime reached: drain and exit 0
  friend bool operator==(const HealthVerdict&, const HealthVerdict&) = default;
};

}  // namespace freshet
