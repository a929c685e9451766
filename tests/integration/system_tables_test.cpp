// Every system table answers any SELECT through the one query path, over both
// SQL routes: WHERE, ORDER BY, LIMIT, JOIN, GROUP BY, subqueries.
#include <gtest/gtest.h>

#include "server_process.h"

namespace kalam::testing {
namespace {

namespace json = boost::json;

const std::vector<std::pair<std::string, std::vector<std::string>>>& Tables() {
  static const std::vector<std::pair<std::string, std::vector<std::string>>> tables = {
      {"system.users",
       {"user_id", "username", "role", "email", "auth_type", "created_at", "updated_at",
        "last_seen", "deleted_at"}},
      {"system.namespaces", {"namespace_id", "name", "options", "table_count", "created_at"}},
      {"system.tables",
       {"table_id", "namespace_id", "table_name", "table_type", "storage_id", "flush_policy",
        "ttl_seconds", "access_level", "schema_version", "deleted_retention_hours", "created_at"}},
      {"system.table_schemas",
       {"schema_id", "table_id", "namespace_id", "table_name", "version", "columns", "changes",
        "created_at"}},
      {"system.storages",
       {"storage_id", "storage_name", "description", "storage_type", "base_directory",
        "shared_tables_template", "user_tables_template", "created_at", "updated_at"}},
      {"system.storage_locations",
       {"location_name", "location_type", "path", "credentials_ref", "usage_count", "created_at",
        "updated_at"}},
      {"system.jobs",
       {"job_id", "job_type", "status", "namespace_id", "table_name", "parameters", "result",
        "error_message", "created_at", "started_at", "completed_at", "node_id"}},
      {"system.live_queries",
       {"live_id", "connection_id", "subscription_id", "namespace_id", "table_name", "user_id",
        "query", "options", "created_at", "last_update", "changes", "node"}},
      {"system.topics", {"topic_id", "partitions", "sources", "message_count", "created_at"}},
      {"system.topic_offsets",
       {"topic_id", "group_id", "partition_id", "committed_offset", "reserved_until", "updated_at"}},
      {"information_schema.tables", {"table_catalog", "table_schema", "table_name", "table_type"}},
      {"information_schema.columns",
       {"table_catalog", "table_schema", "table_name", "column_name", "ordinal_position",
        "data_type", "is_nullable", "column_default"}},
  };
  return tables;
}

class SystemTables : public ServerTest, public ::testing::WithParamInterface<std::string> {
 protected:
  static void SetUpTestSuite() {
    ServerTest::SetUpTestSuite();
    auto http = server_->Client();
    for (const char* ns : {"alpha", "beta", "gamma"}) {
      Sql(http, RootAuth(), std::string("CREATE NAMESPACE ") + ns);
    }
    for (const char* user : {"ann", "ben"}) {
      Sql(http, RootAuth(),
          std::string("CREATE USER '") + user + "' WITH PASSWORD 'password-1' ROLE user");
    }
  }
  SqlResponse Run(const std::string& sql) { return Sql(http_, RootAuth(), sql, "", GetParam()); }
};

TEST_P(SystemTables, EveryTableHasItsColumnsAndAnswersEveryClause) {
  for (const auto& [table, columns] : Tables()) {
    auto all = Run("SELECT * FROM " + table);
    ASSERT_EQ(all.status, 200) << table << json::serialize(all.body);
    const auto& schema = all.result(0).at("schema").as_array();
    ASSERT_EQ(schema.size(), columns.size()) << table;
    for (size_t i = 0; i < columns.size(); ++i) {
      EXPECT_EQ(schema[i].at("name").as_string(), columns[i]) << table;
    }
    const std::string first = columns[0];
    for (const std::string& clause :
         {"SELECT " + first + " FROM " + table + " WHERE " + first + " IS NOT NULL",
          "SELECT * FROM " + table + " ORDER BY " + first + " DESC LIMIT 2",
          "SELECT count(*), min(" + first + ") FROM " + table,
          "SELECT " + first + ", count(*) FROM " + table + " GROUP BY " + first,
          "SELECT t." + first + " FROM " + table + " t JOIN system.namespaces n ON n.name = 'default'",
          "SELECT * FROM " + table + " WHERE " + first + " IN (SELECT " + first + " FROM " + table + ")",
          "WITH c AS (SELECT * FROM " + table + ") SELECT count(*) FROM c"}) {
      auto r = Run(clause);
      EXPECT_EQ(r.status, 200) << clause << json::serialize(r.body);
    }
  }
}

TEST_P(SystemTables, RowsAreReal) {
  auto ns = Run("SELECT name FROM system.namespaces WHERE name <> 'default' ORDER BY name DESC LIMIT 2");
  EXPECT_EQ(json::serialize(ns.rows()), R"([["gamma"],["beta"]])");

  auto users = Run("SELECT role, count(*) AS n FROM system.users GROUP BY role ORDER BY role");
  EXPECT_EQ(json::serialize(users.rows()), R"([["system",1],["user",2]])");

  auto join = Run(
      "SELECT u.username, n.name FROM system.users u JOIN system.namespaces n "
      "ON n.name = 'alpha' WHERE u.username IN ('ann', 'ben') ORDER BY u.username");
  EXPECT_EQ(json::serialize(join.rows()), R"([["ann","alpha"],["ben","alpha"]])");

  auto storage = Run("SELECT storage_id, storage_type FROM system.storages");
  EXPECT_EQ(json::serialize(storage.rows()), R"([["local","filesystem"]])");
  auto location = Run("SELECT location_name, path LIKE '%/storage' FROM system.storage_locations");
  EXPECT_EQ(json::serialize(location.rows()), R"([["local",true]])");
  auto shown = Run("SHOW STORAGES");
  EXPECT_EQ(shown.rows().size(), 1u);

  auto scalar = Run(
      "SELECT (SELECT count(*) FROM system.namespaces) + (SELECT count(*) FROM system.users)");
  EXPECT_EQ(json::serialize(scalar.rows()), "[[7]]");

  auto columns = Run(
      "SELECT column_name, data_type FROM information_schema.columns "
      "WHERE table_schema = 'system' AND table_name = 'users' AND ordinal_position <= 2 "
      "ORDER BY ordinal_position");
  EXPECT_EQ(json::serialize(columns.rows()), R"([["user_id","Text"],["username","Text"]])");
  auto count = Run("SELECT count(*) FROM information_schema.tables WHERE table_schema = 'system'");
  EXPECT_EQ(json::serialize(count.rows()), "[[14]]");

  auto empty = Run("SELECT count(*) FROM system.jobs");
  EXPECT_EQ(json::serialize(empty.rows()), "[[0]]");
}

TEST_P(SystemTables, UnknownSystemTableIsNotFound) {
  auto r = Run("SELECT * FROM system.nothing");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.error_code(), "NOT_FOUND");
}

TEST_P(SystemTables, SystemTablesAreReadOnly) {
  for (const char* sql : {"INSERT INTO system.users (user_id) VALUES ('x')",
                          "UPDATE system.users SET role = 'system'",
                          "DELETE FROM system.namespaces"}) {
    auto r = Run(sql);
    EXPECT_EQ(r.status / 100, 4) << sql;
  }
  auto count = Run("SELECT count(*) FROM system.namespaces");
  EXPECT_EQ(json::serialize(count.rows()), "[[4]]");
}

INSTANTIATE_TEST_SUITE_P(BothRoutes, SystemTables,
                         ::testing::Values("/v1/api/sql", "/api/sql"),
                         [](const auto& info) { return info.index == 0 ? "v1" : "legacy"; });

// The catalog is metadata, the same for every signed-in caller; a table's rows are not.
class Catalog : public ServerTest {};

TEST_F(Catalog, EveryCallerSeesTheSameTablesButNotTheSameRows) {
  ASSERT_EQ(Root("CREATE USER 'u1' WITH PASSWORD 'password-123' ROLE user").status, 200);
  ASSERT_EQ(Root("CREATE NAMESPACE app; "
                 "CREATE USER TABLE app.notes (id BIGINT PRIMARY KEY, body TEXT); "
                 "CREATE SHARED TABLE app.ledger (id BIGINT PRIMARY KEY, amount INT NOT NULL, "
                 "memo TEXT DEFAULT 'none'); "
                 "INSERT INTO app.ledger VALUES (1, 10, 'root only')").status, 200);
  const std::string u1 = client::BasicAuth("u1", "password-123");
  auto rows = [&](const std::string& auth, const std::string& sql) {
    auto r = Sql(http_, auth, sql);
    EXPECT_EQ(r.status, 200) << sql << ": " << json::serialize(r.body);
    return r.status == 200 ? json::serialize(r.rows()) : json::serialize(r.body);
  };
  // The tables each part of the catalog lists, as [["ns.table"], ...].
  const std::vector<std::pair<std::string, std::string>> lists = {
      {"system.tables", "SELECT namespace_id || '.' || table_name FROM system.tables ORDER BY 1"},
      {"system.table_schemas",
       "SELECT DISTINCT namespace_id || '.' || table_name FROM system.table_schemas ORDER BY 1"},
      {"information_schema.tables",
       "SELECT table_schema || '.' || table_name FROM information_schema.tables "
       "WHERE table_type = 'BASE TABLE' ORDER BY 1"},
      {"information_schema.columns",
       "SELECT DISTINCT table_schema || '.' || table_name FROM information_schema.columns "
       "WHERE table_schema NOT IN ('system', 'information_schema', 'pg_catalog') ORDER BY 1"},
      {"pg_catalog.pg_class",
       "SELECT n.nspname || '.' || c.relname FROM pg_class c JOIN pg_namespace n "
       "ON n.oid = c.relnamespace WHERE c.relkind = 'r' AND "
       "n.nspname NOT IN ('system', 'information_schema', 'pg_catalog') ORDER BY 1"},
  };
  const std::string created = R"([["app.ledger"],["app.notes"]])";
  for (const auto& [view, sql] : lists) {
    EXPECT_EQ(rows(u1, sql), created) << view << " as a user";
    EXPECT_EQ(rows(RootAuth(), sql), created) << view << " as root";
  }
  // System tables are listed alike too, though a user may read only some of them.
  const std::string everything =
      "SELECT table_schema, table_name, table_type FROM information_schema.tables ORDER BY ALL";
  EXPECT_EQ(rows(u1, everything), rows(RootAuth(), everything));

  // DESCRIBE and information_schema.columns agree, for a user as for root.
  for (const char* table : {"notes", "ledger"}) {
    const std::string describe = std::string("DESCRIBE TABLE app.") + table;
    const std::string columns =
        std::string("SELECT column_name, data_type, is_nullable, column_default "
                    "FROM information_schema.columns WHERE table_schema = 'app' AND "
                    "table_name = '") + table + "' ORDER BY ordinal_position";
    EXPECT_EQ(rows(u1, describe), rows(RootAuth(), describe)) << table;
    EXPECT_EQ(rows(u1, columns), rows(RootAuth(), columns)) << table;
    const auto by_describe = Sql(http_, u1, describe);
    const auto by_schema = Sql(http_, u1, columns);
    ASSERT_EQ(by_describe.status, 200) << json::serialize(by_describe.body);
    ASSERT_EQ(by_schema.status, 200) << json::serialize(by_schema.body);
    json::array names, from_schema;
    for (const auto& row : by_describe.rows()) names.push_back(row.at(0));
    for (const auto& row : by_schema.rows()) from_schema.push_back(row.at(0));
    EXPECT_EQ(names, from_schema) << table;
    EXPECT_FALSE(names.empty()) << table;
  }

  // The data is another matter: the private SHARED table's rows stay closed to a user.
  auto refused = Sql(http_, u1, "SELECT * FROM app.ledger");
  EXPECT_EQ(refused.status, 403);
  EXPECT_EQ(refused.error_code(), "PERMISSION_DENIED");
  EXPECT_EQ(Sql(http_, u1, "SELECT count(*) FROM app.ledger").error_code(), "PERMISSION_DENIED");
  EXPECT_EQ(rows(u1, "SELECT count(*) FROM app.notes"), "[[0]]");  // its own rows: none yet
  EXPECT_EQ(rows(RootAuth(), "SELECT memo FROM app.ledger"), R"([["root only"]])");
}

}  // namespace
}  // namespace kalam::testing

namespace kalam::testing {
namespace {

TEST_F(Catalog, ServerLogsShowRecentLinesToOperatorsOnly) {
  ASSERT_EQ(Root("CREATE USER 'logreader' WITH PASSWORD 'password-123' ROLE user").status, 200);
  auto r = Root("SELECT level, message FROM system.server_logs WHERE message LIKE '%listening on%'");
  ASSERT_EQ(r.status, 200) << json::serialize(r.body);
  ASSERT_GE(r.rows().size(), 1u) << json::serialize(r.body);
  EXPECT_EQ(json::serialize(r.rows().at(0).as_array().at(0)), "\"info\"");
  auto refused = Sql(http_, client::BasicAuth("logreader", "password-123"), "SELECT * FROM system.server_logs");
  EXPECT_EQ(refused.error_code(), "PERMISSION_DENIED") << json::serialize(refused.body);
}

}  // namespace
}  // namespace kalam::testing
