// `freshet inspect [--sink URI] [--verify [--all]]`: what a sink holds.
// Prints CURRENT (generations, watermark, the embedded checkpoint), the key
// facts of each live manifest and every retained generation. --verify
// checks each live generation's files (size and XXH64 against the
// manifest, then the segment's own checksums and invariants); --all
// extends that to every retained generation. Exit 0 when everything
// checked is intact, 1 on any mismatch (each named) or read error, 2 for
// usage errors.
#include <algorithm>
#include <iostream>
#include <memory>

#include <CLI/CLI.hpp>

#include "actors/run_end.h"
#include "cli/commands.h"
#include "cli/options_source.h"
#include "reader/generation_check.h"
#include "reader/opened_generation.h"
#include "storage/store_uri.h"

namespace freshet {
namespace {

struct InspectArgs {
  std::string sink;
  std::string config;
  bool verify = false;
  bool all = false;
};

std::string OrNone(const std::string& s) { return s.empty() ? "none" : s; }
std::string TimeOrNone(const std::optional<TimePoint>& t) { return t ? FormatRfc3339(*t) : "none"; }

std::string Join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : ", ") + s;
  return out.empty() ? "none" : out;
}

uint64_t TotalSize(const std::vector<ManifestInput>& inputs) {
  uint64_t n = 0;
  for (const auto& in : inputs) n += in.size;
  return n;
}

void PrintCurrent(const CurrentPointer& c) {
  const Checkpoint& cp = c.checkpoint;
  std::cout << "CURRENT\n"
            << "  full:       " << OrNone(c.full) << "\n"
            << "  delta:      " << OrNone(c.delta) << "\n"
            << "  chain:      " << c.chain.size() << " segment(s), oldest first\n"
            << "  watermark:  " << TimeOrNone(c.watermark) << "\n"
            << "  checkpoint: watermark " << TimeOrNone(cp.watermark) << ", base snapshot "
            << TimeOrNone(cp.base_snapshot) << ", next batch " << cp.next_batch_id << ", build salt "
            << OrNone(cp.build_salt) << "\n";
  for (const Checkpoint::Retired& r : cp.retired) {
    std::cout << "    retired " << r.id << " (kept until batch " << r.until_batch << " commits)\n";
  }
  for (const BatchDescriptor& b : cp.recent) {
    std::cout << "    batch " << b.batch_id << " " << BatchKindName(b.kind) << " target " << TimeOrNone(b.target)
              << " -> " << OrNone(b.delta_generation) << "\n";
  }
}

void PrintManifest(const Manifest& m) {
  std::cout << m.kind << " " << m.generation << "\n"
            << "  schema " << m.schema_hash << (m.kind == "delta" ? ", base " + m.base : std::string()) << "\n";
  if (!m.snapshot.empty()) std::cout << "  snapshot:   " << m.snapshot << "\n";
  if (m.kind == "delta") {
    std::cout << "  predecessor: " << OrNone(m.predecessor) << (m.predecessor.empty() ? " (starts the chain)" : "")
              << "\n";
    if (!m.merged.empty()) std::cout << "  merged:     " << Join(m.merged) << "\n";
    std::cout << "  window:     (" << m.window_start << ", " << m.window_end << "]\n"
              << "  target:     " << OrNone(m.target) << "\n"
              << "  watermark:  " << OrNone(m.watermark) << "\n"
              << "  skipped:    " << m.skipped.size() << (m.skipped.empty() ? "" : " (" + Join(m.skipped) + ")")
              << "\n"
              << "  base inputs: " << m.base_inputs.size() << " objects, " << TotalSize(m.base_inputs)
              << " bytes\n";
  }
  std::cout << "  inputs:     " << m.inputs.size() << " objects, " << TotalSize(m.inputs) << " bytes\n";
  if (!m.removed.empty()) {
    std::cout << "  removed:    " << m.removed.size() << " objects, " << TotalSize(m.removed) << " bytes\n";
  }
  if (!m.text_fields.empty() || !m.keyword_fields.empty()) {
    std::cout << "  fields:     text " << Join(m.text_fields) << "; keyword " << Join(m.keyword_fields) << "\n";
  }
  const ManifestCounts& c = m.counts;
  std::cout << "  counts:     records " << c.records << ", bad " << c.bad_records << ", docs " << c.docs
            << ", tombstones " << c.tombstones << ", terms " << c.terms << ", postings " << c.postings
            << ", input bytes " << c.input_bytes << ", output bytes " << c.output_bytes << "\n";
  std::cout << "  files:\n";
  for (const ManifestFile& f : m.files) {
    std::cout << "    " << f.name << std::string(f.name.size() < 18 ? 18 - f.name.size() : 1, ' ') << f.size
              << " bytes  xxh64 " << f.xxh64 << "\n";
  }
  for (const std::string& w : m.warnings) std::cout << "  warning: " << w << "\n";
}

int RunInspect(const InspectArgs& a) {
  // The config (or, without one, the defaults and FRESHET_* environment)
  // gives the sink and how to reach S3.
  Result<Options> options = LoadOptionsForCommand(a.config, "");
  if (!options.ok()) {
    std::cerr << "freshet inspect: " << options.status().message() << "\n";
    return kExitUsage;
  }
  const std::string sink_uri = a.sink.empty() ? options->sink.uri : a.sink;
  Result<std::unique_ptr<ObjectStore>> opened = OpenStore(sink_uri, options->s3);
  if (!opened.ok()) {
    std::cerr << "freshet inspect: " << opened.status().ToString() << "\n";
    return kExitFatal;
  }
  std::shared_ptr<ObjectStore> sink(std::move(opened).value());
  std::cout << "sink " << sink->Describe() << "\n";
  int rc = kExitOk;

  std::vector<std::string> live;
  Result<CurrentPointer> current = ReadCurrent(*sink);
  if (current.ok()) {
    PrintCurrent(*current);
    std::vector<std::string> named;  // the full, then the chain oldest first
    if (!current->full.empty()) named.push_back(current->full);
    named.insert(named.end(), current->chain.begin(), current->chain.end());
    for (const std::string& id : named) {
      live.push_back(id);
      Result<Manifest> m = ReadManifest(*sink, id, id == current->full ? "full" : "delta");
      if (!m.ok()) {
        std::cout << id << "\n  ERROR " << m.status().ToString() << "\n";
        rc = kExitFatal;
        continue;
      }
      PrintManifest(*m);
    }
  } else if (current.status().code() == StatusCode::kNotFound) {
    std::cout << "CURRENT: none (" << current.status().message() << ")\n";
  } else {
    std::cout << "CURRENT: ERROR " << current.status().ToString() << "\n";
    rc = kExitFatal;
  }

  std::vector<std::string> retained;
  std::cout << "retained generations\n";
  for (const char* kind : {"full", "delta"}) {
    Result<std::vector<RetainedGeneration>> gens = ListGenerations(*sink, kind);
    if (!gens.ok()) {
      std::cout << "  " << kind << "/: ERROR " << gens.status().ToString() << "\n";
      rc = kExitFatal;
      continue;
    }
    if (gens->empty()) std::cout << "  " << kind << "/: none\n";
    for (const RetainedGeneration& g : *gens) {
      const bool is_live = std::find(live.begin(), live.end(), g.id) != live.end();
      std::cout << "  " << g.id << "  " << g.files << " objects, " << g.bytes << " bytes"
                << (is_live ? "  (live)" : "") << (g.complete ? "" : "  (incomplete: no manifest.json)") << "\n";
      if (g.complete) retained.push_back(g.id);
    }
  }

  if (a.verify) {
    const std::vector<std::string>& targets = a.all ? retained : live;
    std::cout << "verify\n";
    if (targets.empty()) std::cout << "  nothing to verify\n";
    for (const std::string& id : targets) {
      Result<GenerationCheck> check = CheckGeneration(sink, id);
      if (!check.ok()) {
        std::cout << "  " << id << ": ERROR " << check.status().ToString() << "\n";
        rc = kExitFatal;
        continue;
      }
      if (check->ok()) {
        std::cout << "  " << id << ": OK (" << check->files_checked << " files, " << check->bytes_checked
                  << " bytes)\n";
        continue;
      }
      rc = kExitFatal;
      std::cout << "  " << id << ": MISMATCH\n";
      for (const std::string& p : check->problems) std::cout << "    " << p << "\n";
    }
  }
  std::cout.flush();
  return rc;
}

}  // namespace

void RegisterInspectCommand(CLI::App& app, int* exit_code) {
  auto* cmd = app.add_subcommand("inspect", "Show a sink's CURRENT, live manifests and retained generations; "
                                            "--verify checks sizes and checksums");
  auto a = std::make_shared<InspectArgs>();
  cmd->add_option("--sink", a->sink, "Sink URI (local:///abs, a path, mem://name); default: the config's sink.uri");
  cmd->add_option("-c,--config", a->config, "Config file, for its sink.uri when --sink is not given");
  cmd->add_flag("--verify", a->verify,
                "Check every file of the live generations against its manifest (size, XXH64) and the segment's "
                "checksums; exit 1 on any mismatch");
  cmd->add_flag("--all", a->all, "With --verify: check every retained generation, not only the live ones");
  cmd->callback([a, exit_code] { *exit_code = RunInspect(*a); });
}

}  // namespace freshet
