// GET /metrics: the Prometheus text format (checked by promtool when it is installed), the
// counters move with the workload, and only loopback clients without credentials, or dba
// and system, may read it.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <regex>
#include <string>

#include "server_process.h"

namespace kalam::testing {
namespace {

namespace json = boost::json;

class MetricsRoute : public ServerTest {
 protected:
  std::string Scrape(const client::Headers& headers = {}) {
    auto r = http_.Send("GET", "/metrics", "", headers);
    EXPECT_TRUE(r.ok());
    EXPECT_EQ(r->status, 200) << r->body;
    return r.ok() ? r->body : std::string();
  }
};

// The value of the sample whose name and labels are exactly these; -1 when absent.
double Sample(const std::string& text, const std::string& series) {
  const size_t at = text.find("\n" + series + " ");
  if (at == std::string::npos) return -1;
  return std::strtod(text.c_str() + at + series.size() + 2, nullptr);
}

TEST_F(MetricsRoute, CountersMoveWithTheWorkload) {
  CreateUser("carol", "user");
  const std::string before = Scrape();
  ASSERT_EQ(Root("CREATE NAMESPACE IF NOT EXISTS m; "
                 "CREATE USER TABLE IF NOT EXISTS m.t (id BIGINT PRIMARY KEY, v TEXT)")
                .status,
            200);
  ASSERT_EQ(As("carol", "INSERT INTO m.t (id, v) VALUES (1, 'a'), (2, 'b'), (3, 'c')").status, 200);
  ASSERT_EQ(As("carol", "SELECT * FROM m.t").status, 200);
  ASSERT_EQ(As("carol", "SELECT * FROM nowhere.t").error_code(), "NOT_FOUND");
  const std::string after = Scrape();

  auto grew = [&](const std::string& series, double by) {
    const double was = std::max(0.0, Sample(before, series));
    EXPECT_GE(Sample(after, series), was + by) << series << "\n" << after;
  };
  grew(R"(kalamdb_http_requests_total{route="/v1/api/sql",status="200"})", 3);
  grew(R"(kalamdb_http_requests_total{route="/v1/api/sql",status="404"})", 1);
  grew(R"(kalamdb_statements_total{kind="insert",outcome="ok"})", 1);
  grew(R"(kalamdb_statements_total{kind="select",outcome="ok"})", 1);
  grew(R"(kalamdb_statements_total{kind="select",outcome="NOT_FOUND"})", 1);
  grew(R"(kalamdb_statement_errors_total{code="NOT_FOUND"})", 1);
  grew(R"(kalamdb_statement_duration_seconds_count{kind="insert"})", 1);
  grew("kalamdb_rows_written_total", 3);
  grew("kalamdb_commit_groups_total", 1);
  EXPECT_GE(Sample(after, R"(kalamdb_open_connections{kind="http"})"), 1) << after;
  EXPECT_GE(Sample(after, "kalamdb_live_subscriptions"), 0) << after;

  // A well-formed exposition, as Prometheus itself reads it.
  if (std::system("command -v promtool > /dev/null 2>&1") == 0) {
    const std::string path = server_->data_dir() + "/../metrics.txt";
    std::ofstream(path) << after;
    EXPECT_EQ(std::system(("promtool check metrics < " + path + " > /dev/null 2>&1").c_str()), 0)
        << after;
  } else {
    GTEST_LOG_(WARNING) << "promtool is not installed: the format was not validated";
  }
}

TEST_F(MetricsRoute, OnlyAdminsMayReadItWithCredentials) {
  CreateUser("dave", "user");
  CreateUser("erin", "dba");
  auto user = http_.Send("GET", "/metrics", "", {{"Authorization", client::BasicAuth("dave", "dave-password")}});
  ASSERT_TRUE(user.ok());
  EXPECT_EQ(user->status, 403) << user->body;
  auto wrong = http_.Send("GET", "/metrics", "", {{"Authorization", client::BasicAuth("erin", "nope-nope")}});
  ASSERT_TRUE(wrong.ok());
  EXPECT_EQ(wrong->status, 401) << wrong->body;
  EXPECT_NE(Scrape({{"Authorization", client::BasicAuth("erin", "erin-password")}})
                .find("kalamdb_http_requests_total"),
            std::string::npos);
  auto post = http_.Send("POST", "/metrics");
  ASSERT_TRUE(post.ok());
  EXPECT_EQ(post->status, 404);
}

}  // namespace
}  // namespace kalam::testing
