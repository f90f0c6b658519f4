// `freshet gen`: seeded synthetic ads data (snapshot + update partitions) to
// a local directory or any store URI, for the demo, tests and benchmarks.
// --follow keeps writing one new partition per interval in real time.
#include <csignal>
#include <iostream>
#include <thread>

#include <CLI/CLI.hpp>

#include "base/clock.h"
#include "cli/commands.h"
#include "cli/options_source.h"
#include "gen/generator.h"
#include "storage/store_uri.h"

namespace freshet {
namespace {

volatile std::sig_atomic_t g_stop = 0;
void OnSignal(int) { g_stop = 1; }

struct GenArgs {
  std::string out = "local://./data/source";
  std::string start = "now";
  std::string span, interval = "5m";
  bool follow = false;
  GenOptions gen;
};

int RunGen(GenArgs a) {
  GenOptions& g = a.gen;
  auto interval = ParseDuration(a.interval);
  if (!interval.ok()) {
    std::cerr << "freshet gen: --interval: " << interval.status().message() << "\n";
    return 2;
  }
  g.interval = *interval;
  if (!a.span.empty()) {
    auto span = ParseDuration(a.span);
    if (!span.ok()) {
      std::cerr << "freshet gen: --span: " << span.status().message() << "\n";
      return 2;
    }
    g.span = *span;
  }
  uint64_t partitions = g.span.count() > 0 ? (g.span + g.interval - Duration(1)) / g.interval : g.partitions;
  if (a.start == "now") {
    // Backfill so the newest partition is the one that just ended.
    TimePoint now = SystemClock::Instance()->Now();
    TimePoint floor = FromUnixMillis(ToUnixMillis(now) / g.interval.count() * g.interval.count());
    g.start = floor - static_cast<int64_t>(partitions) * g.interval;
  } else {
    auto t = ParseRfc3339(a.start);
    if (!t.ok()) {
      std::cerr << "freshet gen: --start: " << t.status().message() << "\n";
      return 2;
    }
    g.start = *t;
  }
  if (Status st = ValidateGenOptions(g); !st.ok()) {
    std::cerr << "freshet gen: " << st.message() << "\n";
    return 2;
  }
  // s3:// outputs are reached with the FRESHET_S3_* / AWS_* environment.
  Result<Options> env_options = LoadOptionsForCommand("", "");
  if (!env_options.ok()) {
    std::cerr << "freshet gen: " << env_options.status().message() << "\n";
    return 2;
  }
  auto store = OpenStore(a.out, env_options->s3);
  if (!store.ok()) {
    std::cerr << "freshet gen: --out: " << store.status().message() << "\n";
    return 2;
  }
  GenSummary summary;
  if (!a.follow) {
    if (Status st = Generate(g, **store, &summary); !st.ok()) {
      std::cerr << "freshet gen: " << st.ToString() << "\n";
      return 1;
    }
  } else {
    // Same steps as Generate, keeping the state to continue in real time.
    auto state = GenState::Create(g);
    if (!state.ok()) {
      std::cerr << "freshet gen: " << state.status().ToString() << "\n";
      return 1;
    }
    TimePoint start = FromUnixMillis(ToUnixMillis(g.start) / g.interval.count() * g.interval.count());
    Status st = g.snapshot ? WriteSnapshot(g, *state, start, **store, &summary) : Status::Ok();
    TimePoint t = start;
    for (uint64_t i = 0; st.ok() && i < partitions; ++i, t += g.interval) {
      st = GeneratePartition(g, *state, t, **store, &summary);
    }
    std::signal(SIGINT, OnSignal);
    std::signal(SIGTERM, OnSignal);
    std::cerr << "freshet gen: backfilled " << summary.partitions << " partitions; following (one per "
              << FormatDuration(g.interval) << ", Ctrl-C to stop)\n";
    while (st.ok() && !g_stop) {
      // Partition [t, t + interval) is written once it has ended.
      while (!g_stop && SystemClock::Instance()->Now() < t + g.interval) {
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
      }
      if (g_stop) break;
      st = GeneratePartition(g, *state, t, **store, &summary);
      if (st.ok()) std::cerr << "freshet gen: wrote partition " << FormatRfc3339(t) << "\n";
      t += g.interval;
    }
    if (!st.ok()) {
      std::cerr << "freshet gen: " << st.ToString() << "\n";
      return 1;
    }
  }
  std::cout << "wrote " << summary.objects << " objects, " << summary.bytes << " bytes, " << summary.records
            << " records (" << summary.bad_lines << " malformed, " << summary.duplicates << " duplicates), "
            << summary.partitions << " partitions, " << summary.snapshots << " snapshot(s) to " << a.out << "\n";
  return 0;
}

}  // namespace

void RegisterGenCommand(CLI::App& app, int* exit_code) {
  auto* cmd = app.add_subcommand("gen", "Write seeded synthetic ads data: a snapshot and update partitions");
  auto a = std::make_shared<GenArgs>();
  GenOptions& g = a->gen;
  cmd->add_option("-o,--out", a->out, "Store URI or directory to write to")->capture_default_str();
  cmd->add_option("--seed", g.seed, "Random seed: same seed and options, same bytes")->capture_default_str();
  cmd->add_flag("--flat", g.flat, "Plain ad documents (no campaign/ad group hierarchy)");
  cmd->add_option("--campaigns", g.campaigns, "Campaigns at the start")->capture_default_str();
  cmd->add_option("--ad-groups-per-campaign", g.ad_groups_per_campaign)->capture_default_str();
  cmd->add_option("--ads-per-ad-group", g.ads_per_ad_group)->capture_default_str();
  cmd->add_option("--ads", g.total_ads, "Total ads at the start (overrides the per-group count)");
  cmd->add_option("--partitions", g.partitions, "Update partitions to write")->capture_default_str();
  cmd->add_option("--span", a->span, "Time span of update partitions instead of --partitions, e.g. 2h");
  cmd->add_option("--interval", a->interval, "Partition interval")->capture_default_str();
  cmd->add_option("--layout", g.layout, "Partition folder layout")->capture_default_str();
  cmd->add_option("--start", a->start,
                  "Snapshot time and first partition (RFC 3339), or 'now' to end the backfill at the current time")
      ->capture_default_str();
  cmd->add_option("--updates-per-partition", g.updates_per_partition)->capture_default_str();
  cmd->add_option("--objects-per-partition", g.objects_per_partition)->capture_default_str();
  cmd->add_option("--snapshot-lines-per-object", g.snapshot_lines_per_object)->capture_default_str();
  cmd->add_option("--lz4-share", g.lz4_share, "Share of objects written as LZ4 frames")->capture_default_str();
  cmd->add_option("--bad-share", g.bad_line_share, "Share of malformed lines")->capture_default_str();
  cmd->add_option("--duplicate-share", g.duplicate_share)->capture_default_str();
  cmd->add_option("--vocabulary", g.vocabulary_size, "Vocabulary size")->capture_default_str();
  cmd->add_flag("!--no-snapshot", g.snapshot, "Do not write a snapshot at the start time");
  cmd->add_flag("--shuffle-snapshot", g.shuffle_snapshot,
                "Flat: write the snapshot's ads in a seeded random order, not by id");
  cmd->add_flag("--follow", a->follow, "After the backfill, write one partition per interval in real time");
  cmd->callback([=] { *exit_code = RunGen(*a); });
}

}  // namespace freshet
