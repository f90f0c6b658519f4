#include "admin/pipeline_metrics.h"

namespace freshet {

std::vector<double> BatchDurationBuckets() { return ExponentialBuckets(0.001, 2, 20); }

PipelineMetrics::PipelineMetrics(MetricsRegistry* registry) : registry_(registry) {
  MetricsRegistry& r = *registry_;
  const std::vector<double> buckets = BatchDurationBuckets();
  for (size_t i = 0; i < stage_.size(); ++i) {
    stage_[i] = &r.GetHistogram("freshet_batch_stage_duration_seconds",
                                "Time a batch spent in each stage (list, plan, fetch, parse, build, write, commit).",
                                buckets, {{"stage", std::string(StageName(static_cast<Stage>(i)))}});
  }
  duration_ = &r.GetHistogram("freshet_batch_duration_seconds",
                              "Wall time of batches that built something (committed, or failed after planning).",
                              buckets);
  const char* outcome_help = "Triggers that ended, by outcome: committed, failed, idle (nothing to build).";
  committed_ = &r.GetCounter("freshet_batches_total", outcome_help, {{"outcome", "committed"}});
  failed_ = &r.GetCounter("freshet_batches_total", outcome_help, {{"outcome", "failed"}});
  idle_ = &r.GetCounter("freshet_batches_total", outcome_help, {{"outcome", "idle"}});
  skipped_ = &r.GetCounter("freshet_skipped_partitions_total",
                           "Eligible partitions jumped over by the freshness-first (latest) policy.");
  objects_ = &r.GetCounter("freshet_input_objects_total", "Input objects read by batches.");
  bytes_ = &r.GetCounter("freshet_input_bytes_total", "Input bytes read by batches.");
  records_ = &r.GetCounter("freshet_input_records_total", "Input records parsed by batches.");
  bad_records_ = &r.GetCounter("freshet_bad_records_total", "Malformed input records quarantined by batches.");
  late_objects_ = &r.GetCounter("freshet_late_objects_total",
                                "Objects that appeared in partitions already committed, ingested by a later batch.");
  changed_objects_ = &r.GetCounter("freshet_source_changed_objects_total",
                                   "Window objects rewritten or deleted in the source after they were ingested.");
  output_bytes_ = &r.GetCounter("freshet_output_bytes_total", "Index bytes written by committed batches.");
  output_docs_ = &r.GetCounter("freshet_output_docs_total", "Documents written into delta generations.");
  const char* docs_help = "Documents in the live generation (delta or full).";
  const char* terms_help = "Distinct terms in the live generation (delta or full).";
  delta_docs_ = &r.GetGauge("freshet_generation_docs", docs_help, {{"generation", "delta"}});
  full_docs_ = &r.GetGauge("freshet_generation_docs", docs_help, {{"generation", "full"}});
  delta_terms_ = &r.GetGauge("freshet_generation_terms", terms_help, {{"generation", "delta"}});
  full_terms_ = &r.GetGauge("freshet_generation_terms", terms_help, {{"generation", "full"}});
  last_commit_ = &r.GetGauge("freshet_last_commit_timestamp_seconds", "Unix time of the last committed batch.");
}

void PipelineMetrics::OnBatchEnd(const BatchProgress& p, double committed_at) {
  switch (p.outcome) {
    case BatchOutcome::kCommitted: committed_->Inc(); break;
    case BatchOutcome::kFailed: failed_->Inc(); break;
    case BatchOutcome::kIdle: idle_->Inc(); break;
    case BatchOutcome::kRunning: return;  // not an end
  }
  const bool planned = p.batch_id != 0;
  for (int i = 0; i < p.stages_reached && i < static_cast<int>(stage_.size()); ++i) {
    stage_[static_cast<size_t>(i)]->Observe(p.stage_seconds[static_cast<size_t>(i)]);
  }
  if (planned) duration_->Observe(p.total_seconds());
  // Input is counted for every built batch, committed or not: it was read.
  objects_->Inc(static_cast<double>(p.objects));
  bytes_->Inc(static_cast<double>(p.bytes));
  records_->Inc(static_cast<double>(p.records));
  bad_records_->Inc(static_cast<double>(p.bad_records));
  if (p.outcome != BatchOutcome::kCommitted) return;
  skipped_->Inc(static_cast<double>(p.skipped));
  late_objects_->Inc(static_cast<double>(p.late_objects));
  changed_objects_->Inc(static_cast<double>(p.changed_objects));
  output_bytes_->Inc(static_cast<double>(p.output_bytes));
  output_docs_->Inc(static_cast<double>(p.docs));
  delta_docs_->Set(static_cast<double>(p.docs));
  delta_terms_->Set(static_cast<double>(p.terms));
  if (p.full_docs >= 0) full_docs_->Set(static_cast<double>(p.full_docs));
  if (p.full_terms >= 0) full_terms_->Set(static_cast<double>(p.full_terms));
  last_commit_->Set(committed_at);
}

}  // namespace freshet
