// Namespaces: create, drop, alter options, show; names and reserved names.
#include <gtest/gtest.h>

#include "server_process.h"

namespace kalam::testing {
namespace {

namespace json = boost::json;

class Namespaces : public ServerTest {};

TEST_F(Namespaces, CreateShowAlterDrop) {
  auto created = Root("CREATE NAMESPACE app");
  ASSERT_EQ(created.status, 200) << json::serialize(created.body);
  EXPECT_EQ(created.result(0).at("message").as_string(), "Namespace 'app' created");
  EXPECT_EQ(Root("CREATE NAMESPACE app").error_code(), "ALREADY_EXISTS");
  EXPECT_EQ(Root("CREATE NAMESPACE IF NOT EXISTS app").status, 200);
  EXPECT_EQ(Root("create schema Reports").status, 200);  // unquoted names fold to lower case

  auto shown = Root("SHOW NAMESPACES");
  ASSERT_EQ(shown.status, 200);
  std::vector<std::string> names;
  for (const auto& row : shown.rows()) names.emplace_back(row.at(0).as_string());
  EXPECT_EQ(names, (std::vector<std::string>{"app", "default", "reports"}));

  EXPECT_EQ(Root("ALTER NAMESPACE app SET OPTIONS (owner = 'team-a', retention = 30, audit = TRUE)")
                .status,
            200);
  auto options = Root("SELECT options FROM system.namespaces WHERE name = 'app'");
  auto parsed = json::parse(options.rows().at(0).at(0).as_string());
  EXPECT_EQ(parsed.at("owner").as_string(), "team-a");
  EXPECT_EQ(parsed.at("retention").as_int64(), 30);
  EXPECT_EQ(parsed.at("audit").as_bool(), true);
  EXPECT_EQ(Root("ALTER NAMESPACE nowhere SET OPTIONS (a = 1)").error_code(), "NOT_FOUND");

  EXPECT_EQ(Root("DROP NAMESPACE reports").status, 200);
  EXPECT_EQ(Root("DROP NAMESPACE reports").error_code(), "NOT_FOUND");
  EXPECT_EQ(Root("DROP NAMESPACE IF EXISTS reports").status, 200);
  EXPECT_EQ(Root("DROP SCHEMA app CASCADE").status, 200);
  auto left = Root("SELECT name FROM system.namespaces ORDER BY name");
  EXPECT_EQ(json::serialize(left.rows()), R"([["default"]])");
}

TEST_F(Namespaces, NamesAreValidated) {
  for (const char* bad : {"CREATE NAMESPACE system", "CREATE NAMESPACE information_schema",
                          "CREATE NAMESPACE \"Upper\"", "CREATE NAMESPACE \"1abc\"",
                          "CREATE NAMESPACE \"has-dash\"", "CREATE NAMESPACE",
                          "CREATE NAMESPACE a b"}) {
    auto r = Root(bad);
    EXPECT_EQ(r.status, 400) << bad;
    EXPECT_EQ(r.error_code(), "INVALID_SQL") << bad;
  }
  EXPECT_EQ(Root("DROP NAMESPACE system").status, 403);
  EXPECT_EQ(Root("CREATE NAMESPACE ok_name_1").status, 200);
}

}  // namespace
}  // namespace kalam::testing
