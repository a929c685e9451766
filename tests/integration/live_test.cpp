// Live queries over WebSocket (/v1/ws) through the real server.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <map>
#include <numeric>
#include <set>
#include <thread>

#include "client/ws_client.h"
#include "server_process.h"

namespace kalam::testing {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;

// A WebSocket client that parses what it receives.
class Socket {
 public:
  Socket(const ServerProcess& server, const std::string& target = "/v1/ws",
         const client::Headers& headers = {}) {
    Status s = ws_.Connect("127.0.0.1", server.port(), target, headers);
    if (!s.ok()) throw std::runtime_error(s.message());
  }
  void Send(const std::string& text) { ASSERT_TRUE(ws_.Send(text).ok()); }
  void Ping() { ASSERT_TRUE(ws_.Ping().ok()); }
  // The next message, or null after the timeout.
  json::value Next(std::chrono::milliseconds timeout = 3000ms) {
    auto text = ws_.Receive(timeout);
    if (!text) return nullptr;
    return json::parse(*text);
  }
  // Skips messages until one of the type arrives.
  json::value NextOf(const std::string& type, std::chrono::milliseconds timeout = 3000ms) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      json::value m = Next(std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now()));
      if (m.is_null()) break;
      if (m.at("type").as_string() == type) return m;
    }
    return nullptr;
  }
  bool closed() const { return ws_.closed(); }
  // Whether the next thing the server does within the deadline, with no message before it,
  // is to close: a close frame, then the end of the TCP connection.
  bool NextIsClose(std::chrono::milliseconds deadline = 3000ms) {
    if (ws_.Receive(deadline)) return false;  // a message, not the close
    return ws_.closed_by_server_frame();
  }

 private:
  client::WsClient ws_;
};

std::string Basic(const std::string& user) { return client::BasicAuth(user, user + "-password"); }

std::string SubscribeMessage(const std::string& id, const std::string& sql,
                             const std::string& options = "{}") {
  return R"({"type":"subscribe","subscription":{"id":")" + id + R"(","sql":)" +
         json::serialize(json::value(sql)) + R"(,"options":)" + options + "}}";
}

class Live : public ServerTest {
 protected:
  static void SetUpTestSuite() {
    ServerTest::SetUpTestSuite();
    auto http = server_->Client();
    for (const char* user : {"ann", "ben"}) {
      Sql(http, RootAuth(),
          std::string("CREATE USER '") + user + "' WITH PASSWORD '" + user + "-password' ROLE user");
    }
    Sql(http, RootAuth(),
        "CREATE NAMESPACE app; "
        "CREATE USER TABLE app.msgs (id BIGINT PRIMARY KEY, room TEXT, body TEXT); "
        "CREATE STREAM TABLE app.typing (who TEXT) WITH (TTL_SECONDS = 600); "
        "CREATE SHARED TABLE app.board (id BIGINT PRIMARY KEY, topic TEXT, n INT) WITH (ACCESS_LEVEL = 'public'); "
        "CREATE SHARED TABLE app.secret (id BIGINT PRIMARY KEY, v TEXT)");
  }
  Socket Connect(const std::string& user) {
    Socket s(*server_, "/v1/ws", {{"Authorization", user == "root" ? RootAuth() : Basic(user)}});
    json::value hello = s.Next();
    EXPECT_EQ(hello.at("type").as_string(), "auth_success") << json::serialize(hello);
    return s;
  }
};

TEST_F(Live, AuthenticatesThreeWays) {
  {
    Socket s(*server_, "/v1/ws", {{"Authorization", Basic("ann")}});
    auto m = s.Next();
    EXPECT_EQ(m.at("type").as_string(), "auth_success");
    EXPECT_EQ(m.at("role").as_string(), "user");
  }
  auto login = http_.Send("POST", "/v1/api/auth/login", R"({"username":"ann","password":"ann-password"})");
  const std::string token(json::parse(login->body).at("access_token").as_string());
  {
    Socket s(*server_, "/v1/ws?token=" + token);
    EXPECT_EQ(s.Next().at("type").as_string(), "auth_success");
  }
  {
    Socket s(*server_);
    s.Send(R"({"type":"authenticate","method":"jwt","token":")" + token + "\"}");
    EXPECT_EQ(s.Next().at("type").as_string(), "auth_success");
  }
  {
    Socket s(*server_);
    s.Send(R"({"type":"authenticate","method":"basic","username":"ben","password":"ben-password"})");
    EXPECT_EQ(s.Next().at("type").as_string(), "auth_success");
  }
}

// Whatever refused the credentials, auth_error is the last message: the server closes the
// connection right after it (close frame, then TCP close), and the client's next read sees
// that.
TEST_F(Live, AuthErrorClosesTheConnection) {
  struct Attempt {
    const char* how;
    std::string target;
    client::Headers headers;
    std::string first_message;  // "" when the upgrade carries the credentials
  };
  const std::vector<Attempt> attempts = {
      {"bearer header", "/v1/ws", {{"Authorization", "Bearer not.a.token"}}, ""},
      {"basic header", "/v1/ws", {{"Authorization", client::BasicAuth("ann", "wrong-password")}}, ""},
      {"?token=", "/v1/ws?token=not.a.token", {}, ""},
      {"?token= on /ws", "/ws?token=not.a.token", {}, ""},
      {"authenticate jwt", "/v1/ws", {}, R"({"type":"authenticate","method":"jwt","token":"not.a.token"})"},
      {"authenticate basic", "/v1/ws", {},
       R"({"type":"authenticate","method":"basic","username":"ann","password":"wrong-password"})"},
      {"authenticate, unknown method", "/v1/ws", {}, R"({"type":"authenticate","method":"magic"})"},
  };
  for (const Attempt& a : attempts) {
    Socket s(*server_, a.target, a.headers);
    if (!a.first_message.empty()) s.Send(a.first_message);
    auto m = s.Next();
    ASSERT_FALSE(m.is_null()) << a.how;
    EXPECT_EQ(m.at("type").as_string(), "auth_error") << a.how;
    EXPECT_EQ(m.at("code").as_string(), "UNAUTHORIZED") << a.how;
    EXPECT_TRUE(s.NextIsClose()) << a.how;
  }
  // Anything but authenticate first: the error, then the close.
  Socket s(*server_);
  s.Send(SubscribeMessage("x", "SELECT * FROM app.msgs"));
  auto m = s.Next();
  ASSERT_FALSE(m.is_null());
  EXPECT_EQ(m.at("code").as_string(), "AUTH_REQUIRED");
  EXPECT_TRUE(s.NextIsClose());
}

TEST_F(Live, PingPongAndProtocolErrors) {
  Socket s = Connect("ann");
  s.Send(R"({"type":"ping"})");
  EXPECT_EQ(s.Next().at("type").as_string(), "pong");
  s.Send("not json");
  EXPECT_EQ(s.Next().at("code").as_string(), "PROTOCOL");
  s.Send(R"({"type":"dance"})");
  EXPECT_EQ(s.Next().at("code").as_string(), "PROTOCOL");
  for (const auto& [sql, code] : std::vector<std::pair<std::string, std::string>>{
           {"SELEC nonsense", "INVALID_SQL"},
           {"SELECT * FROM app.msgs m JOIN app.msgs n ON m.id = n.id", "UNSUPPORTED"},
           {"SELECT count(*) FROM app.msgs", "UNSUPPORTED"},
           {"SELECT * FROM app.msgs ORDER BY id", "UNSUPPORTED"},
           {"SELECT * FROM app.msgs LIMIT 3", "UNSUPPORTED"},
           {"SELECT * FROM system.users", "UNSUPPORTED"},
           {"SELECT * FROM app.nothing", "NOT_FOUND"},
           {"SELECT * FROM app.secret", "UNAUTHORIZED"},
           {"SELECT * FROM app.msgs WHERE body IN (SELECT body FROM app.msgs)", "UNSUPPORTED"}}) {
    s.Send(SubscribeMessage("bad", sql));
    auto m = s.NextOf("error");
    ASSERT_FALSE(m.is_null()) << sql;
    EXPECT_EQ(m.at("code").as_string(), code) << sql;
  }
  s.Send(R"({"type":"unsubscribe","subscription_id":"never"})");
  EXPECT_EQ(s.Next().at("code").as_string(), "INVALID_SUBSCRIPTION_ID");
}

TEST_F(Live, SnapshotInBatchesThenOrderedChanges) {
  ASSERT_EQ(As("ann", "INSERT INTO app.msgs VALUES (1, 'r1', 'a'), (2, 'r1', 'b'), (3, 'r2', 'c'), (4, 'r1', 'd'), (5, 'r1', 'e')").status, 200);
  Socket s = Connect("ann");
  s.Send(SubscribeMessage("c1", "SELECT id, body FROM app.msgs WHERE room = 'r1'", R"({"batch_size":2})"));
  auto ack = s.Next();
  ASSERT_EQ(ack.at("type").as_string(), "subscription_ack") << json::serialize(ack);
  EXPECT_EQ(ack.at("subscription_id").as_string(), "c1");
  EXPECT_EQ(ack.at("total_rows").as_int64(), 4);
  EXPECT_EQ(ack.at("schema").as_array().size(), 3u);  // id, body, _seq
  EXPECT_EQ(ack.at("batch_control").at("status").as_string(), "loading");
  const std::string live_id(ack.at("live_id").as_string());
  std::vector<int64_t> ids;
  for (int b = 1; b <= 2; ++b) {
    auto batch = s.Next();
    ASSERT_EQ(batch.at("type").as_string(), "initial_data_batch");
    EXPECT_EQ(batch.at("batch_control").at("batch_num").as_int64(), b);
    EXPECT_EQ(batch.at("batch_control").at("status").as_string(), b == 2 ? "ready" : "loading");
    for (const auto& row : batch.at("rows").as_array()) {
      ids.push_back(row.at("id").as_int64());
      EXPECT_FALSE(row.as_object().contains("room"));  // projection
      EXPECT_TRUE(row.as_object().contains("_seq"));
    }
  }
  EXPECT_EQ(ids, (std::vector<int64_t>{1, 2, 4, 5}));

  ASSERT_EQ(As("ann", "INSERT INTO app.msgs VALUES (6, 'r1', 'f'), (7, 'r2', 'g'), (8, 'r1', 'h')").status, 200);
  auto insert = s.Next();
  ASSERT_EQ(insert.at("type").as_string(), "change") << json::serialize(insert);
  EXPECT_EQ(insert.at("change_type").as_string(), "insert");
  EXPECT_EQ(insert.at("rows").as_array().size(), 2u);  // one message for the statement, r1 only
  ASSERT_EQ(As("ann", "UPDATE app.msgs SET body = 'A' WHERE id = 1").status, 200);
  auto update = s.Next();
  EXPECT_EQ(update.at("change_type").as_string(), "update");
  EXPECT_EQ(update.at("rows").at(0).at("body").as_string(), "A");
  EXPECT_EQ(update.at("old_values").at(0).at("body").as_string(), "a");
  ASSERT_EQ(As("ann", "UPDATE app.msgs SET room = 'r1' WHERE id = 3").status, 200);
  auto starts = s.Next();
  EXPECT_EQ(starts.at("change_type").as_string(), "insert");  // starts matching
  ASSERT_EQ(As("ann", "UPDATE app.msgs SET room = 'r9' WHERE id = 2").status, 200);
  auto stops = s.Next();
  EXPECT_EQ(stops.at("change_type").as_string(), "delete");  // stops matching
  EXPECT_EQ(stops.at("old_values").at(0).at("id").as_int64(), 2);
  ASSERT_EQ(As("ann", "DELETE FROM app.msgs WHERE id = 4").status, 200);
  auto deleted = s.Next();
  EXPECT_EQ(deleted.at("change_type").as_string(), "delete");
  ASSERT_EQ(As("ann", "INSERT INTO app.msgs VALUES (8, 'r1', 'H') ON CONFLICT (id) DO UPDATE SET body = excluded.body").status, 200);
  EXPECT_EQ(s.Next().at("change_type").as_string(), "update");
  // Events carry increasing _seq.
  // system.live_queries shows the subscription with its change count.
  auto live = As("ann", "SELECT live_id, subscription_id, changes FROM system.live_queries");
  ASSERT_EQ(live.rows().size(), 1u);
  EXPECT_EQ(live.rows()[0].at(0).as_string(), live_id);
  EXPECT_GE(live.rows()[0].at(2).as_int64(), 6);
  EXPECT_EQ(As("ben", "SELECT count(*) FROM system.live_queries").rows()[0].at(0).as_int64(), 0);

  s.Send(R"({"type":"unsubscribe","subscription_id":"c1"})");
  EXPECT_EQ(s.Next().at("type").as_string(), "unsubscribed");
  ASSERT_EQ(As("ann", "INSERT INTO app.msgs VALUES (9, 'r1', 'i')").status, 200);
  EXPECT_TRUE(s.Next(300ms).is_null());
  ASSERT_EQ(As("ann", "DELETE FROM app.msgs").status, 200);
}

TEST_F(Live, UsersOnlyReceiveTheirOwnRows) {
  Socket ann = Connect("ann");
  Socket ben = Connect("ben");
  ann.Send(SubscribeMessage("m", "SELECT * FROM app.msgs"));
  ann.Send(SubscribeMessage("t", "SELECT who FROM app.typing"));
  ben.Send(SubscribeMessage("m", "SELECT * FROM app.msgs WHERE room = 'x'"));
  ben.Send(SubscribeMessage("t", "SELECT who FROM app.typing"));
  for (Socket* s : {&ann, &ben}) {
    for (int i = 0; i < 2; ++i) {
      EXPECT_EQ(s->NextOf("subscription_ack").at("type").as_string(), "subscription_ack");
    }
  }
  ASSERT_EQ(As("ben", "INSERT INTO app.msgs VALUES (100, 'x', 'ben secret'); INSERT INTO app.typing VALUES ('ben')").status, 200);
  ASSERT_EQ(As("ann", "INSERT INTO app.msgs VALUES (100, 'x', 'ann own'); INSERT INTO app.typing VALUES ('ann')").status, 200);
  auto a1 = ann.NextOf("change"), a2 = ann.NextOf("change");
  EXPECT_EQ(json::serialize(a1).find("ben"), std::string::npos);
  EXPECT_EQ(json::serialize(a2).find("ben"), std::string::npos);
  EXPECT_TRUE(ann.Next(300ms).is_null());
  auto b1 = ben.NextOf("change"), b2 = ben.NextOf("change");
  EXPECT_NE(json::serialize(b1).find("ben"), std::string::npos);
  EXPECT_NE(json::serialize(b2).find("ben"), std::string::npos);
  EXPECT_TRUE(ben.Next(300ms).is_null());
  As("ann", "DELETE FROM app.msgs");
  As("ben", "DELETE FROM app.msgs");
}

TEST_F(Live, SharedTablesRouteByEquality) {
  std::vector<std::unique_ptr<Socket>> sockets;
  for (int i = 0; i < 3; ++i) {
    sockets.push_back(std::make_unique<Socket>(*server_, "/v1/ws", client::Headers{{"Authorization", Basic("ann")}}));
    sockets.back()->Next();
    sockets.back()->Send(SubscribeMessage("b", "SELECT id, n FROM app.board WHERE topic = 't" + std::to_string(i) + "'"));
    ASSERT_EQ(sockets.back()->NextOf("subscription_ack").at("type").as_string(), "subscription_ack");
  }
  ASSERT_EQ(Root("INSERT INTO app.board VALUES (1, 't1', 10)").status, 200);
  EXPECT_TRUE(sockets[0]->Next(300ms).is_null());
  EXPECT_EQ(sockets[1]->Next().at("rows").at(0).at("n").as_int64(), 10);
  EXPECT_TRUE(sockets[2]->Next(100ms).is_null());
  ASSERT_EQ(Root("UPDATE app.board SET topic = 't2' WHERE id = 1").status, 200);
  EXPECT_EQ(sockets[1]->Next().at("change_type").as_string(), "delete");
  EXPECT_EQ(sockets[2]->Next().at("change_type").as_string(), "insert");
}

// The keys of a message, sorted: which of rows and old_values a change carries.
std::vector<std::string> Keys(const json::value& m) {
  std::vector<std::string> keys;
  for (const auto& field : m.as_object()) keys.emplace_back(field.key());
  std::sort(keys.begin(), keys.end());
  return keys;
}

// A row of a change without its _seq (checked on its own).
json::value Cells(const json::value& row) {
  json::object cells = row.as_object();
  cells.erase("_seq");
  return cells;
}

// Each kind of change has its own shape: insert `rows`; update `rows` and `old_values`
// (the same rows before); delete `old_values` only. Updates that move a row into or out of
// the subscription's WHERE are inserts and deletes.
TEST_F(Live, ChangeEventsCarryRowsOrOldValuesByKind) {
  ASSERT_EQ(Root("CREATE SHARED TABLE app.shape (id BIGINT PRIMARY KEY, topic TEXT, n INT) "
                 "WITH (ACCESS_LEVEL = 'public')").status, 200);
  Socket s = Connect("ann");
  s.Send(SubscribeMessage("w", "SELECT id, n FROM app.shape WHERE topic = 'on'"));
  ASSERT_FALSE(s.NextOf("subscription_ack").is_null());
  using Names = std::vector<std::string>;
  const Names insert_keys{"change_type", "rows", "subscription_id", "type"};
  const Names update_keys{"change_type", "old_values", "rows", "subscription_id", "type"};
  const Names delete_keys{"change_type", "old_values", "subscription_id", "type"};
  int64_t last_seq = 0;
  // The next change, which must be of kind and carry rising _seq in its rows.
  auto next_change = [&](const std::string& kind) {
    json::value m = s.NextOf("change");
    EXPECT_FALSE(m.is_null()) << "no " << kind;
    if (m.is_null()) return m;
    EXPECT_EQ(m.at("change_type").as_string(), kind) << json::serialize(m);
    EXPECT_EQ(m.at("subscription_id").as_string(), "w");
    const char* current = kind == "delete" ? "old_values" : "rows";
    for (const auto& row : m.at(current).as_array()) {
      EXPECT_GT(row.at("_seq").as_int64(), last_seq) << json::serialize(m);
      last_seq = row.at("_seq").as_int64();
    }
    return m;
  };

  ASSERT_EQ(Root("INSERT INTO app.shape VALUES (1, 'on', 1), (2, 'off', 5)").status, 200);
  auto insert = next_change("insert");
  EXPECT_EQ(Keys(insert), insert_keys);
  ASSERT_EQ(insert.at("rows").as_array().size(), 1u);
  EXPECT_EQ(Cells(insert.at("rows").at(0)), json::parse(R"({"id":1,"n":1})"));
  const int64_t inserted_seq = insert.at("rows").at(0).at("_seq").as_int64();

  ASSERT_EQ(Root("UPDATE app.shape SET n = 2 WHERE id = 1").status, 200);
  auto update = next_change("update");
  EXPECT_EQ(Keys(update), update_keys);
  ASSERT_EQ(update.at("rows").as_array().size(), 1u);
  ASSERT_EQ(update.at("old_values").as_array().size(), 1u);
  EXPECT_EQ(Cells(update.at("rows").at(0)), json::parse(R"({"id":1,"n":2})"));
  EXPECT_EQ(Cells(update.at("old_values").at(0)), json::parse(R"({"id":1,"n":1})"));
  EXPECT_EQ(update.at("old_values").at(0).at("_seq").as_int64(), inserted_seq);

  // Row 2 starts matching: an insert of the row as it is now.
  ASSERT_EQ(Root("UPDATE app.shape SET topic = 'on', n = 6 WHERE id = 2").status, 200);
  auto starts = next_change("insert");
  EXPECT_EQ(Keys(starts), insert_keys);
  ASSERT_EQ(starts.at("rows").as_array().size(), 1u);
  EXPECT_EQ(Cells(starts.at("rows").at(0)), json::parse(R"({"id":2,"n":6})"));

  // Row 1 stops matching: a delete of the row as it was.
  ASSERT_EQ(Root("UPDATE app.shape SET topic = 'off', n = 3 WHERE id = 1").status, 200);
  auto stops = next_change("delete");
  EXPECT_EQ(Keys(stops), delete_keys);
  ASSERT_EQ(stops.at("old_values").as_array().size(), 1u);
  EXPECT_EQ(Cells(stops.at("old_values").at(0)), json::parse(R"({"id":1,"n":2})"));

  // Changes to rows that match neither before nor after send nothing; the next event is
  // the delete of row 2, as it was.
  ASSERT_EQ(Root("UPDATE app.shape SET n = 4 WHERE id = 1; DELETE FROM app.shape WHERE id = 1").status, 200);
  ASSERT_EQ(Root("DELETE FROM app.shape WHERE id = 2").status, 200);
  auto deleted = next_change("delete");
  EXPECT_EQ(Keys(deleted), delete_keys);
  ASSERT_EQ(deleted.at("old_values").as_array().size(), 1u);
  EXPECT_EQ(Cells(deleted.at("old_values").at(0)), json::parse(R"({"id":2,"n":6})"));

  // One statement, several rows: one message holding them all.
  ASSERT_EQ(Root("INSERT INTO app.shape VALUES (3, 'on', 30), (4, 'on', 40)").status, 200);
  EXPECT_EQ(next_change("insert").at("rows").as_array().size(), 2u);
  ASSERT_EQ(Root("DELETE FROM app.shape WHERE id IN (3, 4)").status, 200);
  auto both = next_change("delete");
  EXPECT_EQ(Keys(both), delete_keys);
  std::set<int64_t> ids;
  for (const auto& row : both.at("old_values").as_array()) ids.insert(row.at("id").as_int64());
  EXPECT_EQ(ids, (std::set<int64_t>{3, 4}));
  EXPECT_TRUE(s.Next(300ms).is_null());
  ASSERT_EQ(Root("DROP TABLE app.shape").status, 200);
}

// The ids of a subscription's snapshot (all batches), in the order sent.
std::vector<int64_t> SnapshotIds(Socket& s, const std::string& id, const std::string& sql,
                                 const std::string& options = "{}") {
  s.Send(SubscribeMessage(id, sql, options));
  auto ack = s.NextOf("subscription_ack");
  EXPECT_FALSE(ack.is_null()) << sql;
  std::vector<int64_t> ids;
  if (ack.is_null()) return ids;
  const int64_t total = ack.at("total_rows").as_int64();
  while (static_cast<int64_t>(ids.size()) < total) {
    auto batch = s.NextOf("initial_data_batch");
    if (batch.is_null()) break;
    for (const auto& row : batch.at("rows").as_array()) ids.push_back(row.at("id").as_int64());
  }
  return ids;
}

// A connection's queued messages leave in one write: bursts of changes for many
// subscriptions, with pings answered between them, arrive whole and in order.
TEST_F(Live, BurstsOfChangesArriveWholeAndInOrder) {
  ASSERT_EQ(Root("CREATE SHARED TABLE app.burst (id BIGINT PRIMARY KEY, body TEXT) WITH (ACCESS_LEVEL = 'public')").status, 200);
  Socket s = Connect("ann");
  constexpr int kSubscriptions = 30;
  for (int i = 0; i < kSubscriptions; ++i) {
    EXPECT_TRUE(SnapshotIds(s, "s" + std::to_string(i), "SELECT id FROM app.burst").empty());
  }
  constexpr int kStatements = 20;
  std::thread writer([&] {
    auto http = server_->Client();
    for (int k = 0; k < kStatements; ++k) {
      // Some messages past a socket write's usual size, one past a 16-bit frame length.
      const std::string body(k == 7 ? 70000 : 100 + k * 500, 'x');
      EXPECT_EQ(Sql(http, RootAuth(),
                    "INSERT INTO app.burst VALUES (" + std::to_string(3 * k) + ", '" + body + "'), (" +
                        std::to_string(3 * k + 1) + ", 'b'), (" + std::to_string(3 * k + 2) + ", 'c')")
                    .status,
                200);
    }
  });
  std::map<std::string, std::vector<int64_t>> ids;
  int pongs = 0;
  int pings = 0;
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  size_t received = 0;
  while (received < static_cast<size_t>(kSubscriptions * kStatements) && std::chrono::steady_clock::now() < deadline) {
    if (pings < 10 && received >= static_cast<size_t>(pings) * 50) {
      s.Send(R"({"type":"ping"})");
      ++pings;
    }
    // The server's stream answers ping frames with pong frames of its own, which go out
    // between the change messages it frames itself: none may be torn.
    if (received % 7 == 0) s.Ping();
    json::value m = s.Next(5000ms);
    if (m.is_null()) break;
    const auto type = m.at("type").as_string();
    if (type == "pong") {
      ++pongs;
      continue;
    }
    ASSERT_EQ(type, "change") << json::serialize(m);
    for (const auto& row : m.at("rows").as_array()) {
      ids[std::string(m.at("subscription_id").as_string())].push_back(row.at("id").as_int64());
    }
    ++received;
  }
  writer.join();
  EXPECT_EQ(received, static_cast<size_t>(kSubscriptions * kStatements));
  std::vector<int64_t> all(3 * kStatements);
  std::iota(all.begin(), all.end(), 0);
  ASSERT_EQ(ids.size(), static_cast<size_t>(kSubscriptions));
  for (const auto& [id, seen] : ids) EXPECT_EQ(seen, all) << id;
  // Every ping sent is answered (the last ones may still be on their way).
  while (pongs < pings) {
    json::value m = s.NextOf("pong");
    if (m.is_null()) break;
    ++pongs;
  }
  EXPECT_EQ(pongs, pings);
}

// Snapshots of subscriptions that arrive together share one read of the table; each
// still sees exactly the rows committed before it, also right after changes.
TEST_F(Live, SharedSnapshotsFollowEveryChange) {
  ASSERT_EQ(Root("CREATE SHARED TABLE app.feed (id BIGINT PRIMARY KEY, room TEXT, n INT) WITH (ACCESS_LEVEL = 'public'); "
                 "INSERT INTO app.feed VALUES (1, 'r1', 1), (2, 'r1', 2), (3, 'r1', 3), (4, 'r2', 4), (5, 'r2', 5)").status, 200);
  Socket s = Connect("ann");
  using Ids = std::vector<int64_t>;
  EXPECT_EQ(SnapshotIds(s, "a", "SELECT id FROM app.feed WHERE room = 'r1'"), (Ids{1, 2, 3}));
  EXPECT_EQ(SnapshotIds(s, "b", "SELECT id FROM app.feed WHERE room = 'r2'"), (Ids{4, 5}));
  EXPECT_EQ(SnapshotIds(s, "c", "SELECT id FROM app.feed WHERE room = 'r3'"), Ids{});
  EXPECT_EQ(SnapshotIds(s, "d", "SELECT id FROM app.feed WHERE n >= 2 AND room = 'r1'"), (Ids{2, 3}));
  EXPECT_EQ(SnapshotIds(s, "e", "SELECT id FROM app.feed WHERE n IN (1, 3, 5) OR n > 99"), (Ids{1, 3, 5}));
  EXPECT_EQ(SnapshotIds(s, "f", "SELECT id FROM app.feed", R"({"last_rows":2})"), (Ids{4, 5}));

  ASSERT_EQ(Root("INSERT INTO app.feed VALUES (6, 'r1', 6)").status, 200);
  EXPECT_EQ(SnapshotIds(s, "g", "SELECT id FROM app.feed WHERE room = 'r1'"), (Ids{1, 2, 3, 6}));
  ASSERT_EQ(Root("UPDATE app.feed SET room = 'r1' WHERE id = 4; DELETE FROM app.feed WHERE id = 1").status, 200);
  EXPECT_EQ(SnapshotIds(s, "h", "SELECT id FROM app.feed WHERE room = 'r1'"), (Ids{2, 3, 6, 4}));
  EXPECT_EQ(SnapshotIds(s, "i", "SELECT id FROM app.feed WHERE room = 'r2'"), (Ids{5}));
  // The updated row comes last: snapshots are in _seq order.
  EXPECT_EQ(SnapshotIds(s, "j", "SELECT id FROM app.feed", R"({"last_rows":1})"), (Ids{4}));
  // No initial rows asked for: none read, and changes come from then on.
  Socket zero = Connect("ann");
  EXPECT_EQ(SnapshotIds(zero, "k", "SELECT id FROM app.feed WHERE room = 'r2'", R"({"last_rows":0})"), Ids{});
  ASSERT_EQ(Root("INSERT INTO app.feed VALUES (7, 'r2', 7)").status, 200);
  auto change = zero.NextOf("change");
  ASSERT_FALSE(change.is_null());
  EXPECT_EQ(change.at("subscription_id").as_string(), "k");
  EXPECT_EQ(change.at("rows").as_array().at(0).at("id").as_int64(), 7);
  ASSERT_EQ(Root("DELETE FROM app.feed WHERE id = 7").status, 200);

  // Many subscribers at once, with a writer between them: each snapshot plus its events
  // equals the table at the end.
  std::atomic<bool> stop{false};
  std::thread writer([&] {
    auto http = server_->Client();
    for (int id = 100; !stop; ++id) Sql(http, RootAuth(), "INSERT INTO app.feed VALUES (" + std::to_string(id) + ", 'r1', 0)");
  });
  std::vector<std::unique_ptr<Socket>> sockets;
  std::vector<std::set<int64_t>> seen;
  for (int i = 0; i < 8; ++i) {
    sockets.push_back(std::make_unique<Socket>(*server_, "/v1/ws", client::Headers{{"Authorization", Basic("ann")}}));
    sockets.back()->Next();
    auto ids = SnapshotIds(*sockets.back(), "m", "SELECT id FROM app.feed WHERE room = 'r1'");
    seen.emplace_back(ids.begin(), ids.end());
    EXPECT_EQ(seen.back().size(), ids.size()) << "a row twice in a snapshot";
  }
  stop = true;
  writer.join();
  auto final_rows = Root("SELECT id FROM app.feed WHERE room = 'r1'");
  std::set<int64_t> want;
  for (const auto& row : final_rows.rows()) want.insert(row.at(0).as_int64());
  for (size_t i = 0; i < sockets.size(); ++i) {
    while (seen[i].size() < want.size()) {
      auto change = sockets[i]->NextOf("change", 2000ms);
      if (change.is_null()) break;
      for (const auto& row : change.at("rows").as_array()) {
        EXPECT_TRUE(seen[i].insert(row.at("id").as_int64()).second) << "a row twice";
      }
    }
    EXPECT_EQ(seen[i], want) << "subscriber " << i;
  }
  ASSERT_EQ(Root("DROP TABLE app.feed").status, 200);
}

// Messages sent back to back are handled in order; closing ends every subscription.
TEST_F(Live, BurstsKeepTheirOrderAndCloseCleansUp) {
  {
    Socket s = Connect("ben");
    s.Send(SubscribeMessage("x", "SELECT * FROM app.msgs"));
    s.Send(R"({"type":"unsubscribe","subscription_id":"x"})");
    s.Send(SubscribeMessage("x", "SELECT id FROM app.msgs"));
    for (int i = 0; i < 20; ++i) s.Send(SubscribeMessage("y" + std::to_string(i), "SELECT id FROM app.msgs WHERE id = " + std::to_string(i)));
    std::vector<std::string> seen;
    for (int i = 0; i < 23; ++i) {
      auto m = s.NextOf(i == 1 ? "unsubscribed" : "subscription_ack");
      ASSERT_FALSE(m.is_null()) << "message " << i;
      seen.push_back(std::string(m.at("subscription_id").as_string()));
    }
    EXPECT_EQ(seen[0], "x");
    EXPECT_EQ(seen[1], "x");
    EXPECT_EQ(seen[2], "x");
    EXPECT_EQ(seen[22], "y19");
    EXPECT_EQ(As("ben", "SELECT count(*) FROM system.live_queries").rows()[0].at(0).as_int64(), 21);
  }
  auto live = [&] { return As("ben", "SELECT count(*) FROM system.live_queries").rows()[0].at(0).as_int64(); };
  WaitUntil([&] { return live() == 0; }, 2000ms);
  EXPECT_EQ(live(), 0);
}

TEST_F(Live, KillDropLimitsAndResume) {
  Socket s = Connect("ann");
  s.Send(SubscribeMessage("k", "SELECT * FROM app.board"));
  auto ack = s.NextOf("subscription_ack");
  const std::string live_id(ack.at("live_id").as_string());
  EXPECT_EQ(As("ben", "KILL LIVE QUERY '" + live_id + "'").status, 403);
  EXPECT_EQ(As("ann", "KILL LIVE QUERY '" + live_id + "'").status, 200);
  auto killed = s.NextOf("error");
  EXPECT_EQ(killed.at("subscription_id").as_string(), "k");
  EXPECT_EQ(As("ann", "KILL LIVE QUERY '" + live_id + "'").status, 404);

  s.Send(SubscribeMessage("dup", "SELECT * FROM app.board"));
  s.NextOf("subscription_ack");
  s.Send(SubscribeMessage("dup", "SELECT * FROM app.board"));
  EXPECT_EQ(s.NextOf("error").at("code").as_string(), "INVALID_SUBSCRIPTION_ID");

  // Resume: only what was committed after from_seq_id.
  ASSERT_EQ(Root("CREATE SHARED TABLE app.feed (id BIGINT PRIMARY KEY, v TEXT) WITH (ACCESS_LEVEL = 'public')").status, 200);
  ASSERT_EQ(Root("INSERT INTO app.feed VALUES (1, 'a'), (2, 'b')").status, 200);
  const int64_t cursor = Root("SELECT max(_seq) FROM app.feed").rows()[0].at(0).as_int64();
  ASSERT_EQ(Root("INSERT INTO app.feed VALUES (3, 'c'); UPDATE app.feed SET v = 'A' WHERE id = 1").status, 200);
  s.Send(SubscribeMessage("r", "SELECT id, v FROM app.feed", R"({"from_seq_id":)" + std::to_string(cursor) + "}"));
  auto resumed = s.NextOf("subscription_ack");
  EXPECT_EQ(resumed.at("total_rows").as_int64(), 2);
  auto batch = s.NextOf("initial_data_batch");
  EXPECT_EQ(json::serialize(batch.at("rows").at(0).at("v")), "\"c\"");
  EXPECT_EQ(json::serialize(batch.at("rows").at(1).at("v")), "\"A\"");
  s.Send(SubscribeMessage("last", "SELECT id FROM app.feed", R"({"last_rows":1})"));
  EXPECT_EQ(s.NextOf("subscription_ack").at("total_rows").as_int64(), 1);

  // DROP TABLE ends its subscriptions with an error.
  ASSERT_EQ(Root("DROP TABLE app.feed").status, 200);
  std::set<std::string> ended;
  for (int i = 0; i < 2; ++i) {
    auto e = s.NextOf("error");
    if (!e.is_null()) ended.insert(std::string(e.at("subscription_id").as_string()));
  }
  EXPECT_EQ(ended, (std::set<std::string>{"r", "last"}));
}

TEST_F(Live, SubscribeToOverHttpReturnsTheSubscription) {
  auto r = As("ann", "SUBSCRIBE TO app.msgs WHERE room = 'r1' OPTIONS (last_rows = 20)");
  ASSERT_EQ(r.status, 200) << json::serialize(r.body);
  auto payload = json::parse(r.result(0).at("message").as_string());
  EXPECT_EQ(payload.at("status").as_string(), "subscription_required");
  EXPECT_TRUE(std::string(payload.at("ws_url").as_string()).ends_with("/v1/ws"));
  EXPECT_EQ(payload.at("subscription").at("options").at("last_rows").as_int64(), 20);
  // It is ready to send as it is.
  Socket s = Connect("ann");
  s.Send(R"({"type":"subscribe","subscription":)" + json::serialize(payload.at("subscription")) + "}");
  EXPECT_EQ(s.NextOf("subscription_ack").at("type").as_string(), "subscription_ack");
  EXPECT_EQ(As("ann", "SUBSCRIBE TO app.secret").error_code(), "PERMISSION_DENIED");
}

// Writers commit while subscribers join and leave; every subscriber's view (snapshot plus
// events) must equal the table at the end: nothing lost, nothing twice.
// Commits reach a subscriber in _seq order even when the writers' connections live on
// different I/O threads, one of them the subscriber's: each statement waits for the one
// before (so their commits are ordered), alternating between two connections. A change
// handed over from the subscriber's own I/O thread once waited in that thread's private
// queue while a later one, handed over from the other thread, overtook it.
TEST_F(Live, ChangesFromWritersOnOtherThreadsArriveInCommitOrder) {
  ASSERT_EQ(Root("CREATE SHARED TABLE app.turns (id BIGINT PRIMARY KEY, v INT) WITH (ACCESS_LEVEL = 'public')").status, 200);
  for (int attempt = 0; attempt < 3; ++attempt) {  // connections land on threads in turn
    Socket s(*server_, "/v1/ws", {{"Authorization", Basic("ann")}});
    s.Next();
    s.Send(SubscribeMessage("t", "SELECT id FROM app.turns"));
    auto ack = s.NextOf("subscription_ack");
    ASSERT_FALSE(ack.is_null());
    std::vector<client::HttpClient> writers;
    for (int w = 0; w < 3; ++w) writers.push_back(server_->Client());
    const int base = attempt * 1000, count = 300;
    for (int i = 0; i < count; ++i) {
      auto r = Sql(writers[i % writers.size()], RootAuth(),
                   "INSERT INTO app.turns VALUES (" + std::to_string(base + i) + ", 0)");
      ASSERT_EQ(r.status, 200);
    }
    std::vector<int64_t> ids, seqs;
    while (ids.size() < static_cast<size_t>(count)) {
      auto m = s.NextOf("change");
      ASSERT_FALSE(m.is_null()) << ids.size() << " of " << count << " changes arrived";
      for (const auto& row : m.at("rows").as_array()) {
        ids.push_back(row.at("id").as_int64());
        seqs.push_back(row.at("_seq").as_int64());
      }
    }
    for (size_t i = 0; i < ids.size(); ++i) {
      EXPECT_EQ(ids[i], base + static_cast<int64_t>(i)) << "change " << i;
      if (i > 0) {
        EXPECT_GT(seqs[i], seqs[i - 1]) << "change " << i;
      }
      if (::testing::Test::HasFailure()) return;
    }
  }
}

TEST_F(Live, NoGapsOrDuplicatesUnderConcurrentWrites) {
  ASSERT_EQ(Root("CREATE SHARED TABLE app.stress (id BIGINT PRIMARY KEY, v INT) WITH (ACCESS_LEVEL = 'public')").status, 200);
  std::atomic<bool> stop = false;
  std::thread writer([&] {
    auto http = server_->Client();
    for (int i = 0; !stop; ++i) {
      Sql(http, RootAuth(), "INSERT INTO app.stress VALUES (" + std::to_string(i) + ", 0)");
      if (i % 3 == 0) Sql(http, RootAuth(), "UPDATE app.stress SET v = v + 1 WHERE id = " + std::to_string(i / 2));
      if (i % 7 == 0) Sql(http, RootAuth(), "DELETE FROM app.stress WHERE id = " + std::to_string(i / 3));
    }
  });
  std::vector<std::thread> readers;
  std::atomic<int> failures = 0;
  for (int r = 0; r < 3; ++r) {
    readers.emplace_back([&, r] {
      std::this_thread::sleep_for(std::chrono::milliseconds(100 * r));
      Socket s(*server_, "/v1/ws", {{"Authorization", Basic("ann")}});
      s.Next();
      s.Send(SubscribeMessage("s", "SELECT id, v FROM app.stress"));
      std::map<int64_t, int64_t> view;  // id -> v
      int64_t last_seq = 0;
      auto apply = [&](const json::value& m) {
        const std::string type(m.at("type").as_string());
        const bool del = type == "change" && m.at("change_type").as_string() == "delete";
        for (const auto& row : m.at(del ? "old_values" : "rows").as_array()) {
          const int64_t seq = row.at("_seq").as_int64();
          if (type == "change" && seq <= last_seq) ++failures;  // out of order or twice
          if (type == "change") last_seq = seq;
          if (del) {
            view.erase(row.at("id").as_int64());
          } else {
            view[row.at("id").as_int64()] = row.at("v").as_int64();
          }
        }
      };
      auto ack = s.NextOf("subscription_ack");
      last_seq = ack.at("batch_control").at("last_seq_id").as_int64();
      const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(900 - 100 * r);
      while (std::chrono::steady_clock::now() < until) {
        auto m = s.Next(50ms);
        if (m.is_null()) continue;
        if (m.at("type").as_string() == "initial_data_batch" || m.at("type").as_string() == "change") apply(m);
      }
      while (!stop) std::this_thread::sleep_for(10ms);
      for (auto m = s.Next(500ms); !m.is_null(); m = s.Next(500ms)) apply(m);
      auto http = server_->Client();
      auto table = Sql(http, RootAuth(), "SELECT id, v FROM app.stress ORDER BY id");
      std::map<int64_t, int64_t> expected;
      for (const auto& row : table.rows()) expected[row.at(0).as_int64()] = row.at(1).as_int64();
      if (view != expected) {
        ++failures;
        ADD_FAILURE() << "subscriber " << r << " sees " << view.size() << " rows, the table has "
                      << expected.size();
      }
    });
  }
  std::this_thread::sleep_for(1200ms);
  stop = true;
  writer.join();
  for (auto& t : readers) t.join();
  EXPECT_EQ(failures.load(), 0);
}

}  // namespace
}  // namespace kalam::testing

namespace kalam::testing {
namespace {

TEST(LiveLimits, AuthTimeoutAndSlowConsumers) {
  ServerProcess server({"", "[websocket]\nauth_timeout_secs = 1\nmax_pending_bytes = 65536\n"
                            "max_subscriptions_per_connection = 2\nmax_subscriptions_per_user = 3\n",
                        {}, true, ""});
  server.Start();
  {
    Socket silent(server);
    auto m = silent.Next(2500ms);
    ASSERT_FALSE(m.is_null());
    EXPECT_EQ(m.at("type").as_string(), "auth_error");
    EXPECT_EQ(m.at("code").as_string(), "AUTH_REQUIRED");
    EXPECT_TRUE(silent.NextIsClose());
  }
  auto http = server.Client();
  ASSERT_EQ(Sql(http, RootAuth(), "CREATE NAMESPACE app; CREATE SHARED TABLE app.flood (id BIGINT PRIMARY KEY, body TEXT)").status, 200);
  Socket slow(server, "/v1/ws", {{"Authorization", RootAuth()}});
  slow.Next();
  slow.Send(SubscribeMessage("a", "SELECT * FROM app.flood"));
  slow.Send(SubscribeMessage("b", "SELECT * FROM app.flood"));
  slow.Send(SubscribeMessage("c", "SELECT * FROM app.flood"));
  EXPECT_EQ(slow.NextOf("error").at("code").as_string(), "SUBSCRIPTION_LIMIT_EXCEEDED");
  {
    // A user's subscriptions over all connections are bounded too.
    Socket other(server, "/v1/ws", {{"Authorization", RootAuth()}});
    other.Next();
    other.Send(SubscribeMessage("d", "SELECT * FROM app.flood"));
    EXPECT_EQ(other.NextOf("subscription_ack").at("type").as_string(), "subscription_ack");
    other.Send(SubscribeMessage("e", "SELECT * FROM app.flood"));
    auto refused = other.NextOf("error");
    EXPECT_EQ(refused.at("code").as_string(), "SUBSCRIPTION_LIMIT_EXCEEDED");
    EXPECT_NE(std::string(refused.at("message").as_string()).find("user"), std::string::npos);
  }
  // The slow client stops reading; writers go on without waiting for it.
  const auto start = std::chrono::steady_clock::now();
  for (int batch = 0; batch < 40; ++batch) {
    std::string sql = "INSERT INTO app.flood SELECT range + " + std::to_string(batch * 100) +
                      ", repeat('x', 2000) FROM range(100)";
    ASSERT_EQ(Sql(http, RootAuth(), sql).status, 200);
  }
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(20));
  // Its subscriptions are gone, and so is the connection.
  auto live = [&] { return json::serialize(Sql(http, RootAuth(), "SELECT count(*) FROM system.live_queries").rows()); };
  WaitUntil([&] { return live() == "[[0]]"; }, 5000ms);
  EXPECT_EQ(live(), "[[0]]");
  bool saw_error = false;
  for (auto m = slow.Next(2000ms); !m.is_null(); m = slow.Next(2000ms)) {
    if (m.at("type").as_string() == "error" && m.at("code").as_string() == "MESSAGE_TOO_LARGE") saw_error = true;
  }
  EXPECT_TRUE(saw_error);
  EXPECT_TRUE(slow.closed());
  // /metrics counts the dropped consumer.
  auto metrics = http.Send("GET", "/metrics");
  ASSERT_TRUE(metrics.ok());
  EXPECT_NE(metrics->body.find("\nkalamdb_live_slow_consumers_dropped_total 1\n"), std::string::npos)
      << metrics->body;
}

}  // namespace
}  // namespace kalam::testing

namespace kalam::testing {
namespace {

// The server against a WebSocket client this project did not write: `ws` from npm.
TEST(LiveNodeClient, TheWsPackageSubscribesAndReceivesChanges) {
  const std::string modules = std::string(KALAMDB_SOURCE_DIR) + "/tests/integration/node/node_modules";
  ASSERT_TRUE(std::filesystem::exists(modules + "/ws")) << "run scripts/install-deps.sh";
  ServerProcess server;
  server.Start();
  auto http = server.Client();
  ASSERT_EQ(Sql(http, RootAuth(), "CREATE NAMESPACE app; CREATE USER TABLE app.chat (id BIGINT PRIMARY KEY, body TEXT)").status, 200);
  auto login = http.Send("POST", "/v1/api/auth/login",
                         R"({"username":"root","password":")" + std::string(kRootPassword) + "\"}");
  const std::string token(json::parse(login->body).at("access_token").as_string());
  const std::string command = "KALAMDB_NODE_MODULES='" + modules + "' node '" +
                              std::string(KALAMDB_SOURCE_DIR) + "/tests/integration/node/live_client.js' " +
                              std::to_string(server.port()) + " '" + token +
                              "' 'SELECT id, body FROM app.chat' 2>&1";
  FILE* node = popen(command.c_str(), "r");
  ASSERT_NE(node, nullptr);
  std::vector<json::value> messages;
  char line[65536];
  bool inserted = false;
  while (fgets(line, sizeof(line), node) != nullptr) {
    messages.push_back(json::parse(line));
    if (!inserted && messages.back().at("type").as_string() == "ready") {
      ASSERT_EQ(Sql(http, RootAuth(), "INSERT INTO app.chat VALUES (1, 'from C++')").status, 200);
      inserted = true;
    }
  }
  EXPECT_EQ(pclose(node), 0);
  std::vector<std::string> types;
  for (const auto& m : messages) types.emplace_back(m.at("type").as_string());
  EXPECT_EQ(types, (std::vector<std::string>{"auth_success", "subscription_ack", "ready", "change"}));
  ASSERT_EQ(messages.size(), 4u);
  EXPECT_EQ(messages[3].at("rows").at(0).at("body").as_string(), "from C++");
}

}  // namespace
}  // namespace kalam::testing

namespace kalam::testing {
namespace {

TEST(LiveRestart, SnapshotsAfterARestartHoldTheRows) {
  ServerProcess server;
  server.Start();
  {
    auto http = server.Client();
    ASSERT_EQ(Sql(http, RootAuth(), "CREATE NAMESPACE app; CREATE SHARED TABLE app.k (id INT PRIMARY KEY); "
                                     "INSERT INTO app.k VALUES (1), (2)").status, 200);
  }
  EXPECT_EQ(server.Stop(SIGTERM), 0);
  server.Start();
  Socket s(server, "/v1/ws", {{"Authorization", RootAuth()}});
  s.Next();
  s.Send(SubscribeMessage("k", "SELECT id FROM app.k"));
  EXPECT_EQ(s.NextOf("subscription_ack").at("total_rows").as_int64(), 2);
}

}  // namespace
}  // namespace kalam::testing
