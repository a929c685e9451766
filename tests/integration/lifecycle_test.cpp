// The server as a process: restart, crash, the data directory lock, graceful shutdown,
// configuration from file, environment and flags.
#include <gtest/gtest.h>

#include <csignal>
#include <filesystem>

#include "server_process.h"

namespace kalam::testing {
namespace {

namespace json = boost::json;

std::string LoginToken(client::HttpClient& http, const std::string& user, const std::string& pw) {
  auto res = http.Send("POST", "/v1/api/auth/login",
                       R"({"username":")" + user + R"(","password":")" + pw + "\"}");
  EXPECT_TRUE(res.ok());
  EXPECT_EQ(res->status, 200);
  return std::string(json::parse(res->body).at("access_token").as_string());
}

TEST(Lifecycle, RestartKeepsUsersNamespacesAndTokens) {
  ServerProcess server;
  server.Start();
  std::string token;
  {
    auto http = server.Client();
    ASSERT_EQ(Sql(http, RootAuth(), "CREATE NAMESPACE kept; CREATE USER 'carol' WITH PASSWORD "
                                     "'carol-password' ROLE dba EMAIL 'c@x.io'")
                  .status,
              200);
    token = LoginToken(http, "carol", "carol-password");
  }
  EXPECT_EQ(server.Stop(SIGTERM), 0) << server.log();
  server.Start();
  auto http = server.Client();
  auto ns = Sql(http, "Bearer " + token, "SELECT name FROM system.namespaces ORDER BY name");
  ASSERT_EQ(ns.status, 200) << json::serialize(ns.body);  // same secret: the token still works
  EXPECT_EQ(json::serialize(ns.rows()), R"([["default"],["kept"]])");
  auto user = Sql(http, client::BasicAuth("carol", "carol-password"),
                  "SELECT role, email FROM system.users WHERE username = 'carol'");
  EXPECT_EQ(json::serialize(user.rows()), R"([["dba","c@x.io"]])");
  // Bootstrap happens once: still one root, one default namespace.
  auto roots = Sql(http, RootAuth(), "SELECT count(*) FROM system.users WHERE username = 'root'");
  EXPECT_EQ(json::serialize(roots.rows()), "[[1]]");
}

// A name used again after DROP USER stays the live user's across a restart, whichever
// order the users' (random) ids load in.
TEST(Lifecycle, ANameUsedAgainAfterDropUserStaysTheLiveUsersAfterARestart) {
  ServerProcess server;
  server.Start();
  {
    auto http = server.Client();
    for (int round = 0; round < 6; ++round) {
      ASSERT_EQ(Sql(http, RootAuth(), "CREATE USER 'dora' WITH PASSWORD 'dora-password-" + std::to_string(round) +
                                           "' ROLE user; DROP USER 'dora'").status,
                200);
    }
    ASSERT_EQ(Sql(http, RootAuth(), "CREATE USER 'dora' WITH PASSWORD 'dora-password' ROLE user").status, 200);
  }
  EXPECT_EQ(server.Stop(SIGTERM), 0) << server.log();
  server.Start();
  auto http = server.Client();
  auto me = Sql(http, client::BasicAuth("dora", "dora-password"), "SELECT deleted_at FROM system.users");
  ASSERT_EQ(me.status, 200) << json::serialize(me.body);
  EXPECT_EQ(json::serialize(me.rows()), "[[null]]");
  auto changed = Sql(http, RootAuth(), "ALTER USER 'dora' SET PASSWORD 'dora-new-password'");
  EXPECT_EQ(changed.status, 200) << json::serialize(changed.body);
  EXPECT_EQ(Sql(http, client::BasicAuth("dora", "dora-new-password"), "SELECT 1").status, 200);
}

TEST(Lifecycle, KilledServerRestartsOnTheSameDataDirectory) {
  ServerProcess server;
  server.Start();
  {
    auto http = server.Client();
    for (int i = 0; i < 20; ++i) {
      ASSERT_EQ(Sql(http, RootAuth(), "CREATE NAMESPACE crash_" + std::to_string(i)).status, 200);
    }
  }
  EXPECT_EQ(server.Stop(SIGKILL), 128 + SIGKILL);
  server.Start();
  auto http = server.Client();
  auto count = Sql(http, RootAuth(), "SELECT count(*) FROM system.namespaces WHERE name LIKE 'crash_%'");
  EXPECT_EQ(json::serialize(count.rows()), "[[20]]");  // every acknowledged statement is there
}

TEST(Lifecycle, SecondServerOnTheSameDataDirectoryIsRefused) {
  ServerProcess server;
  server.Start();
  auto [status, log] = server.RunSecondInstance();
  EXPECT_NE(status, 0);
  EXPECT_NE(log.find("in use by another running kalamdb-server"), std::string::npos) << log;
  auto http = server.Client();
  EXPECT_EQ(Sql(http, RootAuth(), "SELECT 1").status, 200);  // the first one is unharmed
}

TEST(Lifecycle, GracefulShutdownExitsCleanlyWithIdleKeepAliveConnections) {
  ServerProcess server;
  server.Start();
  auto idle = server.Client();
  ASSERT_EQ(Sql(idle, RootAuth(), "SELECT 1").status, 200);  // leaves a kept-alive connection
  EXPECT_EQ(server.Stop(SIGINT), 0) << server.log();
  EXPECT_NE(server.log().find("kalamdb-server stopped"), std::string::npos);
}

TEST(Lifecycle, EnvironmentOverridesTheFile) {
  ServerProcess server({"", "", {{"KALAMDB_JWT_SECRET", "a-secret-from-the-environment"}}, true, ""});
  server.Start();
  auto http = server.Client();
  const std::string token = LoginToken(http, "root", kRootPassword);
  // The token is signed with the configured secret, so no secret file is generated.
  EXPECT_FALSE(std::filesystem::exists(server.data_dir() + "/jwt_secret"));
  EXPECT_EQ(Sql(http, "Bearer " + token, "SELECT 1").status, 200);
}

TEST(Lifecycle, BadConfigurationIsAClearError) {
  ServerProcess server({"", "[limits]\nmax_request_bytes = \"big\"\n", {}, true, ""});
  auto [status, log] = server.RunSecondInstance();
  EXPECT_EQ(status, 2);
  EXPECT_NE(log.find("limits.max_request_bytes"), std::string::npos) << log;
}

}  // namespace
}  // namespace kalam::testing
