// `freshet run [--config FILE]`: the daemon. Without --config it runs the
// embedded default: the local directory store under ./data (source written
// by `freshet gen`), the ads schema, a 30s interval trigger.
#include <cstdlib>
#include <iostream>
#include <optional>

#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include "actors/pipeline.h"
#include "cli/commands.h"
#include "cli/logging.h"
#include "cli/options_source.h"
#include "admin/run_state.h"
#include "storage/metered_store.h"
#include "storage/s3/s3_metrics.h"
#include "storage/s3/s3_stats_format.h"
#include "storage/store_uri.h"

namespace freshet {
namespace {

// Restart bookkeeping (admin/run_state.h): reads how the last run ended,
// counts this start, marks the file "running" and exports the counts. A
// state file that cannot be read or written is logged and not tracked: it
// must never stop the daemon.
std::optional<RunState> BeginRunState(const std::string& path, MetricsRegistry& metrics) {
  if (path.empty()) return std::nullopt;
  auto previous = LoadRunState(path);
  if (!previous.ok()) {
    spdlog::warn("watchdog.state_file: {}; counting restarts afresh", previous.status().ToString());
    previous = std::optional<RunState>();
  }
  RunState state = BeginRun(*previous, SystemClock::Instance()->Now());
  if (Status st = SaveRunState(path, state); !st.ok()) {
    spdlog::warn("watchdog.state_file: {}; restarts are not tracked", st.ToString());
    return std::nullopt;
  }
  if (*previous && (*previous)->last_end == RunEnd::kRunning) {
    spdlog::warn("the previous run did not exit cleanly (crash, kill or forced exit): unplanned restart #{}",
                 state.unplanned_restarts);
  }
  const char* help = "Starts after a planned exit (max_uptime) or after a run that never recorded its end.";
  metrics.GetCounter("freshet_restarts_total", help, {{"kind", "planned"}})
      .Inc(static_cast<double>(state.planned_restarts));
  metrics.GetCounter("freshet_restarts_total", help, {{"kind", "unplanned"}})
      .Inc(static_cast<double>(state.unplanned_restarts));
  return state;
}

void EndRunState(const std::string& path, RunState state, PipelineEnd end) {
  switch (end) {
    case PipelineEnd::kPlannedRestart: state.last_end = RunEnd::kPlanned; break;
    case PipelineEnd::kStopped: state.last_end = RunEnd::kStopped; break;
    // A failed run (exit 1, 3, 4) ends deliberately too; what it failed on
    // is in its log. Only runs that never get here count as unplanned.
    case PipelineEnd::kFailed:
    case PipelineEnd::kNotStarted: state.last_end = RunEnd::kStopped; break;
  }
  if (Status st = SaveRunState(path, state); !st.ok()) spdlog::warn("watchdog.state_file: {}", st.ToString());
}

}  // namespace

void RegisterRunCommand(CLI::App& app, int* exit_code) {
  auto* cmd = app.add_subcommand("run", "Run the daemon: list, plan, build and commit on every trigger");
  auto config = std::make_shared<std::string>();
  auto trigger = std::make_shared<std::string>();
  cmd->add_option("-c,--config", *config, "Config file (JSON with comments); default: the embedded local demo");
  cmd->add_option("--trigger", *trigger, "Override pipeline.trigger: interval|continuous|once|available_now");
  cmd->callback([=] {
    auto options = LoadOptionsForCommand(*config, *trigger);
    if (!options.ok()) {
      std::cerr << "freshet run: " << options.status().message() << "\n";
      *exit_code = kExitUsage;
      return;
    }
    if (Status st = SetUpLogging(options->log); !st.ok()) {
      std::cerr << "freshet run: " << st.message() << "\n";
      *exit_code = kExitUsage;
      return;
    }
    MetricsRegistry metrics;
    // The one event loop: the actors, the admin server and the S3 stores'
    // connections all run on it. Declared before the stores, so it outlives
    // them.
    IoLoop loop(options->pipeline.io_threads);
    auto source = OpenStore(options->source.uri, options->s3, &loop);
    if (!source.ok()) {
      spdlog::error("source.uri: {}", source.status().ToString());
      *exit_code = kExitFatal;
      return;
    }
    auto sink = OpenStore(options->sink.uri, options->s3, &loop);
    if (!sink.ok()) {
      spdlog::error("sink.uri: {}", sink.status().ToString());
      *exit_code = kExitFatal;
      return;
    }
    // S3 attempts, retries and HTTP statuses are exported from the stores'
    // own counters, and logged at exit too.
    std::vector<std::pair<std::string, const S3Store*>> s3_stores;
    for (auto [role, store] : {std::pair{"source", source->get()}, std::pair{"sink", sink->get()}}) {
      if (const auto* s3 = dynamic_cast<const S3Store*>(store)) {
        s3_stores.emplace_back(s3->Describe(), s3);
        AddS3Collector(metrics, role, s3);
      }
    }
    const std::string state_file = options->watchdog.state_file;
    std::optional<RunState> run_state = BeginRunState(state_file, metrics);
    {
      Pipeline pipeline(std::move(options).value(), MakeMeteredStore(std::move(source).value(), "source", &metrics),
                        MakeMeteredStore(std::move(sink).value(), "sink", &metrics), SystemClock::Instance(),
                        &metrics, &loop);
      *exit_code = pipeline.Run();
      if (run_state) EndRunState(state_file, *run_state, pipeline.end());
      // The pipeline owns the stores: log their counters while it exists.
      for (const auto& [name, s3] : s3_stores) spdlog::info("S3 {}: {}", name, FormatS3Stats(s3->stats()));
    }
  });
}

}  // namespace freshet
