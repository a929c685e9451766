// KalamDB's own statements through the server where a scenario file can't look: the
// subscription SUBSCRIBE TO hands back, and EXECUTE AS by user id.
#include <boost/json.hpp>

#include "server_process.h"

namespace kalam::testing {
namespace {

namespace json = boost::json;

class KalamStatements : public ServerTest {
 protected:
  static void SetUpTestSuite() {
    ServerTest::SetUpTestSuite();
    auto http = server_->Client();
    for (const char* sql :
         {"CREATE NAMESPACE app",
          "CREATE SHARED TABLE app.q (id BIGINT PRIMARY KEY, name TEXT) WITH (ACCESS_LEVEL = 'public')",
          "CREATE USER TABLE app.notes (id BIGINT PRIMARY KEY, body TEXT)",
          "CREATE USER 'carol' WITH PASSWORD 'carol-password' ROLE user"}) {
      ASSERT_EQ(Sql(http, RootAuth(), sql).status, 200) << sql;
    }
  }
};

TEST_F(KalamStatements, SubscribeToKeepsAConditionThatLooksLikeOptions) {
  auto r = Root("SUBSCRIBE TO app.q WHERE (name = 'OPTIONS (last_rows = 1)') OPTIONS (last_rows = 7)");
  ASSERT_EQ(r.status, 200) << json::serialize(r.body);
  auto payload = json::parse(r.result(0).at("message").as_string());
  const auto& subscription = payload.at("subscription");
  EXPECT_EQ(subscription.at("sql").as_string(),
            "SELECT * FROM app.q WHERE (name = 'OPTIONS (last_rows = 1)')");
  EXPECT_EQ(subscription.at("options").at("last_rows").as_int64(), 7);
  EXPECT_EQ(subscription.at("options").as_object().size(), 1u);
}

TEST_F(KalamStatements, SubscribeToQuotedNamesResolveLikeBareOnes) {
  auto r = Root(R"(SUBSCRIBE TO "app"."q")");
  ASSERT_EQ(r.status, 200) << json::serialize(r.body);
  auto payload = json::parse(r.result(0).at("message").as_string());
  EXPECT_EQ(payload.at("subscription").at("sql").as_string(), "SELECT * FROM app.q");
}

TEST_F(KalamStatements, ExecuteAsTakesAUserIdOrAName) {
  auto id = Root("SELECT user_id FROM system.users WHERE username = 'carol'");
  ASSERT_EQ(id.status, 200);
  const std::string user_id(id.rows().at(0).as_array().at(0).as_string());
  auto by_id = Root("EXECUTE AS '" + user_id + "' (INSERT INTO app.notes (id, body) VALUES (1, 'by id'))");
  ASSERT_EQ(by_id.status, 200) << json::serialize(by_id.body);
  EXPECT_EQ(by_id.result(0).at("as_user").as_string(), user_id);
  auto by_name = Root("EXECUTE AS 'carol' (SELECT body FROM app.notes)");
  ASSERT_EQ(by_name.status, 200) << json::serialize(by_name.body);
  ASSERT_EQ(by_name.rows().size(), 1u);
  EXPECT_EQ(by_name.rows().at(0).as_array().at(0).as_string(), "by id");
  // The older form takes a name only: the id is no user name.
  EXPECT_EQ(Root("EXECUTE AS USER '" + user_id + "' (SELECT 1)").error_code(), "NOT_FOUND");
  // root's queries read every user's rows, carol's too; its own partition holds none.
  EXPECT_EQ(Root("SELECT count(*) FROM app.notes").rows().at(0).as_array().at(0).as_int64(), 1);
  EXPECT_EQ(Root("EXECUTE AS USER 'root' (SELECT count(*) FROM app.notes)").rows().at(0).as_array().at(0).as_int64(), 0);
}

}  // namespace
}  // namespace kalam::testing
