// Tables and data through the real server: types, constraints,
// isolation by storage key, EXECUTE AS, schema evolution, persistence, crashes and
// concurrent writers.
#include <gtest/gtest.h>

#include <atomic>
#include <csignal>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include "server_process.h"

namespace kalam::testing {
namespace {

namespace json = boost::json;

class Tables : public ServerTest {
 protected:
  void SetUp() override {
    ASSERT_EQ(Root("CREATE NAMESPACE IF NOT EXISTS app").status, 200);
  }
  std::string Rows(const SqlResponse& r) { return json::serialize(r.rows()); }
};

TEST_F(Tables, EveryTypeRoundTrips) {
  ASSERT_EQ(Root("CREATE SHARED TABLE app.types (id BIGINT PRIMARY KEY, b BOOLEAN, s SMALLINT, "
                 "i INT, big BIGINT, f FLOAT, d DOUBLE, dec DECIMAL(12,3), t TEXT, bytes BYTES, "
                 "doc JSON, ts TIMESTAMP, day DATE, tod TIME, u UUID)")
                .status,
            200);
  auto insert = Root(
      "INSERT INTO app.types VALUES (1, true, -32768, 2147483647, 9007199254740993, 1.5, "
      "-2.25, 123456789.125, 'héllo 🌍 \"q\"', '\\xAA\\x00'::BLOB, '{\"k\":[1,null]}', "
      "'2026-11-24 05:00:00.123456', '2026-11-24', '23:59:59.5', "
      "'01936b2e-1e2f-7000-8000-000000000001'), "
      "(2, NULL, NULL, NULL, NULL, NULL, NULL, NULL, '', NULL, NULL, NULL, NULL, NULL, NULL)");
  ASSERT_EQ(insert.status, 200) << json::serialize(insert.body);
  auto r = Root("SELECT * EXCLUDE (_seq) FROM app.types ORDER BY id");
  ASSERT_EQ(r.status, 200) << json::serialize(r.body);
  const std::string text = json::serialize(r.body);
  EXPECT_NE(text.find("9007199254740993"), std::string::npos);  // every digit
  const auto& row = r.rows()[0].as_array();
  EXPECT_EQ(row[1].as_bool(), true);
  EXPECT_EQ(row[2].as_int64(), -32768);
  EXPECT_EQ(row[3].as_int64(), 2147483647);
  EXPECT_DOUBLE_EQ(row[5].as_double(), 1.5);
  EXPECT_DOUBLE_EQ(row[6].as_double(), -2.25);
  EXPECT_EQ(row[7].as_string(), "123456789.125");
  EXPECT_EQ(row[8].as_string(), "héllo 🌍 \"q\"");
  EXPECT_EQ(row[9].as_string(), "qgA=");
  EXPECT_EQ(json::serialize(row[10]), R"({"k":[1,null]})");
  EXPECT_EQ(row[11].as_string(), "2026-11-24T05:00:00.123456Z");
  EXPECT_EQ(row[12].as_string(), "2026-11-24");
  EXPECT_EQ(row[13].as_string(), "23:59:59.500000");
  EXPECT_EQ(row[14].as_string(), "01936b2e-1e2f-7000-8000-000000000001");
  const auto& empty = r.rows()[1].as_array();
  EXPECT_EQ(empty[8].as_string(), "");  // empty string is not NULL
  for (size_t i = 1; i < empty.size(); ++i) {
    if (i != 8) {
      EXPECT_TRUE(empty[i].is_null()) << i;
    }
  }
  auto schema = r.result(0).at("schema").as_array();
  EXPECT_EQ(schema[7].at("data_type").as_string(), "Decimal(12,3)");
  EXPECT_EQ(schema[10].at("data_type").as_string(), "Json");
  EXPECT_EQ(schema[14].at("data_type").as_string(), "Uuid");

  // Parameters bind into the same types.
  auto p = Root("INSERT INTO app.types (id, big, t, d) VALUES ($1, $2, $3, $4)",
                R"("params":[3, 9223372036854775807, "it's", 0.5])");
  ASSERT_EQ(p.status, 200) << json::serialize(p.body);
  auto back = Root("SELECT big, t, d FROM app.types WHERE id = 3");
  EXPECT_EQ(json::serialize(back.body).find("9223372036854775807") != std::string::npos, true);
  EXPECT_EQ(back.rows()[0].at(1).as_string(), "it's");
}

// The hot scan skips rows failing `column = constant` before the engine sees them; on
// random rows (NULLs, updates, deletes, a column added later with a default) every such
// count agrees with the rows the client reads and counts itself.
TEST_F(Tables, EqualityFiltersInTheScanAgreeWithTheRows) {
  ASSERT_EQ(Root("CREATE SHARED TABLE app.eq (id BIGINT PRIMARY KEY, n INT, s TEXT, b BOOLEAN, "
                 "t TIMESTAMP, d DOUBLE) WITH (FLUSH_POLICY = 'rows:1000000000,interval:86400')")
                .status,
            200);
  std::mt19937 random(20261203);
  auto pick = [&](int n) { return static_cast<int>(random() % static_cast<unsigned>(n)); };
  auto value_sql = [&](int column) -> std::string {
    if (pick(8) == 0) return "NULL";
    switch (column) {
      case 0: return std::to_string(pick(7) - 3);
      case 1: return "'v" + std::to_string(pick(5)) + "'";
      case 2: return pick(2) ? "true" : "false";
      case 3: return "TIMESTAMP '2026-01-0" + std::to_string(1 + pick(3)) + " 00:00:00'";
      default: return pick(2) ? "0.0" : "-0.0";
    }
  };
  for (int id = 0; id < 300; ++id) {
    ASSERT_EQ(Root("INSERT INTO app.eq VALUES (" + std::to_string(id) + ", " + value_sql(0) + ", " + value_sql(1) +
                   ", " + value_sql(2) + ", " + value_sql(3) + ", " + value_sql(4) + ")")
                  .status,
              200);
  }
  for (int k = 0; k < 60; ++k) {
    const std::string id = std::to_string(pick(300));
    ASSERT_EQ(Root(pick(3) == 0 ? "DELETE FROM app.eq WHERE id = " + id
                                : "UPDATE app.eq SET n = " + value_sql(0) + ", s = " + value_sql(1) + " WHERE id = " + id)
                  .status,
              200);
  }
  // Rows written before the column existed read its default.
  ASSERT_EQ(Root("ALTER TABLE app.eq ADD COLUMN k INT DEFAULT 7").status, 200);
  for (int id = 300; id < 340; ++id) {
    ASSERT_EQ(Root("INSERT INTO app.eq (id, n, k) VALUES (" + std::to_string(id) + ", " + value_sql(0) + ", " +
                   std::to_string(pick(3) + 6) + ")")
                  .status,
              200);
  }
  const json::array rows = Root("SELECT n, s, b, t, d, k FROM app.eq").rows();
  ASSERT_GT(rows.size(), 250u);
  // column, its type, its index in rows, constants to compare with.
  struct Probe {
    std::string column, type;
    size_t index;
    std::vector<std::string> values;
  };
  const std::vector<Probe> probes = {
      {"n", "INT", 0, {"-3", "0", "2", "9"}},
      {"s", "TEXT", 1, {"'v0'", "'v3'", "'V3'", "'v3 '"}},
      {"b", "BOOLEAN", 2, {"true", "false"}},
      {"t", "TIMESTAMP", 3, {"TIMESTAMP '2026-01-02 00:00:00'", "TIMESTAMP '2026-01-02 00:00:01'"}},
      {"k", "INT", 5, {"6", "7", "8"}},
  };
  for (const Probe& probe : probes) {
    for (const std::string& v : probe.values) {
      // The client counts the rows whose value is the constant as the server writes it.
      const std::string wanted =
          json::serialize(Root("SELECT CAST(" + v + " AS " + probe.type + ")").rows()[0].as_array()[0]);
      int64_t expected = 0;
      for (const auto& row : rows) {
        if (json::serialize(row.as_array()[probe.index]) == wanted) ++expected;
      }
      auto ids = Root("SELECT id FROM app.eq WHERE " + probe.column + " = " + v).rows();
      EXPECT_EQ(static_cast<int64_t>(ids.size()), expected) << probe.column << " = " << v;
      auto counted = Root("SELECT count(*) FROM app.eq WHERE " + probe.column + " = " + v).rows();
      EXPECT_EQ(counted[0].as_array()[0].as_int64(), expected) << probe.column << " = " << v;
    }
  }
  // Floating point is left to the engine, where -0.0 = 0.0: both match every non-NULL d.
  auto non_null = Root("SELECT count(d) FROM app.eq").rows()[0].as_array()[0].as_int64();
  EXPECT_EQ(Root("SELECT count(*) FROM app.eq WHERE d = 0.0").rows()[0].as_array()[0].as_int64(), non_null);
  EXPECT_EQ(Root("SELECT count(*) FROM app.eq WHERE d = -0.0").rows()[0].as_array()[0].as_int64(), non_null);
  // NULL never equals: nothing comes back.
  EXPECT_TRUE(Root("SELECT id FROM app.eq WHERE n = NULL").rows().empty());
}

TEST_F(Tables, ConstraintsLeaveNothingWritten) {
  ASSERT_EQ(Root("CREATE SHARED TABLE app.strict (id BIGINT PRIMARY KEY, name TEXT NOT NULL, n INT)").status, 200);
  ASSERT_EQ(Root("INSERT INTO app.strict VALUES (1, 'a', 1)").status, 200);
  auto duplicate = Root("INSERT INTO app.strict VALUES (2, 'b', 2), (1, 'again', 3)");
  EXPECT_EQ(duplicate.status, 400);
  EXPECT_EQ(duplicate.error_code(), "CONSTRAINT_VIOLATION");
  auto within = Root("INSERT INTO app.strict VALUES (5, 'x', 1), (5, 'y', 2)");
  EXPECT_EQ(within.error_code(), "CONSTRAINT_VIOLATION");
  auto null = Root("INSERT INTO app.strict VALUES (3, 'c', 3), (4, NULL, 4)");
  EXPECT_EQ(null.error_code(), "CONSTRAINT_VIOLATION");
  auto type = Root("INSERT INTO app.strict VALUES (6, 'd', 6), (7, 'e', 'not a number')");
  EXPECT_EQ(type.error_code(), "CONSTRAINT_VIOLATION");
  auto no_key = Root("INSERT INTO app.strict (name) VALUES ('no id')");
  EXPECT_EQ(no_key.error_code(), "CONSTRAINT_VIOLATION");
  EXPECT_EQ(Rows(Root("SELECT id, name FROM app.strict ORDER BY id")), R"([[1,"a"]])");
  auto update_null = Root("UPDATE app.strict SET name = NULL WHERE id = 1");
  EXPECT_EQ(update_null.error_code(), "CONSTRAINT_VIOLATION");
  EXPECT_EQ(Root("UPDATE app.strict SET id = 9").error_code(), "INVALID_SQL");
  EXPECT_EQ(Rows(Root("SELECT id, name FROM app.strict")), R"([[1,"a"]])");
}

TEST_F(Tables, OnConflictAndReturning) {
  ASSERT_EQ(Root("CREATE SHARED TABLE app.counters (id TEXT PRIMARY KEY, n BIGINT DEFAULT 0, note TEXT)").status, 200);
  auto first = Root("INSERT INTO app.counters (id, n) VALUES ('a', 1), ('b', 2) RETURNING id, n * 10 AS tenfold");
  ASSERT_EQ(first.status, 200) << json::serialize(first.body);
  EXPECT_EQ(Rows(first), R"([["a",10],["b",20]])");
  auto nothing = Root("INSERT INTO app.counters (id, n) VALUES ('a', 100), ('c', 3) ON CONFLICT (id) DO NOTHING");
  EXPECT_EQ(nothing.result(0).at("row_count").as_int64(), 1);
  auto upsert = Root(
      "INSERT INTO app.counters (id, n, note) VALUES ('a', 5, 'x'), ('d', 4, 'y') "
      "ON CONFLICT (id) DO UPDATE SET n = counters.n + excluded.n, note = excluded.note "
      "RETURNING id, n, note");
  ASSERT_EQ(upsert.status, 200) << json::serialize(upsert.body);
  EXPECT_EQ(Rows(upsert), R"([["a",6,"x"],["d",4,"y"]])");
  EXPECT_EQ(Rows(Root("SELECT id, n FROM app.counters ORDER BY id")),
            R"([["a",6],["b",2],["c",3],["d",4]])");
  auto updated = Root("UPDATE app.counters SET n = n + 1 WHERE id IN ('a', 'b') RETURNING id, n");
  EXPECT_EQ(Rows(updated), R"([["a",7],["b",3]])");
  auto deleted = Root("DELETE FROM app.counters WHERE n < 4 RETURNING id");
  EXPECT_EQ(Rows(deleted), R"([["b"],["c"]])");
  auto wrong_key = Root("INSERT INTO app.counters (id) VALUES ('z') ON CONFLICT (note) DO NOTHING");
  EXPECT_EQ(wrong_key.error_code(), "INVALID_SQL");
}

TEST_F(Tables, UpdateAndDeleteWithAnyWhere) {
  ASSERT_EQ(Root("CREATE SHARED TABLE app.items (id INT PRIMARY KEY, tag TEXT, price DOUBLE)").status, 200);
  ASSERT_EQ(Root("CREATE SHARED TABLE app.tags (tag TEXT PRIMARY KEY, discount DOUBLE)").status, 200);
  ASSERT_EQ(Root("INSERT INTO app.items SELECT range, 't' || (range % 3), range * 10.0 FROM range(9)").status, 200);
  ASSERT_EQ(Root("INSERT INTO app.tags VALUES ('t0', 0.5), ('t1', 0.1)").status, 200);
  auto sub = Root("UPDATE app.items SET price = price * 2 WHERE tag IN (SELECT tag FROM app.tags WHERE discount > 0.2)");
  EXPECT_EQ(sub.result(0).at("row_count").as_int64(), 3);
  auto from = Root("UPDATE app.items SET price = price - t.discount FROM app.tags t WHERE t.tag = items.tag AND t.tag = 't1'");
  ASSERT_EQ(from.status, 200) << json::serialize(from.body);
  EXPECT_EQ(from.result(0).at("row_count").as_int64(), 3);
  auto fn = Root("DELETE FROM app.items WHERE length(tag) = 2 AND id % 2 = 0 AND price > (SELECT avg(price) FROM app.items)");
  ASSERT_EQ(fn.status, 200) << json::serialize(fn.body);
  // t0 doubled (0, 60, 120), t1 less 0.1 (9.9, 39.9, 69.9), t2 as is (20, 50, 80); the
  // average is 49.97, so the even ids above it (6 and 8) are gone.
  EXPECT_EQ(Rows(Root("SELECT id, CAST(price * 10 AS INT) FROM app.items ORDER BY id")),
            R"([[0,0],[1,99],[2,200],[3,600],[4,399],[5,500],[7,699]])");
  auto all = Root("DELETE FROM app.items");
  EXPECT_EQ(all.result(0).at("row_count").as_int64(), 7);
  EXPECT_EQ(Rows(Root("SELECT count(*) FROM app.items")), "[[0]]");
}

TEST_F(Tables, UserTablesAreIsolatedByKey) {
  CreateUser("alice", "user");
  CreateUser("bob", "user");
  ASSERT_EQ(Root("CREATE USER TABLE app.notes (id INT PRIMARY KEY, body TEXT)").status, 200);
  ASSERT_EQ(As("alice", "INSERT INTO app.notes VALUES (1, 'alice-1'), (2, 'alice-2')").status, 200);
  ASSERT_EQ(As("bob", "INSERT INTO app.notes VALUES (1, 'bob-1')").status, 200);  // same key, own partition

  for (const std::string sql :
       {"SELECT body FROM app.notes ORDER BY id",
        "SELECT n.body FROM app.notes n JOIN app.notes m ON n.id = m.id ORDER BY n.id",
        "SELECT body FROM app.notes WHERE id IN (SELECT id FROM app.notes) ORDER BY id",
        "SELECT body FROM (SELECT * FROM app.notes) ORDER BY id",
        "WITH x AS (SELECT * FROM app.notes) SELECT body FROM x ORDER BY id"}) {
    EXPECT_EQ(Rows(As("alice", sql)), R"([["alice-1"],["alice-2"]])") << sql;
    EXPECT_EQ(Rows(As("bob", sql)), R"([["bob-1"]])") << sql;
  }
  EXPECT_EQ(Rows(As("bob", "SELECT count(*), max(body) FROM app.notes")), R"([[1,"bob-1"]])");
  EXPECT_EQ(As("bob", "UPDATE app.notes SET body = 'hacked' WHERE id = 2").result(0).at("row_count").as_int64(), 0);
  EXPECT_EQ(As("bob", "DELETE FROM app.notes WHERE body LIKE 'alice%'").result(0).at("row_count").as_int64(), 0);
  EXPECT_EQ(As("bob", "DELETE FROM app.notes WHERE id IN (SELECT id FROM app.notes)").result(0).at("row_count").as_int64(), 1);
  EXPECT_EQ(Rows(As("alice", "SELECT body FROM app.notes ORDER BY id")), R"([["alice-1"],["alice-2"]])");
  // root's queries read every user's rows (its writes stay in its own).
  EXPECT_EQ(Rows(Root("SELECT count(*) FROM app.notes")), "[[2]]");

  // EXECUTE AS: a user may act only as themself.
  EXPECT_EQ(As("bob", "EXECUTE AS USER 'alice' (SELECT * FROM app.notes)").status, 403);
  EXPECT_EQ(Rows(As("bob", "EXECUTE AS USER 'bob' (SELECT count(*) FROM app.notes)")), "[[0]]");
  auto as_alice = Root("EXECUTE AS USER 'alice' (SELECT body FROM app.notes WHERE id = 1)");
  EXPECT_EQ(Rows(as_alice), R"([["alice-1"]])");
  EXPECT_TRUE(std::string(as_alice.result(0).at("as_user").as_string()).starts_with("u_"));
  ASSERT_EQ(Root("EXECUTE AS USER 'alice' (INSERT INTO app.notes VALUES (3, 'by root'))").status, 200);
  EXPECT_EQ(Rows(As("alice", "SELECT body FROM app.notes WHERE id = 3")), R"([["by root"]])");
  CreateUser("svc", "service");
  CreateUser("boss", "dba");
  EXPECT_EQ(As("svc", "EXECUTE AS USER 'alice' (SELECT 1)").status, 200);
  EXPECT_EQ(As("svc", "EXECUTE AS USER 'boss' (SELECT 1)").status, 403);
  EXPECT_EQ(As("boss", "EXECUTE AS USER 'root' (SELECT 1)").status, 403);
  EXPECT_EQ(Root("EXECUTE AS USER 'ghost' (SELECT 1)").status, 404);
}

TEST_F(Tables, DbaAndSystemQueriesReadEveryUsersRows) {
  CreateUser("ev_a", "user");
  CreateUser("ev_b", "user");
  CreateUser("ev_svc", "service");
  CreateUser("ev_dba", "dba");
  ASSERT_EQ(Root("CREATE USER TABLE app.ev (id INT PRIMARY KEY, body TEXT)").status, 200);
  ASSERT_EQ(As("ev_a", "INSERT INTO app.ev VALUES (1, 'a1'), (2, 'a2')").status, 200);
  ASSERT_EQ(As("ev_b", "INSERT INTO app.ev VALUES (1, 'b1')").status, 200);
  ASSERT_EQ(As("ev_dba", "INSERT INTO app.ev VALUES (5, 'dba5')").status, 200);  // its own rows
  const std::string all = R"([["a1"],["a2"],["b1"],["dba5"]])";
  for (const std::string who : {"root", "ev_dba"}) {
    auto as = [&](const std::string& sql) { return who == "root" ? Root(sql) : As(who, sql); };
    EXPECT_EQ(Rows(as("SELECT body FROM app.ev ORDER BY body")), all) << who;
    EXPECT_EQ(Rows(as("SELECT count(*), count(DISTINCT id) FROM app.ev")), "[[4,3]]") << who;
    // A key names a row in each user's rows: a lookup by it finds them all.
    EXPECT_EQ(Rows(as("SELECT body FROM app.ev WHERE id = 1 ORDER BY body")), R"([["a1"],["b1"]])") << who;
    EXPECT_EQ(Rows(as("SELECT body FROM app.ev WHERE id IN (2, 5) ORDER BY body")), R"([["a2"],["dba5"]])") << who;
    EXPECT_EQ(Rows(as("SELECT count(*) FROM app.ev x JOIN app.ev y ON x.id = y.id")), "[[6]]") << who;
    // EXECUTE AS reads that user's rows only.
    EXPECT_EQ(Rows(as("EXECUTE AS USER 'ev_a' (SELECT count(*) FROM app.ev)")), "[[2]]") << who;
  }
  // service and user roles read their own rows.
  EXPECT_EQ(Rows(As("ev_svc", "SELECT count(*) FROM app.ev")), "[[0]]");
  EXPECT_EQ(Rows(As("ev_b", "SELECT body FROM app.ev")), R"([["b1"]])");
  // Writes stay in the caller's rows: an UPDATE or DELETE without WHERE changes its own.
  EXPECT_EQ(As("ev_dba", "UPDATE app.ev SET body = body || '!'").result(0).at("row_count").as_int64(), 1);
  EXPECT_EQ(As("ev_dba", "DELETE FROM app.ev WHERE id = 1").result(0).at("row_count").as_int64(), 0);
  EXPECT_EQ(Rows(Root("SELECT body FROM app.ev ORDER BY body")), R"([["a1"],["a2"],["b1"],["dba5!"]])");
  // INSERT ... SELECT reads the caller's own rows too (it writes).
  ASSERT_EQ(Root("CREATE SHARED TABLE app.ev_copy (n INT PRIMARY KEY, body TEXT)").status, 200);
  EXPECT_EQ(Root("INSERT INTO app.ev_copy SELECT id, body FROM app.ev").result(0).at("row_count").as_int64(), 0);

  // Flushed rows too, merged with each user's newer versions.
  const std::string flushed = RunJob(http_, "FLUSH TABLE app.ev");
  EXPECT_NE(flushed.find("\"rows_flushed\":4"), std::string::npos) << flushed;
  EXPECT_EQ(Rows(Root("SELECT body FROM app.ev ORDER BY body")), R"([["a1"],["a2"],["b1"],["dba5!"]])");
  ASSERT_EQ(As("ev_a", "UPDATE app.ev SET body = 'a1 again' WHERE id = 1").status, 200);
  ASSERT_EQ(As("ev_b", "DELETE FROM app.ev WHERE id = 1").status, 200);
  ASSERT_EQ(As("ev_b", "INSERT INTO app.ev VALUES (7, 'b7')").status, 200);
  EXPECT_EQ(Rows(Root("SELECT body FROM app.ev ORDER BY body")), R"([["a1 again"],["a2"],["b7"],["dba5!"]])");
  EXPECT_EQ(Rows(Root("SELECT body FROM app.ev WHERE id = 1")), R"([["a1 again"]])");
  EXPECT_EQ(Rows(Root("SELECT _seq IS NOT NULL, count(*) FROM app.ev GROUP BY 1")), "[[true,4]]");
  // Inside a transaction: its snapshot of every user's rows, and its own writes.
  auto tx = Root("BEGIN; INSERT INTO app.ev VALUES (8, 'root8'); SELECT count(*) FROM app.ev; ROLLBACK");
  ASSERT_EQ(tx.status, 200) << json::serialize(tx.body);
  EXPECT_EQ(json::serialize(tx.result(2).at("rows")), "[[5]]");

  // STREAM tables: every user's live events.
  ASSERT_EQ(Root("CREATE STREAM TABLE app.ev_events (kind TEXT) WITH (TTL_SECONDS = 3600)").status, 200);
  ASSERT_EQ(As("ev_a", "INSERT INTO app.ev_events VALUES ('typing'), ('read')").status, 200);
  ASSERT_EQ(As("ev_b", "INSERT INTO app.ev_events VALUES ('typing')").status, 200);
  EXPECT_EQ(Rows(Root("SELECT kind, count(*) FROM app.ev_events GROUP BY kind ORDER BY kind")),
            R"([["read",1],["typing",2]])");
  EXPECT_EQ(Rows(As("ev_b", "SELECT count(*) FROM app.ev_events")), "[[1]]");
  // What scans every user's rows is ours to write, never the client's.
  EXPECT_NE(As("ev_b", "SELECT * FROM kalam_table_scan('app:ev', false, every_scope := true)").status, 200);
}

// An admin's read of every user's rows agrees with the union of each user's own reads,
// across random writes, flushes and compactions.
TEST_F(Tables, EveryUsersRowsAgreeWithEachUsersOwnReads) {
  const std::vector<std::string> users = {"ag_1", "ag_2", "ag_3", "ag_4"};
  for (const auto& u : users) CreateUser(u, "user");
  ASSERT_EQ(Root("CREATE USER TABLE app.ag (id INT PRIMARY KEY, v INT)").status, 200);
  std::mt19937 rng(17);
  for (int round = 0; round < 12; ++round) {
    for (int op = 0; op < 20; ++op) {
      const std::string& u = users[rng() % users.size()];
      const int id = static_cast<int>(rng() % 15);
      const int v = static_cast<int>(rng() % 1000);
      switch (rng() % 3) {
        case 0:
          ASSERT_EQ(As(u, "INSERT INTO app.ag VALUES (" + std::to_string(id) + ", " + std::to_string(v) +
                              ") ON CONFLICT (id) DO UPDATE SET v = excluded.v").status, 200);
          break;
        case 1:
          ASSERT_EQ(As(u, "UPDATE app.ag SET v = v + 1 WHERE id % 3 = " + std::to_string(id % 3)).status, 200);
          break;
        default:
          ASSERT_EQ(As(u, "DELETE FROM app.ag WHERE id = " + std::to_string(id)).status, 200);
      }
    }
    if (round % 3 == 1) {
      ASSERT_NE(RunJob(http_, "FLUSH TABLE app.ag").find("rows_flushed"), std::string::npos);
    }
    if (round % 6 == 5) RunJob(http_, "STORAGE COMPACT TABLE app.ag");
    std::multiset<std::string> expected;
    for (const auto& u : users) {
      const SqlResponse own = As(u, "SELECT id, v FROM app.ag");
      ASSERT_EQ(own.status, 200);
      for (const auto& row : own.rows()) expected.insert(json::serialize(row));
    }
    std::multiset<std::string> got;
    const SqlResponse every = Root("SELECT id, v FROM app.ag");
    ASSERT_EQ(every.status, 200) << json::serialize(every.body);
    for (const auto& row : every.rows()) got.insert(json::serialize(row));
    ASSERT_EQ(got, expected) << "round " << round;
    EXPECT_EQ(Rows(Root("SELECT count(*) FROM app.ag WHERE v >= 500")),
              "[[" + std::to_string(std::count_if(expected.begin(), expected.end(), [](const std::string& r) {
                return json::parse(r).as_array()[1].as_int64() >= 500;
              })) + "]]") << "round " << round;
  }
}

TEST_F(Tables, PrimaryKeyLookupsAnswerLikeScans) {
  CreateUser("pk_a", "user");
  CreateUser("pk_b", "user");
  ASSERT_EQ(Root("CREATE USER TABLE app.pk (id BIGINT PRIMARY KEY, v TEXT)").status, 200);
  ASSERT_EQ(As("pk_a", "INSERT INTO app.pk SELECT range, 'a' || range FROM range(50)").status, 200);
  ASSERT_EQ(As("pk_b", "INSERT INTO app.pk VALUES (7, 'b7')").status, 200);
  EXPECT_EQ(Rows(As("pk_a", "SELECT v FROM app.pk WHERE id = 7")), R"([["a7"]])");
  EXPECT_EQ(Rows(As("pk_b", "SELECT v FROM app.pk WHERE id = 7")), R"([["b7"]])");
  EXPECT_EQ(Rows(As("pk_b", "SELECT v FROM app.pk WHERE id = 8")), "[]");  // a's key, b's scope
  EXPECT_EQ(Rows(As("pk_a", "SELECT v FROM app.pk WHERE 8 = id AND v LIKE 'a%'")), R"([["a8"]])");
  EXPECT_EQ(Rows(As("pk_a", "SELECT v FROM app.pk WHERE id = 8 AND v = 'nope'")), "[]");
  EXPECT_EQ(Rows(As("pk_a", "SELECT v FROM app.pk WHERE id IN (3, 49, 1000) ORDER BY id")),
            R"([["a3"],["a49"]])");
  EXPECT_EQ(Rows(As("pk_a", "SELECT count(*) FROM app.pk WHERE id = 3 OR id = 4")), "[[2]]");
  EXPECT_EQ(Rows(As("pk_a", "SELECT v FROM app.pk WHERE id = $1", R"("params":[11])")), R"([["a11"]])");
  ASSERT_EQ(As("pk_a", "DELETE FROM app.pk WHERE id = 3").status, 200);
  EXPECT_EQ(Rows(As("pk_a", "SELECT v FROM app.pk WHERE id = 3")), "[]");  // a tombstone
  EXPECT_EQ(Rows(As("pk_a", "SELECT p.v FROM app.pk p JOIN app.pk q ON p.id = q.id WHERE q.id = 9")),
            R"([["a9"]])");
}

// Constant SELECTs and primary-key point SELECTs skip the engine; adding "AND true" (or a
// WHERE) sends the same query through it. Both must answer alike.
TEST_F(Tables, FastPathsAnswerLikeTheEngine) {
  ASSERT_EQ(Root("CREATE TABLE app.fast (id BIGINT PRIMARY KEY, Body TEXT, n DECIMAL(8,2), ts TIMESTAMP)").status, 200);
  ASSERT_EQ(Root("INSERT INTO app.fast VALUES (1, 'x', 1.5, '2026-01-02 03:04:05'), (2, NULL, NULL, NULL)").status, 200);
  ASSERT_EQ(Root("ALTER TABLE app.fast ADD COLUMN extra TEXT DEFAULT 'd'").status, 200);
  for (const std::string sql :
       {"SELECT * FROM app.fast WHERE id = 1", "SELECT body, ID, _seq AS s FROM app.fast f WHERE f.id = 2",
        "SELECT f.* FROM app.fast f WHERE 1 = id", "SELECT * FROM app.fast WHERE id = 3",
        "SELECT id, extra FROM app.fast WHERE id = '1'", "SELECT * FROM fast WHERE id = 1",
        "SELECT 1", "SELECT 'a' AS x, 2.5, true, 9999999999, -7"}) {
    const std::string slow = sql.find("WHERE") == std::string::npos ? sql + " WHERE true" : sql + " AND true";
    auto a = Sql(http_, RootAuth(), sql, R"("namespace_id":"app")");
    auto b = Sql(http_, RootAuth(), slow, R"("namespace_id":"app")");
    ASSERT_EQ(a.status, 200) << sql << json::serialize(a.body);
    EXPECT_EQ(json::serialize(a.result(0)), json::serialize(b.result(0))) << sql;
  }
}

TEST_F(Tables, SharedTablesFollowTheirAccessLevel) {
  CreateUser("reader", "user");
  ASSERT_EQ(Root("CREATE SHARED TABLE app.secret (id INT PRIMARY KEY, v TEXT)").status, 200);
  ASSERT_EQ(Root("CREATE TABLE app.board (id INT PRIMARY KEY, v TEXT) WITH (ACCESS_LEVEL = 'public')").status, 200);
  ASSERT_EQ(Root("INSERT INTO app.secret VALUES (1, 's'); INSERT INTO app.board VALUES (1, 'b')").status, 200);
  EXPECT_EQ(As("reader", "SELECT * FROM app.secret").status, 403);
  EXPECT_EQ(As("reader", "SELECT 1 WHERE EXISTS (SELECT * FROM app.secret)").status, 403);
  EXPECT_EQ(Rows(As("reader", "SELECT v FROM app.board")), R"([["b"]])");
  EXPECT_EQ(As("reader", "INSERT INTO app.board VALUES (2, 'x')").status, 403);
  EXPECT_EQ(As("reader", "UPDATE app.board SET v = 'x'").status, 403);
  EXPECT_EQ(As("reader", "DELETE FROM app.board").status, 403);
  EXPECT_EQ(Rows(Root("SELECT count(*) FROM app.board")), "[[1]]");
}

TEST_F(Tables, StreamTablesTakeInsertsOnly) {
  ASSERT_EQ(Root("CREATE STREAM TABLE app.events (kind TEXT, payload JSON) WITH (TTL_SECONDS = 60)").status, 200);
  ASSERT_EQ(Root("INSERT INTO app.events VALUES ('typing', '{\"a\":1}'), ('typing', '{\"a\":2}')").status, 200);
  EXPECT_EQ(Rows(Root("SELECT kind, payload FROM app.events ORDER BY _seq")),
            R"([["typing",{"a":1}],["typing",{"a":2}]])");
  EXPECT_EQ(Root("UPDATE app.events SET kind = 'x'").error_code(), "INVALID_SQL");
  EXPECT_EQ(Root("DELETE FROM app.events").error_code(), "INVALID_SQL");
  auto tables = Root("SELECT table_type, ttl_seconds FROM system.tables WHERE table_name = 'events'");
  EXPECT_EQ(Rows(tables), R"([["stream",60]])");
}

TEST_F(Tables, SchemaEvolutionReadsOldRows) {
  ASSERT_EQ(Root("CREATE SHARED TABLE app.evolve (id INT PRIMARY KEY, a TEXT, b TEXT)").status, 200);
  ASSERT_EQ(Root("INSERT INTO app.evolve VALUES (1, 'a1', 'b1')").status, 200);
  ASSERT_EQ(Root("ALTER TABLE app.evolve ADD COLUMN c INT DEFAULT 7").status, 200);
  ASSERT_EQ(Root("INSERT INTO app.evolve VALUES (2, 'a2', 'b2', 8)").status, 200);
  ASSERT_EQ(Root("ALTER TABLE app.evolve RENAME COLUMN a TO alpha").status, 200);
  ASSERT_EQ(Root("ALTER TABLE app.evolve DROP COLUMN b").status, 200);
  ASSERT_EQ(Root("INSERT INTO app.evolve (id, alpha) VALUES (3, 'a3')").status, 200);
  EXPECT_EQ(Rows(Root("SELECT * EXCLUDE (_seq) FROM app.evolve ORDER BY id")),
            R"([[1,"a1",7],[2,"a2",8],[3,"a3",7]])");
  EXPECT_EQ(Root("SELECT b FROM app.evolve").error_code(), "INVALID_SQL");
  auto history = Root("DESCRIBE TABLE app.evolve HISTORY");
  EXPECT_EQ(history.rows().size(), 4u);
  auto versions = Root("SELECT max(version) FROM system.table_schemas WHERE table_name = 'evolve'");
  EXPECT_EQ(Rows(versions), "[[4]]");
  EXPECT_EQ(Root("ALTER TABLE app.evolve DROP COLUMN id").error_code(), "INVALID_SQL");
  EXPECT_EQ(Root("ALTER TABLE app.evolve RENAME COLUMN id TO key").error_code(), "INVALID_SQL");
  // An update rewrites an old row under the current version.
  ASSERT_EQ(Root("UPDATE app.evolve SET alpha = 'A1' WHERE id = 1").status, 200);
  EXPECT_EQ(Rows(Root("SELECT alpha, c FROM app.evolve WHERE id = 1")), R"([["A1",7]])");
}

TEST(TablesLifecycle, RowsSurviveRestartAndDropRemovesThem) {
  ServerProcess server;
  server.Start();
  {
    auto http = server.Client();
    ASSERT_EQ(Sql(http, RootAuth(), "CREATE NAMESPACE app; CREATE SHARED TABLE app.kept (id INT PRIMARY KEY, v TEXT); "
                                     "INSERT INTO app.kept VALUES (1, 'one'), (2, 'two'); "
                                     "ALTER TABLE app.kept ADD COLUMN w TEXT DEFAULT 'w'; "
                                     "CREATE TABLE app.gone (id INT PRIMARY KEY); INSERT INTO app.gone VALUES (1)")
                  .status,
              200);
  }
  EXPECT_EQ(server.Stop(SIGTERM), 0);
  server.Start();
  auto http = server.Client();
  EXPECT_EQ(json::serialize(Sql(http, RootAuth(), "SELECT id, v, w FROM app.kept ORDER BY id").rows()),
            R"([[1,"one","w"],[2,"two","w"]])");
  // _seq goes on increasing across the restart.
  ASSERT_EQ(Sql(http, RootAuth(), "INSERT INTO app.kept (id, v) VALUES (3, 'three')").status, 200);
  EXPECT_EQ(json::serialize(Sql(http, RootAuth(),
                                "SELECT (SELECT _seq FROM app.kept WHERE id = 3) > max(_seq) "
                                "FROM app.kept WHERE id < 3").rows()),
            "[[true]]");
  EXPECT_EQ(Sql(http, RootAuth(), "DROP TABLE app.gone").status, 200);
  EXPECT_EQ(Sql(http, RootAuth(), "SELECT * FROM app.gone").status, 404);
  EXPECT_EQ(Sql(http, RootAuth(), "CREATE TABLE app.gone (id INT PRIMARY KEY)").status, 200);
  EXPECT_EQ(json::serialize(Sql(http, RootAuth(), "SELECT count(*) FROM app.gone").rows()), "[[0]]");
  EXPECT_EQ(Sql(http, RootAuth(), "DROP NAMESPACE app").error_code(), "INVALID_SQL");
  EXPECT_EQ(Sql(http, RootAuth(), "DROP NAMESPACE app CASCADE").status, 200);
  EXPECT_EQ(json::serialize(Sql(http, RootAuth(), "SELECT count(*) FROM system.tables").rows()), "[[0]]");
}

TEST(TablesCrash, EveryAcknowledgedRowSurvivesSigkill) {
  ServerProcess server({"", "[storage]\nsync_writes = true\n", {}, true, ""});
  server.Start();
  {
    auto http = server.Client();
    ASSERT_EQ(Sql(http, RootAuth(), "CREATE NAMESPACE app; CREATE SHARED TABLE app.log (id BIGINT PRIMARY KEY, "
                                     "body TEXT NOT NULL, copy TEXT NOT NULL)")
                  .status,
              200);
  }
  std::mutex mutex;
  std::set<int64_t> acknowledged;
  std::atomic<bool> stop = false;
  std::vector<std::thread> writers;
  for (int w = 0; w < 4; ++w) {
    writers.emplace_back([&, w] {
      auto http = server.Client();
      for (int64_t i = 0; !stop; ++i) {
        const int64_t id = (w * 1000000 + i) * 2;  // a statement writes id and id + 1
        const std::string body = "row-" + std::to_string(id);
        try {
          auto r = Sql(http, RootAuth(),
                       "INSERT INTO app.log VALUES (" + std::to_string(id) + ", '" + body + "', '" + body +
                           "'), (" + std::to_string(id + 1) + ", '" + body + "', '" + body + "')");
          if (r.status == 200) {
            std::lock_guard lock(mutex);
            acknowledged.insert(id);
            acknowledged.insert(id + 1);
          }
        } catch (const std::exception&) {
          return;  // the server is gone
        }
      }
    });
  }
  // The kill lands while the writers are well under way, some of them mid-statement.
  EXPECT_TRUE(WaitUntil(
      [&] {
        std::lock_guard lock(mutex);
        return acknowledged.size() >= 200;
      },
      std::chrono::seconds(30)));
  EXPECT_EQ(server.Stop(SIGKILL), 128 + SIGKILL);
  stop = true;
  for (auto& t : writers) t.join();
  ASSERT_GT(acknowledged.size(), 20u);

  server.Start();
  auto http = server.Client();
  auto r = Sql(http, RootAuth(), "SELECT id, body, copy FROM app.log");
  ASSERT_EQ(r.status, 200);
  std::set<int64_t> present;
  for (const auto& row : r.rows()) {
    const int64_t id = row.at(0).as_int64();
    present.insert(id);
    // A statement's rows commit together: no half-written row, no row without its pair.
    EXPECT_EQ(row.at(1).as_string(), row.at(2).as_string());
  }
  for (int64_t id : acknowledged) EXPECT_TRUE(present.contains(id)) << id;
  for (int64_t id : present) {
    const bool first = id % 2 == 0;
    EXPECT_TRUE(present.contains(first ? id + 1 : id - 1)) << "half a statement: " << id;
  }
}

TEST(TablesConcurrency, WritersToTheSameKeysSerialize) {
  ServerProcess server;
  server.Start();
  {
    auto http = server.Client();
    ASSERT_EQ(Sql(http, RootAuth(), "CREATE NAMESPACE app; CREATE SHARED TABLE app.c (id INT PRIMARY KEY, n BIGINT); "
                                     "INSERT INTO app.c VALUES (1, 0)")
                  .status,
              200);
  }
  constexpr int kThreads = 4, kEach = 25;
  std::atomic<int> inserted = 0;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      auto http = server.Client();
      for (int i = 0; i < kEach; ++i) {
        EXPECT_EQ(Sql(http, RootAuth(), "UPDATE app.c SET n = n + 1 WHERE id = 1").status, 200);
        auto upsert = Sql(http, RootAuth(),
                          "INSERT INTO app.c VALUES (2, 1) ON CONFLICT (id) DO UPDATE SET n = c.n + 1");
        EXPECT_EQ(upsert.status, 200);
        auto once = Sql(http, RootAuth(), "INSERT INTO app.c VALUES (" + std::to_string(100 + i) + ", 0)");
        if (once.status == 200) ++inserted;
      }
    });
  }
  for (auto& t : threads) t.join();
  auto http = server.Client();
  EXPECT_EQ(json::serialize(Sql(http, RootAuth(), "SELECT id, n FROM app.c WHERE id < 3 ORDER BY id").rows()),
            "[[1," + std::to_string(kThreads * kEach) + "],[2," + std::to_string(kThreads * kEach) + "]]");
  EXPECT_EQ(inserted.load(), kEach);  // each key inserted exactly once
  // _seq is strictly increasing in commit order and unique.
  auto seqs = Sql(http, RootAuth(), "SELECT count(DISTINCT _seq) = count(*) FROM app.c");
  EXPECT_EQ(json::serialize(seqs.rows()), "[[true]]");
}

}  // namespace
}  // namespace kalam::testing

namespace kalam::testing {
namespace {

TEST(StreamTtl, ExpiredRowsVanishFromReadsThenFromTheStore) {
  ServerProcess server({"", "[stream]\neviction_interval_secs = 1\n", {}, true, ""});
  server.Start();
  auto http = server.Client();
  ASSERT_EQ(Sql(http, RootAuth(), "CREATE NAMESPACE app; CREATE STREAM TABLE app.typing (who TEXT) "
                                   "WITH (TTL_SECONDS = 1); CREATE STREAM TABLE app.kept (who TEXT) TTL 3600")
                .status,
            200);
  ASSERT_EQ(Sql(http, RootAuth(), "INSERT INTO app.typing VALUES ('a'), ('b'); INSERT INTO app.kept VALUES ('k')").status, 200);
  auto count = [&] { return json::serialize(Sql(http, RootAuth(), "SELECT count(*) FROM app.typing").rows()); };
  EXPECT_EQ(count(), "[[2]]");
  // Past the TTL reads skip them, before any eviction.
  EXPECT_TRUE(WaitUntil([&] { return count() == "[[0]]"; }, std::chrono::seconds(10))) << count();
  ASSERT_EQ(Sql(http, RootAuth(), "INSERT INTO app.typing VALUES ('fresh')").status, 200);
  EXPECT_EQ(json::serialize(Sql(http, RootAuth(), "SELECT who FROM app.typing").rows()), R"([["fresh"]])");
  // Then eviction removes every expired row from the store, the fresh one too in time.
  auto hot_rows = [&] {
    return json::serialize(Sql(http, RootAuth(), "SHOW STATS FOR TABLE app.typing").rows().at(0));
  };
  EXPECT_TRUE(WaitUntil([&] { return hot_rows() == R"(["hot_rows","0"])"; }, std::chrono::seconds(15)))
      << hot_rows();
  EXPECT_EQ(json::serialize(Sql(http, RootAuth(), "SELECT who FROM app.kept").rows()), R"([["k"]])");
  // Each removal ran as a stream_eviction job.
  auto jobs = Sql(http, RootAuth(), "SELECT count(*), min(status), max(status), sum(CAST(json_extract(result, '$.scopes_trimmed') AS INT)) "
                                    "FROM system.jobs WHERE job_type = 'stream_eviction'");
  ASSERT_EQ(jobs.status, 200) << json::serialize(jobs.body);
  const auto& row = jobs.rows().at(0).as_array();
  EXPECT_GE(row.at(0).as_int64(), 1);
  EXPECT_EQ(json::serialize(row.at(1)), R"("completed")");
  EXPECT_EQ(json::serialize(row.at(2)), R"("completed")");
  EXPECT_GE(row.at(3).to_number<int64_t>(), 1);
}

}  // namespace
}  // namespace kalam::testing
