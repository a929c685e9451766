// system.running_queries lists the statements running now (a user sees their own, dba and
// system every one); KILL QUERY cancels one (its owner, dba or system), which answers
// QUERY_CANCELLED and applies nothing; a client that goes away cancels its statement.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <future>
#include <string>

#include "server_process.h"

namespace kalam::testing {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;

// Runs until it is cancelled (or the default statement timeout of 30 s, far past every
// deadline below).
constexpr const char* kEndless =
    "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) SELECT count(*) FROM r";

std::string Password(const std::string& user) { return user + "-password"; }

class RunningQueries : public ServerTest {
 protected:
  void SetUp() override {
    CreateUser("alice", "user");
    CreateUser("bob", "user");
    CreateUser("ops", "dba");
    ASSERT_EQ(Root("CREATE NAMESPACE IF NOT EXISTS app; "
                   "CREATE USER TABLE IF NOT EXISTS app.t (id BIGINT PRIMARY KEY)")
                  .status,
              200);
  }

  // Runs sql as user on a connection of its own; the answer, once it comes.
  std::future<SqlResponse> Start(const std::string& user, const std::string& sql) {
    return std::async(std::launch::async, [user, sql] {
      auto own = server_->Client();
      return Sql(own, client::BasicAuth(user, Password(user)), sql);
    });
  }

  // The rows of system.running_queries that viewer sees for statements starting with prefix.
  json::array Running(const std::string& viewer, const std::string& prefix) {
    auto r = As(viewer, "SELECT query_id, query, user_id, username, started_at, elapsed_ms "
                        "FROM system.running_queries WHERE starts_with(query, '" + prefix +
                            "') ORDER BY started_at");
    EXPECT_EQ(r.status, 200) << json::serialize(r.body);
    return r.status == 200 ? r.rows() : json::array();
  }

  // The query_id of viewer's view of the one statement starting with prefix, once it runs.
  std::string WaitForRunning(const std::string& viewer, const std::string& prefix) {
    std::string id;
    EXPECT_TRUE(WaitUntil(
        [&] {
          auto rows = Running(viewer, prefix);
          if (rows.size() != 1) return false;
          id = std::string(rows[0].as_array()[0].as_string());
          return true;
        },
        10s))
        << prefix << " did not show as running";
    return id;
  }

  bool WaitUntilGone(const std::string& prefix) {
    return WaitUntil([&] { return Running("ops", prefix).empty(); }, 10s);
  }
};

TEST_F(RunningQueries, UsersSeeTheirOwnStatementsAndAdminsSeeAll) {
  auto endless = Start("alice", kEndless);
  const std::string id = WaitForRunning("alice", "WITH RECURSIVE");

  auto own = Running("alice", "WITH RECURSIVE");
  ASSERT_EQ(own.size(), 1u);
  const auto& row = own[0].as_array();
  EXPECT_EQ(row[1].as_string(), kEndless);
  EXPECT_EQ(row[3].as_string(), "alice");
  EXPECT_TRUE(std::string_view(row[2].as_string()).starts_with("u_")) << json::serialize(row);
  EXPECT_TRUE(row[4].is_string());  // started_at, a timestamp
  EXPECT_GE(row[5].as_int64(), 0);
  // elapsed_ms grows while it runs.
  const int64_t first_elapsed = row[5].as_int64();
  EXPECT_TRUE(WaitUntil(
      [&] {
        auto again = Running("alice", "WITH RECURSIVE");
        return again.size() == 1 && again[0].as_array()[5].as_int64() > first_elapsed;
      },
      10s));

  EXPECT_TRUE(Running("bob", "WITH RECURSIVE").empty());
  auto seen_by_admin = Running("ops", "WITH RECURSIVE");
  ASSERT_EQ(seen_by_admin.size(), 1u);
  EXPECT_EQ(seen_by_admin[0].as_array()[0].as_string(), id);
  EXPECT_EQ(seen_by_admin[0].as_array()[3].as_string(), "alice");
  // The statement that reads the table is running too, and its caller sees it.
  EXPECT_EQ(Running("bob", "SELECT query_id").size(), 1u);

  ASSERT_EQ(As("alice", "KILL QUERY '" + id + "'").status, 200);
  EXPECT_EQ(endless.get().error_code(), "QUERY_CANCELLED");
  EXPECT_TRUE(WaitUntilGone("WITH RECURSIVE"));
}

TEST_F(RunningQueries, KillQueryCancelsTheStatementWhichAppliesNothing) {
  // By its owner: the client is told why.
  auto endless = Start("alice", kEndless);
  std::string id = WaitForRunning("alice", "WITH RECURSIVE");
  auto killed = As("alice", "KILL QUERY '" + id + "'");
  EXPECT_EQ(killed.status, 200) << json::serialize(killed.body);
  auto answer = endless.get();
  EXPECT_EQ(answer.status, 400);
  EXPECT_EQ(answer.error_code(), "QUERY_CANCELLED");
  EXPECT_NE(json::serialize(answer.body).find("KILL QUERY"), std::string::npos)
      << json::serialize(answer.body);
  EXPECT_TRUE(WaitUntilGone("WITH RECURSIVE"));

  // By a dba, a data change whose rows are still being computed: nothing is written.
  auto insert = Start("alice",
                      "INSERT INTO app.t SELECT n FROM (WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL "
                      "SELECT n + 1 FROM r) SELECT n FROM r)");
  id = WaitForRunning("ops", "INSERT INTO app.t");
  EXPECT_EQ(As("ops", "KILL QUERY '" + id + "'").status, 200);
  EXPECT_EQ(insert.get().error_code(), "QUERY_CANCELLED");
  EXPECT_EQ(json::serialize(As("alice", "SELECT count(*) FROM app.t").rows()), "[[0]]");

  // A killed statement stops its batch: what follows it does not run.
  auto batch = Start("alice", std::string(kEndless) + "; INSERT INTO app.t (id) VALUES (1)");
  id = WaitForRunning("alice", "WITH RECURSIVE");
  EXPECT_EQ(Root("KILL QUERY '" + id + "'").status, 200);
  auto stopped = batch.get();
  EXPECT_EQ(stopped.error_code(), "QUERY_CANCELLED");
  EXPECT_EQ(stopped.body.at("error").at("statement_index").as_int64(), 1);
  EXPECT_EQ(json::serialize(As("alice", "SELECT count(*) FROM app.t").rows()), "[[0]]");

  // The server goes on answering.
  EXPECT_EQ(json::serialize(As("bob", "SELECT 1").rows()), "[[1]]");
}

TEST_F(RunningQueries, KillQueryRefusesOtherUsersStatementsAndUnknownIds) {
  auto endless = Start("alice", kEndless);
  const std::string id = WaitForRunning("ops", "WITH RECURSIVE");

  auto denied = As("bob", "KILL QUERY '" + id + "'");
  EXPECT_EQ(denied.status, 403) << json::serialize(denied.body);
  EXPECT_EQ(denied.error_code(), "PERMISSION_DENIED");
  for (const std::string& garbage : {std::string("nope"), std::string(""), std::string("q"),
                                     std::string("q99999999"), std::string("q-1"),
                                     std::string("'; DROP TABLE app.t; --"), id + " ",
                                     std::string(5000, 'q')}) {
    std::string quoted;
    for (char c : garbage) quoted += c == '\'' ? std::string("''") : std::string(1, c);
    auto r = As("alice", "KILL QUERY '" + quoted + "'");
    EXPECT_EQ(r.status, 404) << garbage << ": " << json::serialize(r.body);
    EXPECT_EQ(r.error_code(), "NOT_FOUND");
  }
  for (const char* malformed : {"KILL QUERY", "KILL QUERY 17", "KILL QUERY q1", "KILL QUERY 'q1' 'q2'"}) {
    EXPECT_EQ(As("alice", malformed).error_code(), "INVALID_SQL") << malformed;
  }
  // Inside a transaction KILL is refused, as other statements that are not data changes.
  EXPECT_EQ(As("alice", "BEGIN; KILL QUERY '" + id + "'; COMMIT").error_code(), "UNSUPPORTED");

  // None of that touched it: it still runs, until its owner kills it.
  EXPECT_EQ(Running("alice", "WITH RECURSIVE").size(), 1u);
  EXPECT_EQ(As("alice", "KILL QUERY '" + id + "'").status, 200);
  EXPECT_EQ(endless.get().error_code(), "QUERY_CANCELLED");
  // An id that has ended is no longer there.
  EXPECT_TRUE(WaitUntilGone("WITH RECURSIVE"));
  EXPECT_EQ(As("alice", "KILL QUERY '" + id + "'").error_code(), "NOT_FOUND");
}

// Connects, sends a request for sql as user and returns the socket, without reading the
// answer; -1 on failure.
int SendWithoutReading(uint16_t port, const std::string& user, const std::string& sql) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    ::close(fd);
    return -1;
  }
  const std::string body = json::serialize(json::object{{"sql", sql}});
  const std::string request = "POST /v1/api/sql HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: " +
                              client::BasicAuth(user, Password(user)) +
                              "\r\nContent-Type: application/json\r\nContent-Length: " +
                              std::to_string(body.size()) + "\r\n\r\n" + body;
  if (::send(fd, request.data(), request.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(request.size())) {
    ::close(fd);
    return -1;
  }
  return fd;
}

TEST_F(RunningQueries, AClientThatGoesAwayCancelsItsStatement) {
  // A recursive CTE without bound, and a cross join that would take minutes.
  for (const std::string& sql :
       {std::string(kEndless),
        std::string("SELECT count(*) FROM range(100000) a, range(100000) b, range(100000) c")}) {
    const int fd = SendWithoutReading(server_->port(), "alice", sql);
    ASSERT_GE(fd, 0);
    const std::string prefix = sql.substr(0, 14);
    WaitForRunning("ops", prefix);
    ::close(fd);
    // Well before the statement timeout (30 s) would end it.
    EXPECT_TRUE(WaitUntilGone(prefix)) << sql;
  }
  EXPECT_EQ(json::serialize(As("bob", "SELECT 1").rows()), "[[1]]");
}

// A client that keeps its connection open, with a second request pipelined behind the first,
// is not taken for gone: both are answered.
TEST_F(RunningQueries, APipelinedRequestIsNotTakenForAClientGoingAway) {
  const std::string body = json::serialize(json::object{{"sql", "SELECT count(*) FROM range(30000000)"}});
  const std::string one = "POST /v1/api/sql HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: " +
                          client::BasicAuth("bob", Password("bob")) +
                          "\r\nContent-Type: application/json\r\nContent-Length: " +
                          std::to_string(body.size()) + "\r\n\r\n" + body;
  auto raw = server_->Client();
  auto first = raw.SendRaw(one + one);
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->status, 200) << first->body;
  EXPECT_NE(first->body.find("30000000"), std::string::npos) << first->body;
}

}  // namespace
}  // namespace kalam::testing
