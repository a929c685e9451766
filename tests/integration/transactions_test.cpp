// Transactions through the real server: BEGIN ... COMMIT within one HTTP request's batch —
// atomic commit across tables, read-your-writes in every read path (hot and cold), snapshot
// isolation against concurrent writers, first-committer-wins conflicts, live events after
// the commit only, the limits, and whole transactions after SIGKILL.
#include <signal.h>

#include <atomic>
#include <random>
#include <set>
#include <thread>

#include "server_process.h"
#include "client/ws_client.h"

namespace kalam::testing {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;

std::string Basic(const std::string& user) { return client::BasicAuth(user, user + "-password"); }
std::string Rows(const SqlResponse& r, size_t i) { return json::serialize(r.rows(i)); }
std::string Body(const SqlResponse& r) { return json::serialize(r.body); }

int64_t Count(client::HttpClient& http, const std::string& auth, const std::string& sql) {
  auto r = Sql(http, auth, sql);
  EXPECT_EQ(r.status, 200) << sql << ": " << Body(r);
  if (r.status != 200) return -1;
  return r.rows(0).at(0).at(0).as_int64();
}

class Transactions : public ServerTest {
 protected:
  static void SetUpTestSuite() {
    ServerTest::SetUpTestSuite();
    auto http = server_->Client();
    for (const char* user : {"tia", "tom"}) {
      Sql(http, RootAuth(),
          std::string("CREATE USER '") + user + "' WITH PASSWORD '" + user + "-password' ROLE user");
    }
    auto r = Sql(http, RootAuth(),
                 "CREATE NAMESPACE tx; "
                 "CREATE USER TABLE tx.notes (id BIGINT PRIMARY KEY, body TEXT, n INT DEFAULT 0); "
                 "CREATE SHARED TABLE tx.ledger (id BIGINT PRIMARY KEY, note TEXT) WITH (ACCESS_LEVEL = 'public'); "
                 "CREATE SHARED TABLE tx.counter (id BIGINT PRIMARY KEY, n BIGINT) WITH (ACCESS_LEVEL = 'public'); "
                 "CREATE STREAM TABLE tx.pings (who TEXT) WITH (TTL_SECONDS = 600)");
    ASSERT_EQ(r.status, 200) << Body(r);
  }
};

TEST_F(Transactions, CommitIsAtomicAcrossUserAndSharedTables) {
  auto r = Root("BEGIN; INSERT INTO tx.notes (id, body) VALUES (1, 'one'), (2, 'two'); "
                     "INSERT INTO tx.ledger VALUES (100, 'root wrote two'); COMMIT");
  ASSERT_EQ(r.status, 200) << Body(r);
  ASSERT_EQ(r.body.at("results").as_array().size(), 4u);
  EXPECT_EQ(r.result(3).at("message").as_string(), "Transaction committed");
  EXPECT_EQ(Count(http_, RootAuth(), "SELECT count(*) FROM tx.notes"), 2);
  EXPECT_EQ(Count(http_, RootAuth(), "SELECT count(*) FROM tx.ledger WHERE id = 100"), 1);
  // Other users' partitions stay apart: tom sees none of root's notes.
  EXPECT_EQ(Count(http_, Basic("tom"), "SELECT count(*) FROM tx.notes"), 0);

  // An error in the middle aborts everything before it: the duplicate ledger key fails the
  // third statement, and the notes of the second are not applied either.
  r = Root("BEGIN; INSERT INTO tx.notes (id, body) VALUES (3, 'three'); "
                "INSERT INTO tx.ledger VALUES (100, 'again'); COMMIT");
  EXPECT_EQ(r.status, 400) << Body(r);
  EXPECT_EQ(r.error_code(), "CONSTRAINT_VIOLATION");
  EXPECT_EQ(Count(http_, RootAuth(), "SELECT count(*) FROM tx.notes WHERE id = 3"), 0);

  // ROLLBACK leaves no trace.
  r = Root("BEGIN; INSERT INTO tx.notes (id, body) VALUES (4, 'four'); DELETE FROM tx.notes WHERE id = 1; ROLLBACK");
  ASSERT_EQ(r.status, 200) << Body(r);
  EXPECT_EQ(r.result(3).at("message").as_string(), "Transaction rolled back");
  EXPECT_EQ(Rows(Root("SELECT id FROM tx.notes ORDER BY id"), 0), "[[1],[2]]");

  // STREAM rows too: read back inside, keyed and stamped with their final _seq at COMMIT.
  r = Root("BEGIN; INSERT INTO tx.pings (who) VALUES ('a'), ('b'); SELECT who FROM tx.pings ORDER BY _seq; "
           "INSERT INTO tx.notes (id, body) VALUES (7, 'with pings'); COMMIT");
  ASSERT_EQ(r.status, 200) << Body(r);
  EXPECT_EQ(Rows(r, 2), R"([["a"],["b"]])");
  r = Root("SELECT who, _seq FROM tx.pings ORDER BY _seq");
  ASSERT_EQ(r.rows(0).size(), 2u) << Body(r);
  const int64_t note_seq = Count(http_, RootAuth(), "SELECT _seq FROM tx.notes WHERE id = 7");
  EXPECT_LT(r.rows(0).at(0).at(1).as_int64(), r.rows(0).at(1).at(1).as_int64());
  EXPECT_LT(r.rows(0).at(1).at(1).as_int64(), note_seq);  // statement order
  EXPECT_EQ(Count(http_, RootAuth(), "SELECT count(*) FROM tx.pings WHERE _seq > " + std::to_string(note_seq)), 0);

  // A request that ends without COMMIT applies nothing and says so.
  r = Root("BEGIN; INSERT INTO tx.notes (id, body) VALUES (5, 'five')");
  EXPECT_EQ(r.status, 400) << Body(r);
  EXPECT_EQ(r.error_code(), "TRANSACTION_ABORTED");
  EXPECT_EQ(Count(http_, RootAuth(), "SELECT count(*) FROM tx.notes WHERE id = 5"), 0);
}

// Inside a transaction every read path sees the transaction's own writes over its
// snapshot: the scan, the primary-key fast path, the duplicate check, ON CONFLICT,
// RETURNING and UPDATE ... FROM — with the rows hot, and again after a flush.
TEST_F(Transactions, ReadsItsOwnWritesInEveryPath) {
  ASSERT_EQ(Root("CREATE USER TABLE tx.items (id BIGINT PRIMARY KEY, name TEXT, qty INT); "
                 "CREATE USER TABLE tx.prices (id BIGINT PRIMARY KEY, price INT)").status, 200);
  ASSERT_EQ(As("tia", "INSERT INTO tx.items VALUES (1, 'old', 1); INSERT INTO tx.prices VALUES (1, 10), (2, 20)").status, 200);
  for (const bool flushed : {false, true}) {
    SCOPED_TRACE(flushed ? "after a flush" : "hot");
    if (flushed) {
      for (const char* table : {"tx.items", "tx.prices"}) {
        EXPECT_NE(RunJob(http_, std::string("FLUSH TABLE ") + table).find("\"rows_flushed\":"), std::string::npos);
      }
    }
    auto r = As("tia",
                "BEGIN; "
                "INSERT INTO tx.items VALUES (2, 'new', 2); "                                // 1
                "SELECT id, name, qty FROM tx.items ORDER BY id; "                          // 2 scan
                "SELECT name FROM tx.items WHERE id = 2; "                                  // 3 fast path
                "UPDATE tx.items SET qty = qty + 10 WHERE id = 1 RETURNING qty; "           // 4
                "INSERT INTO tx.items VALUES (2, 'dup', 0) ON CONFLICT (id) DO UPDATE SET qty = excluded.qty + items.qty RETURNING id, qty; "  // 5
                "UPDATE tx.items AS i SET qty = p.price FROM tx.prices p WHERE p.id = i.id AND p.id = 2 RETURNING qty; "  // 6
                "DELETE FROM tx.items WHERE id = 1; "                                       // 7
                "SELECT id, name, qty FROM tx.items ORDER BY id; "                          // 8
                "SELECT count(*) FROM tx.items WHERE id = 1; "                              // 9
                "ROLLBACK");
    ASSERT_EQ(r.status, 200) << Body(r);
    EXPECT_EQ(Rows(r, 2), R"([[1,"old",1],[2,"new",2]])");
    EXPECT_EQ(Rows(r, 3), R"([["new"]])");
    EXPECT_EQ(Rows(r, 4), "[[11]]");
    EXPECT_EQ(Rows(r, 5), "[[2,2]]");
    EXPECT_EQ(Rows(r, 6), "[[20]]");
    EXPECT_EQ(Rows(r, 8), R"([[2,"new",20]])");
    EXPECT_EQ(Rows(r, 9), "[[0]]");
    // The duplicate check sees the transaction's own row.
    r = As("tia", "BEGIN; INSERT INTO tx.items VALUES (3, 'x', 0); INSERT INTO tx.items VALUES (3, 'y', 0); COMMIT");
    EXPECT_EQ(r.error_code(), "CONSTRAINT_VIOLATION") << Body(r);
    // ... and a row the transaction deleted is free again.
    r = As("tia", "BEGIN; DELETE FROM tx.items WHERE id = 1; INSERT INTO tx.items VALUES (1, 'again', 5); "
                  "SELECT name FROM tx.items WHERE id = 1; ROLLBACK");
    ASSERT_EQ(r.status, 200) << Body(r);
    EXPECT_EQ(Rows(r, 3), R"([["again"]])");
    // Nothing of it outside.
    EXPECT_EQ(Rows(As("tia", "SELECT id, name, qty FROM tx.items ORDER BY id"), 0), R"([[1,"old",1]])");
  }
  // Committed after a flush: the cold row's change is there.
  auto r = As("tia", "BEGIN; UPDATE tx.items SET qty = 7 WHERE id = 1; INSERT INTO tx.items VALUES (4, 'four', 4); COMMIT");
  ASSERT_EQ(r.status, 200) << Body(r);
  EXPECT_EQ(Rows(As("tia", "SELECT id, qty FROM tx.items ORDER BY id"), 0), "[[1,7],[4,4]]");
}

// Statements that do not belong inside a transaction, and the grammar's edges.
TEST_F(Transactions, RefusesWhatItCannotHoldWithClearErrors) {
  auto r = Root("BEGIN; INSERT INTO tx.ledger VALUES (900, 'x'); CREATE SHARED TABLE tx.nope (id INT PRIMARY KEY); COMMIT");
  EXPECT_EQ(r.error_code(), "UNSUPPORTED") << Body(r);
  EXPECT_EQ(Count(http_, RootAuth(), "SELECT count(*) FROM tx.ledger WHERE id = 900"), 0);
  EXPECT_EQ(Root("SELECT * FROM tx.nope").error_code(), "NOT_FOUND");
  for (const char* statement : {"FLUSH TABLE tx.ledger", "CREATE USER 'zed' WITH PASSWORD 'zed-password-1' ROLE user",
                                "DROP TABLE tx.ledger", "KILL JOB 'nope'", "ALTER TABLE tx.ledger ADD COLUMN c INT"}) {
    r = Root(std::string("BEGIN; ") + statement + "; COMMIT");
    EXPECT_EQ(r.error_code(), "UNSUPPORTED") << statement << ": " << Body(r);
  }
  EXPECT_EQ(Root("SELECT count(*) FROM tx.ledger").status, 200);  // still there

  // Catalog reads are fine.
  r = Root("BEGIN; SHOW TABLES IN tx; DESCRIBE TABLE tx.ledger; COMMIT");
  EXPECT_EQ(r.status, 200) << Body(r);
  // COMMIT and ROLLBACK without a transaction, BEGIN twice: as PostgreSQL, notices only.
  r = Root("COMMIT; ROLLBACK; BEGIN; BEGIN; COMMIT; END");
  ASSERT_EQ(r.status, 200) << Body(r);
  EXPECT_EQ(r.result(0).at("message").as_string(), "No transaction in progress");
  EXPECT_EQ(r.result(3).at("message").as_string(), "A transaction is already in progress");
  // Spellings and modes.
  for (const char* ok : {"START TRANSACTION; COMMIT", "BEGIN WORK; COMMIT WORK", "BEGIN TRANSACTION; ROLLBACK TRANSACTION",
                         "BEGIN ISOLATION LEVEL REPEATABLE READ; ABORT", "BEGIN READ WRITE, ISOLATION LEVEL READ COMMITTED; END",
                         "begin; commit and no chain"}) {
    EXPECT_EQ(Root(ok).status, 200) << ok;
  }
  EXPECT_EQ(Root("BEGIN ISOLATION LEVEL SERIALIZABLE").error_code(), "UNSUPPORTED");
  EXPECT_EQ(Root("BEGIN; ROLLBACK TO SAVEPOINT a").error_code(), "UNSUPPORTED");
  EXPECT_EQ(Root("BEGIN; COMMIT AND CHAIN").error_code(), "UNSUPPORTED");
  EXPECT_EQ(Root("BEGIN ISOLATION LEVEL sometimes").error_code(), "INVALID_SQL");
  EXPECT_EQ(Root("BEGIN nonsense").error_code(), "INVALID_SQL");
  // READ ONLY reads, and refuses writes.
  r = Root("BEGIN READ ONLY; SELECT count(*) FROM tx.ledger; INSERT INTO tx.ledger VALUES (901, 'x'); COMMIT");
  EXPECT_EQ(r.error_code(), "INVALID_SQL") << Body(r);
  EXPECT_EQ(Count(http_, RootAuth(), "SELECT count(*) FROM tx.ledger WHERE id = 901"), 0);
  // Parameters with a transaction batch: parameters take one statement, as before.
  EXPECT_EQ(Root("BEGIN; SELECT $1; COMMIT", R"("params":[1])").error_code(), "PARAMS_WITH_BATCH");
  // EXECUTE AS inside a transaction writes in the target's partition, at COMMIT.
  r = Root("BEGIN; EXECUTE AS USER 'tom' (INSERT INTO tx.notes (id, body) VALUES (50, 'for tom')); COMMIT");
  ASSERT_EQ(r.status, 200) << Body(r);
  EXPECT_EQ(Rows(As("tom", "SELECT id, body FROM tx.notes"), 0), R"([[50,"for tom"]])");
}

TEST(TransactionLimits, RowLimitRollsBackAndSaysWhy) {
  ServerProcess server({"", "[limits]\nmax_transaction_rows = 5\n", {}, true, ""});
  server.Start();
  auto http = server.Client();
  ASSERT_EQ(Sql(http, RootAuth(), "CREATE NAMESPACE app; CREATE SHARED TABLE app.t (id BIGINT PRIMARY KEY)").status, 200);
  auto r = Sql(http, RootAuth(), "BEGIN; INSERT INTO app.t SELECT * FROM range(4); INSERT INTO app.t VALUES (10), (11); COMMIT");
  EXPECT_EQ(r.status, 507) << Body(r);
  EXPECT_EQ(r.error_code(), "RESOURCE_EXHAUSTED");
  EXPECT_EQ(r.body.at("error").at("message").as_string().find("max_transaction_rows") != std::string::npos, true) << Body(r);
  EXPECT_EQ(Count(http, RootAuth(), "SELECT count(*) FROM app.t"), 0);
  // Within the limit it commits; outside a transaction the limit does not apply.
  EXPECT_EQ(Sql(http, RootAuth(), "BEGIN; INSERT INTO app.t SELECT * FROM range(5); COMMIT").status, 200);
  EXPECT_EQ(Sql(http, RootAuth(), "INSERT INTO app.t SELECT * FROM range(100, 120)").status, 200);
  EXPECT_EQ(Count(http, RootAuth(), "SELECT count(*) FROM app.t"), 25);
}

// Readers never see part of a transaction: each commit inserts the same number of rows into
// two tables, and every single-statement read of both counts sees them equal.
TEST_F(Transactions, ConcurrentReadersSeeWholeTransactionsOnly) {
  ASSERT_EQ(Root("CREATE SHARED TABLE tx.left_side (id BIGINT PRIMARY KEY) WITH (ACCESS_LEVEL = 'public'); "
                 "CREATE SHARED TABLE tx.right_side (id BIGINT PRIMARY KEY) WITH (ACCESS_LEVEL = 'public')").status, 200);
  constexpr int kWriters = 3, kPerWriter = 20, kRows = 4;
  std::atomic<int> committed{0};
  std::atomic<bool> done{false};
  std::vector<std::thread> threads;
  for (int w = 0; w < kWriters; ++w) {
    threads.emplace_back([&, w] {
      auto http = server_->Client();
      for (int t = 0; t < kPerWriter; ++t) {
        std::string values;
        for (int k = 0; k < kRows; ++k) {
          values += (k ? ", (" : "(") + std::to_string((w * kPerWriter + t) * kRows + k) + ")";
        }
        auto r = Sql(http, RootAuth(), "BEGIN; INSERT INTO tx.left_side VALUES " + values +
                                           "; INSERT INTO tx.right_side VALUES " + values + "; COMMIT");
        EXPECT_EQ(r.status, 200) << Body(r);
        if (r.status == 200) ++committed;
      }
    });
  }
  std::atomic<int> reads{0}, torn{0};
  for (int reader = 0; reader < 2; ++reader) {
    threads.emplace_back([&] {
      auto http = server_->Client();
      while (!done) {
        auto r = Sql(http, Basic("tom"), "SELECT (SELECT count(*) FROM tx.left_side), (SELECT count(*) FROM tx.right_side)");
        if (r.status != 200) continue;
        const auto& row = r.rows(0).at(0).as_array();
        const int64_t left = row.at(0).as_int64(), right = row.at(1).as_int64();
        if (left != right || left % kRows != 0) ++torn;
        ++reads;
      }
    });
  }
  for (int w = 0; w < kWriters; ++w) threads[w].join();
  done = true;
  for (size_t i = kWriters; i < threads.size(); ++i) threads[i].join();
  EXPECT_EQ(torn.load(), 0);
  EXPECT_GT(reads.load(), 0);
  EXPECT_EQ(committed.load(), kWriters * kPerWriter);
  EXPECT_EQ(Count(http_, RootAuth(), "SELECT count(*) FROM tx.right_side"), kWriters * kPerWriter * kRows);

  // A transaction reads one snapshot: two counts in it agree while others commit between.
  std::atomic<bool> writing{true};
  std::thread writer([&] {
    auto http = server_->Client();
    for (int i = 0; writing; ++i) {
      Sql(http, RootAuth(), "INSERT INTO tx.left_side VALUES (" + std::to_string(100000 + i) + ")");
    }
  });
  int differed = 0;
  for (int i = 0; i < 10; ++i) {
    auto r = Root("BEGIN; SELECT count(*) FROM tx.left_side; SELECT count(*) FROM range(3000000); "
                  "SELECT count(*) FROM tx.left_side; SELECT id FROM tx.left_side ORDER BY id DESC LIMIT 1; COMMIT");
    ASSERT_EQ(r.status, 200) << Body(r);
    if (Rows(r, 1) != Rows(r, 3)) ++differed;
  }
  writing = false;
  writer.join();
  EXPECT_EQ(differed, 0);
}

// N clients increment one counter with read-modify-write transactions: the final value is
// the number of successful COMMITs; the losers get TRANSACTION_CONFLICT and change nothing.
TEST_F(Transactions, FirstCommitterWinsOnConflicts) {
  ASSERT_EQ(Root("INSERT INTO tx.counter VALUES (1, 0)").status, 200);
  constexpr int kClients = 6, kTries = 25;
  std::atomic<int> wins{0}, conflicts{0}, other{0};
  std::vector<std::thread> threads;
  for (int c = 0; c < kClients; ++c) {
    threads.emplace_back([&] {
      auto http = server_->Client();
      for (int t = 0; t < kTries; ++t) {
        // The read and the write are separate statements: the UPDATE's value comes from
        // the transaction's snapshot, which another commit may have overtaken.
        auto r = Sql(http, RootAuth(),
                     "BEGIN; SELECT n FROM tx.counter WHERE id = 1; "
                     "UPDATE tx.counter SET n = n + 1 WHERE id = 1; COMMIT");
        if (r.status == 200) {
          ++wins;
        } else if (r.error_code() == "TRANSACTION_CONFLICT" && r.status == 409) {
          ++conflicts;
        } else {
          ++other;
          ADD_FAILURE() << Body(r);
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(other.load(), 0);
  EXPECT_EQ(wins + conflicts, kClients * kTries);
  EXPECT_GT(wins.load(), 0);
  EXPECT_EQ(Count(http_, RootAuth(), "SELECT n FROM tx.counter WHERE id = 1"), wins.load());

  // Single statements racing transactions: every increment lands exactly once.
  ASSERT_EQ(Root("UPDATE tx.counter SET n = 0 WHERE id = 1").status, 200);
  std::atomic<int> applied{0};
  threads.clear();
  for (int c = 0; c < 4; ++c) {
    threads.emplace_back([&, c] {
      auto http = server_->Client();
      for (int t = 0; t < kTries; ++t) {
        const std::string update = "UPDATE tx.counter SET n = n + 1 WHERE id = 1";
        auto r = Sql(http, RootAuth(), c % 2 ? update : "BEGIN; " + update + "; COMMIT");
        if (r.status == 200) ++applied;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(Count(http_, RootAuth(), "SELECT n FROM tx.counter WHERE id = 1"), applied.load());
}

// Subscribers get a committed transaction's events after COMMIT, in order, once, with the
// final _seq values; a rolled-back transaction sends nothing.
TEST_F(Transactions, LiveEventsFollowTheCommitOnly) {
  client::WsClient ws;
  ASSERT_TRUE(ws.Connect("127.0.0.1", server_->port(), "/v1/ws", {{"Authorization", Basic("tom")}}).ok());
  auto next = [&](std::chrono::milliseconds timeout = 3000ms) -> json::value {
    auto text = ws.Receive(timeout);
    return text ? json::parse(*text) : json::value(nullptr);
  };
  auto next_of = [&](const std::string& type) -> json::value {
    for (auto m = next(); !m.is_null(); m = next()) {
      if (m.at("type").as_string() == type) return m;
    }
    return nullptr;
  };
  ASSERT_EQ(next().at("type").as_string(), "auth_success");
  ASSERT_TRUE(ws.Send(R"({"type":"subscribe","subscription":{"id":"n","sql":"SELECT id, body FROM tx.notes WHERE id >= 200","options":{}}})").ok());
  ASSERT_FALSE(next_of("subscription_ack").is_null());

  ASSERT_EQ(As("tom", "BEGIN; INSERT INTO tx.notes (id, body) VALUES (200, 'gone'); ROLLBACK").status, 200);
  auto r = As("tom", "BEGIN; INSERT INTO tx.notes (id, body) VALUES (201, 'a'); "
                     "UPDATE tx.notes SET body = 'b' WHERE id = 201; "
                     "INSERT INTO tx.notes (id, body) VALUES (202, 'c'); DELETE FROM tx.notes WHERE id = 202; COMMIT");
  ASSERT_EQ(r.status, 200) << Body(r);
  std::vector<std::string> kinds;
  std::vector<int64_t> seqs;
  for (int i = 0; i < 4; ++i) {
    json::value m = next_of("change");
    ASSERT_FALSE(m.is_null()) << "change " << i;
    kinds.push_back(std::string(m.at("change_type").as_string()));
    const char* rows = kinds.back() == "delete" ? "old_values" : "rows";
    for (const auto& row : m.at(rows).as_array()) {
      EXPECT_NE(row.at("id").as_int64(), 200) << json::serialize(m);  // the rolled-back row
      seqs.push_back(row.at("_seq").as_int64());
    }
  }
  EXPECT_EQ(kinds, (std::vector<std::string>{"insert", "update", "insert", "delete"}));
  // In commit order; the update's row is the one stored.
  EXPECT_TRUE(std::is_sorted(seqs.begin(), seqs.end()));
  EXPECT_EQ(Count(http_, Basic("tom"), "SELECT _seq FROM tx.notes WHERE id = 201"), seqs[1]);
  EXPECT_TRUE(next(300ms).is_null());  // once
}

// Flushes and compactions run while transactions are open and lose nothing: a transaction
// that began before them reads its snapshot to the end, hot or cold.
TEST_F(Transactions, FlushAndCompactionDuringATransactionKeepItsSnapshot) {
  ASSERT_EQ(Root("CREATE SHARED TABLE tx.stock (id BIGINT PRIMARY KEY, qty BIGINT) WITH (ACCESS_LEVEL = 'public'); "
                 "INSERT INTO tx.stock SELECT i, 1 FROM range(50) t(i)").status, 200);
  std::atomic<bool> stop{false};
  std::atomic<int> rounds{0};
  std::thread changer([&] {
    auto http = server_->Client();
    while (!stop) {
      Sql(http, RootAuth(), "UPDATE tx.stock SET qty = qty + 1 WHERE id % 2 = 0");
      RunJob(http, "FLUSH TABLE tx.stock");
      Sql(http, RootAuth(), "UPDATE tx.stock SET qty = qty + 1 WHERE id % 3 = 0; DELETE FROM tx.stock WHERE id = 49");
      RunJob(http, "FLUSH TABLE tx.stock");
      RunJob(http, "STORAGE COMPACT TABLE tx.stock");
      Sql(http, RootAuth(), "INSERT INTO tx.stock VALUES (49, 1) ON CONFLICT (id) DO NOTHING");
      ++rounds;
    }
  });
  int differed = 0;
  for (int i = 0; i < 25 || rounds < 3; ++i) {
    auto r = Root("BEGIN; SELECT sum(qty), count(*) FROM tx.stock; "
                  "SELECT sum(i * i % 7) FROM range(20000000) t(i); "
                  "SELECT sum(qty), count(*) FROM tx.stock; COMMIT");
    ASSERT_EQ(r.status, 200) << Body(r);
    if (Rows(r, 1) != Rows(r, 3)) {
      ++differed;
      ADD_FAILURE() << Rows(r, 1) << " then " << Rows(r, 3);
    }
    if (i > 200) break;
  }
  stop = true;
  changer.join();
  EXPECT_EQ(differed, 0);
  EXPECT_GE(rounds.load(), 3);
  // Afterwards a transaction writes over the flushed and compacted rows and commits.
  auto r = Root("BEGIN; UPDATE tx.stock SET qty = 0 WHERE id < 10; COMMIT");
  ASSERT_EQ(r.status, 200) << Body(r);
  EXPECT_EQ(Count(http_, RootAuth(), "SELECT count(*) FROM tx.stock WHERE id < 10 AND qty = 0"), 10);
}

// SIGKILL during commits under load with sync_writes: after each restart every
// acknowledged transaction is whole, and no transaction is half there.
TEST(TransactionCrash, EveryTransactionIsWholeAfterSigkill) {
  ServerProcess server({"", "[storage]\nsync_writes = true\n", {}, true, ""});
  server.Start();
  {
    auto http = server.Client();
    ASSERT_EQ(Sql(http, RootAuth(), "CREATE NAMESPACE app; CREATE SHARED TABLE app.a (id BIGINT PRIMARY KEY, txn BIGINT); "
                                    "CREATE SHARED TABLE app.b (id BIGINT PRIMARY KEY, txn BIGINT)").status, 200);
  }
  constexpr int kRowsPerTable = 3;
  std::mt19937 random(7);
  std::set<int64_t> acknowledged;
  std::mutex acknowledged_mutex;
  int64_t next_txn = 0;
  for (int trial = 0; trial < 3; ++trial) {
    std::atomic<bool> stop{false};
    std::atomic<int64_t> txn_counter{next_txn};
    std::vector<std::thread> writers;
    for (int w = 0; w < 4; ++w) {
      writers.emplace_back([&] {
        auto http = server.Client();
        while (!stop) {
          const int64_t txn = txn_counter++;
          std::string values_a, values_b;
          for (int k = 0; k < kRowsPerTable; ++k) {
            const std::string row = "(" + std::to_string(txn * kRowsPerTable + k) + ", " + std::to_string(txn) + ")";
            values_a += (k ? ", " : "") + row;
            values_b += (k ? ", " : "") + row;
          }
          SqlResponse r;
          try {
            r = Sql(http, RootAuth(), "BEGIN; INSERT INTO app.a VALUES " + values_a +
                                          "; INSERT INTO app.b VALUES " + values_b + "; COMMIT");
          } catch (const std::exception&) {
            return;  // killed: this transaction was not acknowledged
          }
          if (r.status == 200) {
            std::lock_guard lock(acknowledged_mutex);
            acknowledged.insert(txn);
          }
        }
      });
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(300 + random() % 700));  // load, then the kill at a random moment
    EXPECT_EQ(server.Stop(SIGKILL), 128 + SIGKILL);
    stop = true;
    for (auto& t : writers) t.join();
    next_txn = txn_counter + 1;
    server.Start();
    auto http = server.Client();
    auto r = Sql(http, RootAuth(),
                 "SELECT coalesce(a.txn, b.txn) AS txn, count(DISTINCT a.id), count(DISTINCT b.id) FROM app.a a "
                 "FULL OUTER JOIN app.b b ON a.id = b.id GROUP BY ALL ORDER BY 1");
    ASSERT_EQ(r.status, 200) << Body(r);
    std::set<int64_t> present;
    for (const auto& row : r.rows(0)) {
      const auto& cells = row.as_array();
      const int64_t txn = cells.at(0).as_int64();
      EXPECT_EQ(cells.at(1).as_int64(), kRowsPerTable) << "transaction " << txn << " is torn";
      EXPECT_EQ(cells.at(2).as_int64(), kRowsPerTable) << "transaction " << txn << " is torn";
      present.insert(txn);
    }
    std::lock_guard lock(acknowledged_mutex);
    for (const int64_t txn : acknowledged) EXPECT_TRUE(present.contains(txn)) << "acknowledged transaction " << txn << " lost";
    EXPECT_GT(acknowledged.size(), 0u);
  }
}

}  // namespace
}  // namespace kalam::testing
