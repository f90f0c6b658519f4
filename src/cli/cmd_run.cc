// `freshet run [--config FILE]`: the daemon. Without --config it runs the
// embedded default: the local directory store under ./data (source written
// by `freshet gen`), the ads schema, a 30s interval trigger.
#include <cstdlib>
#include <iostream>

#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include "actors/pipeline.h"
#include "cli/commands.h"
#include "cli/logging.h"
#include "cli/options_source.h"
#include "storage/s3/s3_stats_format.h"
#include "storage/store_uri.h"

namespace freshet {

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
    auto source = OpenStore(options->source.uri, options->s3);
    if (!source.ok()) {
      spdlog::error("source.uri: {}", source.status().ToString());
      *exit_code = kExitFatal;
      return;
    }
    auto sink = OpenStore(options->sink.uri, options->s3);
    if (!sink.ok()) {
      spdlog::error("sink.uri: {}", sink.status().ToString());
      *exit_code = kExitFatal;
      return;
    }
    // S3 request counters go to the log at exit (retries, errors), until
    // the metrics endpoint exports them.
    std::vector<std::pair<std::string, const S3Store*>> s3_stores;
    for (auto* store : {source->get(), sink->get()}) {
      if (const auto* s3 = dynamic_cast<const S3Store*>(store)) s3_stores.emplace_back(s3->Describe(), s3);
    }
    Pipeline pipeline(std::move(options).value(), std::move(source).value(), std::move(sink).value());
    *exit_code = pipeline.Run();
    for (const auto& [name, s3] : s3_stores) spdlog::info("S3 {}: {}", name, FormatS3Stats(s3->stats()));
  });
}

}  // namespace freshet
