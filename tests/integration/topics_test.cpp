// Topics through the real server: every statement and route with its permissions and bad
// input, exactly the committed changes in commit order with the three payload forms
// (transactions, failed statements and EXECUTE AS included), at-least-once delivery with
// the visibility timeout, groups that split a topic without overlap, long polling,
// retention, restarts and SIGKILL under load.
#include <signal.h>

#include <atomic>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "server_process.h"

namespace kalam::testing {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;

std::string Body(const SqlResponse& r) { return json::serialize(r.body); }

SqlResponse Post(client::HttpClient& http, const std::string& auth, const std::string& route,
                 const std::string& body) {
  client::Headers headers{{"Authorization", auth}};
  auto res = http.Send("POST", route, body, headers);
  if (!res.ok()) throw std::runtime_error(res.status().message());
  return {res->status, json::parse(res->body)};
}

SqlResponse Consume(client::HttpClient& http, const std::string& auth, const std::string& body) {
  return Post(http, auth, "/v1/api/topics/consume", body);
}

SqlResponse Ack(client::HttpClient& http, const std::string& auth, const std::string& topic,
                const std::string& group, int partition, int64_t upto) {
  return Post(http, auth, "/v1/api/topics/ack",
              "{\"topic_id\":\"" + topic + "\",\"group_id\":\"" + group + "\",\"partition_id\":" +
                  std::to_string(partition) + ",\"upto_offset\":" + std::to_string(upto) + "}");
}

// The rows of a CONSUME as (partition, offset, op, key, payload, user).
struct Row {
  int64_t partition, offset;
  std::string op, key, payload, user;
};
std::vector<Row> Rows(const SqlResponse& r, size_t i = 0) {
  std::vector<Row> out;
  for (const auto& v : r.rows(i)) {
    const auto& a = v.as_array();
    out.push_back({a.at(1).as_int64(), a.at(2).as_int64(), std::string(a.at(3).as_string()),
                   std::string(a.at(4).as_string()), std::string(a.at(5).as_string()),
                   a.at(7).is_null() ? "" : std::string(a.at(7).as_string())});
  }
  return out;
}

class Topics : public ServerTest {
 protected:
  static void SetUpTestSuite() {
    server_ = new ServerProcess({"", "[topics]\nvisibility_timeout_secs = 1\n", {}, true, ""});
    server_->Start();
    auto http = server_->Client();
    for (const auto& [user, role] : std::vector<std::pair<std::string, std::string>>{
             {"tina", "user"}, {"svc", "service"}, {"ada", "dba"}}) {
      Sql(http, RootAuth(),
          "CREATE USER '" + user + "' WITH PASSWORD '" + user + "-password' ROLE " + role);
    }
    auto r = Sql(http, RootAuth(),
                 "CREATE NAMESPACE chat; "
                 "CREATE SHARED TABLE chat.messages (id BIGINT PRIMARY KEY, room TEXT, body TEXT) "
                 "WITH (ACCESS_LEVEL = 'public'); "
                 "CREATE USER TABLE chat.inbox (id BIGINT PRIMARY KEY, body TEXT)");
    ASSERT_EQ(r.status, 200) << Body(r);
  }
};

TEST_F(Topics, StatementsAnswerAndRefuseBadInput) {
  EXPECT_EQ(Root("CREATE TOPIC chat.t1 PARTITIONS 3").status, 200);
  auto r = Root("CREATE TOPIC chat.t1");
  EXPECT_EQ(r.error_code(), "ALREADY_EXISTS") << Body(r);
  EXPECT_EQ(Root("CREATE TOPIC IF NOT EXISTS chat.t1").status, 200);
  EXPECT_EQ(Root("CREATE TOPIC chat.t0 PARTITIONS 0").error_code(), "INVALID_SQL");
  EXPECT_EQ(Root("CREATE TOPIC chat.t9 PARTITIONS 100000").error_code(), "INVALID_INPUT");
  EXPECT_EQ(Root("CREATE TOPIC nowhere.t").error_code(), "NOT_FOUND");
  // Sources: the table must exist; the filter must compile against its columns.
  r = Root("ALTER TOPIC chat.t1 ADD SOURCE chat.nothing ON INSERT");
  EXPECT_EQ(r.error_code(), "NOT_FOUND") << Body(r);
  r = Root("ALTER TOPIC chat.t1 ADD SOURCE chat.messages ON INSERT WHERE no_such_column = 1");
  EXPECT_NE(r.status, 200) << Body(r);
  r = Root("ALTER TOPIC chat.t1 ADD SOURCE chat.messages ON INSERT WITH (payload = 'everything')");
  EXPECT_EQ(r.error_code(), "INVALID_SQL") << Body(r);
  r = Root("ALTER TOPIC chat.t1 ADD SOURCE chat.messages ON UPSERT");
  EXPECT_EQ(r.error_code(), "INVALID_SQL") << Body(r);
  EXPECT_EQ(Root("ALTER TOPIC chat.t1 ADD SOURCE chat.messages ON INSERT").status, 200);
  EXPECT_EQ(Root("ALTER TOPIC chat.t1 ADD SOURCE chat.messages ON INSERT").error_code(), "ALREADY_EXISTS");
  EXPECT_EQ(Root("ALTER TOPIC chat.nope ADD SOURCE chat.messages ON INSERT").error_code(), "NOT_FOUND");
  EXPECT_EQ(Root("ALTER TOPIC chat.t1 DROP SOURCE chat.messages ON DELETE").error_code(), "NOT_FOUND");
  // Reading and acknowledging.
  EXPECT_EQ(Root("CONSUME FROM chat.nope").error_code(), "NOT_FOUND");
  EXPECT_EQ(Root("CONSUME FROM chat.t1 FROM -1").error_code(), "INVALID_INPUT");
  EXPECT_EQ(Root("CONSUME FROM chat.t1 LIMIT 0").error_code(), "INVALID_SQL");
  EXPECT_EQ(Root("CONSUME FROM chat.t1 LIMIT 100000").error_code(), "INVALID_INPUT");
  EXPECT_EQ(Root("CONSUME FROM chat.t1 PARTITION 3").error_code(), "INVALID_INPUT");
  EXPECT_EQ(Root("CONSUME FROM chat.t1 GROUP ''").error_code(), "INVALID_INPUT");
  EXPECT_EQ(Root("CONSUME FROM chat.t1 GROUP 'a' GROUP 'b'").error_code(), "INVALID_SQL");
  r = Root("ACK chat.t1 GROUP 'g' UPTO OFFSET 0");
  EXPECT_EQ(r.error_code(), "INVALID_INPUT") << Body(r);  // nothing to acknowledge yet
  EXPECT_EQ(Root("ACK chat.t1 GROUP 'g' UPTO OFFSET -4").error_code(), "INVALID_INPUT");
  EXPECT_EQ(Root("ACK chat.t1 UPTO OFFSET 1").error_code(), "INVALID_SQL");  // GROUP is required
  EXPECT_EQ(Root("RESET CONSUMER GROUP 'g' ON chat.nope TO 0").error_code(), "NOT_FOUND");
  EXPECT_EQ(Root("RESET CONSUMER GROUP 'g' ON chat.t1 TO EARLIEST").status, 200);
  r = Root("SELECT partitions, message_count FROM system.topics WHERE topic_id = 'chat.t1'");
  ASSERT_EQ(r.status, 200) << Body(r);
  EXPECT_EQ(json::serialize(r.rows()), "[[3,0]]");
  EXPECT_EQ(Root("ALTER TOPIC chat.t1 DROP SOURCE chat.messages ON INSERT").status, 200);
  EXPECT_EQ(Root("DROP TOPIC chat.t1").status, 200);
  EXPECT_EQ(Root("DROP TOPIC chat.t1").error_code(), "NOT_FOUND");
  EXPECT_EQ(Root("DROP TOPIC IF EXISTS chat.t1").status, 200);
  // Routes: bad bodies.
  r = Consume(http_, RootAuth(), "not json");
  EXPECT_EQ(r.error_code(), "INVALID_INPUT");
  r = Consume(http_, RootAuth(), R"({"group_id":"g"})");
  EXPECT_EQ(r.error_code(), "INVALID_INPUT") << Body(r);
  r = Consume(http_, RootAuth(), R"({"topic_id":"chat.nope"})");
  EXPECT_EQ(r.error_code(), "NOT_FOUND") << Body(r);
  EXPECT_EQ(Root("CREATE TOPIC chat.t2").status, 200);
  r = Consume(http_, RootAuth(), R"({"topic_id":"chat.t2","start":{"Offset":-5}})");
  EXPECT_EQ(r.error_code(), "INVALID_INPUT") << Body(r);
  r = Consume(http_, RootAuth(), R"({"topic_id":"chat.t2","start":"Yesterday"})");
  EXPECT_EQ(r.error_code(), "INVALID_INPUT") << Body(r);
  r = Consume(http_, RootAuth(), R"({"topic_id":"chat.t2","limit":-1})");
  EXPECT_EQ(r.error_code(), "INVALID_INPUT") << Body(r);
  r = Consume(http_, RootAuth(), R"({"topic_id":"chat.t2","timeout_seconds":100000})");
  EXPECT_EQ(r.error_code(), "INVALID_INPUT") << Body(r);
  r = Consume(http_, RootAuth(), R"({"topic_id":"chat.t2","partition_id":7})");
  EXPECT_EQ(r.error_code(), "INVALID_INPUT") << Body(r);
  r = Post(http_, RootAuth(), "/v1/api/topics/ack", R"({"topic_id":"chat.t2","group_id":"g"})");
  EXPECT_EQ(r.error_code(), "INVALID_INPUT") << Body(r);
  r = Ack(http_, RootAuth(), "chat.t2", "g", 0, 99);
  EXPECT_EQ(r.error_code(), "INVALID_INPUT") << Body(r);
  EXPECT_EQ(Root("DROP TOPIC chat.t2").status, 200);
}

TEST_F(Topics, PermissionsFollowRoles) {
  const std::string tina = client::BasicAuth("tina", "tina-password");
  const std::string svc = client::BasicAuth("svc", "svc-password");
  const std::string ada = client::BasicAuth("ada", "ada-password");
  EXPECT_EQ(Sql(http_, tina, "CREATE TOPIC chat.p").error_code(), "PERMISSION_DENIED");
  EXPECT_EQ(Sql(http_, svc, "CREATE TOPIC chat.p").status, 200);
  EXPECT_EQ(Sql(http_, svc, "ALTER TOPIC chat.p ADD SOURCE chat.messages ON DELETE").status, 200);
  EXPECT_EQ(Sql(http_, tina, "ALTER TOPIC chat.p DROP SOURCE chat.messages ON DELETE").error_code(),
            "PERMISSION_DENIED");
  EXPECT_EQ(Sql(http_, tina, "CONSUME FROM chat.p").error_code(), "PERMISSION_DENIED");
  EXPECT_EQ(Sql(http_, tina, "CLEAR TOPIC chat.p").error_code(), "PERMISSION_DENIED");
  EXPECT_EQ(Consume(http_, tina, R"({"topic_id":"chat.p"})").error_code(), "PERMISSION_DENIED");
  EXPECT_EQ(Ack(http_, tina, "chat.p", "g", 0, 0).error_code(), "PERMISSION_DENIED");
  EXPECT_EQ(Sql(http_, tina, "SELECT * FROM system.topics").error_code(), "PERMISSION_DENIED");
  EXPECT_EQ(Sql(http_, svc, "CONSUME FROM chat.p GROUP 'w'").status, 200);
  EXPECT_EQ(Consume(http_, svc, R"({"topic_id":"chat.p","group_id":"w"})").status, 200);
  EXPECT_EQ(Sql(http_, svc, "SELECT * FROM system.topic_offsets").status, 200);
  EXPECT_EQ(Sql(http_, svc, "RESET CONSUMER GROUP 'w' ON chat.p TO 0").error_code(), "PERMISSION_DENIED");
  EXPECT_EQ(Sql(http_, ada, "RESET CONSUMER GROUP 'w' ON chat.p TO 0").status, 200);
  EXPECT_EQ(Consume(http_, "", R"({"topic_id":"chat.p"})").status, 401);
  // Topics are no statements for transactions.
  auto r = Root("BEGIN; CONSUME FROM chat.p; COMMIT");
  EXPECT_EQ(r.error_code(), "UNSUPPORTED") << Body(r);
  EXPECT_EQ(Sql(http_, svc, "DROP TOPIC chat.p").status, 200);
}

TEST_F(Topics, CommittedChangesArriveInCommitOrderWithEachPayload) {
  ASSERT_EQ(Root("CREATE TOPIC chat.changes").status, 200);
  ASSERT_EQ(Root("ALTER TOPIC chat.changes ADD SOURCE chat.messages ON INSERT WHERE room = 'a'").status, 200);
  ASSERT_EQ(Root("ALTER TOPIC chat.changes ADD SOURCE chat.messages ON UPDATE WITH (payload = 'diff')").status, 200);
  ASSERT_EQ(Root("ALTER TOPIC chat.changes ADD SOURCE chat.messages ON DELETE WITH (payload = 'key')").status, 200);
  ASSERT_EQ(Root("INSERT INTO chat.messages VALUES (1, 'a', 'hi'), (2, 'b', 'not routed'), (3, 'a', 'yo')").status, 200);
  // A failed statement routes nothing; a rolled-back transaction neither.
  EXPECT_EQ(Root("INSERT INTO chat.messages VALUES (4, 'a', 'x'), (1, 'a', 'dup')").error_code(),
            "CONSTRAINT_VIOLATION");
  auto r = Root("BEGIN; INSERT INTO chat.messages VALUES (5, 'a', 'never'); ROLLBACK");
  ASSERT_EQ(r.status, 200) << Body(r);
  r = Root("BEGIN; INSERT INTO chat.messages VALUES (6, 'a', 'in a transaction'); "
           "UPDATE chat.messages SET body = 'HI' WHERE id = 1; COMMIT");
  ASSERT_EQ(r.status, 200) << Body(r);
  ASSERT_EQ(Root("DELETE FROM chat.messages WHERE id = 2").status, 200);
  r = Root("CONSUME FROM chat.changes FROM EARLIEST LIMIT 100");
  ASSERT_EQ(r.status, 200) << Body(r);
  const auto rows = Rows(r);
  ASSERT_EQ(rows.size(), 5u) << Body(r);
  for (size_t i = 0; i < rows.size(); ++i) EXPECT_EQ(rows[i].offset, static_cast<int64_t>(i));
  EXPECT_EQ(rows[0].op, "insert");
  EXPECT_EQ(rows[0].key, "1");
  const auto full = json::parse(rows[0].payload).as_object();
  EXPECT_EQ(full.at("body").as_string(), "hi");
  EXPECT_EQ(full.at("room").as_string(), "a");
  EXPECT_TRUE(full.contains("_seq"));
  EXPECT_EQ(rows[1].key, "3");
  EXPECT_EQ(rows[2].key, "6");  // the transaction's changes, in its order
  EXPECT_EQ(rows[3].op, "update");
  EXPECT_EQ(json::parse(rows[3].payload), json::parse(R"({"body":{"old":"hi","new":"HI"}})"));
  EXPECT_EQ(rows[4].op, "delete");
  EXPECT_EQ(json::parse(rows[4].payload), json::parse(R"({"id":2})"));
  EXPECT_EQ(rows[4].user, "");
  // The same through HTTP.
  r = Consume(http_, RootAuth(), R"({"topic_id":"chat.changes","start":"Earliest","limit":2})");
  ASSERT_EQ(r.status, 200) << Body(r);
  EXPECT_EQ(r.body.at("messages").as_array().size(), 2u);
  EXPECT_EQ(r.body.at("next_offset").as_int64(), 2);
  EXPECT_TRUE(r.body.at("has_more").as_bool());
  const auto& m = r.body.at("messages").as_array().at(0).as_object();
  EXPECT_EQ(m.at("topic_id").as_string(), "chat.changes");
  EXPECT_EQ(m.at("op").as_string(), "insert");
  EXPECT_EQ(m.at("key").as_string(), "1");
  EXPECT_TRUE(m.at("user").is_null());
  EXPECT_GT(m.at("timestamp_ms").as_int64(), 1700000000000);
  EXPECT_EQ(json::parse(m.at("payload").as_string()).at("body").as_string(), "hi");
  // CLEAR keeps offsets going; a source dropped takes nothing more.
  r = Root("CLEAR TOPIC chat.changes");
  ASSERT_EQ(r.status, 200) << Body(r);
  EXPECT_EQ(r.result(0).at("row_count").as_int64(), 5);
  ASSERT_EQ(Root("ALTER TOPIC chat.changes DROP SOURCE chat.messages ON DELETE").status, 200);
  ASSERT_EQ(Root("INSERT INTO chat.messages VALUES (7, 'a', 'after clear'); DELETE FROM chat.messages WHERE id = 3").status, 200);
  r = Root("CONSUME FROM chat.changes FROM EARLIEST");
  const auto after = Rows(r);
  ASSERT_EQ(after.size(), 1u) << Body(r);
  EXPECT_EQ(after[0].offset, 5);
  EXPECT_EQ(after[0].key, "7");
  EXPECT_EQ(Root("DROP TOPIC chat.changes").status, 200);
}

// A source's filter is compiled once and must hold for every later statement, not only the
// first (it once pointed into a table definition that was gone after the first use).
TEST_F(Topics, AFilterHoldsForEveryStatementAfterIt) {
  ASSERT_EQ(Root("CREATE TABLE chat.filtered (id BIGINT PRIMARY KEY, room TEXT)").status, 200);
  ASSERT_EQ(Root("CREATE TOPIC chat.filtered_topic PARTITIONS 2").status, 200);
  ASSERT_EQ(Root("ALTER TOPIC chat.filtered_topic ADD SOURCE chat.filtered ON INSERT WHERE room = 'yes'").status, 200);
  for (int i = 0; i < 40; ++i) {
    ASSERT_EQ(Root("INSERT INTO chat.filtered VALUES (" + std::to_string(i) + ", '" + (i % 2 ? "yes" : "no") + "')").status,
              200);
  }
  auto r = Root("CONSUME FROM chat.filtered_topic FROM EARLIEST LIMIT 100");
  ASSERT_EQ(r.status, 200) << Body(r);
  std::set<std::string> keys;
  for (const auto& row : Rows(r)) keys.insert(row.key);
  EXPECT_EQ(keys.size(), 20u) << Body(r);
  for (const auto& key : keys) EXPECT_EQ(std::stoi(key) % 2, 1) << key;
  EXPECT_EQ(Root("DROP TOPIC chat.filtered_topic").status, 200);
}

TEST_F(Topics, UserTableChangesCarryTheirUserAndExecuteAsRoutes) {
  ASSERT_EQ(Root("CREATE TOPIC chat.inbox_events PARTITIONS 4").status, 200);
  ASSERT_EQ(Root("ALTER TOPIC chat.inbox_events ADD SOURCE chat.inbox ON INSERT WITH (payload = 'key')").status, 200);
  const std::string tina = client::BasicAuth("tina", "tina-password");
  ASSERT_EQ(Sql(http_, tina, "INSERT INTO chat.inbox VALUES (1, 'for tina')").status, 200);
  auto r = Root("EXECUTE AS USER 'tina' (INSERT INTO chat.inbox VALUES (2, 'by an agent'))");
  ASSERT_EQ(r.status, 200) << Body(r);
  auto me = Sql(http_, tina, "SELECT user_id FROM system.users WHERE username = 'tina'");
  ASSERT_EQ(me.status, 200) << Body(me);
  const std::string tina_id(me.rows().at(0).at(0).as_string());
  r = Root("CONSUME FROM chat.inbox_events FROM EARLIEST");
  auto rows = Rows(r);
  ASSERT_EQ(rows.size(), 2u) << Body(r);
  std::set<std::string> keys;
  for (const auto& row : rows) {
    EXPECT_EQ(row.user, tina_id);
    keys.insert(row.key);
    EXPECT_EQ(json::parse(row.payload), json::parse("{\"id\":" + row.key + "}"));
    EXPECT_GE(row.partition, 0);
    EXPECT_LT(row.partition, 4);
  }
  EXPECT_EQ(keys, (std::set<std::string>{"1", "2"}));
  EXPECT_EQ(Root("DROP TOPIC chat.inbox_events").status, 200);
}

TEST_F(Topics, UnacknowledgedRangesComeBackAfterTheVisibilityTimeout) {
  ASSERT_EQ(Root("CREATE TABLE chat.jobs (id BIGINT PRIMARY KEY, n INT)").status, 200);
  ASSERT_EQ(Root("CREATE TOPIC chat.work").status, 200);
  ASSERT_EQ(Root("ALTER TOPIC chat.work ADD SOURCE chat.jobs ON INSERT").status, 200);
  std::string values;
  for (int i = 0; i < 10; ++i) values += (i ? "," : "") + std::string("(") + std::to_string(i) + ", 0)";
  ASSERT_EQ(Root("INSERT INTO chat.jobs VALUES " + values).status, 200);
  auto first = Rows(Root("CONSUME FROM chat.work GROUP 'w' FROM EARLIEST LIMIT 4"));
  ASSERT_EQ(first.size(), 4u);
  EXPECT_EQ(first.front().offset, 0);
  // Reserved: the next read of the group goes on after it.
  auto second = Rows(Root("CONSUME FROM chat.work GROUP 'w' LIMIT 4"));
  ASSERT_EQ(second.size(), 4u);
  EXPECT_EQ(second.front().offset, 4);
  ASSERT_EQ(Root("ACK chat.work GROUP 'w' UPTO OFFSET 3").status, 200);
  // 4..7 were never acknowledged: once the timeout lapses they come again.
  std::vector<Row> again;
  ASSERT_TRUE(WaitUntil([&] {
    again = Rows(Root("CONSUME FROM chat.work GROUP 'w' LIMIT 10"));
    return !again.empty() && again.front().offset == 4;
  }, 10s));
  EXPECT_EQ(again.back().offset, 7);
  auto r = Root("SELECT committed_offset FROM system.topic_offsets WHERE topic_id = 'chat.work' AND group_id = 'w'");
  EXPECT_EQ(json::serialize(r.rows()), "[[3]]");
  ASSERT_EQ(Root("ACK chat.work GROUP 'w' UPTO OFFSET 7").status, 200);
  auto rest = Rows(Root("CONSUME FROM chat.work GROUP 'w' LIMIT 10"));
  ASSERT_EQ(rest.size(), 2u);
  EXPECT_EQ(rest.front().offset, 8);
  // An ACK never moves back.
  r = Root("ACK chat.work GROUP 'w' UPTO OFFSET 1");
  ASSERT_EQ(r.status, 200);
  r = Ack(http_, RootAuth(), "chat.work", "w", 0, 2);
  ASSERT_EQ(r.status, 200) << Body(r);
  EXPECT_EQ(r.body.at("acknowledged_offset").as_int64(), 7);
  EXPECT_TRUE(r.body.at("success").as_bool());
  // RESET rewinds the group.
  ASSERT_EQ(Root("RESET CONSUMER GROUP 'w' ON chat.work TO 2").status, 200);
  auto rewound = Rows(Root("CONSUME FROM chat.work GROUP 'w' LIMIT 1"));
  ASSERT_EQ(rewound.size(), 1u);
  EXPECT_EQ(rewound.front().offset, 2);
  // A group that starts at LATEST sees only what comes after its first read.
  EXPECT_TRUE(Rows(Root("CONSUME FROM chat.work GROUP 'late'")).empty());
  ASSERT_EQ(Root("INSERT INTO chat.jobs VALUES (100, 1)").status, 200);
  auto late = Rows(Root("CONSUME FROM chat.work GROUP 'late'"));
  ASSERT_EQ(late.size(), 1u);
  EXPECT_EQ(late.front().key, "100");
  EXPECT_EQ(Root("DROP TOPIC chat.work").status, 200);
}

// Consumers sharing a partition: one's ACK never covers a range another still holds, so a
// consumer that fails loses nothing; and a waiting consume wakes when a held range lapses.
TEST_F(Topics, AnAckCoversOnlyWhatNoOtherConsumerHolds) {
  ASSERT_EQ(Root("CREATE TABLE chat.shared_work (id BIGINT PRIMARY KEY)").status, 200);
  ASSERT_EQ(Root("CREATE TOPIC chat.shared_topic").status, 200);
  ASSERT_EQ(Root("ALTER TOPIC chat.shared_topic ADD SOURCE chat.shared_work ON INSERT").status, 200);
  ASSERT_EQ(Root("INSERT INTO chat.shared_work VALUES (1), (2), (3), (4)").status, 200);
  auto a = Rows(Root("CONSUME FROM chat.shared_topic GROUP 'g' FROM EARLIEST LIMIT 2"));  // A: 0-1
  auto b = Rows(Root("CONSUME FROM chat.shared_topic GROUP 'g' LIMIT 2"));                // B: 2-3
  ASSERT_EQ(a.size(), 2u);
  ASSERT_EQ(b.size(), 2u);
  EXPECT_EQ(b.front().offset, 2);
  // B finishes first: its range is done, but A's is still held, so nothing is committed.
  auto r = Ack(http_, RootAuth(), "chat.shared_topic", "g", 0, 3);
  ASSERT_EQ(r.status, 200) << Body(r);
  EXPECT_EQ(r.body.at("acknowledged_offset").as_int64(), -1);
  // A fails (never acknowledges): a consume waiting meanwhile wakes when A's range lapses
  // (1 s here) and gets exactly A's messages again, not B's.
  const auto started = std::chrono::steady_clock::now();
  r = Consume(http_, RootAuth(), R"({"topic_id":"chat.shared_topic","group_id":"g","limit":10,"timeout_seconds":20})");
  ASSERT_EQ(r.status, 200) << Body(r);
  const auto& again = r.body.at("messages").as_array();
  ASSERT_EQ(again.size(), 2u) << Body(r);
  EXPECT_EQ(again.at(0).at("offset").as_int64(), 0);
  EXPECT_EQ(again.at(1).at("offset").as_int64(), 1);
  EXPECT_LT(std::chrono::steady_clock::now() - started, 10s);  // the lapse, not the 20 s deadline
  // Once they are acknowledged, everything up to B's range is committed.
  r = Ack(http_, RootAuth(), "chat.shared_topic", "g", 0, 1);
  ASSERT_EQ(r.status, 200) << Body(r);
  EXPECT_EQ(r.body.at("acknowledged_offset").as_int64(), 3);
  EXPECT_TRUE(Rows(Root("CONSUME FROM chat.shared_topic GROUP 'g' LIMIT 10")).empty());
  EXPECT_EQ(Root("DROP TOPIC chat.shared_topic").status, 200);
}

TEST_F(Topics, ConsumersOfOneGroupSplitTheWorkAndGroupsEachSeeAll) {
  ASSERT_EQ(Root("CREATE TABLE chat.tasks (id BIGINT PRIMARY KEY)").status, 200);
  ASSERT_EQ(Root("CREATE TOPIC chat.tasks_topic PARTITIONS 2").status, 200);
  ASSERT_EQ(Root("ALTER TOPIC chat.tasks_topic ADD SOURCE chat.tasks ON INSERT").status, 200);
  constexpr int kRows = 400;
  std::thread writer([&] {
    auto http = server_->Client();
    for (int i = 0; i < kRows; i += 10) {
      std::string values;
      for (int j = i; j < i + 10; ++j) values += (j > i ? "," : "") + std::string("(") + std::to_string(j) + ")";
      Sql(http, RootAuth(), "INSERT INTO chat.tasks VALUES " + values);
    }
  });
  // Two consumers of group 'g' on both partitions, acknowledging what they get; a third
  // consumer in group 'other' alone.
  std::mutex mutex;
  std::multiset<std::string> by_g, by_other;
  auto consumer = [&](const std::string& group, std::multiset<std::string>& seen, size_t want) {
    auto http = server_->Client();
    const auto deadline = std::chrono::steady_clock::now() + 60s;
    while (std::chrono::steady_clock::now() < deadline) {
      {
        std::lock_guard lock(mutex);
        if (seen.size() >= want) return;
      }
      for (int p = 0; p < 2; ++p) {
        auto r = Consume(http, RootAuth(),
                         "{\"topic_id\":\"chat.tasks_topic\",\"group_id\":\"" + group +
                             "\",\"start\":\"Earliest\",\"limit\":7,\"partition_id\":" + std::to_string(p) +
                             ",\"timeout_seconds\":1}");
        if (r.status != 200) continue;
        const auto& messages = r.body.at("messages").as_array();
        if (messages.empty()) continue;
        {
          std::lock_guard lock(mutex);
          for (const auto& m : messages) seen.insert(std::string(m.at("key").as_string()));
        }
        Ack(http, RootAuth(), "chat.tasks_topic", group, p, messages.back().at("offset").as_int64());
      }
    }
  };
  std::thread c1(consumer, "g", std::ref(by_g), kRows);
  std::thread c2(consumer, "g", std::ref(by_g), kRows);
  std::thread c3(consumer, "other", std::ref(by_other), kRows);
  writer.join();
  c1.join();
  c2.join();
  c3.join();
  // Every row once in each group: the two consumers of 'g' never got the same range (the
  // visibility timeout is 1 s and each range is acknowledged at once).
  ASSERT_EQ(by_g.size(), static_cast<size_t>(kRows));
  ASSERT_EQ(by_other.size(), static_cast<size_t>(kRows));
  EXPECT_EQ(std::set<std::string>(by_g.begin(), by_g.end()).size(), static_cast<size_t>(kRows));
  EXPECT_EQ(std::set<std::string>(by_other.begin(), by_other.end()).size(), static_cast<size_t>(kRows));
  EXPECT_EQ(Root("DROP TOPIC chat.tasks_topic").status, 200);
}

TEST_F(Topics, LongPollWaitsForTheNextAppend) {
  ASSERT_EQ(Root("CREATE TABLE chat.pings (id BIGINT PRIMARY KEY)").status, 200);
  ASSERT_EQ(Root("CREATE TOPIC chat.ping_topic").status, 200);
  ASSERT_EQ(Root("ALTER TOPIC chat.ping_topic ADD SOURCE chat.pings ON INSERT").status, 200);
  // Nothing comes: the request waits its timeout, then answers an empty batch.
  auto started = std::chrono::steady_clock::now();
  auto r = Consume(http_, RootAuth(), R"({"topic_id":"chat.ping_topic","group_id":"lp","timeout_seconds":1})");
  ASSERT_EQ(r.status, 200) << Body(r);
  EXPECT_TRUE(r.body.at("messages").as_array().empty());
  EXPECT_GE(std::chrono::steady_clock::now() - started, 900ms);
  // An insert while it waits answers it at once, long before its 30 s.
  std::thread writer([&] {
    auto http = server_->Client();
    std::this_thread::sleep_for(300ms);  // lets the consume start waiting first (either order passes)
    Sql(http, RootAuth(), "INSERT INTO chat.pings VALUES (1)");
  });
  started = std::chrono::steady_clock::now();
  r = Consume(http_, RootAuth(), R"({"topic_id":"chat.ping_topic","group_id":"lp","timeout_seconds":30})");
  writer.join();
  ASSERT_EQ(r.status, 200) << Body(r);
  ASSERT_EQ(r.body.at("messages").as_array().size(), 1u) << Body(r);
  EXPECT_LT(std::chrono::steady_clock::now() - started, 20s);
  EXPECT_EQ(Root("DROP TOPIC chat.ping_topic").status, 200);
}

// Offsets, groups and sources outlive a restart; offsets stay dense.
TEST(TopicsRestart, StateSurvivesARestart) {
  ServerProcess server;
  server.Start();
  auto http = server.Client();
  auto r = Sql(http, RootAuth(),
               "CREATE NAMESPACE app; CREATE TABLE app.t (id BIGINT PRIMARY KEY); CREATE TOPIC app.events; "
               "ALTER TOPIC app.events ADD SOURCE app.t ON INSERT; INSERT INTO app.t VALUES (1), (2), (3); "
               "CONSUME FROM app.events GROUP 'g' FROM EARLIEST LIMIT 2; ACK app.events GROUP 'g' UPTO OFFSET 1");
  ASSERT_EQ(r.status, 200) << Body(r);
  EXPECT_EQ(server.Stop(SIGTERM), 0);
  server.Start();
  http = server.Client();
  ASSERT_EQ(Sql(http, RootAuth(), "INSERT INTO app.t VALUES (4)").status, 200);
  r = Sql(http, RootAuth(), "CONSUME FROM app.events GROUP 'g' LIMIT 10");
  auto rows = Rows(r);
  ASSERT_EQ(rows.size(), 2u) << Body(r);
  EXPECT_EQ(rows[0].offset, 2);
  EXPECT_EQ(rows[1].offset, 3);
  EXPECT_EQ(rows[1].key, "4");
}

// Retention removes what is old and acknowledged by every group, as a job.
TEST(TopicsRetention, OldAcknowledgedMessagesGo) {
  ServerProcess server({"", "[topics]\nretention_hours = 0\nretention_check_secs = 1\n", {}, true, ""});
  server.Start();
  auto http = server.Client();
  auto r = Sql(http, RootAuth(),
               "CREATE NAMESPACE app; CREATE TABLE app.t (id BIGINT PRIMARY KEY); CREATE TOPIC app.events; "
               "ALTER TOPIC app.events ADD SOURCE app.t ON INSERT; INSERT INTO app.t VALUES (1), (2), (3), (4); "
               "CONSUME FROM app.events GROUP 'g' FROM EARLIEST LIMIT 4; ACK app.events GROUP 'g' UPTO OFFSET 1");
  ASSERT_EQ(r.status, 200) << Body(r);
  auto count = [&] {
    auto c = Sql(http, RootAuth(), "SELECT message_count FROM system.topics WHERE topic_id = 'app.events'");
    return c.status == 200 ? c.rows().at(0).at(0).as_int64() : -1;
  };
  ASSERT_TRUE(WaitUntil([&] { return count() == 2; }, 20s)) << count();
  r = Sql(http, RootAuth(), "CONSUME FROM app.events FROM EARLIEST");
  auto rows = Rows(r);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].offset, 2);  // 2 and 3 are not acknowledged: kept
  r = Sql(http, RootAuth(), "SELECT count(*) FROM system.jobs WHERE job_type = 'topic_retention' AND status = 'completed'");
  EXPECT_GE(r.rows().at(0).at(0).as_int64(), 1);
}

// SIGKILL while a producer writes and a consumer acknowledges (durable commits): after the
// restart no acknowledged offset went back and every acknowledged insert has its message.
TEST(TopicsCrash, NothingAcknowledgedIsLostOnSigkill) {
  ServerProcess server({"", "[storage]\nsync_writes = true\n", {}, true, ""});
  server.Start();
  {
    auto http = server.Client();
    auto r = Sql(http, RootAuth(),
                 "CREATE NAMESPACE app; CREATE TABLE app.t (id BIGINT PRIMARY KEY); CREATE TOPIC app.events PARTITIONS 2; "
                 "ALTER TOPIC app.events ADD SOURCE app.t ON INSERT");
    ASSERT_EQ(r.status, 200) << Body(r);
  }
  for (int trial = 0; trial < 3; ++trial) {
    std::atomic<bool> stop = false;
    std::mutex mutex;
    std::set<int64_t> inserted;
    std::map<int, int64_t> acked;  // partition -> highest acknowledged offset
    std::thread producer([&] {
      auto http = server.Client();
      for (int64_t id = trial * 1000000; !stop; ++id) {
        try {
          if (Sql(http, RootAuth(), "INSERT INTO app.t VALUES (" + std::to_string(id) + ")").status == 200) {
            std::lock_guard lock(mutex);
            inserted.insert(id);
          }
        } catch (const std::exception&) {
          return;
        }
      }
    });
    std::thread consumer([&] {
      auto http = server.Client();
      while (!stop) {
        try {
          for (int p = 0; p < 2; ++p) {
            auto r = Consume(http, RootAuth(),
                             "{\"topic_id\":\"app.events\",\"group_id\":\"c\",\"start\":\"Earliest\",\"limit\":50,"
                             "\"partition_id\":" + std::to_string(p) + "}");
            if (r.status != 200 || r.body.at("messages").as_array().empty()) continue;
            const int64_t last = r.body.at("messages").as_array().back().at("offset").as_int64();
            auto a = Ack(http, RootAuth(), "app.events", "c", p, last);
            if (a.status == 200) {
              std::lock_guard lock(mutex);
              acked[p] = std::max(acked[p], a.body.at("acknowledged_offset").as_int64());
            }
          }
        } catch (const std::exception&) {
          return;
        }
      }
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(400 + 300 * trial));
    EXPECT_EQ(server.Stop(SIGKILL), 128 + SIGKILL);
    stop = true;
    producer.join();
    consumer.join();
    ASSERT_FALSE(inserted.empty());
    server.Start();
    auto http = server.Client();
    auto r = Sql(http, RootAuth(), "SELECT partition_id, committed_offset FROM system.topic_offsets WHERE group_id = 'c'");
    ASSERT_EQ(r.status, 200) << Body(r);
    std::map<int, int64_t> committed;
    for (const auto& row : r.rows()) committed[static_cast<int>(row.at(0).as_int64())] = row.at(1).as_int64();
    for (const auto& [p, offset] : acked) EXPECT_GE(committed[p], offset) << "partition " << p;
    // Every acknowledged insert has its message; offsets are dense from 0.
    std::set<std::string> keys;
    for (int p = 0; p < 2; ++p) {
      int64_t expected = 0;
      while (true) {
        auto c = Sql(http, RootAuth(), "CONSUME FROM app.events PARTITION " + std::to_string(p) + " FROM " +
                                           std::to_string(expected) + " LIMIT 5000");
        ASSERT_EQ(c.status, 200) << Body(c);
        auto rows = Rows(c);
        if (rows.empty()) break;
        for (const auto& row : rows) {
          ASSERT_EQ(row.offset, expected++) << "partition " << p;
          keys.insert(row.key);
        }
      }
    }
    size_t missing = 0;
    for (int64_t id : inserted) missing += keys.contains(std::to_string(id)) ? 0 : 1;
    EXPECT_EQ(missing, 0u) << "of " << inserted.size() << " acknowledged inserts";
    // And no message without its row.
    auto rows = Sql(http, RootAuth(), "SELECT count(*) FROM app.t");
    EXPECT_EQ(static_cast<size_t>(rows.rows().at(0).at(0).as_int64()), keys.size());
  }
}

}  // namespace
}  // namespace kalam::testing
