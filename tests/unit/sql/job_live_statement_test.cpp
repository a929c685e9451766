// The statements that once had parsers of their own: storages, FLUSH / STORAGE FLUSH /
// STORAGE COMPACT, KILL JOB, KILL QUERY, KILL LIVE QUERY, SUBSCRIBE TO and EXECUTE AS.
#include <gtest/gtest.h>

#include "statement_test_helpers.h"

namespace kalam::sql {
namespace {

using testing::ErrorOf;
using testing::IsForTheEngine;
using testing::ParseAs;

TEST(FlushStatement, TakesQuotedAndQualifiedNames) {
  auto flush = ParseAs<FlushTable>(R"(FLUSH TABLE "App"."Q")");
  ASSERT_TRUE(flush);
  EXPECT_EQ(flush->table.ns, "App");
  EXPECT_EQ(flush->table.name, "Q");
  EXPECT_FALSE(flush->compact);
  auto bare = ParseAs<FlushTable>("flush table Q;");
  ASSERT_TRUE(bare);
  EXPECT_EQ(bare->table.ns, "");
  EXPECT_EQ(bare->table.name, "q");
  auto compact = ParseAs<FlushTable>("STORAGE COMPACT TABLE app.q");
  ASSERT_TRUE(compact);
  EXPECT_TRUE(compact->compact);
  auto storage_flush = ParseAs<FlushTable>("STORAGE FLUSH TABLE app.q");
  ASSERT_TRUE(storage_flush);
  EXPECT_FALSE(storage_flush->compact);
}

TEST(FlushStatement, AllTables) {
  auto all = ParseAs<FlushAllTables>("FLUSH ALL TABLES");
  ASSERT_TRUE(all);
  EXPECT_FALSE(all->ns);
  auto in = ParseAs<FlushAllTables>("FLUSH ALL TABLES IN App");
  ASSERT_TRUE(in);
  EXPECT_EQ(in->ns, "app");
  EXPECT_NE(ErrorOf("FLUSH ALL app").find("TABLES"), std::string::npos);
  EXPECT_NE(ErrorOf("FLUSH app.q").find("TABLE or ALL TABLES"), std::string::npos);
}

TEST(TrailingText, IsRefusedEverywhere) {
  for (const char* sql : {"KILL JOB 'x' and then some", "KILL LIVE QUERY 'x' y", "KILL QUERY 'q1' now", "FLUSH TABLE t u",
                          "FLUSH ALL TABLES IN ns x", "STORAGE COMPACT TABLE t now",
                          "DROP STORAGE s t", "ALTER STORAGE s SET NAME 'n' x",
                          "EXECUTE AS 'u' (SELECT 1) x", "SUBSCRIBE TO t OPTIONS (a = 1) b"}) {
    EXPECT_NE(ErrorOf(sql).find("Expected"), std::string::npos) << sql;
  }
}

TEST(KillStatements, TakeStringLiterals) {
  auto job = ParseAs<KillJob>("KILL JOB 'flush-1'");
  ASSERT_TRUE(job);
  EXPECT_EQ(job->job_id, "flush-1");
  auto live = ParseAs<KillLiveQuery>("kill live query 'it''s';");
  ASSERT_TRUE(live);
  EXPECT_EQ(live->live_id, "it's");
  auto query = ParseAs<KillQuery>("KILL QUERY 'q17'");
  ASSERT_TRUE(query);
  EXPECT_EQ(query->query_id, "q17");
  ErrorOf("KILL JOB flush1");
  ErrorOf("KILL LIVE QUERY");
  ErrorOf("KILL QUERY 17");
  ErrorOf("KILL QUERY");
}

TEST(SubscribeTo, ConditionRunsToTheOptionsClause) {
  auto s = ParseAs<SubscribeTo>("SUBSCRIBE TO app.q WHERE (name = 'OPTIONS (last_rows = 1)')");
  ASSERT_TRUE(s);
  EXPECT_EQ(s->where_sql, "(name = 'OPTIONS (last_rows = 1)')");
  EXPECT_TRUE(s->options.empty());

  s = ParseAs<SubscribeTo>(
      "SUBSCRIBE TO q WHERE a IN (1, 2) AND f(options) > 0 OPTIONS (Last_Rows = 5, batch_size = 10);");
  ASSERT_TRUE(s);
  EXPECT_EQ(s->table.name, "q");
  EXPECT_EQ(s->where_sql, "a IN (1, 2) AND f(options) > 0");
  ASSERT_EQ(s->options.size(), 2u);
  EXPECT_EQ(s->options[0], (std::pair<std::string, int64_t>("last_rows", 5)));
  EXPECT_EQ(s->options[1], (std::pair<std::string, int64_t>("batch_size", 10)));

  s = ParseAs<SubscribeTo>("SUBSCRIBE TO q OPTIONS (last_rows = 0)");
  ASSERT_TRUE(s);
  EXPECT_EQ(s->where_sql, "");
  ErrorOf("SUBSCRIBE TO q WHERE");
  ErrorOf("SUBSCRIBE TO q OPTIONS (last_rows = 'x')");
  ErrorOf("SUBSCRIBE TO q OPTIONS (last_rows = -1)");
  ErrorOf("SUBSCRIBE TO q OPTIONS last_rows = 1");
  ErrorOf("SUBSCRIBE TO q WHERE a = 'unterminated");
}

TEST(ExecuteAs, BothForms) {
  auto by_name = ParseAs<ExecuteAs>("EXECUTE AS USER 'alice' ( SELECT ')' FROM t )");
  ASSERT_TRUE(by_name);
  EXPECT_EQ(by_name->user, "alice");
  EXPECT_TRUE(by_name->by_name_only);
  EXPECT_EQ(by_name->statement, "SELECT ')' FROM t");
  auto by_id = ParseAs<ExecuteAs>("execute as 'u_123' (INSERT INTO t VALUES ((1)));");
  ASSERT_TRUE(by_id);
  EXPECT_EQ(by_id->user, "u_123");
  EXPECT_FALSE(by_id->by_name_only);
  EXPECT_EQ(by_id->statement, "INSERT INTO t VALUES ((1))");
  ErrorOf("EXECUTE AS 'alice' SELECT 1");
  ErrorOf("EXECUTE AS 'alice' (SELECT 1");
  ErrorOf("EXECUTE AS 'alice' ()");
  ErrorOf("EXECUTE AS alice (SELECT 1)");
  // DuckDB's EXECUTE of a prepared statement is not ours.
  EXPECT_TRUE(IsForTheEngine("EXECUTE q1(1, 2)"));
}

TEST(StorageStatements, ClausesInAnyOrderOnce) {
  auto create = ParseAs<CreateStorage>(
      "CREATE STORAGE IF NOT EXISTS Arch NAME 'A' BASE_DIRECTORY 'a' TYPE 'filesystem' "
      "USER_TABLES_TEMPLATE '{userId}/{tableName}'");
  ASSERT_TRUE(create);
  EXPECT_EQ(create->id, "arch");
  EXPECT_TRUE(create->if_not_exists);
  EXPECT_EQ(create->type, "filesystem");
  EXPECT_EQ(create->base_directory, "a");
  EXPECT_EQ(create->user_tables_template, "{userId}/{tableName}");
  EXPECT_FALSE(create->shared_tables_template);
  EXPECT_NE(ErrorOf("CREATE STORAGE s TYPE 'f' NAME 'n'").find("BASE_DIRECTORY"), std::string::npos);
  EXPECT_NE(ErrorOf("CREATE STORAGE s TYPE 'f' TYPE 'g' NAME 'n' BASE_DIRECTORY 'b'").find("twice"),
            std::string::npos);
  ErrorOf("CREATE STORAGE s TYPE f NAME 'n' BASE_DIRECTORY 'b'");
  auto alter = ParseAs<AlterStorage>("ALTER STORAGE s SET DESCRIPTION 'd'");
  ASSERT_TRUE(alter);
  EXPECT_EQ(alter->field, "description");
  EXPECT_EQ(alter->value, "d");
  auto drop = ParseAs<DropStorage>("DROP STORAGE IF EXISTS s");
  ASSERT_TRUE(drop);
  EXPECT_TRUE(drop->if_exists);
}

}  // namespace
}  // namespace kalam::sql
