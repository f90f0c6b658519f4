#include "e2e/query_check.h"

#include <algorithm>
#include <iterator>
#include <sstream>

#include "e2e/query_sampler.h"

namespace freshet::e2e {
namespace {

std::string FirstDifferences(const std::vector<std::string>& got, const std::vector<std::string>& want) {
  std::vector<std::string> missing, extra;
  std::set_difference(want.begin(), want.end(), got.begin(), got.end(), std::back_inserter(missing));
  std::set_difference(got.begin(), got.end(), want.begin(), want.end(), std::back_inserter(extra));
  std::ostringstream os;
  os << "got " << got.size() << " ids, oracle " << want.size() << "; missing " << missing.size() << ":";
  for (size_t i = 0; i < missing.size() && i < 5; ++i) os << ' ' << missing[i];
  os << "; extra " << extra.size() << ":";
  for (size_t i = 0; i < extra.size() && i < 5; ++i) os << ' ' << extra[i];
  if (missing.empty() && extra.empty()) os << " (same ids, different order or duplicates)";
  return os.str();
}

}  // namespace

InputCut CutFromCurrent(const SinkCurrent& current) {
  InputCut cut;
  if (current.watermark) cut.watermark = ParseUtcSeconds(*current.watermark);
  if (current.checkpoint.base_snapshot) cut.base_snapshot = ParseUtcSeconds(*current.checkpoint.base_snapshot);
  return cut;
}

::testing::AssertionResult ScanCommitted(const std::string& source_dir, const std::string& sink_dir,
                                         const OracleSchema& schema, GroundTruth* truth) {
  std::optional<SinkCurrent> current;
  if (::testing::AssertionResult r = ReadCurrent(sink_dir, &current); !r) return r;
  if (!current) return ::testing::AssertionFailure() << sink_dir << ": no CURRENT";
  return GroundTruth::Scan(source_dir, schema, CutFromCurrent(*current), truth);
}

QueryCompareStats CompareRandomQueries(FreshetCli& cli, const std::string& sink_dir, const GroundTruth& truth,
                                       uint64_t seed, int count) {
  QueryCompareStats stats;
  QuerySampler sampler(truth, seed);
  for (int i = 0; i < count; ++i) {
    SampledQuery q = sampler.Next();
    std::vector<std::string> want = truth.Match(q.clauses, q.any);
    std::vector<std::string> got;
    ::testing::AssertionResult ran = cli.Query(sink_dir, q.clauses, q.any, &got);
    ++stats.queries;
    if (!want.empty()) ++stats.nonempty;
    if (q.any) ++stats.any;
    for (const std::string& c : q.clauses) {
      if (std::any_of(c.begin(), c.end(), [](char ch) { return static_cast<unsigned char>(ch) >= 0x80; })) {
        ++stats.non_ascii;
        break;
      }
    }
    stats.hits += want.size();
    if (ran && got == want) continue;
    ++stats.mismatches;
    if (stats.mismatches <= 10) {
      ADD_FAILURE() << "query #" << i << " (seed " << seed << "): freshet query " << q.Describe() << "\n  "
                    << (ran ? FirstDifferences(got, want) : std::string(ran.message()));
    }
  }
  if (stats.mismatches > 10) ADD_FAILURE() << stats.mismatches << " of " << count << " queries differ in all";
  return stats;
}

void ExpectSameDocSet(FreshetCli& cli, const std::string& sink_dir, const GroundTruth& truth,
                      const std::string& field) {
  std::vector<std::string> want;
  for (const OracleDoc& d : truth.docs()) want.push_back(d.id);
  std::set<std::string> values;
  for (const OracleDoc& d : truth.docs()) {
    auto it = d.keywords.find(field);
    ASSERT_TRUE(it != d.keywords.end() && !it->second.empty()) << d.id << " has no " << field;
    values.insert(it->second.begin(), it->second.end());
  }
  std::vector<std::string> clauses;
  for (const std::string& v : values) clauses.push_back(field + ":" + v);
  std::vector<std::string> got;
  ASSERT_TRUE(cli.Query(sink_dir, clauses, /*any=*/true, &got));
  EXPECT_EQ(got.size(), want.size()) << FirstDifferences(got, want);
  EXPECT_TRUE(got == want) << FirstDifferences(got, want);
}

}  // namespace freshet::e2e
