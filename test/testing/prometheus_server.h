// A real Prometheus server (Debian package `prometheus`) for tests: scrapes
// the given targets on 127.0.0.1 every second, stores into a temporary
// TSDB, answers the query API on 127.0.0.1. Started in its own process
// group and always stopped (see background_process.h).
//
//   PrometheusServer prom;
//   ASSERT_EQ(prom.Start({.targets = {"127.0.0.1:9464"}, .bearer_token = "t"}), "");
//   std::string json = prom.Query("freshet_watermark_timestamp_seconds");
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "testing/background_process.h"
#include "testing/temp_dir.h"

namespace freshet::testing {

struct PrometheusOptions {
  std::vector<std::string> targets;  // "127.0.0.1:port"
  std::string job = "freshet";
  std::string bearer_token;  // sent as Authorization: Bearer when set
  std::string scrape_interval = "1s";
};

class PrometheusServer {
 public:
  PrometheusServer();
  ~PrometheusServer();
  // Writes the config, starts `prometheus` and waits until /-/ready answers.
  // Returns "" or what failed (with the tail of its log).
  std::string Start(const PrometheusOptions& options, std::chrono::milliseconds timeout = std::chrono::seconds(60));
  // GET /api/v1/query?query=<expr>: the response body ("" on failure).
  std::string Query(const std::string& expr);
  // The scrape targets' state (GET /api/v1/targets body).
  std::string Targets();
  uint16_t port() const { return port_; }
  std::string Log() const;
  void Stop();

 private:
  TempDir dir_{"prometheus"};
  BackgroundProcess process_;
  uint16_t port_ = 0;
};

// A port free on 127.0.0.1 right now (bind :0, read it, close): for servers
// that cannot report the port they bound.
uint16_t PickFreePort();

}  // namespace freshet::testing
