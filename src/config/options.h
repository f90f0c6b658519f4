// The daemon's configuration, as one plain struct with documented defaults.
// Private to freshet (the reader library sees only freshet/s3_options.h).
//
// Parsed from one JSON file (comments allowed) by config/config_loader.h;
// every field below is the config key of the same dotted name, e.g.
// `pipeline.grace` is Options::pipeline.grace. Durations are written in the
// file as "30s", "5m", "24h", "1h30m", "250ms".
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "freshet/s3_options.h"

namespace freshet {

using Duration = std::chrono::milliseconds;

// One level of the entity hierarchy (campaign -> ad group -> ad). Levels are
// listed root first; the last level is the indexed document.
struct LevelOptions {
  std::string name;                 // value of schema.type_field for this level
  std::string parent_field;         // field holding the parent's id; "" for the root
  std::string status_field;         // "" = no status check
  std::vector<std::string> active_values;  // status values that count as active
  std::vector<std::string> inherit; // fields copied into every descendant document
};

struct SchemaOptions {
  std::string id_field = "id";            // string key; required in every record
  std::string version_field = "version";  // integer or RFC 3339 time; newest wins
  std::string deleted_field = "deleted";  // boolean tombstone flag; "" = none
  std::string type_field;                 // selects the level; "" = flat schema
  std::string group_field;                // grouping key (informational)
  std::vector<LevelOptions> levels;       // empty = flat: one level, every record a document
  std::vector<std::string> text_fields;   // tokenized
  std::vector<std::string> keyword_fields;  // exact terms
  std::vector<std::string> stored_fields;   // returned by readers
  uint64_t max_field_bytes = 64 * 1024;     // larger field => record quarantined
  uint64_t max_record_bytes = 1024 * 1024;  // larger line => record quarantined
};

// Where input comes from.
struct SourceOptions {
  std::string uri = "local://./data/source";  // local:///abs/path or s3://bucket/prefix
  std::string updates_prefix = "updates/";    // under uri
  std::string snapshots_prefix = "snapshots/";
  std::string layout = "%Y/%m/%d/%H/%M";      // or dt=%Y-%m-%d/hr=%H/min=%M
  Duration partition_interval = std::chrono::minutes(5);
  // How often the whole window is listed again, folders already settled
  // too, so objects rewritten, deleted or added late in them are seen
  // (README "Late and changed objects"). Between such listings a trigger
  // lists only what follows the settled folders. 0 = every listing.
  Duration relist_interval = std::chrono::minutes(1);
};

struct SinkOptions {
  std::string uri = "local://./data/sink";
  uint32_t retain_generations = 5;  // per kind (full, delta); >= 2
  // The writer lease (sink/writer_lease.h): a second daemon on the sink is
  // refused at start-up while the first renews this within it. 0 = no
  // lease (CURRENT's compare-and-swap still fences a second writer).
  Duration writer_lease = std::chrono::seconds(60);
};

enum class TriggerMode { kInterval, kContinuous, kOnce, kAvailableNow };
enum class PlanPolicy { kLatest, kSequential };

struct PipelineOptions {
  TriggerMode trigger = TriggerMode::kInterval;
  Duration trigger_interval = std::chrono::seconds(30);
  uint64_t trigger_pending_bytes = 0;  // hybrid: fire early above this; 0 = off
  PlanPolicy policy = PlanPolicy::kLatest;
  Duration grace = std::chrono::minutes(2);           // partition end + grace <= now
  Duration snapshot_grace = std::chrono::minutes(2);  // snapshot time + this <= now
  Duration overlap = std::chrono::minutes(10);  // delta starts at base time - overlap
  Duration max_window = std::chrono::hours(12); // warn loudly when the delta spans more
  Duration full_rebuild_every = std::chrono::hours(0);  // 0 = only on a new snapshot
  double max_bad_ratio = 0.01;       // bad / all records above this fails the batch
  uint32_t fetch_parallelism = 8;    // concurrent GETs per batch
  // Workers of the one compute pool: parsing, document assembly and file
  // encoding all run there (a build spreads its parts over it), so no more
  // CPU-bound threads than this. 0 = hardware concurrency.
  uint32_t compute_threads = 0;
  // Threads of the one event loop (base/io_loop.h): the actors, the admin
  // server and the S3 connections each keep their own state serial on a
  // strand of it, so this only sets how many run at once. 1..64.
  uint32_t io_threads = 2;
  // The delta chain's merge policy (plan/merge_policy.h): runs of this many
  // segments of similar size merge (2..64), and the chain is kept at most
  // max_segments long (merge_factor..128). Readers overlay every segment,
  // so a longer chain costs them; a shorter one rewrites bytes more often.
  uint32_t merge_factor = 4;
  uint32_t max_segments = 24;
  // What a full build may hold in memory, in bytes (at least 64 MiB). A
  // sixteenth of it is for the snapshot's parsed records: past that, they
  // are sorted and spilled to scratch_dir as runs, and merged as the full
  // is written (ingest/record_runs.h); a sixteenth for the input fetched
  // ahead of the sorter; an eighth for each of the full's writers' index
  // (postings runs). Does not change a byte of the output.
  uint64_t memory_budget = uint64_t{1} << 30;
  // Where spilled runs, and the full's "stored" file until it is committed,
  // go; "" = <system temp dir>/freshet-scratch. They are removed after
  // their batch, and those of dead processes at start-up.
  std::string scratch_dir;
};

// pipeline.scratch_dir with its default applied.
std::string ScratchDir(const PipelineOptions& pipeline);

struct WatchdogOptions {
  Duration heartbeat_interval = std::chrono::seconds(5);
  Duration actor_stall = std::chrono::seconds(30);  // heartbeat unanswered this long
  Duration batch_stall = std::chrono::minutes(10);  // one batch running this long
  Duration max_uptime = std::chrono::hours(0);      // planned restart; 0 = never
  Duration drain_timeout = std::chrono::seconds(60);
  // Health: eligible input waiting uncommitted longer than this is unhealthy
  // (a quiet source is not); 0 = never.
  Duration max_commit_age = std::chrono::minutes(15);
  // How the last run ended, for freshet_restarts_total{kind}: a small JSON
  // file on local disk, relative to the working directory (systemd:
  // StateDirectory). "" = do not track restarts.
  std::string state_file = "freshet-run.json";
};

struct LogOptions {
  std::string level = "info";   // trace|debug|info|warn|error
  std::string format = "text";  // text|json
};

struct AdminOptions {
  std::string listen = "127.0.0.1:9464";  // "" disables the endpoint
  // Bearer token for every path but /healthz and /readyz; "" = none. Meant
  // for the environment (FRESHET_ADMIN_TOKEN); never logged or printed.
  std::string token;
  uint32_t status_batches = 64;  // batch progress reports kept for /status and the page
};


struct Options {
  SourceOptions source;
  SinkOptions sink;
  SchemaOptions schema;
  PipelineOptions pipeline;
  WatchdogOptions watchdog;
  LogOptions log;
  AdminOptions admin;
  S3Options s3;
};

// The ads hierarchy the generator writes (campaign -> ad_group -> ad): the
// embedded default schema used when a config names none.
SchemaOptions DefaultAdsSchema();
// A single-level schema over plain ad documents (`freshet gen --flat`).
SchemaOptions DefaultFlatSchema();

}  // namespace freshet
