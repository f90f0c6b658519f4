// The pipeline's own metric families, and how a batch report updates them.
// Pure: no Asio, no clock of its own (scrape-time values such as the
// freshness lag come from the pipeline's collector, see pipeline.cc).
//
// Families (all "freshet_" prefixed; see README "Metrics"):
//   batch_stage_duration_seconds{stage}  histogram, every batch that reached the stage
//   batch_duration_seconds               histogram, batches that built (committed or failed after planning)
//   batches_total{outcome}               committed | failed | idle
//   skipped_partitions_total             jumped over by the latest policy
//   late_objects_total, source_changed_objects_total   the source changing under the window
//   input_objects_total, input_bytes_total, input_records_total, bad_records_total
//   output_bytes_total, output_docs_total
//   generation_docs{generation}, generation_terms{generation}   the last committed delta / full
//   last_commit_timestamp_seconds
#pragma once

#include "admin/batch_progress.h"
#include "metrics/metrics.h"

namespace freshet {

// Batch and stage durations: 1 ms .. ~9 min in factors of 2.
std::vector<double> BatchDurationBuckets();

class PipelineMetrics {
 public:
  // REQUIRES: `registry` outlives this object. Registers every family at
  // once, so /metrics shows them (at zero) before the first batch.
  explicit PipelineMetrics(MetricsRegistry* registry);

  // A batch ended (any outcome). Stage histograms get the stages it
  // reached (p.stages_reached). `committed_at`: Unix seconds of the commit
  // (read for committed batches only).
  void OnBatchEnd(const BatchProgress& p, double committed_at);

 private:
  MetricsRegistry* registry_;
  std::array<Histogram*, static_cast<size_t>(Stage::kCount)> stage_{};
  Histogram* duration_;
  Counter *committed_, *failed_, *idle_;
  Counter *skipped_, *objects_, *bytes_, *records_, *bad_records_, *output_bytes_, *output_docs_;
  Counter *late_objects_, *changed_objects_;
  Gauge *delta_docs_, *delta_terms_, *full_docs_, *full_terms_, *last_commit_;
};

}  // namespace freshet
