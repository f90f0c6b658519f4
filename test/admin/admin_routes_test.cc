// Which admin path answers what, over fake views.
#include "admin/admin_routes.h"

#include <gtest/gtest.h>

#include "metrics/metrics.h"

namespace freshet {
namespace {

struct Fake {
  HealthVerdict verdict;
  std::optional<std::string> not_ready = "the first listing of the source has not completed";
  AdminViews Views() {
    return AdminViews{[this] { return verdict; }, [this] { return not_ready; },
                      [] { return std::string("m_total 1\n"); },
                      [] { return std::string(R"({"recent_batches":[],"msg":"</script>"})"); }};
  }
};

AdminRequest Get(std::string path) { return AdminRequest{"GET", path, path, ""}; }

TEST(AdminRoutesTest, HealthzFollowsTheVerdictAndListsProblems) {
  Fake f;
  auto r = HandleAdminRequest(f.Views(), Get("/healthz"));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "ok\n");
  f.verdict.healthy = false;
  f.verdict.problems = {"batch 7 stalled: running for 11m", "no commit since start 16m ago"};
  r = HandleAdminRequest(f.Views(), Get("/healthz"));
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(r.body, "unhealthy\n- batch 7 stalled: running for 11m\n- no commit since start 16m ago\n");
}

TEST(AdminRoutesTest, ReadyzSaysWhatIsMissing) {
  Fake f;
  auto r = HandleAdminRequest(f.Views(), Get("/readyz"));
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(r.body, "not ready: the first listing of the source has not completed\n");
  f.not_ready.reset();
  r = HandleAdminRequest(f.Views(), Get("/readyz"));
  EXPECT_EQ(r.status, 200);
}

TEST(AdminRoutesTest, MetricsStatusAndPageHaveTheirContentTypes) {
  Fake f;
  auto m = HandleAdminRequest(f.Views(), Get("/metrics"));
  EXPECT_EQ(m.status, 200);
  EXPECT_EQ(m.body, "m_total 1\n");
  EXPECT_EQ(m.content_type, std::string(kPrometheusContentType));
  auto s = HandleAdminRequest(f.Views(), Get("/status"));
  EXPECT_EQ(s.content_type, "application/json");
  auto page = HandleAdminRequest(f.Views(), Get("/"));
  EXPECT_EQ(page.status, 200);
  EXPECT_EQ(page.content_type, "text/html; charset=utf-8");
  EXPECT_NE(page.body.find("recent_batches"), std::string::npos);
  EXPECT_EQ(page.body.find("</script>\"}"), std::string::npos);  // the embedded JSON cannot close the script
}

TEST(AdminRoutesTest, UnknownPathsAre404NamingTheRealOnes) {
  Fake f;
  auto r = HandleAdminRequest(f.Views(), Get("/metric"));
  EXPECT_EQ(r.status, 404);
  EXPECT_NE(r.body.find("/healthz /readyz /metrics /status"), std::string::npos);
}

}  // namespace
}  // namespace freshet
