// GET /metrics: the Prometheus text format (checked by promtool when it is installed), the
// counters move with the workload, and only loopback clients without credentials, or dba
// and system, may read it.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <regex>
#include <string>

#include "client/ws_client.h"
#include "server_process.h"

namespace kalam::testing {
namespace {

namespace json = boost::json;

class MetricsRoute : public ServerTest {
 protected:
  // A well-formed exposition, as Prometheus itself reads it.
  void ExpectWellFormed(const std::string& text) {
    if (std::system("command -v promtool > /dev/null 2>&1") != 0) {
      GTEST_LOG_(WARNING) << "promtool is not installed: the format was not validated";
      return;
    }
    const std::string path = server_->data_dir() + "/../metrics.txt";
    std::ofstream(path) << text;
    EXPECT_EQ(std::system(("promtool check metrics < " + path + " > /dev/null 2>&1").c_str()), 0)
        << text;
  }
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

  ExpectWellFormed(after);
}

TEST_F(MetricsRoute, StoreColdAndLiveFiguresMove) {
  ASSERT_EQ(Root("CREATE NAMESPACE IF NOT EXISTS s; "
                 "CREATE SHARED TABLE IF NOT EXISTS s.t (id BIGINT PRIMARY KEY, v TEXT)")
                .status,
            200);
  const std::string before = Scrape();
  client::WsClient ws;
  ASSERT_TRUE(ws.Connect("127.0.0.1", server_->port(), "/v1/ws", {{"Authorization", RootAuth()}}).ok());
  ASSERT_TRUE(ws.Receive(std::chrono::seconds(3)).has_value());  // auth_success
  ASSERT_TRUE(ws.Send(R"({"type":"subscribe","subscription":{"id":"m","sql":"SELECT * FROM s.t"}})").ok());
  ASSERT_TRUE(WaitUntil([&] { return Scrape().find("kalamdb_live_subscriptions 1") != std::string::npos; },
                        std::chrono::seconds(5)));
  ASSERT_EQ(Root("INSERT INTO s.t (id, v) SELECT i, 'x' FROM range(1000) t(i)").status, 200);
  ASSERT_EQ(Root("FLUSH TABLE s.t").status, 200);
  std::string after;
  ASSERT_TRUE(WaitUntil(
      [&] {
        after = Scrape();
        return Sample(after, "kalamdb_cold_rows") >= 1000;
      },
      std::chrono::seconds(20)))
      << after;
  EXPECT_GE(Sample(after, "kalamdb_cold_segments"), 1) << after;
  EXPECT_GT(Sample(after, "kalamdb_cold_bytes"), 0) << after;
  EXPECT_GE(Sample(after, "kalamdb_live_change_messages_total"),
            std::max(0.0, Sample(before, "kalamdb_live_change_messages_total")) + 1)
      << after;
  // The store's figures are there (RocksDB's estimates may lag a flush of its memtables).
  EXPECT_GE(Sample(after, R"(kalamdb_hot_rows{family="meta"})"), 0) << after;
  EXPECT_GT(Sample(after, R"(kalamdb_hot_bytes{family="meta",kind="memtable"})") +
                Sample(after, R"(kalamdb_hot_bytes{family="meta",kind="sst"})"),
            0)
      << after;
  EXPECT_GE(Sample(after, "kalamdb_store_running_compactions"), 0) << after;
  EXPECT_EQ(Sample(after, "kalamdb_store_write_stopped"), 0) << after;
  EXPECT_GE(Sample(after, "kalamdb_store_write_stall_seconds_total"), 0) << after;
  EXPECT_GE(Sample(after, "kalamdb_live_slow_consumers_dropped_total"), 0) << after;
  ExpectWellFormed(after);
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
