// `freshet verify [--sink URI] [--source URI] [--config FILE]
// [--generation ID]...`: rebuilds retained generations from the inputs
// their manifests record (default: the live delta, then the live full) and
// compares every file and the manifest byte for byte with the sink. Prints
// "identical" or the differing files. Exit 0 when identical, 1 when
// different or on error (an input gone or changed, a read failure), 2 for
// usage errors.
#include <iostream>
#include <memory>

#include <CLI/CLI.hpp>

#include "actors/run_end.h"
#include "cli/commands.h"
#include "cli/options_source.h"
#include "sink/sink_layout.h"
#include "reader/opened_generation.h"
#include "commit/verify_generation.h"
#include "storage/blocking_store.h"
#include "storage/store_uri.h"

namespace freshet {
namespace {

struct VerifyArgs {
  std::string sink;
  std::string source;
  std::string config;
  std::vector<std::string> generations;
};

int RunVerify(const VerifyArgs& a) {
  Result<Options> options = LoadOptionsForCommand(a.config, "");
  if (!options.ok()) {
    std::cerr << "freshet verify: " << options.status().message() << "\n";
    return kExitUsage;
  }
  const std::string sink_uri = a.sink.empty() ? options->sink.uri : a.sink;
  const std::string source_uri = a.source.empty() ? options->source.uri : a.source;
  Result<std::unique_ptr<ObjectStore>> sink = OpenStore(sink_uri, options->s3);
  Result<std::unique_ptr<ObjectStore>> source = OpenStore(source_uri, options->s3);
  if (!sink.ok() || !source.ok()) {
    std::cerr << "freshet verify: " << (!sink.ok() ? "--sink: " + sink.status().ToString()
                                                   : "--source: " + source.status().ToString())
              << "\n";
    return kExitFatal;
  }

  std::vector<std::string> generations = a.generations;
  std::vector<std::string> live_chain;
  Result<CurrentPointer> current = ReadCurrent(**sink);
  if (current.ok()) live_chain = current->chain;
  if (generations.empty()) {
    if (!current.ok()) {
      std::cerr << "freshet verify: " << current.status().ToString() << "\n";
      return kExitFatal;
    }
    // Every segment of the chain, newest first, then the full.
    generations.assign(current->chain.rbegin(), current->chain.rend());
    if (!current->full.empty()) generations.push_back(current->full);
    if (generations.empty()) {
      std::cerr << "freshet verify: CURRENT names no generation\n";
      return kExitFatal;
    }
  }

  int rc = kExitOk;
  for (const std::string& id : generations) {
    Result<VerifyReport> report = VerifyGeneration(**sink, **source, *options, id, live_chain);
    if (!report.ok()) {
      std::cout << id << ": ERROR " << report.status().ToString() << "\n";
      rc = kExitFatal;
      continue;
    }
    if (report->identical()) {
      std::cout << id << ": identical (" << report->compared.size() << " objects compared, rebuilt from "
                << report->inputs << " inputs, " << report->input_bytes << " bytes)\n";
      continue;
    }
    rc = kExitFatal;
    std::cout << id << ": DIFFERENT\n";
    for (const std::string& d : report->differences) std::cout << "  " << d << "\n";
  }
  std::cout << (rc == kExitOk ? "identical" : "NOT identical") << "\n";
  std::cout.flush();
  return rc;
}

}  // namespace

void RegisterVerifyCommand(CLI::App& app, int* exit_code) {
  auto* cmd = app.add_subcommand("verify",
                                 "Rebuild retained generations from their recorded inputs and compare them byte for "
                                 "byte with the sink");
  auto a = std::make_shared<VerifyArgs>();
  cmd->add_option("--sink", a->sink, "Sink URI; default: the config's sink.uri");
  cmd->add_option("--source", a->source, "Source URI the inputs are read from; default: the config's source.uri");
  cmd->add_option("-c,--config", a->config,
                  "Config file (its schema must be the one the generation was built with); default: the embedded "
                  "local demo");
  cmd->add_option("-g,--generation", a->generations,
                  "Generation id to rebuild, e.g. delta/20261122T140500Z-0123456789abcdef (repeatable); default: "
                  "every segment of the live delta chain and the live full");
  cmd->callback([a, exit_code] { *exit_code = RunVerify(*a); });
}

}  // namespace freshet
