// The Postgres wire door through the real server: psql scripts (Debian's postgresql-client)
// for what clients do, and a raw socket for what they must not be able to do to the server.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <sys/wait.h>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <thread>

#include "../support/scram_client.h"
#include "server_process.h"

namespace kalam::testing {
namespace {


// A Postgres client on a plain socket, message by message, for what psql won't send.
class RawClient {
 public:
  explicit RawClient(uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    timeval timeout{10, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  }
  ~RawClient() { ::close(fd_); }

  bool connected() const { return connected_; }
  void Send(const std::string& bytes) { (void)!::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL); }
  void ShutdownWrite() { ::shutdown(fd_, SHUT_WR); }

  static std::string Int32(int32_t v) {
    const uint32_t n = htonl(static_cast<uint32_t>(v));
    return std::string(reinterpret_cast<const char*>(&n), 4);
  }
  static std::string Message(char type, const std::string& body) {
    return std::string(1, type) + Int32(static_cast<int32_t>(body.size() + 4)) + body;
  }
  static std::string Startup(const std::string& user, int32_t version = 196608) {
    const std::string body = Int32(version) + "user" + '\0' + user + '\0' + "database" + '\0' + "kalam" + '\0' + '\0';
    return Int32(static_cast<int32_t>(body.size() + 4)) + body;
  }

  // Exactly n bytes; shorter when the server closed or went quiet for 10 s.
  std::string Read(size_t n) {
    std::string out;
    char buffer[4096];
    while (out.size() < n) {
      const ssize_t got = ::recv(fd_, buffer, std::min(sizeof buffer, n - out.size()), 0);
      if (got <= 0) break;
      out.append(buffer, static_cast<size_t>(got));
    }
    return out;
  }

  struct Reply {
    char type = 0;  // 0: the connection closed
    std::string body;
  };
  Reply Next() {
    const std::string header = Read(5);
    if (header.size() < 5) return {};
    uint32_t length = 0;
    std::memcpy(&length, header.data() + 1, 4);
    return {header[0], Read(ntohl(length) - 4)};
  }
  // Replies up to and including ReadyForQuery (or an error that closes, or the close).
  std::vector<Reply> UntilReady() {
    std::vector<Reply> replies;
    while (true) {
      Reply r = Next();
      if (r.type == 'K' && r.body.size() == 8) {  // BackendKeyData: what a CancelRequest names
        process_id = static_cast<int32_t>(ntohl(*reinterpret_cast<const uint32_t*>(r.body.data())));
        secret = static_cast<int32_t>(ntohl(*reinterpret_cast<const uint32_t*>(r.body.data() + 4)));
      }
      replies.push_back(r);
      if (r.type == 'Z' || r.type == 0) return replies;
    }
  }
  // The types of replies up to ReadyForQuery, as a string ("12TDDsZ").
  std::string TypesUntilReady() {
    std::string types;
    for (const Reply& r : UntilReady()) types += r.type == 0 ? '!' : r.type;
    return types;
  }

  // Extended-protocol messages.
  static std::string Int16(int16_t v) {
    const uint16_t n = htons(static_cast<uint16_t>(v));
    return std::string(reinterpret_cast<const char*>(&n), 2);
  }
  static std::string Parse(const std::string& name, const std::string& sql, const std::vector<int32_t>& types = {}) {
    std::string body = name + '\0' + sql + '\0' + Int16(static_cast<int16_t>(types.size()));
    for (const int32_t t : types) body += Int32(t);
    return Message('P', body);
  }
  // Text parameters (nullopt: NULL), results in result_format for every column.
  static std::string Bind(const std::string& portal, const std::string& statement,
                          const std::vector<std::optional<std::string>>& params = {}, int16_t result_format = 0) {
    std::string body = portal + '\0' + statement + '\0' + Int16(0) + Int16(static_cast<int16_t>(params.size()));
    for (const auto& p : params) body += p ? Int32(static_cast<int32_t>(p->size())) + *p : Int32(-1);
    return Message('B', body + Int16(1) + Int16(result_format));
  }
  static std::string Describe(char kind, const std::string& name) { return Message('D', std::string(1, kind) + name + '\0'); }
  static std::string Execute(const std::string& portal, int32_t max_rows = 0) {
    return Message('E', portal + '\0' + Int32(max_rows));
  }
  static std::string Sync() { return Message('S', ""); }

  int32_t process_id = 0;
  int32_t secret = 0;
  // True when the server has closed the connection (a read sees the end, not a timeout).
  bool ClosedByServer() {
    char c;
    return ::recv(fd_, &c, 1, 0) == 0;
  }

  // Signs in as libpq does: SCRAM-SHA-256 when offered (the tests' client of
  // tests/support/scram_client.h), a cleartext password when asked for one. method: what was offered.
  bool LogIn(const std::string& user, const std::string& password, int* method = nullptr) {
    Send(Startup(user));
    Reply r = Next();
    if (r.type == 'R' && r.body.size() >= 4) {
      if (method != nullptr) *method = ntohl(*reinterpret_cast<const uint32_t*>(r.body.data()));
    }
    if (r.type == 'R' && r.body == Int32(3)) {
      Send(Message('p', password + '\0'));
      r = Next();
    } else if (r.type == 'R' && r.body.starts_with(Int32(10))) {
      if (r.body.find("SCRAM-SHA-256") == std::string::npos) return false;
      const std::string client_first_bare = "n=,r=" + ScramBase64(std::string(18, 'n'));
      const std::string first = "n,," + client_first_bare;
      Send(Message('p', std::string("SCRAM-SHA-256") + '\0' + Int32(static_cast<int32_t>(first.size())) + first));
      r = Next();
      if (r.type != 'R' || !r.body.starts_with(Int32(11))) {
        refusal = r;
        return false;
      }
      const std::string server_first = r.body.substr(4);
      const ScramFinal final = ScramClientFinal(password, client_first_bare, server_first);
      Send(Message('p', final.message));
      r = Next();
      if (r.type != 'R' || !r.body.starts_with(Int32(12))) {
        refusal = r;
        return false;
      }
      if (r.body.substr(4) != "v=" + final.server_signature) return false;  // the server knows the verifier
      r = Next();
    }
    if (r.type != 'R' || r.body != Int32(0)) {
      refusal = r;
      return false;
    }
    return UntilReady().back().type == 'Z';
  }
  Reply refusal;  // the reply that ended a failed LogIn

 private:
  int fd_ = -1;
  bool connected_ = false;
};

// The SQLSTATE (field 'C') of an ErrorResponse body.
std::string SqlStateOf(const RawClient::Reply& reply) {
  size_t i = 0;
  while (i < reply.body.size() && reply.body[i] != '\0') {
    const char field = reply.body[i++];
    const size_t end = reply.body.find('\0', i);
    if (end == std::string::npos) break;
    if (field == 'C') return reply.body.substr(i, end - i);
    i = end + 1;
  }
  return "";
}

// The status byte of the final ReadyForQuery.
char StatusOf(const std::vector<RawClient::Reply>& replies) {
  return !replies.empty() && replies.back().type == 'Z' && !replies.back().body.empty() ? replies.back().body[0] : '?';
}

class PgWireTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    ServerOptions options;
    options.extra_config =
        "[postgres_wire]\nmax_message_bytes = 1048576\nstartup_timeout_secs = 2\nmax_connections = 24\n";
    server_ = new ServerProcess(options);
    server_->Start();
    auto http = server_->Client();
    for (const char* user : {"alice", "bob", "carol"}) {
      auto r = Sql(http, RootAuth(),
                   std::string("CREATE USER IF NOT EXISTS '") + user + "' WITH PASSWORD '" + user +
                       "-password' ROLE user");
      ASSERT_EQ(r.status, 200) << boost::json::serialize(r.body);
    }
    auto r = Sql(http, RootAuth(),
                 "CREATE NAMESPACE IF NOT EXISTS pg; "
                 "CREATE USER TABLE pg.notes (id BIGINT PRIMARY KEY, body TEXT); "
                 "CREATE SHARED TABLE pg.items (id BIGINT PRIMARY KEY, name TEXT, price DOUBLE, "
                 "ok BOOLEAN, added TIMESTAMP, data BYTES)");
    ASSERT_EQ(r.status, 200) << boost::json::serialize(r.body);
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }

  PsqlRun Root(const std::string& script) { return Psql(server_->pg_port(), "root", kRootPassword, script); }
  PsqlRun As(const std::string& user, const std::string& script) {
    return Psql(server_->pg_port(), user, user + "-password", script);
  }
  // psql still connects and answers: the server survived what the test did.
  void ExpectServing() {
    const PsqlRun run = Root("SELECT 41 + 1;");
    EXPECT_EQ(run.exit_code, 0) << run.err;
    EXPECT_EQ(run.out, "42\n");
  }

  static inline ServerProcess* server_ = nullptr;
};

TEST_F(PgWireTest, PsqlCreatesInsertsAndSelectsWithEveryCommandTag) {
  const PsqlRun run = Root(
      "CREATE NAMESPACE tags;\n"
      "CREATE SHARED TABLE tags.t (id BIGINT PRIMARY KEY, name TEXT);\n"
      "INSERT INTO tags.t (id, name) VALUES (1, 'one'), (2, 'two');\n"
      "UPDATE tags.t SET name = 'uno' WHERE id = 1;\n"
      "SELECT id, name FROM tags.t ORDER BY id;\n"
      "DELETE FROM tags.t WHERE id = 2;\n"
      "SELECT count(*) FROM tags.t;\n");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(run.out,
            "CREATE NAMESPACE\nCREATE TABLE\nINSERT 0 2\nUPDATE 1\n1|uno\n2|two\nDELETE 1\n1\n");
}

TEST_F(PgWireTest, ValuesOfEachTypeInTextFormat) {
  const PsqlRun run = Root(
      "INSERT INTO pg.items (id, name, price, ok, added, data) VALUES "
      "(9007199254740993, 'big', 2.5, true, '2026-01-02 03:04:05.123456', 'xy'), "
      "(7, NULL, NULL, false, NULL, NULL);\n"
      "SELECT id, name, price, ok, added, data FROM pg.items ORDER BY id;\n"
      "SELECT id::INT, id::SMALLINT, CAST('{\"a\": [1]}' AS JSON), DATE '2026-03-04', "
      "TIME '05:06:07', UUID '6b1c1b5e-0d8c-4f57-9d2b-3b1f5f0b8a11', 1.25::DECIMAL(5,2) "
      "FROM pg.items WHERE id = 7;\n");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(run.out,
            "INSERT 0 2\n"
            "7|||f||\n"
            "9007199254740993|big|2.5|t|2026-01-02 03:04:05.123456|\\x7879\n"
            "7|7|{\"a\":[1]}|2026-03-04|05:06:07|6b1c1b5e-0d8c-4f57-9d2b-3b1f5f0b8a11|1.25\n");
}

TEST_F(PgWireTest, SeveralStatementsInOneQueryMessage) {
  RawClient client(server_->pg_port());
  ASSERT_TRUE(client.LogIn("root", kRootPassword));
  client.Send(RawClient::Message('Q', std::string("SELECT 1; SELECT 2; SELECT 3") + '\0'));
  std::string types;
  for (const auto& r : client.UntilReady()) types += r.type;
  EXPECT_EQ(types, "TDCTDCTDCZ");  // RowDescription, DataRow, CommandComplete per statement
  client.Send(RawClient::Message('Q', std::string("  ;  -- nothing\n") + '\0'));
  types.clear();
  for (const auto& r : client.UntilReady()) types += r.type;
  EXPECT_EQ(types, "IZ");  // EmptyQueryResponse
}

TEST_F(PgWireTest, AResultCutOffAtMaxResultRowsSaysSo) {
  const PsqlRun run = Root("SELECT count(*) FROM (SELECT 1) t;\nSELECT * FROM range(100001);\n");
  EXPECT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(std::count(run.out.begin(), run.out.end(), '\n'), 1 + 100000);
  EXPECT_NE(run.err.find("WARNING:  01000: the result was cut off after 100000 rows"), std::string::npos)
      << run.err;
  EXPECT_EQ(Root("SELECT * FROM range(100000);\n").err, "");
}

TEST_F(PgWireTest, ErrorMidScriptStopsItWithTheSqlState) {
  const PsqlRun run = Root(
      "INSERT INTO pg.items (id, name) VALUES (100, 'before');\n"
      "SELECT * FROM pg.no_such_table;\n"
      "INSERT INTO pg.items (id, name) VALUES (101, 'after');\n");
  EXPECT_EQ(run.exit_code, 3);
  EXPECT_NE(run.err.find("ERROR:  42P01:"), std::string::npos) << run.err;
  const PsqlRun check = Root("SELECT name FROM pg.items WHERE id IN (100, 101) ORDER BY id;");
  EXPECT_EQ(check.out, "before\n");
  // A syntax error and a permission error keep their SQLSTATEs too.
  EXPECT_NE(Root("SELEC 1;").err.find("42601"), std::string::npos);
  EXPECT_NE(As("alice", "CREATE NAMESPACE not_hers;").err.find("42501"), std::string::npos);
}

TEST_F(PgWireTest, TransactionsSpanQueryMessagesWithTheirStatus) {
  RawClient client(server_->pg_port());
  ASSERT_TRUE(client.LogIn("carol", "carol-password"));
  auto query = [&](const std::string& sql) {
    client.Send(RawClient::Message('Q', sql + '\0'));
    return client.UntilReady();
  };
  EXPECT_EQ(StatusOf(query("BEGIN")), 'T');
  EXPECT_EQ(StatusOf(query("INSERT INTO pg.notes (id, body) VALUES (1, 'kept')")), 'T');
  // Not visible to another connection of the same user until COMMIT.
  EXPECT_EQ(As("carol", "SELECT count(*) FROM pg.notes;").out, "0\n");
  EXPECT_EQ(StatusOf(query("COMMIT")), 'I');
  EXPECT_EQ(As("carol", "SELECT body FROM pg.notes;").out, "kept\n");

  EXPECT_EQ(StatusOf(query("BEGIN; INSERT INTO pg.notes (id, body) VALUES (2, 'dropped')")), 'T');
  auto failed = query("SELECT * FROM pg.missing");
  EXPECT_EQ(StatusOf(failed), 'E');
  auto refused = query("SELECT 1");
  ASSERT_EQ(refused.front().type, 'E');
  EXPECT_EQ(SqlStateOf(refused.front()), "25P02");
  auto ended = query("COMMIT");  // of a failed transaction: rolled back, as in Postgres
  ASSERT_EQ(ended.front().type, 'C');
  EXPECT_EQ(ended.front().body, std::string("ROLLBACK") + '\0');
  EXPECT_EQ(StatusOf(ended), 'I');
  EXPECT_EQ(As("carol", "SELECT id FROM pg.notes ORDER BY id;").out, "1\n");

  // A transaction left open by a dropped connection is discarded.
  {
    RawClient dropped(server_->pg_port());
    ASSERT_TRUE(dropped.LogIn("carol", "carol-password"));
    dropped.Send(RawClient::Message('Q', std::string("BEGIN; INSERT INTO pg.notes (id, body) VALUES (3, 'lost')") + '\0'));
    EXPECT_EQ(StatusOf(dropped.UntilReady()), 'T');
  }
  EXPECT_EQ(As("carol", "SELECT id FROM pg.notes ORDER BY id;").out, "1\n");

  const PsqlRun psql = As("carol",
                          "BEGIN;\nINSERT INTO pg.notes (id, body) VALUES (4, 'undone');\nROLLBACK;\n"
                          "SELECT count(*) FROM pg.notes;\n");
  EXPECT_EQ(psql.out, "BEGIN\nINSERT 0 1\nROLLBACK\n1\n") << psql.err;
}

TEST_F(PgWireTest, UsersSeeOnlyTheirOwnRowsOfAUserTable) {
  ASSERT_EQ(As("alice", "INSERT INTO pg.notes (id, body) VALUES (10, 'alice only');").exit_code, 0);
  EXPECT_EQ(As("alice", "SELECT body FROM pg.notes WHERE id = 10;").out, "alice only\n");
  EXPECT_EQ(As("bob", "SELECT count(*) FROM pg.notes;").out, "0\n");
}

TEST_F(PgWireTest, SessionSettingsAndWhatClientsAskAtConnect) {
  const PsqlRun run = As("alice",
                         "SET client_encoding TO 'UTF8';\nSET extra_float_digits = 3;\n"
                         "SET application_name = 'reports';\nSHOW application_name;\n"
                         "SHOW server_version;\nSHOW standard_conforming_strings;\n"
                         "SELECT current_database();\nSELECT current_schema();\n"
                         "SET search_path TO pg;\nSELECT current_schema();\nSELECT count(*) FROM notes WHERE id < 0;\n"
                         "USE default;\nSHOW search_path;\n");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(run.out,
            "SET\nSET\nSET\nreports\n15.0\non\nkalam\ndefault\nSET\npg\n0\nSET\ndefault\n");
  const PsqlRun version = Root("SELECT version();");
  EXPECT_EQ(version.out.rfind("PostgreSQL 15.0 (KalamDB)", 0), 0u) << version.out;
  // Settings changes stay out of the engine: SET of an engine setting is not run there.
  EXPECT_EQ(Root("SET threads = 1;\nSELECT 1;").exit_code, 0);
  EXPECT_NE(Root("SET client_encoding TO 'LATIN1';").err.find("0A000"), std::string::npos);
}

// psql's describing commands read pg_catalog, which shows KalamDB's namespaces as schemas,
// its tables as relations (with their columns and primary key index) and the database.
TEST_F(PgWireTest, PsqlDescribesNamespacesTablesAndColumns) {
  const PsqlRun setup = Root(
      "CREATE NAMESPACE IF NOT EXISTS cat;\n"
      "CREATE SHARED TABLE IF NOT EXISTS cat.products (id BIGINT PRIMARY KEY, "
      "name TEXT NOT NULL DEFAULT 'none', price DECIMAL(10,2), tags JSON, added TIMESTAMP);\n"
      "CREATE USER TABLE IF NOT EXISTS cat.carts (id BIGINT PRIMARY KEY, qty INT);\n");
  ASSERT_EQ(setup.exit_code, 0) << setup.err;
  const PsqlRun run = Root("\\dt cat.*\n\\l\nSET search_path TO cat;\n\\dt\n");
  EXPECT_EQ(run.exit_code, 0) << run.err;
  const std::string tables = "cat|carts|table|root\ncat|products|table|root\n";
  EXPECT_EQ(run.out, tables + "kalam|root|UTF8|C.UTF-8|C.UTF-8||libc|\nSET\n" + tables);

  const PsqlRun schemas = Root("\\dn\n");
  EXPECT_EQ(schemas.exit_code, 0) << schemas.err;
  for (const char* schema : {"cat|root\n", "default|root\n", "pg|root\n", "system|root\n"}) {
    EXPECT_NE(schemas.out.find(schema), std::string::npos) << schemas.out;
  }
  EXPECT_EQ(schemas.out.find("pg_catalog"), std::string::npos) << schemas.out;
  EXPECT_EQ(schemas.out.find("information_schema"), std::string::npos) << schemas.out;

  const PsqlRun describe =
      Root("\\pset tuples_only off\n\\pset format aligned\n\\d cat.products\nSET search_path TO cat;\n\\d carts\n");
  EXPECT_EQ(describe.exit_code, 0) << describe.err;
  for (const char* line :
       {"Table \"cat.products\"", " id     | bigint                      |           | not null | ",
        " name   | text                        |           | not null | 'none'",
        " price  | numeric(10,2)               |           |          | ",
        " tags   | json                        |           |          | ",
        " added  | timestamp without time zone |           |          | ",
        "\"products_pkey\" PRIMARY KEY, btree (id)", "Table \"cat.carts\"",
        " qty    | integer |           |          | ", "\"carts_pkey\" PRIMARY KEY, btree (id)"}) {
    EXPECT_NE(describe.out.find(line), std::string::npos) << line << "\n" << describe.out;
  }

  // The + forms read sizes and descriptions, which KalamDB leaves blank.
  const PsqlRun plus = Root("\\dt+ cat.*\n\\d+ cat.carts\n\\l+\n\\dn+\n\\di cat.*\n");
  EXPECT_EQ(plus.exit_code, 0) << plus.err;
  EXPECT_NE(plus.out.find("cat|carts|table|root|permanent|heap||\n"), std::string::npos) << plus.out;
  EXPECT_NE(plus.out.find("cat|carts_pkey|index|root|carts\n"), std::string::npos) << plus.out;

  // What psql's tab completion sends for SELECT * FROM <TAB>, and for the columns of a table.
  const PsqlRun completion = Root(
      "SET search_path TO cat;\n"
      "SELECT c.relname, NULL::pg_catalog.text FROM pg_catalog.pg_class c WHERE c.relkind IN "
      "('r', 'S', 'v', 'm', 'f', 'p') AND (c.relname) LIKE 'prod%' AND "
      "pg_catalog.pg_table_is_visible(c.oid) AND c.relnamespace <> (SELECT oid FROM "
      "pg_catalog.pg_namespace WHERE nspname = 'pg_catalog')\nUNION ALL\nSELECT "
      "NULL::pg_catalog.text, n.nspname FROM pg_catalog.pg_namespace n WHERE n.nspname LIKE 'ca%' "
      "AND n.nspname NOT LIKE E'pg\\\\_%'\nLIMIT 1000;\n"
      "SELECT a.attname, NULL::pg_catalog.text FROM pg_catalog.pg_attribute a, pg_catalog.pg_class "
      "c, pg_catalog.pg_namespace nr WHERE c.oid = a.attrelid and a.attnum > 0 and not "
      "a.attisdropped AND (a.attname) LIKE 'q%' AND c.relname = 'carts' AND c.relnamespace = "
      "nr.oid AND nr.nspname = 'cat'\nLIMIT 1000;\n");
  EXPECT_EQ(completion.exit_code, 0) << completion.err;
  EXPECT_NE(completion.out.find("products|\n"), std::string::npos) << completion.out;
  EXPECT_NE(completion.out.find("|cat\n"), std::string::npos) << completion.out;
  EXPECT_NE(completion.out.find("qty|\n"), std::string::npos) << completion.out;
}

// A user sees in pg_catalog what system.* shows it: its own role only, no password, the
// system tables its role may read, and every table's columns but not every table's rows.
TEST_F(PgWireTest, AUserSeesOnlyWhatItMayThroughPgCatalog) {
  const PsqlRun run = As("alice",
                         "SELECT rolname, rolpassword FROM pg_roles;\n"
                         "SELECT usename, passwd FROM pg_catalog.pg_user;\n"
                         "SELECT pg_catalog.pg_get_userbyid(oid) FROM pg_roles;\n"
                         "\\dt system.*\n");
  EXPECT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(run.out.rfind("alice|********\nalice|********\nalice\n", 0), 0u) << run.out;
  EXPECT_NE(run.out.find("system|users|table|root\n"), std::string::npos) << run.out;
  EXPECT_EQ(run.out.find("storages"), std::string::npos) << run.out;
  EXPECT_EQ(run.out.find("system|jobs"), std::string::npos) << run.out;

  const PsqlRun root = Root("SELECT rolname, rolsuper FROM pg_roles ORDER BY 1;\n");
  EXPECT_EQ(root.out, "alice|f\nbob|f\ncarol|f\nroot|t\n");

  // The columns of a private shared table are no secret; its rows are.
  const PsqlRun items = As("alice", "\\d pg.items\n");
  EXPECT_EQ(items.exit_code, 0) << items.err;
  EXPECT_NE(items.out.find("price|double precision|||"), std::string::npos) << items.out;
  EXPECT_NE(As("alice", "SELECT * FROM pg.items;").err.find("42501"), std::string::npos);
}

// pg_settings lists the session's settings KalamDB fixes, never the engine's own, and no
// CTE of the same name reaches them.
TEST_F(PgWireTest, PgSettingsShowsNoneOfTheEnginesSettings) {
  const PsqlRun run = Root(
      "SELECT count(*) FROM pg_settings WHERE name IN ('allowed_directories', 'memory_limit', "
      "'threads', 'temp_directory');\n"
      "WITH pg_settings AS (SELECT * FROM pg_settings) SELECT count(*) FROM pg_settings WHERE "
      "name = 'threads';\n"
      "WITH a AS (SELECT 1), pg_settings AS MATERIALIZED (SELECT * FROM pg_settings) SELECT "
      "count(*) FROM pg_settings WHERE name = 'threads';\n"
      "SELECT setting FROM pg_catalog.pg_settings WHERE name = 'server_version';\n");
  EXPECT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(run.out, "0\n0\n0\n15.0\n");
  EXPECT_NE(Root("SELECT * FROM pg_catalog.pg_depend;").err.find("42P01"), std::string::npos);
  EXPECT_NE(Root("SELECT pg_catalog.pg_get_viewdef(1);").err.find("42501"), std::string::npos);
}

// The Postgres spellings of psql's catalog queries mean over this door what they mean in
// Postgres: ~ finds a pattern anywhere, LIKE escapes with a backslash, ...
TEST_F(PgWireTest, PostgresSpellingsMeanWhatTheyMeanInPostgres) {
  const PsqlRun run = Root(
      "SELECT 'pg_catalog' ~ '^pg_', 'pg_catalog' !~ 'cat', 'x' OPERATOR(pg_catalog.~) '^(x)$' "
      "COLLATE pg_catalog.default, 'pg_x' LIKE E'pg\\\\_%', 'pgax' LIKE E'pg\\\\_%', "
      "'42'::pg_catalog.regclass::pg_catalog.text, 'a'::pg_catalog.text, "
      "pg_catalog.format_type(1700, 655366), current_schemas(false);\n");
  EXPECT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(run.out, "t|f|t|t|f|42|a|numeric(10,2)|[\"default\"]\n");
}

TEST_F(PgWireTest, WrongPasswordsAreRefusedAndThrottled) {
  const PsqlRun run = Psql(server_->pg_port(), "alice", "not-her-password", "SELECT 1;");
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_NE(run.err.find("password authentication failed for user \"alice\""), std::string::npos) << run.err;

  auto attempt = [&](const std::string& user, const std::string& password) {
    RawClient client(server_->pg_port());
    if (client.LogIn(user, password)) return std::string("signed in");
    return client.refusal.type == 'E' ? SqlStateOf(client.refusal) : std::string(1, client.refusal.type);
  };
  EXPECT_EQ(attempt("nobody-here", "x"), "28P01");
  // [auth] max_failed_logins_per_user (10): then the name is refused even with its password.
  for (int i = 0; i < 10; ++i) EXPECT_EQ(attempt("bob", "wrong"), "28P01");
  EXPECT_EQ(attempt("bob", "bob-password"), "53400");
}

TEST_F(PgWireTest, StartUpRequestsAnsweredAsPostgresDoes) {
  {  // SSLRequest: 'N', then the start-up goes on in the clear.
    RawClient client(server_->pg_port());
    client.Send(RawClient::Int32(8) + RawClient::Int32(80877103));
    EXPECT_EQ(client.Read(1), "N");
    EXPECT_TRUE(client.LogIn("alice", "alice-password"));
  }
  {  // Protocol 2.0: refused with an error, then closed.
    RawClient client(server_->pg_port());
    client.Send(RawClient::Startup("alice", 2 << 16));
    const RawClient::Reply reply = client.Next();
    ASSERT_EQ(reply.type, 'E');
    EXPECT_EQ(SqlStateOf(reply), "0A000");
    EXPECT_TRUE(client.ClosedByServer());
  }
  {  // No user name.
    RawClient client(server_->pg_port());
    const std::string body = RawClient::Int32(196608) + std::string(1, '\0');
    client.Send(RawClient::Int32(static_cast<int32_t>(body.size() + 4)) + body);
    EXPECT_EQ(SqlStateOf(client.Next()), "28000");
  }
  ExpectServing();
}

TEST_F(PgWireTest, GarbageTruncatedAndOversizedInputIsAnsweredAndClosed) {
  {  // An HTTP request on the Postgres port: a bad start-up length.
    RawClient client(server_->pg_port());
    client.Send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    const RawClient::Reply reply = client.Next();
    EXPECT_EQ(reply.type, 'E');
    EXPECT_EQ(SqlStateOf(reply), "08P01");
    EXPECT_TRUE(client.ClosedByServer());
  }
  {  // Random bytes after logging in: an unknown message type.
    RawClient client(server_->pg_port());
    ASSERT_TRUE(client.LogIn("alice", "alice-password"));
    client.Send(std::string("\x01\x00\x00\x00\x08garbage!", 13));
    const RawClient::Reply reply = client.Next();
    EXPECT_EQ(reply.type, 'E');
    EXPECT_EQ(SqlStateOf(reply), "08P01");
    EXPECT_TRUE(client.ClosedByServer());
  }
  {  // A message claiming more than max_message_bytes (1 MiB here): refused before it is read.
    RawClient client(server_->pg_port());
    ASSERT_TRUE(client.LogIn("alice", "alice-password"));
    client.Send(std::string("Q") + RawClient::Int32(1 << 30) + "SELECT");
    const RawClient::Reply reply = client.Next();
    EXPECT_EQ(reply.type, 'E');
    EXPECT_EQ(SqlStateOf(reply), "54000");
    EXPECT_TRUE(client.ClosedByServer());
  }
  {  // A length below its own size.
    RawClient client(server_->pg_port());
    ASSERT_TRUE(client.LogIn("alice", "alice-password"));
    client.Send(std::string("Q") + RawClient::Int32(2));
    EXPECT_EQ(SqlStateOf(client.Next()), "08P01");
  }
  {  // A truncated message, then the client stops sending: the server just closes.
    RawClient client(server_->pg_port());
    ASSERT_TRUE(client.LogIn("alice", "alice-password"));
    client.Send(std::string("Q") + RawClient::Int32(100) + "SELECT 1");
    client.ShutdownWrite();
    EXPECT_TRUE(client.ClosedByServer());
  }
  {  // A start-up packet cut short.
    RawClient client(server_->pg_port());
    client.Send(RawClient::Int32(100) + RawClient::Int32(196608));
    client.ShutdownWrite();
    EXPECT_TRUE(client.ClosedByServer());
  }
  ExpectServing();
}

TEST_F(PgWireTest, AStartUpThatNeverFinishesIsClosedAtTheTimeout) {
  RawClient silent(server_->pg_port());
  RawClient half(server_->pg_port());
  half.Send(RawClient::Startup("alice"));  // asked for a password, never sends it
  ASSERT_EQ(half.Next().type, 'R');
  const auto start = std::chrono::steady_clock::now();
  EXPECT_TRUE(silent.ClosedByServer());  // startup_timeout_secs = 2 here; the read waits 10 s at most
  EXPECT_TRUE(half.ClosedByServer());
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(8));
  ExpectServing();
}

TEST_F(PgWireTest, ConnectionsPastTheCapAreRefusedWith53300) {
  std::vector<std::unique_ptr<RawClient>> open;
  // max_connections = 24 here; other tests' connections have all ended.
  ASSERT_TRUE(WaitUntil(
      [&] {
        while (open.size() < 24) {
          auto client = std::make_unique<RawClient>(server_->pg_port());
          if (!client->LogIn("alice", "alice-password")) return false;
          open.push_back(std::move(client));
        }
        return true;
      },
      std::chrono::seconds(20)));
  RawClient refused(server_->pg_port());
  refused.Send(RawClient::Startup("alice"));
  const RawClient::Reply reply = refused.Next();
  EXPECT_EQ(reply.type, 'E');
  EXPECT_EQ(SqlStateOf(reply), "53300");
  open.pop_back();
  // One slot free again: a new connection gets in (once the server saw the close).
  EXPECT_TRUE(WaitUntil([&] { return RawClient(server_->pg_port()).LogIn("alice", "alice-password"); },
                        std::chrono::seconds(10)));
}

TEST_F(PgWireTest, SignInIsScramAndTheServerProvesItKnowsTheVerifier) {
  RawClient client(server_->pg_port());
  int method = 0;
  ASSERT_TRUE(client.LogIn("alice", "alice-password", &method));
  EXPECT_EQ(method, 10);  // AuthenticationSASL: the password never crosses the wire
  for (const std::string user : {"alice", "no-such-user"}) {
    RawClient wrong(server_->pg_port());
    method = 0;
    EXPECT_FALSE(wrong.LogIn(user, "not-the-password", &method));
    EXPECT_EQ(method, 10) << user << ": unknown names are challenged the same way";
  }
  // A user created over the Postgres wire signs in there at once.
  ASSERT_EQ(Root("CREATE USER 'dave' WITH PASSWORD 'dave-password' ROLE user;").exit_code, 0);
  const PsqlRun dave = Psql(server_->pg_port(), "dave", "dave-password", "SELECT current_user;");
  EXPECT_EQ(dave.exit_code, 0) << dave.err;
  const PsqlRun wrong = Psql(server_->pg_port(), "dave", "dave-passworx", "SELECT 1;");
  EXPECT_NE(wrong.exit_code, 0);
  EXPECT_NE(wrong.err.find("password authentication failed for user \"dave\""), std::string::npos) << wrong.err;
}

TEST_F(PgWireTest, ExtendedProtocolExecuteWithARowLimitSuspendsThePortal) {
  ASSERT_EQ(Root("CREATE NAMESPACE IF NOT EXISTS ext; CREATE SHARED TABLE IF NOT EXISTS ext.five (n INT PRIMARY KEY);"
                 "INSERT INTO ext.five (n) VALUES (1), (2), (3), (4), (5) ON CONFLICT (n) DO NOTHING;")
                .exit_code,
            0);
  RawClient client(server_->pg_port());
  ASSERT_TRUE(client.LogIn("root", kRootPassword));
  client.Send(RawClient::Parse("", "SELECT n FROM ext.five ORDER BY n") + RawClient::Bind("", "") +
              RawClient::Describe('P', "") + RawClient::Execute("", 2) + RawClient::Execute("", 2) +
              RawClient::Execute("", 2) + RawClient::Sync());
  std::vector<RawClient::Reply> replies = client.UntilReady();
  std::string types;
  for (const auto& r : replies) types += r.type;
  EXPECT_EQ(types, "12TDDsDDsDCZ");
  EXPECT_EQ(replies[replies.size() - 2].body, std::string("SELECT 1") + '\0');  // the last Execute's rows
  // Named statements are reused by later Binds; parameters bind by number.
  client.Send(RawClient::Parse("by_n", "SELECT n * 10 FROM ext.five WHERE n = $1", {23}) + RawClient::Sync());
  EXPECT_EQ(client.TypesUntilReady(), "1Z");
  for (const char* n : {"2", "4"}) {
    client.Send(RawClient::Bind("", "by_n", {std::string(n)}) + RawClient::Execute("") + RawClient::Sync());
    replies = client.UntilReady();
    ASSERT_EQ(replies.size(), 4u);
    EXPECT_EQ(replies[1].type, 'D');
    EXPECT_NE(replies[1].body.find(std::to_string(std::stoi(n) * 10)), std::string::npos);
  }
}

TEST_F(PgWireTest, ExtendedProtocolErrorsSkipToSyncAndTheSessionGoesOn) {
  RawClient client(server_->pg_port());
  ASSERT_TRUE(client.LogIn("alice", "alice-password"));
  // The failing Execute's error; the messages after it are skipped until Sync.
  client.Send(RawClient::Parse("", "SELEC 1") + RawClient::Bind("", "") + RawClient::Execute("") +
              RawClient::Parse("", "SELECT 1") + RawClient::Bind("", "") + RawClient::Execute("") + RawClient::Sync());
  std::vector<RawClient::Reply> replies = client.UntilReady();
  std::string types;
  for (const auto& r : replies) types += r.type;
  EXPECT_EQ(types, "12EZ");
  EXPECT_EQ(SqlStateOf(replies[2]), "42601");
  // Unknown statements and portals, and a Bind with the wrong number of parameters.
  client.Send(RawClient::Bind("", "missing") + RawClient::Sync());
  replies = client.UntilReady();
  ASSERT_EQ(replies.size(), 2u);
  EXPECT_EQ(SqlStateOf(replies[0]), "26000");
  client.Send(RawClient::Execute("nowhere") + RawClient::Sync());
  EXPECT_EQ(SqlStateOf(client.UntilReady()[0]), "34000");
  client.Send(RawClient::Parse("two", "SELECT $1::INT + $2::INT") + RawClient::Bind("", "two", {std::string("1")}) +
              RawClient::Sync());
  replies = client.UntilReady();
  ASSERT_EQ(replies.size(), 3u);
  EXPECT_EQ(SqlStateOf(replies[1]), "08P01");
  client.Send(RawClient::Parse("two", "SELECT 1") + RawClient::Sync());
  EXPECT_EQ(SqlStateOf(client.UntilReady()[0]), "42P05");  // the name is taken
  // A parameter that is not a value of its declared type.
  client.Send(RawClient::Parse("", "SELECT $1", {20}) + RawClient::Bind("", "", {std::string("12x")}) +
              RawClient::Sync());
  replies = client.UntilReady();
  ASSERT_EQ(replies.size(), 3u);
  EXPECT_EQ(SqlStateOf(replies[1]), "22P02");
  // Several statements in one Parse are refused, as Postgres does.
  client.Send(RawClient::Parse("", "SELECT 1; SELECT 2") + RawClient::Sync());
  EXPECT_EQ(SqlStateOf(client.UntilReady()[0]), "42601");
  // Still serving: the same connection answers.
  client.Send(RawClient::Parse("", "SELECT $1::INT + $2::INT") +
              RawClient::Bind("", "", {std::string("40"), std::string("2")}) + RawClient::Execute("") +
              RawClient::Sync());
  replies = client.UntilReady();
  ASSERT_EQ(replies.size(), 5u);
  EXPECT_NE(replies[2].body.find("42"), std::string::npos);
}

TEST_F(PgWireTest, DescribeOfAStatementGivesParameterAndColumnTypes) {
  RawClient client(server_->pg_port());
  ASSERT_TRUE(client.LogIn("root", kRootPassword));
  client.Send(RawClient::Parse("q", "SELECT id, name, price FROM pg.items WHERE id = $1", {20}) +
              RawClient::Describe('S', "q") + RawClient::Parse("i", "INSERT INTO pg.items (id, name) VALUES ($1, $2)") +
              RawClient::Describe('S', "i") + RawClient::Sync());
  const std::vector<RawClient::Reply> replies = client.UntilReady();
  std::string types;
  for (const auto& r : replies) types += r.type;
  ASSERT_EQ(types, "1tT1tnZ");
  EXPECT_EQ(replies[1].body, RawClient::Int16(1) + RawClient::Int32(20));
  const std::string& columns = replies[2].body;
  EXPECT_EQ(columns.substr(0, 2), RawClient::Int16(3));
  EXPECT_NE(columns.find(std::string("id") + '\0' + RawClient::Int32(0) + RawClient::Int16(0) + RawClient::Int32(20)),
            std::string::npos);
  EXPECT_NE(columns.find(std::string("price") + '\0' + RawClient::Int32(0) + RawClient::Int16(0) +
                         RawClient::Int32(701)),
            std::string::npos);
  EXPECT_EQ(replies[4].body, RawClient::Int16(2) + RawClient::Int32(25) + RawClient::Int32(25));  // unknown: text
}

TEST_F(PgWireTest, CancelRequestStopsTheRunningStatement) {
  RawClient client(server_->pg_port());
  ASSERT_TRUE(client.LogIn("alice", "alice-password"));
  ASSERT_NE(client.process_id, 0);
  const std::string endless = "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) SELECT count(*) FROM r";
  client.Send(RawClient::Message('Q', endless + '\0'));
  // A wrong secret cancels nothing; the right one cancels at once.
  const auto cancel = [&](int32_t secret) {
    RawClient canceller(server_->pg_port());
    canceller.Send(RawClient::Int32(16) + RawClient::Int32(80877102) + RawClient::Int32(client.process_id) +
                   RawClient::Int32(secret));
    EXPECT_TRUE(canceller.ClosedByServer());  // no answer, as in Postgres
  };
  cancel(client.secret + 1);
  const auto started = std::chrono::steady_clock::now();
  cancel(client.secret);
  const std::vector<RawClient::Reply> replies = client.UntilReady();
  ASSERT_GE(replies.size(), 2u);
  EXPECT_EQ(replies[0].type, 'E');
  EXPECT_EQ(SqlStateOf(replies[0]), "57014");
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(5));
  EXPECT_EQ(StatusOf(replies), 'I');
  ExpectServing();
}

// Runs command, returning its exit status and what it printed (stdout and stderr).
std::pair<int, std::string> RunClient(const std::string& command) {
  std::string output;
  FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return {-1, "popen failed"};
  char buffer[4096];
  size_t n = 0;
  while ((n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0) output.append(buffer, n);
  const int status = ::pclose(pipe);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, output};
}

TEST_F(PgWireTest, PsycopgParametersPreparedStatementsTransactionsIsolationAndCancel) {
  // Debian's python3, where python3-psycopg is installed (not a python3 earlier on PATH).
  const auto [status, output] = RunClient("timeout 300 /usr/bin/python3 '" + std::string(KALAMDB_SOURCE_DIR) +
                                          "/tests/integration/pg/psycopg_client.py' " +
                                          std::to_string(server_->pg_port()) + " '" + kRootPassword + "'");
  EXPECT_EQ(status, 0) << output;
  EXPECT_NE(output.find("all passed"), std::string::npos) << output;
  ExpectServing();
}

TEST_F(PgWireTest, NodePostgresCoreCasesAndAPoolOfTwentyUnderLoad) {
  const std::string dir = std::string(KALAMDB_SOURCE_DIR) + "/tests/integration/node";
  const auto [status, output] = RunClient("cd '" + dir + "' && timeout 300 node pg_client.js " +
                                          std::to_string(server_->pg_port()) + " '" + kRootPassword + "'");
  EXPECT_EQ(status, 0) << output;
  EXPECT_NE(output.find("all passed"), std::string::npos) << output;
  ExpectServing();
}

TEST_F(PgWireTest, JdbcTypedParametersTransactionsErrorsAndMetadata) {
  // Debian's PostgreSQL JDBC driver; java runs the test as a single source file.
  const auto [status, output] = RunClient("timeout 300 java -cp /usr/share/java/postgresql.jar '" +
                                          std::string(KALAMDB_SOURCE_DIR) + "/tests/integration/pg/JdbcClient.java' " +
                                          std::to_string(server_->pg_port()) + " '" + kRootPassword + "'");
  EXPECT_EQ(status, 0) << output;
  EXPECT_NE(output.find("all passed"), std::string::npos) << output;
}

TEST_F(PgWireTest, PgbenchRunsCustomScriptsInEveryProtocolMode) {
  ASSERT_EQ(Root("CREATE NAMESPACE IF NOT EXISTS bench; "
                 "CREATE SHARED TABLE IF NOT EXISTS bench.kv (id BIGINT PRIMARY KEY, v TEXT);")
                .exit_code,
            0);
  char dir_pattern[] = "/tmp/kalamdb-pgbench-XXXXXX";
  const std::string dir = ::mkdtemp(dir_pattern);
  std::ofstream(dir + "/script.sql") << "\\set id random(1, 100000)\n"
                                        "INSERT INTO bench.kv (id, v) VALUES (:id, 'x') ON CONFLICT (id) DO NOTHING;\n"
                                        "SELECT v FROM bench.kv WHERE id = :id;\n"
                                        "BEGIN;\nSELECT 1;\nCOMMIT;\n";
  for (const char* mode : {"simple", "extended", "prepared"}) {
    const auto [status, output] =
        RunClient("PGPASSWORD='" + std::string(kRootPassword) + "' timeout 120 pgbench -n -h 127.0.0.1 -p " +
                  std::to_string(server_->pg_port()) + " -U root -M " + mode + " -c 4 -j 2 -t 50 -f " + dir +
                  "/script.sql kalam");
    EXPECT_EQ(status, 0) << mode << ": " << output;
    EXPECT_NE(output.find("number of transactions actually processed: 200/200"), std::string::npos)
        << mode << ": " << output;
    EXPECT_NE(output.find("number of failed transactions: 0"), std::string::npos) << mode << ": " << output;
  }
  std::filesystem::remove_all(dir);
}

TEST_F(PgWireTest, PsqlCopiesOutInTextAndCsvAndRefusesWhatItCannotDo) {
  char dir_pattern[] = "/tmp/kalamdb-copy-XXXXXX";
  const std::string dir = ::mkdtemp(dir_pattern);
  const PsqlRun run = Root(
      "CREATE NAMESPACE IF NOT EXISTS cp;\n"
      "CREATE SHARED TABLE IF NOT EXISTS cp.t (id INT PRIMARY KEY, v TEXT);\n"
      "INSERT INTO cp.t (id, v) VALUES (1, 'a,b'), (2, NULL), (3, E'tab\\tx'), (4, ''), (5, 'say \"hi\"');\n"
      "\\copy (SELECT id, v FROM cp.t ORDER BY id) TO '" + dir + "/out.csv' CSV HEADER\n"
      "\\copy cp.t (id, v) TO '" + dir + "/out.txt'\n");
  EXPECT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(ReadFile(dir + "/out.csv"), "id,v\n1,\"a,b\"\n2,\n3,tab\tx\n4,\"\"\n5,\"say \"\"hi\"\"\"\n");
  // Text format: tab-separated, \N for NULL, the tab inside a value escaped. (Order: the scan's.)
  const std::string text = ReadFile(dir + "/out.txt");
  EXPECT_NE(text.find("2\t\\N\n"), std::string::npos) << text;
  EXPECT_NE(text.find("3\ttab\\tx\n"), std::string::npos) << text;
  EXPECT_NE(text.find("4\t\n"), std::string::npos) << text;
  const PsqlRun from = Root("\\copy cp.t FROM '" + dir + "/out.txt'\n");
  EXPECT_NE(from.err.find("0A000"), std::string::npos) << from.err;
  const PsqlRun server_file = Root("COPY cp.t TO '/tmp/anything';\n");
  EXPECT_NE(server_file.err.find("42501"), std::string::npos) << server_file.err;
  std::filesystem::remove_all(dir);
}

TEST_F(PgWireTest, SubscribeToAnswersWithTheWebSocketHandOffAndTransactionStatementsWarn) {
  const PsqlRun run = As("alice", "SUBSCRIBE TO pg.notes;\nBEGIN;\nBEGIN;\nCOMMIT;\nCOMMIT;\n");
  EXPECT_EQ(run.exit_code, 0) << run.err;
  EXPECT_NE(run.out.find("\"status\":\"subscription_required\""), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("/v1/ws"), std::string::npos) << run.out;
  EXPECT_NE(run.err.find("25001"), std::string::npos) << run.err;  // already in a transaction
  EXPECT_NE(run.err.find("25P01"), std::string::npos) << run.err;  // no transaction in progress
}

TEST_F(PgWireTest, OpenConnectionsAreCountedInTheMetrics) {
  auto scrape = [&] {
    auto http = server_->Client();
    auto r = http.Send("GET", "/metrics", "", {});
    EXPECT_TRUE(r.ok());
    const std::string series = "\nkalamdb_open_connections{kind=\"postgres\"} ";
    const size_t at = r.ok() ? r->body.find(series) : std::string::npos;
    return at == std::string::npos ? -1.0 : std::strtod(r->body.c_str() + at + series.size(), nullptr);
  };
  std::vector<std::unique_ptr<RawClient>> open;
  for (int i = 0; i < 3; ++i) {
    open.push_back(std::make_unique<RawClient>(server_->pg_port()));
    ASSERT_TRUE(open.back()->LogIn("alice", "alice-password"));
  }
  EXPECT_GE(scrape(), 3);
  const double with_them = scrape();
  open.clear();
  EXPECT_TRUE(WaitUntil([&] { return scrape() <= with_them - 3; }, std::chrono::seconds(10)));
}

TEST(PgWireManyTest, ThousandsOfIdleConnectionsCostLittleAndTheServerServesOthers) {
  // As many as the descriptor limit allows, up to 2,000 (each costs one here and one there).
  rlimit limit{};
  ::getrlimit(RLIMIT_NOFILE, &limit);
  limit.rlim_cur = limit.rlim_max;
  ::setrlimit(RLIMIT_NOFILE, &limit);  // the server, started after, inherits it
  const size_t count = std::min<size_t>(2000, (static_cast<size_t>(limit.rlim_cur) - 200) / 2);
  ServerOptions options;
  options.extra_config = "[postgres_wire]\nmax_connections = 2100\n";
  ServerProcess server(options);
  server.Start();
  // The server's resident memory, in KiB.
  const auto rss_kib = [&] {
    std::ifstream status("/proc/" + std::to_string(server.pid()) + "/status");
    std::string line;
    while (std::getline(status, line)) {
      if (line.starts_with("VmRSS:")) return std::stol(line.substr(6));
    }
    return -1L;
  };
  {  // one connection first, so what the first one brings (pools, caches) is not counted
    RawClient warm(server.pg_port());
    ASSERT_TRUE(warm.LogIn("root", kRootPassword));
  }
  const long before = rss_kib();
  std::vector<std::unique_ptr<RawClient>> idle;
  for (size_t i = 0; i < count; ++i) {
    idle.push_back(std::make_unique<RawClient>(server.pg_port()));
    ASSERT_TRUE(idle.back()->LogIn("root", kRootPassword)) << "connection " << i;
  }
  // An idle signed-in connection holds little: its socket, buffers and session.
  const long per_connection = (rss_kib() - before) / static_cast<long>(count);
  EXPECT_LT(per_connection, 64) << "KiB per idle connection";
  std::printf("idle Postgres wire connections: %zu, %ld KiB each\n", count, per_connection);
  // Others are served meanwhile, over both doors.
  const PsqlRun run = Psql(server.pg_port(), "root", kRootPassword, "SELECT 40 + 2;");
  EXPECT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(run.out, "42\n");
  auto http = server.Client();
  auto metrics = http.Send("GET", "/metrics", "", {});
  ASSERT_TRUE(metrics.ok());
  const std::string series = "\nkalamdb_open_connections{kind=\"postgres\"} ";
  const size_t at = metrics->body.find(series);
  ASSERT_NE(at, std::string::npos);
  EXPECT_GE(std::strtod(metrics->body.c_str() + at + series.size(), nullptr), static_cast<double>(count));
  // Every idle one still answers.
  for (auto& client : idle) {
    client->Send(RawClient::Message('Q', std::string("SELECT 1") + '\0'));
    ASSERT_EQ(StatusOf(client->UntilReady()), 'I');
  }
}

TEST(PgWireIdleTest, ATransactionLeftIdlePastTheLimitEndsTheConnectionSayingWhy) {
  ServerOptions options;
  options.extra_config = "[limits]\nidle_in_transaction_timeout_secs = 1\n";
  ServerProcess server(options);
  server.Start();
  RawClient client(server.pg_port());
  ASSERT_TRUE(client.LogIn("root", kRootPassword));
  client.Send(RawClient::Message('Q', std::string("CREATE NAMESPACE idle; CREATE SHARED TABLE idle.t (id INT PRIMARY KEY)") + '\0'));
  ASSERT_EQ(StatusOf(client.UntilReady()), 'I');
  // Idle outside a transaction: nothing happens.
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  client.Send(RawClient::Message('Q', std::string("BEGIN; INSERT INTO idle.t (id) VALUES (1)") + '\0'));
  ASSERT_EQ(StatusOf(client.UntilReady()), 'T');
  const auto started = std::chrono::steady_clock::now();
  const RawClient::Reply reply = client.Next();  // nothing sent: the server speaks first
  EXPECT_EQ(reply.type, 'E');
  EXPECT_EQ(SqlStateOf(reply), "25P03");
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(5));
  EXPECT_TRUE(client.ClosedByServer());
  // The transaction was rolled back.
  RawClient again(server.pg_port());
  ASSERT_TRUE(again.LogIn("root", kRootPassword));
  again.Send(RawClient::Message('Q', std::string("SELECT count(*) FROM idle.t") + '\0'));
  const std::vector<RawClient::Reply> replies = again.UntilReady();
  ASSERT_GE(replies.size(), 2u);
  EXPECT_EQ(replies[1].type, 'D');
  EXPECT_EQ(replies[1].body, RawClient::Int16(1) + RawClient::Int32(1) + "0");  // one column: "0"
}

TEST(PgWireShutdownTest, IdleConnectionsAreToldAndTheServerStops) {
  ServerProcess server;
  server.Start();
  RawClient idle(server.pg_port());
  ASSERT_TRUE(idle.LogIn("root", kRootPassword));
  EXPECT_EQ(server.Stop(SIGTERM), 0);
  const RawClient::Reply reply = idle.Next();
  EXPECT_EQ(reply.type, 'E');
  EXPECT_EQ(SqlStateOf(reply), "57P01");
}

TEST(PgWireRootTest, RootWithoutAPasswordFromLoopbackIsNotAskedForOne) {
  ServerOptions options;
  options.root_password = false;
  ServerProcess server(options);
  server.Start();
  RawClient client(server.pg_port());
  client.Send(RawClient::Startup("root"));
  const RawClient::Reply reply = client.Next();
  EXPECT_EQ(reply.type, 'R');
  EXPECT_EQ(reply.body, RawClient::Int32(0));  // AuthenticationOk at once
  const PsqlRun run = Psql(server.pg_port(), "root", "", "SELECT 'in';");
  EXPECT_EQ(run.out, "in\n") << run.err;
}

}  // namespace
}  // namespace kalam::testing
