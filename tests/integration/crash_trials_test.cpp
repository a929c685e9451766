// Crash trials: concurrent transactions, single-statement writers, flushes, compactions and
// DDL with sync_writes on; SIGKILL at a random moment; restart; then every acknowledged
// write is there exactly once, no transaction is torn, no table is half created, no segment
// is left outside its manifest. `make crash-trials TRIALS=N` runs N of them (the
// environment variable KALAM_CRASH_TRIALS); `make test` runs a few.
#include <signal.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include "server_process.h"

namespace kalam::testing {
namespace {

namespace json = boost::json;
namespace fs = std::filesystem;

int Trials() {
  const char* env = std::getenv("KALAM_CRASH_TRIALS");
  const int n = env != nullptr ? std::atoi(env) : 0;
  return n > 0 ? n : 3;
}

// What the clients were told was committed, across trials.
struct Acknowledged {
  std::mutex mutex;
  std::set<int64_t> transactions;  // ids of committed BEGIN ... COMMIT batches
  std::set<int64_t> rows;          // ids of committed single-statement INSERTs
  std::set<int> tables;            // scratch tables whose CREATE was acknowledged (and no DROP sent)
  std::set<int> dropped;           // scratch tables whose DROP was acknowledged
};

// Runs body in a loop until stop, on its own connection; a refused or lost connection
// (the kill) ends it.
std::thread Worker(const ServerProcess& server, std::atomic<bool>& stop,
                   std::function<void(client::HttpClient&)> body) {
  return std::thread([&server, &stop, body = std::move(body)] {
    auto http = server.Client();
    while (!stop) {
      try {
        body(http);
      } catch (const std::exception&) {
        return;
      }
    }
  });
}

TEST(CrashTrials, AcknowledgedWritesSurviveSigkillWhole) {
  ServerProcess server({"", "[storage]\nsync_writes = true\n[flush]\ncheck_interval_secs = 1\n", {}, true, ""});
  server.Start();
  {
    auto http = server.Client();
    auto r = Sql(http, RootAuth(),
                 "CREATE NAMESPACE app; "
                 "CREATE SHARED TABLE app.a (id BIGINT PRIMARY KEY, txn BIGINT) WITH (FLUSH_POLICY = 'rows:300'); "
                 "CREATE SHARED TABLE app.b (id BIGINT PRIMARY KEY, txn BIGINT) WITH (FLUSH_POLICY = 'rows:300'); "
                 "CREATE SHARED TABLE app.c (id BIGINT PRIMARY KEY, v TEXT) WITH (FLUSH_POLICY = 'rows:300')");
    ASSERT_EQ(r.status, 200) << json::serialize(r.body);
  }
  constexpr int kRowsPerTable = 3;
  std::mt19937 random(20261202);
  Acknowledged acked;
  std::atomic<int64_t> next_txn{0}, next_row{0};
  std::atomic<int> next_table{0};
  const int trials = Trials();
  for (int trial = 0; trial < trials; ++trial) {
    SCOPED_TRACE("trial " + std::to_string(trial));
    std::atomic<bool> stop{false};
    std::vector<std::thread> workers;
    for (int w = 0; w < 2; ++w) {
      workers.push_back(Worker(server, stop, [&](client::HttpClient& http) {
        const int64_t txn = next_txn++;
        std::string values;
        for (int k = 0; k < kRowsPerTable; ++k) {
          values += std::string(k ? ", " : "") + "(" + std::to_string(txn * kRowsPerTable + k) + ", " + std::to_string(txn) + ")";
        }
        // Sometimes the transaction also updates rows of earlier ones (hot or flushed).
        const std::string touch = txn % 3 == 0 ? "UPDATE app.a SET txn = txn WHERE id < " + std::to_string(txn) + " AND id % 97 = 0; " : "";
        auto r = Sql(http, RootAuth(), "BEGIN; INSERT INTO app.a VALUES " + values + "; " + touch +
                                           "INSERT INTO app.b VALUES " + values + "; COMMIT");
        if (r.status == 200) {
          std::lock_guard lock(acked.mutex);
          acked.transactions.insert(txn);
        }
      }));
    }
    workers.push_back(Worker(server, stop, [&](client::HttpClient& http) {
      const int64_t id = next_row++;
      auto r = Sql(http, RootAuth(), "INSERT INTO app.c VALUES (" + std::to_string(id) + ", 'v')");
      if (r.status == 200) {
        std::lock_guard lock(acked.mutex);
        acked.rows.insert(id);
      }
    }));
    workers.push_back(Worker(server, stop, [&](client::HttpClient& http) {
      for (const char* statement : {"FLUSH TABLE app.a", "FLUSH TABLE app.c", "STORAGE COMPACT TABLE app.a",
                                    "FLUSH TABLE app.b", "STORAGE COMPACT TABLE app.c"}) {
        if (stop) return;
        Sql(http, RootAuth(), statement);
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
    }));
    workers.push_back(Worker(server, stop, [&](client::HttpClient& http) {
      const int n = next_table++;
      const std::string name = "app.scratch_" + std::to_string(n);
      auto r = Sql(http, RootAuth(), "CREATE SHARED TABLE " + name + " (id BIGINT PRIMARY KEY, v TEXT); "
                                     "INSERT INTO " + name + " VALUES (1, 'x')");
      if (r.status != 200) return;
      {
        std::lock_guard lock(acked.mutex);
        acked.tables.insert(n);
      }
      if (n % 2 == 0) {
        {
          std::lock_guard lock(acked.mutex);
          acked.tables.erase(n);  // a DROP in flight may or may not land
        }
        if (Sql(http, RootAuth(), "DROP TABLE " + name).status == 200) {
          std::lock_guard lock(acked.mutex);
          acked.dropped.insert(n);
        }
      }
    }));
    std::this_thread::sleep_for(std::chrono::milliseconds(200 + random() % 1300));
    EXPECT_EQ(server.Stop(SIGKILL), 128 + SIGKILL);
    stop = true;
    for (auto& t : workers) t.join();
    server.Start();

    auto http = server.Client();
    // Transactions: whole or absent; every acknowledged one whole.
    auto r = Sql(http, RootAuth(),
                 "SELECT coalesce(a.txn, b.txn), count(DISTINCT a.id), count(DISTINCT b.id) FROM app.a a "
                 "FULL OUTER JOIN app.b b ON a.id = b.id GROUP BY ALL");
    ASSERT_EQ(r.status, 200) << json::serialize(r.body);
    std::set<int64_t> present;
    for (const auto& row : r.rows()) {
      const auto& cells = row.as_array();
      ASSERT_EQ(cells.at(1).as_int64(), kRowsPerTable) << "transaction " << cells.at(0).as_int64() << " torn";
      ASSERT_EQ(cells.at(2).as_int64(), kRowsPerTable) << "transaction " << cells.at(0).as_int64() << " torn";
      present.insert(cells.at(0).as_int64());
    }
    std::lock_guard lock(acked.mutex);
    for (const int64_t txn : acked.transactions) ASSERT_TRUE(present.contains(txn)) << "transaction " << txn << " lost";
    // Single rows: every acknowledged one, exactly once.
    r = Sql(http, RootAuth(), "SELECT id, count(*) FROM app.c GROUP BY id HAVING count(*) > 1");
    ASSERT_EQ(r.status, 200);
    EXPECT_EQ(r.rows().size(), 0u) << json::serialize(r.rows());
    r = Sql(http, RootAuth(), "SELECT id FROM app.c");
    std::set<int64_t> rows;
    for (const auto& row : r.rows()) rows.insert(row.at(0).as_int64());
    for (const int64_t id : acked.rows) ASSERT_TRUE(rows.contains(id)) << "row " << id << " lost";
    // Tables: an acknowledged CREATE is there with its row; an acknowledged DROP is gone.
    for (const int n : acked.tables) {
      r = Sql(http, RootAuth(), "SELECT v FROM app.scratch_" + std::to_string(n));
      ASSERT_EQ(r.status, 200) << "scratch_" << n << ": " << json::serialize(r.body);
      EXPECT_EQ(json::serialize(r.rows()), R"([["x"]])");
    }
    for (const int n : acked.dropped) {
      EXPECT_EQ(Sql(http, RootAuth(), "SELECT v FROM app.scratch_" + std::to_string(n)).error_code(), "NOT_FOUND");
    }
    // No temporary segment left behind.
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator(server.data_dir() + "/storage", ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
      EXPECT_FALSE(it->path().string().ends_with(".tmp")) << it->path();
    }
  }
  // The trials ran flushes and compactions, not only writes.
  auto http = server.Client();
  auto jobs = Sql(http, RootAuth(),
                  "SELECT job_type, count(*) FROM system.jobs WHERE status = 'completed' GROUP BY ALL ORDER BY 1");
  const std::string completed = json::serialize(jobs.rows());
  EXPECT_NE(completed.find("\"flush\""), std::string::npos) << completed;
  std::lock_guard lock(acked.mutex);
  EXPECT_GT(acked.transactions.size(), 0u);
  EXPECT_GT(acked.rows.size(), 0u);
  std::cout << "crash trials: " << trials << ", acknowledged transactions " << acked.transactions.size()
            << ", rows " << acked.rows.size() << ", tables " << acked.tables.size() + acked.dropped.size()
            << ", completed jobs " << completed << "\n";
}

}  // namespace
}  // namespace kalam::testing
