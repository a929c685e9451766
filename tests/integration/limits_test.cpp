// Limits that hold under abuse: a statement past [limits] statement_timeout_ms is cancelled
// and answers STATEMENT_TIMEOUT while others are still answered; a shutdown cancels what
// still runs at its deadline; connections past [server] max_connections are refused
// cleanly instead of starving the server of descriptors.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <fstream>
#include <thread>
#include <vector>

#include "server_process.h"

namespace kalam::testing {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr const char* kEndless =
    "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) SELECT count(*) FROM r";

ServerOptions Configured(std::string server_lines, std::string extra) {
  ServerOptions options;
  options.server_config = std::move(server_lines);
  options.extra_config = std::move(extra);
  return options;
}

std::string UserAuth() { return client::BasicAuth("mallory", "mallory-password"); }

void Prepare(client::HttpClient& http) {
  ASSERT_EQ(Sql(http, RootAuth(),
                "CREATE USER 'mallory' WITH PASSWORD 'mallory-password' ROLE user; "
                "CREATE NAMESPACE app; CREATE USER TABLE app.t (id BIGINT PRIMARY KEY)")
                .status,
            200);
}

TEST(Limits, AStatementPastItsTimeoutIsCancelledAndOthersAreAnswered) {
  ServerProcess server(Configured("", "[limits]\nstatement_timeout_ms = 700\n"));
  server.Start();
  auto http = server.Client();
  Prepare(http);

  const auto started = Clock::now();
  auto endless = Sql(http, UserAuth(), kEndless);
  EXPECT_EQ(endless.status, 408) << json::serialize(endless.body);
  EXPECT_EQ(endless.error_code(), "STATEMENT_TIMEOUT");
  EXPECT_LT(Clock::now() - started, 10s);

  // Four at once hold every query connection; other callers are still answered (at worst
  // once a connection comes free), and the four end by themselves.
  std::vector<std::thread> heavy;
  std::atomic<int> timed_out = 0;
  for (int i = 0; i < 4; ++i) {
    heavy.emplace_back([&] {
      auto own = server.Client();
      if (Sql(own, UserAuth(), kEndless).error_code() == "STATEMENT_TIMEOUT") ++timed_out;
    });
  }
  int answered = 0;
  for (int i = 0; i < 5; ++i) {
    auto one = Sql(http, RootAuth(), "SELECT 1");
    if (one.status == 200 || one.error_code() == "STATEMENT_TIMEOUT") ++answered;
  }
  for (auto& t : heavy) t.join();
  EXPECT_EQ(timed_out, 4);
  EXPECT_EQ(answered, 5);
  EXPECT_EQ(json::serialize(Sql(http, RootAuth(), "SELECT 1").rows()), "[[1]]");

  // A data change that times out applies nothing.
  auto insert = Sql(http, UserAuth(),
                    "INSERT INTO app.t SELECT n FROM (WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL "
                    "SELECT n + 1 FROM r) SELECT n FROM r)");
  EXPECT_EQ(insert.error_code(), "STATEMENT_TIMEOUT");
  EXPECT_EQ(json::serialize(Sql(http, UserAuth(), "SELECT count(*) FROM app.t").rows()), "[[0]]");
  EXPECT_EQ(server.Stop(SIGTERM), 0);
}

// With no timeout, a statement that never ends must not keep the server from stopping: the
// shutdown deadline cancels it.
TEST(Limits, ShutdownCancelsWhatStillRunsAtItsDeadline) {
  ServerProcess server(Configured("", "[limits]\nstatement_timeout_ms = 0\n"));
  server.Start();
  auto http = server.Client();
  Prepare(http);
  std::thread endless([&] {
    auto own = server.Client();
    try {
      Sql(own, UserAuth(), kEndless);
    } catch (const std::exception&) {
      // The server went away under the request: what this test expects.
    }
  });
  // The statement runs once the server shows it busy; give it a moment to start.
  std::this_thread::sleep_for(1s);
  const auto stopping = Clock::now();
  EXPECT_EQ(server.Stop(SIGTERM), 0);
  EXPECT_LT(Clock::now() - stopping, 45s);
  endless.join();
}

TEST(Limits, ConnectionsPastTheCapAreRefusedCleanly) {
  ServerProcess server(Configured("max_connections = 4", ""));
  server.Start();
  // Four kept-alive connections, each known to be accepted (it was answered).
  std::vector<client::HttpClient> open;
  for (int i = 0; i < 4; ++i) {
    open.push_back(server.Client());
    auto r = open.back().Send("GET", "/health");
    ASSERT_TRUE(r.ok());
    ASSERT_EQ(r->status, 200);
  }
  auto probe = server.Client();
  auto refused = probe.Send("GET", "/health");
  ASSERT_TRUE(refused.ok());
  EXPECT_EQ(refused->status, 503);
  EXPECT_NE(refused->body.find("SERVICE_UNAVAILABLE"), std::string::npos) << refused->body;
  // Once they close, new connections are served again.
  for (auto& c : open) c.Close();
  EXPECT_TRUE(WaitUntil(
      [&] {
        auto http = server.Client();
        auto r = http.Send("GET", "/health");
        return r.ok() && r->status == 200;
      },
      10s));
  EXPECT_EQ(server.Stop(SIGTERM), 0);
}

// The server's peak resident memory so far, in MiB (VmHWM).
int64_t PeakMemoryMiB(pid_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::stoll(line.substr(6)) / 1024;
  }
  return -1;
}

TEST(Limits, LargeResultsAreCutOffAtMaxResultRowsWithoutBeingComputed) {
  ServerProcess server(Configured("", "[limits]\nmax_statement_memory_mb = 128\n"));
  server.Start();
  auto http = server.Client();
  Prepare(http);

  // A user asking for 100 million rows gets the first 100,000 (the default), marked, at
  // once: the rest are never computed.
  const auto started = Clock::now();
  auto cut = Sql(http, UserAuth(), "SELECT * FROM range(100000000)");
  ASSERT_EQ(cut.status, 200) << cut.error_code();
  EXPECT_EQ(cut.result(0).at("row_count").as_int64(), 100000);
  EXPECT_EQ(cut.rows().size(), 100000u);
  EXPECT_EQ(cut.result(0).at("truncated"), json::value(true));
  EXPECT_LT(Clock::now() - started, 10s);
  // Within the limit, nothing says truncated.
  auto whole = Sql(http, UserAuth(), "SELECT * FROM range(100000)");
  EXPECT_EQ(whole.rows().size(), 100000u);
  EXPECT_FALSE(whole.result(0).contains("truncated"));
  // One row past it, cut within the engine's last chunk of rows, is marked too.
  auto one_more = Sql(http, UserAuth(), "SELECT * FROM range(100001)");
  EXPECT_EQ(one_more.rows().size(), 100000u);
  EXPECT_EQ(one_more.result(0).at("truncated"), json::value(true));

  // A huge value built by a function: refused past the statement's memory, both when the
  // engine folds it into a constant while planning and when it then computes the 400 MB
  // list as a vector (possibly on one of its worker threads). Before the cap this peaked
  // at 4.5 GB and answered.
  std::atomic<bool> done = false;
  std::thread huge([&] {
    auto own = server.Client();
    for (const char* sql : {"SELECT len(range(50000000))", "SELECT sum(len(x)) FROM (SELECT range(50000000) AS x)"}) {
      auto r = Sql(own, UserAuth(), sql);
      EXPECT_EQ(r.status, 507) << sql;
      EXPECT_EQ(r.error_code(), "RESOURCE_EXHAUSTED") << sql;
    }
    // Lists within the limit still answer.
    auto small = Sql(own, UserAuth(), "SELECT len(range(1000000))");
    EXPECT_EQ(json::serialize(small.rows()), "[[1000000]]");
    done = true;
  });
  // Other clients are answered meanwhile.
  int answered = 0;
  while (!done) {
    if (Sql(http, RootAuth(), "SELECT 1").status == 200) ++answered;
  }
  huge.join();
  EXPECT_GT(answered, 0);
  EXPECT_LT(PeakMemoryMiB(server.pid()), 1536);
  EXPECT_EQ(server.Stop(SIGTERM), 0);
}

TEST(Limits, AResultPastTheStatementMemoryIsRefusedAndMemoryStaysBounded) {
  ServerProcess server(
      Configured("", "[limits]\nmax_result_rows = 0\nmax_statement_memory_mb = 64\n"));
  server.Start();
  auto http = server.Client();
  Prepare(http);

  const auto started = Clock::now();
  auto refused = Sql(http, UserAuth(), "SELECT * FROM range(100000000)");
  EXPECT_EQ(refused.status, 507);
  EXPECT_EQ(refused.error_code(), "RESOURCE_EXHAUSTED");
  EXPECT_NE(json::serialize(refused.body).find("max_statement_memory_mb"), std::string::npos)
      << json::serialize(refused.body);
  EXPECT_LT(Clock::now() - started, 10s);
  EXPECT_LT(PeakMemoryMiB(server.pid()), 1024);
  // A large result within the limit is whole.
  EXPECT_EQ(Sql(http, UserAuth(), "SELECT * FROM range(500000)").rows().size(), 500000u);
  EXPECT_EQ(json::serialize(Sql(http, UserAuth(), "SELECT 1").rows()), "[[1]]");
  EXPECT_EQ(server.Stop(SIGTERM), 0);
}

// Statements of a shape that answered quickly lately (point reads, a few tens of µs) run
// on the connection's I/O thread, and answer as they would on the pool. A shape run a dozen
// times with small values and then with a huge one is cut off by the statement timeout and
// answered afterwards. (Engine statements rarely stay under the 300 µs that makes a shape
// quick, so which path that one takes depends on the machine: the test holds either way.)
// One I/O thread: every connection shares it.
TEST(Limits, QuickShapesAnswerRightlyAndASlowOneIsStillCutOff) {
  ServerProcess server(Configured("workers = 1\n", "[limits]\nstatement_timeout_ms = 700\n"));
  server.Start();
  auto http = server.Client();
  Prepare(http);
  ASSERT_EQ(Sql(http, UserAuth(), "INSERT INTO app.t SELECT range FROM range(100)").status, 200);
  auto second = server.Client();
  for (int i = 0; i < 200; ++i) {
    const int id = i * 37 % 150;  // a third of them absent
    auto r = Sql(i % 2 == 0 ? http : second, UserAuth(), "SELECT id FROM app.t WHERE id = " + std::to_string(id));
    ASSERT_EQ(r.status, 200) << json::serialize(r.body);
    EXPECT_EQ(json::serialize(r.rows()), id < 100 ? "[[" + std::to_string(id) + "]]" : "[]") << id;
  }
  auto sum_of = [&](int n) {
    return Sql(http, UserAuth(),
               "SELECT sum(a.x * b.y) FROM range(" + std::to_string(n) + ") a(x), range(" +
                   std::to_string(n) + ") b(y)");
  };
  for (int i = 1; i <= 12; ++i) {
    auto r = sum_of(i);
    ASSERT_EQ(r.status, 200) << json::serialize(r.body);
    const int64_t s = static_cast<int64_t>(i) * (i - 1) / 2;
    EXPECT_EQ(json::serialize(r.rows()), "[[" + std::to_string(s * s) + "]]") << i;
  }
  const auto started = Clock::now();
  auto slow = sum_of(200000);  // 4e10 rows
  EXPECT_EQ(slow.error_code(), "STATEMENT_TIMEOUT") << json::serialize(slow.body);
  EXPECT_LT(Clock::now() - started, 10s);
  auto other = server.Client();
  EXPECT_EQ(json::serialize(Sql(other, RootAuth(), "SELECT 1").rows()), "[[1]]");
  EXPECT_EQ(json::serialize(sum_of(3).rows()), "[[9]]");
  EXPECT_EQ(server.Stop(SIGTERM), 0);
}

// Fairness, with a loose ceiling (bench/run.sh fairness measures it: p99 ~7 ms on 2 cores):
// beside 2 clients of heavy aggregates, a third client's SELECT 1 and point reads are
// answered within a second each.
TEST(Limits, LightStatementsStayFastBesideHeavyAggregates) {
  ServerProcess server;
  server.Start();
  auto http = server.Client();
  Prepare(http);
  ASSERT_EQ(Sql(http, UserAuth(), "INSERT INTO app.t SELECT range FROM range(10000)").status, 200);

  std::atomic<bool> stop = false;
  std::atomic<int> heavy_done = 0;
  std::vector<std::thread> heavy;
  for (int i = 0; i < 2; ++i) {
    heavy.emplace_back([&] {
      auto own = server.Client();
      while (!stop) {
        auto r = Sql(own, UserAuth(),
                     "SELECT count(DISTINCT i % 1000003), sum(i * i % 7) FROM range(10000000) t(i)");
        EXPECT_EQ(r.status, 200) << r.error_code();
        ++heavy_done;
      }
    });
  }
  // The heavy statements are under way once one has finished.
  EXPECT_TRUE(WaitUntil([&] { return heavy_done > 0; }, 60s));
  std::vector<double> millis;
  for (int i = 0; i < 200; ++i) {
    const auto started = Clock::now();
    auto r = Sql(http, UserAuth(),
                 i % 2 == 0 ? std::string("SELECT 1")
                            : "SELECT * FROM app.t WHERE id = " + std::to_string(i * 37 % 10000));
    millis.push_back(std::chrono::duration<double, std::milli>(Clock::now() - started).count());
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.rows().size(), 1u);
  }
  stop = true;
  for (auto& t : heavy) t.join();
  std::sort(millis.begin(), millis.end());
  EXPECT_LT(millis[millis.size() * 99 / 100], 1000.0);
  EXPECT_EQ(server.Stop(SIGTERM), 0);
}

}  // namespace
}  // namespace kalam::testing
