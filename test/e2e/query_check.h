// `freshet query` against the oracle: the oracle is cut where the sink's
// CURRENT says it committed, then sampled queries run through the real
// binary and their output is compared line by line.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <string>

#include "e2e/freshet_cli.h"
#include "e2e/ground_truth.h"
#include "e2e/sink_check.h"

namespace freshet::e2e {

// The input a sink's CURRENT covers: its base snapshot and its watermark.
InputCut CutFromCurrent(const SinkCurrent& current);

// Reads CURRENT under `sink_dir` and scans `source_dir` up to it.
::testing::AssertionResult ScanCommitted(const std::string& source_dir, const std::string& sink_dir,
                                         const OracleSchema& schema, GroundTruth* truth);

struct QueryCompareStats {
  int queries = 0;
  int mismatches = 0;
  int nonempty = 0;     // queries with at least one expected id
  uint64_t hits = 0;    // expected ids over all queries
  int non_ascii = 0;    // queries with a non-ASCII byte in some clause
  int any = 0;          // OR-ed queries of several clauses
};

// Runs `count` sampled queries (seeded) through `freshet query` and records
// a test failure for each whose output differs from the oracle's (showing
// the query and the first differing ids; at most 10 reported in full).
QueryCompareStats CompareRandomQueries(FreshetCli& cli, const std::string& sink_dir, const GroundTruth& truth,
                                       uint64_t seed, int count);

// The merged view holds exactly the oracle's servable documents: the OR of
// `field:v` over every value v of a keyword field every document has.
void ExpectSameDocSet(FreshetCli& cli, const std::string& sink_dir, const GroundTruth& truth,
                      const std::string& field);

}  // namespace freshet::e2e
