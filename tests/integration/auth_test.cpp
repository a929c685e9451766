// Authentication: Basic, Bearer, login/refresh/me, every 401 code, users.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <vector>

#include "common/encoding.h"
#include "server_process.h"

namespace kalam::testing {
namespace {

namespace json = boost::json;

class Auth : public ServerTest {
 protected:
  json::value Post(const std::string& target, const std::string& body, int expect_status) {
    auto res = http_.Send("POST", target, body);
    EXPECT_TRUE(res.ok());
    EXPECT_EQ(res->status, expect_status) << res->body;
    return json::parse(res->body);
  }
  std::string Code(const json::value& v) { return std::string(v.at("error").at("code").as_string()); }
};

TEST_F(Auth, EachUnauthorizedCode) {
  auto none = Sql(http_, "", "SELECT 1");
  EXPECT_EQ(none.status, 401);
  EXPECT_EQ(none.error_code(), "MISSING_AUTHORIZATION");

  for (const char* header : {"Token abc", "Basic", "Basic !!!notbase64", "Basic " /*empty*/}) {
    auto bad = Sql(http_, header, "SELECT 1");
    EXPECT_EQ(bad.status, 401) << header;
    EXPECT_EQ(bad.error_code(), "INVALID_AUTHORIZATION_HEADER") << header;
  }
  auto no_colon = Sql(http_, "Basic " + Base64Encode("rootonly"), "SELECT 1");
  EXPECT_EQ(no_colon.error_code(), "INVALID_AUTHORIZATION_HEADER");

  auto wrong = Sql(http_, client::BasicAuth("root", "wrong-password"), "SELECT 1");
  EXPECT_EQ(wrong.status, 401);
  EXPECT_EQ(wrong.error_code(), "INVALID_CREDENTIALS");
  auto nobody = Sql(http_, client::BasicAuth("nobody", "whatever1"), "SELECT 1");
  EXPECT_EQ(nobody.error_code(), "INVALID_CREDENTIALS");

  auto garbage = Sql(http_, "Bearer not.a.token", "SELECT 1");
  EXPECT_EQ(garbage.status, 401);
  EXPECT_EQ(garbage.error_code(), "INVALID_TOKEN");
}

// A wrong password for an existing user and any password for an unknown one take alike:
// both run bcrypt, so the answer's time names no user. (Medians of a few tries, compared
// loosely: one bcrypt at cost 10 is tens of milliseconds, a lookup alone microseconds.)
TEST(AuthTiming, UnknownUsersTakeAsLongAsWrongPasswords) {
  ServerProcess server({"bcrypt_cost = 10", "", {}, true, ""});
  server.Start();
  auto http = server.Client();
  ASSERT_EQ(Sql(http, RootAuth(), "CREATE USER 'known' WITH PASSWORD 'known-password' ROLE user").status, 200);
  auto median_ms = [&](const std::string& user) {
    std::vector<double> times;
    for (int i = 0; i < 5; ++i) {
      const auto start = std::chrono::steady_clock::now();
      auto r = http.Send("POST", "/v1/api/auth/login",
                         R"({"username":")" + user + R"(","password":"wrong-password-)" +
                             std::to_string(i) + "\"}");
      EXPECT_EQ(r->status, 401);
      times.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
    }
    std::sort(times.begin(), times.end());
    return times[2];
  };
  const double known = median_ms("known");
  const double unknown = median_ms("nobody-by-this-name");
  EXPECT_GT(unknown, known / 4) << "known " << known << " ms, unknown " << unknown << " ms";
}

TEST(AuthTokens, ExpiredTokenIsTokenExpired) {
  ServerProcess server({"access_token_ttl_secs = 1", "", {}, true, ""});
  server.Start();
  auto http = server.Client();
  auto login = http.Send("POST", "/v1/api/auth/login",
                         R"({"username":"root","password":")" + std::string(kRootPassword) + "\"}");
  ASSERT_EQ(login->status, 200);
  const std::string token(json::parse(login->body).at("access_token").as_string());
  EXPECT_EQ(json::parse(login->body).at("expires_in").as_int64(), 1);
  SqlResponse r;
  EXPECT_TRUE(WaitUntil(
      [&] {
        r = Sql(http, "Bearer " + token, "SELECT 1");
        return r.status != 200;
      },
      std::chrono::seconds(10)));
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(r.error_code(), "TOKEN_EXPIRED");
}

TEST_F(Auth, LoginRefreshMe) {
  auto login = Post("/v1/api/auth/login",
                    R"({"username":"root","password":")" + std::string(kRootPassword) + "\"}", 200);
  EXPECT_EQ(login.at("token_type").as_string(), "Bearer");
  EXPECT_EQ(login.at("expires_in").as_int64(), 3600);
  EXPECT_EQ(login.at("user").at("username").as_string(), "root");
  EXPECT_EQ(login.at("user").at("role").as_string(), "system");
  const std::string access(login.at("access_token").as_string());
  const std::string refresh(login.at("refresh_token").as_string());

  auto me = http_.Send("GET", "/v1/api/auth/me", "", {{"Authorization", "Bearer " + access}});
  ASSERT_TRUE(me.ok());
  EXPECT_EQ(me->status, 200);
  auto me_body = json::parse(me->body);
  EXPECT_EQ(me_body.at("username").as_string(), "root");
  EXPECT_EQ(me_body.at("role").as_string(), "system");
  EXPECT_TRUE(me_body.as_object().contains("email"));

  auto sql = Sql(http_, "Bearer " + access, "SELECT 1 AS x");
  EXPECT_EQ(sql.status, 200);

  // A refresh token does not authorize requests, and an access token does not refresh.
  auto with_refresh = Sql(http_, "Bearer " + refresh, "SELECT 1");
  EXPECT_EQ(with_refresh.error_code(), "INVALID_TOKEN");
  auto refresh_with_access =
      Post("/v1/api/auth/refresh", R"({"refresh_token":")" + access + "\"}", 401);
  EXPECT_EQ(Code(refresh_with_access), "INVALID_TOKEN");

  auto refreshed = Post("/v1/api/auth/refresh", R"({"refresh_token":")" + refresh + "\"}", 200);
  const std::string access2(refreshed.at("access_token").as_string());
  EXPECT_EQ(Sql(http_, "Bearer " + access2, "SELECT 1").status, 200);

  // A tampered token is refused.
  std::string tampered = access2;
  tampered[tampered.size() - 3] = tampered[tampered.size() - 3] == 'A' ? 'B' : 'A';
  EXPECT_EQ(Sql(http_, "Bearer " + tampered, "SELECT 1").error_code(), "INVALID_TOKEN");
}

TEST_F(Auth, LoginErrors) {
  EXPECT_EQ(Code(Post("/v1/api/auth/login", R"({"username":"root","password":"nope-nope"})", 401)),
            "INVALID_CREDENTIALS");
  EXPECT_EQ(Code(Post("/v1/api/auth/login", R"({"username":"root"})", 400)), "INVALID_INPUT");
  EXPECT_EQ(Code(Post("/v1/api/auth/login", "{bad json", 400)), "INVALID_INPUT");
  EXPECT_EQ(Code(Post("/v1/api/auth/refresh", R"({"refresh_token":"x.y.z"})", 401)),
            "INVALID_TOKEN");
  auto me = http_.Send("GET", "/v1/api/auth/me");
  EXPECT_EQ(me->status, 401);
}

TEST_F(Auth, UsersLifecycle) {
  auto created = Root("CREATE USER 'alice' WITH PASSWORD 'alice-password' ROLE user EMAIL 'a@x.io'");
  ASSERT_EQ(created.status, 200) << json::serialize(created.body);
  auto again = Root("CREATE USER 'alice' WITH PASSWORD 'alice-password' ROLE user");
  EXPECT_EQ(again.status, 400);
  EXPECT_EQ(again.error_code(), "ALREADY_EXISTS");
  EXPECT_EQ(Root("CREATE USER IF NOT EXISTS 'alice' WITH PASSWORD 'alice-password' ROLE user").status,
            200);

  auto me = As("alice", "SELECT user_id, username, role, email FROM system.users");
  ASSERT_EQ(me.status, 200);
  ASSERT_EQ(me.rows().size(), 1u);  // a user sees only their own row
  EXPECT_EQ(me.rows()[0].at(1).as_string(), "alice");
  EXPECT_EQ(me.rows()[0].at(2).as_string(), "user");
  EXPECT_EQ(me.rows()[0].at(3).as_string(), "a@x.io");
  EXPECT_TRUE(std::string(me.rows()[0].at(0).as_string()).starts_with("u_"));

  // Anyone may change their own password; the old one stops working at once.
  EXPECT_EQ(As("alice", "ALTER USER 'alice' SET PASSWORD 'alice-new-password'").status, 200);
  EXPECT_EQ(As("alice", "SELECT 1").error_code(), "INVALID_CREDENTIALS");
  EXPECT_EQ(Sql(http_, client::BasicAuth("alice", "alice-new-password"), "SELECT 1").status, 200);
  EXPECT_EQ(Root("ALTER USER 'alice' SET PASSWORD 'alice-password'").status, 200);

  // Too short a password.
  auto short_pw = Root("CREATE USER 'bob' WITH PASSWORD 'short' ROLE user");
  EXPECT_EQ(short_pw.status, 400);
  EXPECT_EQ(Root("CREATE USER 'bad name!' WITH PASSWORD 'long-enough' ROLE user").status, 400);
  EXPECT_EQ(Root("CREATE USER 'bob' WITH PASSWORD 'long-enough' ROLE emperor").error_code(),
            "INVALID_SQL");

  // Roles and email.
  EXPECT_EQ(Root("ALTER USER 'alice' SET ROLE service").status, 200);
  EXPECT_EQ(Root("ALTER USER 'alice' SET EMAIL 'alice@x.io'").status, 200);
  auto row = Root("SELECT role, email FROM system.users WHERE username = 'alice'");
  EXPECT_EQ(json::serialize(row.rows()), R"([["service","alice@x.io"]])");
  EXPECT_EQ(Root("ALTER USER 'ghost' SET ROLE user").error_code(), "NOT_FOUND");

  // A token issued before DROP USER stops working; login is refused.
  auto login = http_.Send("POST", "/v1/api/auth/login",
                          R"({"username":"alice","password":"alice-password"})");
  ASSERT_EQ(login->status, 200);
  const std::string token(json::parse(login->body).at("access_token").as_string());
  EXPECT_EQ(Root("DROP USER 'alice'").status, 200);
  EXPECT_EQ(Sql(http_, "Bearer " + token, "SELECT 1").error_code(), "INVALID_TOKEN");
  EXPECT_EQ(As("alice", "SELECT 1").error_code(), "INVALID_CREDENTIALS");
  auto deleted = Root("SELECT deleted_at IS NOT NULL FROM system.users WHERE username = 'alice'");
  EXPECT_EQ(json::serialize(deleted.rows()), "[[true]]");
  EXPECT_EQ(Root("DROP USER 'alice'").error_code(), "NOT_FOUND");
  EXPECT_EQ(Root("DROP USER IF EXISTS 'alice'").status, 200);
  EXPECT_EQ(Root("DROP USER 'root'").error_code(), "PERMISSION_DENIED");
}

TEST_F(Auth, RolePermissions) {
  CreateUser("plain", "user");
  CreateUser("svc", "service");
  CreateUser("admin", "dba");

  auto create = As("plain", "CREATE USER 'x1' WITH PASSWORD 'pass-word-1' ROLE user");
  EXPECT_EQ(create.status, 403);
  EXPECT_EQ(create.error_code(), "PERMISSION_DENIED");
  EXPECT_EQ(As("svc", "CREATE USER 'x1' WITH PASSWORD 'pass-word-1' ROLE user").status, 403);
  EXPECT_EQ(As("admin", "CREATE USER 'x1' WITH PASSWORD 'pass-word-1' ROLE user").status, 200);
  // A dba can't mint system users or touch root.
  EXPECT_EQ(As("admin", "CREATE USER 'x2' WITH PASSWORD 'pass-word-1' ROLE system").status, 403);
  EXPECT_EQ(As("admin", "ALTER USER 'root' SET PASSWORD 'pass-word-1'").status, 403);
  // A user can't change someone else's password or their own role.
  EXPECT_EQ(As("plain", "ALTER USER 'svc' SET PASSWORD 'pass-word-1'").status, 403);
  EXPECT_EQ(As("plain", "ALTER USER 'plain' SET ROLE dba").status, 403);

  auto jobs = As("plain", "SELECT * FROM system.jobs");
  EXPECT_EQ(jobs.status, 403);
  EXPECT_EQ(jobs.error_code(), "PERMISSION_DENIED");
  EXPECT_EQ(As("plain", "SELECT * FROM system.storages").status, 403);
  EXPECT_EQ(As("plain", "SELECT count(*) FROM (SELECT * FROM system.jobs)").status, 403);
  EXPECT_EQ(As("svc", "SELECT * FROM system.jobs").status, 200);
  EXPECT_EQ(As("plain", "SELECT * FROM system.namespaces").status, 200);
  EXPECT_EQ(As("plain", "SELECT * FROM system.live_queries").status, 200);

  EXPECT_EQ(As("plain", "CREATE NAMESPACE plain_ns").status, 403);
  EXPECT_EQ(As("svc", "CREATE NAMESPACE svc_ns").status, 200);
  EXPECT_EQ(As("plain", "DROP NAMESPACE svc_ns").status, 403);
  EXPECT_EQ(As("svc", "DROP NAMESPACE svc_ns").status, 200);

  // information_schema is catalog metadata, the same for every caller: it lists system.jobs
  // to a user, whose SELECT of it is refused above.
  for (const char* who : {"plain", "admin"}) {
    auto tables = As(who, "SELECT table_name FROM information_schema.tables WHERE table_name = 'jobs'");
    EXPECT_EQ(tables.rows().size(), 1u) << who;
  }
}

TEST_F(Auth, NoRoleSeesAPasswordHash) {
  for (const char* sql :
       {"SELECT * FROM system.users", "SELECT password_hash FROM system.users",
        "SELECT * FROM information_schema.columns WHERE column_name LIKE '%pass%'"}) {
    auto r = Root(sql);
    EXPECT_EQ(json::serialize(r.body).find("$2b$"), std::string::npos) << sql;
    EXPECT_EQ(json::serialize(r.body).find("password_hash\"]"), std::string::npos) << sql;
  }
  EXPECT_EQ(Root("SELECT password_hash FROM system.users").error_code(), "INVALID_SQL");
}

TEST_F(Auth, UserHeaderIgnoredUnlessTrusted) {
  auto r = http_.Send("POST", "/v1/api/sql", R"({"sql":"SELECT 1"})", {{"X-USER-ID", "root"}});
  EXPECT_EQ(r->status, 401);

  ServerProcess trusting({"trust_user_header = true", "", {}, true, ""});
  trusting.Start();
  auto http = trusting.Client();
  auto ok = http.Send("POST", "/v1/api/sql", R"({"sql":"SELECT username FROM system.users"})",
                      {{"X-USER-ID", "root"}});
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->status, 200) << ok->body;
  auto unknown = http.Send("POST", "/v1/api/sql", R"({"sql":"SELECT 1"})", {{"X-USER-ID", "ghost"}});
  EXPECT_EQ(unknown->status, 401);
}

TEST(AuthRoot, WithoutPasswordOnlyFromLoopbackWithEmptyPassword) {
  ServerProcess server({"", "", {}, false, ""});
  server.Start();
  auto http = server.Client();
  EXPECT_EQ(Sql(http, client::BasicAuth("root", ""), "SELECT 1").status, 200);
  EXPECT_EQ(Sql(http, client::BasicAuth("root", "anything1"), "SELECT 1").status, 401);
  EXPECT_NE(server.log().find("root has no password"), std::string::npos);
}

}  // namespace
}  // namespace kalam::testing
