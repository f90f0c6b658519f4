// `freshet query [--sink URI] [--config FILE] [--any] [--json] CLAUSE...`:
// the reader library on the command line. Prints the matching ids of the
// merged full + delta view, one per line, ascending by bytes (or, with
// --json, each match's stored JSON). Exit 0 (also with no match), 2 for a
// bad query or usage, 1 when the sink cannot be read.
#include <iostream>

#include <CLI/CLI.hpp>

#include "actors/run_end.h"
#include "cli/commands.h"
#include "cli/options_source.h"
#include "freshet/reader.h"

namespace freshet {
namespace {

struct QueryArgs {
  std::string sink;
  std::string config;
  bool any = false;
  bool json = false;
  std::string wait_for;
  std::string timeout = "60s";
  std::vector<std::string> clauses;
};

int RunQuery(const QueryArgs& a) {
  Result<Query> query = ParseQuery(a.clauses, a.any);
  if (!query.ok()) {
    std::cerr << "freshet query: " << query.status().message() << "\n";
    return kExitUsage;
  }
  ReaderOptions ro;
  std::string sink = a.sink;
  {
    // The config (or, without one, the defaults and FRESHET_* environment)
    // gives the sink, how to reach S3 and the schema's field kinds.
    Result<Options> options = LoadOptionsForCommand(a.config, "");
    if (!options.ok()) {
      std::cerr << "freshet query: " << options.status().message() << "\n";
      return kExitUsage;
    }
    if (sink.empty()) sink = options->sink.uri;
    ro.s3 = options->s3;
    // Used only for generations whose manifests do not record their fields.
    ro.text_fields = options->schema.text_fields;
    ro.keyword_fields = options->schema.keyword_fields;
  }
  std::optional<TimePoint> wait_for;
  std::chrono::milliseconds timeout{0};
  if (!a.wait_for.empty()) {
    Result<TimePoint> t = ParseRfc3339(a.wait_for);
    Result<std::chrono::milliseconds> d = ParseDuration(a.timeout);
    if (!t.ok() || !d.ok()) {
      std::cerr << "freshet query: " << (!t.ok() ? "--wait-for: " + t.status().message()
                                                  : "--timeout: " + d.status().message())
                << "\n";
      return kExitUsage;
    }
    wait_for = *t;
    timeout = *d;
    ro.require_current = false;
  }

  Result<std::unique_ptr<Reader>> reader = Reader::Open(sink, ro);
  if (!reader.ok()) {
    std::cerr << "freshet query: " << sink << ": " << reader.status().ToString() << "\n";
    return kExitFatal;
  }
  if (wait_for) {
    if (Status st = (*reader)->WaitForWatermark(*wait_for, timeout); !st.ok()) {
      std::cerr << "freshet query: " << st.ToString() << "\n";
      return kExitFatal;
    }
  }
  Result<std::vector<std::string>> ids = (*reader)->Search(*query);
  if (!ids.ok()) {
    std::cerr << "freshet query: " << ids.status().ToString() << "\n";
    return ids.status().code() == StatusCode::kInvalidArgument ? kExitUsage : kExitFatal;
  }
  for (const std::string& id : *ids) {
    if (!a.json) {
      std::cout << id << "\n";
      continue;
    }
    Result<std::optional<std::string>> stored = (*reader)->Get(id);
    if (!stored.ok()) {
      std::cerr << "freshet query: " << id << ": " << stored.status().ToString() << "\n";
      return kExitFatal;
    }
    if (*stored) std::cout << **stored << "\n";
  }
  std::cout.flush();
  return std::cout ? kExitOk : kExitFatal;
}

}  // namespace

void RegisterQueryCommand(CLI::App& app, int* exit_code) {
  auto* cmd = app.add_subcommand(
      "query",
      "Query the live full + delta of a sink. CLAUSE is a word (any text field, tokenized like the index) or "
      "field:value (a keyword field exactly, or the tokens of a text field); clauses are AND-ed, OR-ed with --any");
  auto a = std::make_shared<QueryArgs>();
  cmd->add_option("--sink", a->sink, "Sink URI (local:///abs, a path, mem://name); default: the config's sink.uri");
  cmd->add_option("-c,--config", a->config,
                  "Config file: its sink.uri and schema (field kinds for generations that do not record them)");
  cmd->add_flag("--any", a->any, "OR the clauses instead of AND-ing them");
  cmd->add_flag("--json", a->json, "Print each match's stored JSON instead of its id");
  cmd->add_option("--wait-for", a->wait_for,
                  "First wait until a delta covering this RFC 3339 time is published (watermark >= it)");
  cmd->add_option("--timeout", a->timeout, "How long --wait-for waits before failing (exit 1)")
      ->capture_default_str();
  cmd->add_option("clauses", a->clauses, "word | field:value")->required();
  cmd->callback([a, exit_code] { *exit_code = RunQuery(*a); });
}

}  // namespace freshet
