// The SQL guard as a table: statements a user may run and statements refused, each with
// the code the client sees. The guard is the only thing between user SQL and an embedded
// engine that can read files, settings and its own catalog, so every refusal here is a
// way out that must stay closed.
#include "query/sql_guard.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "duckdb/parser/parser.hpp"

namespace kalam::query {
namespace {

catalog::TableDef Table(uint64_t num, const char* name, catalog::TableType type,
                        const char* access_level = "public") {
  catalog::TableDef def;
  def.table_num = num;
  def.ns = "app";
  def.name = name;
  def.type = type;
  def.access_level = access_level;
  catalog::TableSchema schema;
  catalog::ColumnDef id;
  id.id = 1;
  id.name = "id";
  id.type = ColumnType::kBigInt;
  id.primary_key = true;
  catalog::ColumnDef body;
  body.id = 2;
  body.name = "body";
  schema.columns = {id, body};
  def.schemas.push_back(schema);
  return def;
}

class SqlGuardTest : public ::testing::Test {
 protected:
  SqlGuardTest() {
    state_.namespaces["app"] = catalog::Namespace{"app", "{}", 0};
    for (auto def : {Table(1, "notes", catalog::TableType::kUser),
                     Table(2, "msgs", catalog::TableType::kShared),
                     Table(3, "secrets", catalog::TableType::kShared, "private"),
                     Table(4, "events", catalog::TableType::kStream)}) {
      state_.tables[def.id()] = def;
    }
  }

  // The guard's verdict on one statement, as the engine calls it (no cold store: hot rows).
  Status Guard(const std::string& sql, auth::Role role = auth::Role::kUser) {
    duckdb::Parser parser;
    parser.ParseQuery(sql);
    EXPECT_EQ(parser.statements.size(), 1u) << sql;
    const auth::Caller caller{"u1", "alice", role};
    const std::string default_namespace = "app";
    GuardContext context{state_, caller, default_namespace, nullptr, nullptr, {}};
    return GuardStatement(*parser.statements[0], context);
  }

  // The statement as the guard leaves it for the engine; "error: ..." when refused.
  std::string Rewritten(const std::string& sql) {
    duckdb::Parser parser;
    parser.ParseQuery(sql);
    const auth::Caller caller{"u1", "alice", auth::Role::kUser};
    const std::string default_namespace = "app";
    GuardContext context{state_, caller, default_namespace, nullptr, nullptr, {}};
    const Status s = GuardStatement(*parser.statements[0], context);
    return s.ok() ? parser.statements[0]->ToString() : "error: " + s.message();
  }

  catalog::CatalogState state_;
};

struct Verdict {
  const char* sql;
  Code code;
};

void ExpectVerdicts(const std::vector<Verdict>& verdicts,
                    const std::function<Status(const std::string&)>& guard) {
  for (const Verdict& v : verdicts) {
    Status s;
    try {
      s = guard(v.sql);
    } catch (const std::exception& e) {
      ADD_FAILURE() << v.sql << ": threw " << e.what();
      continue;
    }
    // Codes as numbers: gtest prints an enum class as bytes.
    EXPECT_EQ(static_cast<int>(s.code()), static_cast<int>(v.code))
        << v.sql << "\n  message: " << s.message();
  }
}

TEST_F(SqlGuardTest, QueriesOverTablesTheCallerMayReadAreAllowed) {
  ExpectVerdicts(
      {
          {"SELECT 1", Code::kOk},
          {"SELECT * FROM notes", Code::kOk},
          {"SELECT id FROM app.notes WHERE body LIKE 'a%' ORDER BY id LIMIT 3", Code::kOk},
          {"SELECT * FROM msgs AS m(a, b)", Code::kOk},
          {"SELECT * FROM events", Code::kOk},
          {"SELECT * FROM system.users", Code::kOk},
          {"SELECT * FROM system.tables t JOIN system.namespaces n ON t.namespace_id = n.name",
           Code::kOk},
          {"SELECT * FROM information_schema.columns", Code::kOk},
          {"SELECT n.id FROM notes n JOIN msgs m ON n.id = m.id LEFT JOIN events e USING (id)",
           Code::kOk},
          {"SELECT * FROM notes, msgs", Code::kOk},
          {"WITH x AS (SELECT * FROM notes) SELECT * FROM x", Code::kOk},
          {"WITH x AS (SELECT * FROM notes), y AS (SELECT * FROM x) SELECT * FROM y", Code::kOk},
          // A CTE named like a table the caller may read: the body reads the table.
          {"WITH notes AS (SELECT * FROM notes WHERE id > 1) SELECT * FROM notes", Code::kOk},
          {"WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 3) "
           "SELECT * FROM r",
           Code::kOk},
          {"SELECT * FROM (SELECT id FROM notes) s", Code::kOk},
          {"SELECT * FROM notes WHERE id IN (SELECT id FROM msgs)", Code::kOk},
          {"SELECT * FROM notes WHERE EXISTS (SELECT 1 FROM msgs WHERE msgs.id = notes.id)",
           Code::kOk},
          {"SELECT (SELECT count(*) FROM msgs) AS n", Code::kOk},
          {"SELECT id FROM notes UNION SELECT id FROM msgs EXCEPT SELECT 3", Code::kOk},
          {"SELECT body, count(*) FROM msgs GROUP BY body HAVING count(*) > 1", Code::kOk},
          {"SELECT * FROM range(3)", Code::kOk},
          {"SELECT * FROM generate_series(1, 3)", Code::kOk},
          {"SELECT * FROM (VALUES (1), (2)) v(x)", Code::kOk},
          {"SELECT current_user, user", Code::kOk},
          {"SELECT lower(body), length(body) FROM notes", Code::kOk},
      },
      [&](const std::string& sql) { return Guard(sql); });
}

TEST_F(SqlGuardTest, FilesSettingsCatalogAndSideEffectsAreRefused) {
  ExpectVerdicts(
      {
          // Files, through table functions or as a table name.
          {"SELECT * FROM read_csv('/etc/passwd')", Code::kPermissionDenied},
          {"SELECT * FROM read_csv_auto('/etc/passwd')", Code::kPermissionDenied},
          {"SELECT * FROM read_parquet('x.parquet')", Code::kPermissionDenied},
          {"SELECT * FROM read_json('x.json')", Code::kPermissionDenied},
          {"SELECT * FROM read_text('/etc/passwd')", Code::kPermissionDenied},
          {"SELECT * FROM parquet_metadata('x.parquet')", Code::kPermissionDenied},
          {"SELECT * FROM glob('/*')", Code::kPermissionDenied},
          {"SELECT * FROM main.read_csv('/etc/passwd')", Code::kPermissionDenied},
          {"SELECT * FROM '/etc/passwd'", Code::kPermissionDenied},
          {"SELECT * FROM 'data.csv'", Code::kPermissionDenied},
          {"SELECT * FROM \"/etc/passwd\"", Code::kPermissionDenied},
          {"SELECT * FROM notes WHERE id IN (SELECT 1 FROM read_csv('/etc/passwd'))",
           Code::kPermissionDenied},
          {"WITH x AS (SELECT * FROM read_parquet('x')) SELECT * FROM x", Code::kPermissionDenied},
          {"SELECT * FROM notes JOIN read_csv('f') r ON true", Code::kPermissionDenied},
          {"SELECT (SELECT count(*) FROM read_csv('f'))", Code::kPermissionDenied},
          // Any table function but the generators, and our own scans by name.
          {"SELECT * FROM duckdb_settings()", Code::kPermissionDenied},
          {"SELECT * FROM duckdb_tables()", Code::kPermissionDenied},
          {"SELECT * FROM pragma_database_list()", Code::kPermissionDenied},
          {"SELECT * FROM sqlite_master()", Code::kPermissionDenied},
          {"SELECT * FROM kalam_system_scan('system.users')", Code::kPermissionDenied},
          {"SELECT * FROM kalam_table_scan('app:secrets', false)", Code::kPermissionDenied},
          {"SELECT * FROM query('SELECT 1')", Code::kPermissionDenied},
          {"SELECT * FROM main.range(3)", Code::kPermissionDenied},
          // Scalar functions that read settings, the environment or run SQL.
          {"SELECT current_setting('threads')", Code::kPermissionDenied},
          {"SELECT getenv('HOME')", Code::kPermissionDenied},
          {"SELECT getvariable('x')", Code::kPermissionDenied},
          {"SELECT duckdb_settings()", Code::kPermissionDenied},
          {"SELECT * FROM notes WHERE body = current_setting('home_directory')",
           Code::kPermissionDenied},
          // The engine's own catalog: no such table in the caller's namespace, and none in
          // pg_catalog but ours.
          {"SELECT * FROM pg_indexes", Code::kNotFound},
          {"SELECT * FROM pg_catalog.pg_depend", Code::kNotFound},
          {"SELECT * FROM pg_catalog.duckdb_settings", Code::kNotFound},
          {"SELECT * FROM duckdb_tables", Code::kNotFound},
          {"SELECT * FROM sqlite_master", Code::kNotFound},
          {"SELECT * FROM main.sqlite_master", Code::kNotFound},
          {"SELECT * FROM memory.main.sqlite_master", Code::kInvalidSql},
          {"SELECT * FROM system.nope", Code::kNotFound},
          {"SELECT * FROM nope", Code::kNotFound},
          {"SELECT * FROM other.notes", Code::kNotFound},
          // Tables the caller may not read.
          {"SELECT * FROM secrets", Code::kPermissionDenied},
          {"SELECT * FROM system.storages", Code::kPermissionDenied},
          {"SELECT * FROM system.jobs", Code::kPermissionDenied},
          // Statements with effects outside a query.
          {"ATTACH 'x.db' AS x", Code::kPermissionDenied},
          {"DETACH x", Code::kPermissionDenied},
          {"COPY msgs TO '/tmp/out.csv'", Code::kPermissionDenied},
          {"COPY (SELECT 1) TO '/tmp/out.csv'", Code::kPermissionDenied},
          {"COPY msgs FROM '/etc/passwd'", Code::kPermissionDenied},
          {"SET threads = 1", Code::kPermissionDenied},
          {"SET VARIABLE x = 1", Code::kPermissionDenied},
          {"RESET threads", Code::kPermissionDenied},
          {"PRAGMA database_list", Code::kPermissionDenied},
          {"PRAGMA enable_profiling", Code::kPermissionDenied},
          {"INSTALL httpfs", Code::kPermissionDenied},
          {"LOAD httpfs", Code::kPermissionDenied},
          {"EXPORT DATABASE '/tmp/dump'", Code::kPermissionDenied},
          {"CALL duckdb_settings()", Code::kPermissionDenied},
          {"VACUUM", Code::kPermissionDenied},
          // Not queries at all: the engine runs these elsewhere, if at all.
          {"CREATE TABLE x (a INT)", Code::kInvalidSql},
          {"INSERT INTO notes VALUES (1, 'a')", Code::kInvalidSql},
          {"EXPLAIN SELECT 1", Code::kInvalidSql},
          {"SELECT * FROM notes AT (VERSION => 1)", Code::kInvalidSql},
          {"SELECT $1", Code::kInvalidParameter},
      },
      [&](const std::string& sql) { return Guard(sql); });
}

TEST_F(SqlGuardTest, RolesOpenTheirSystemTables) {
  EXPECT_TRUE(Guard("SELECT * FROM system.storages", auth::Role::kService).ok());
  EXPECT_TRUE(Guard("SELECT * FROM secrets", auth::Role::kService).ok());
  // No role opens a way to files.
  EXPECT_EQ(Guard("SELECT * FROM read_csv('/etc/passwd')", auth::Role::kSystem).code(),
            Code::kPermissionDenied);
  EXPECT_EQ(Guard("SELECT * FROM pg_indexes", auth::Role::kSystem).code(), Code::kNotFound);
}

// A CTE's body sees only the CTEs declared before it in the same WITH (and those of
// enclosing queries), never itself nor later ones; a recursive CTE's anchor does not see
// itself either. DuckDB resolves any other name in the body to its own catalog, so a CTE
// named like a built-in relation must not make the guard wave the body's reference through.
TEST_F(SqlGuardTest, ACteDoesNotHideTheRelationItsBodyReads) {
  ExpectVerdicts(
      {
          {"WITH pg_indexes AS (SELECT * FROM pg_indexes) SELECT * FROM pg_indexes",
           Code::kNotFound},
          {"WITH duckdb_tables AS (SELECT * FROM duckdb_tables) SELECT 1", Code::kNotFound},
          // Forward references: a later CTE's name is not visible in an earlier body.
          {"WITH a AS (SELECT * FROM sqlite_master), sqlite_master AS (SELECT 1) "
           "SELECT * FROM a",
           Code::kNotFound},
          {"WITH RECURSIVE a AS (SELECT * FROM pg_indexes), pg_indexes AS (SELECT 1) "
           "SELECT * FROM a",
           Code::kNotFound},
          // RECURSIVE without a self-reference in a UNION is an ordinary CTE.
          {"WITH RECURSIVE pg_indexes AS (SELECT * FROM pg_indexes) SELECT * FROM pg_indexes",
           Code::kNotFound},
          // The anchor of a recursive CTE reads the relation, not the CTE.
          {"WITH RECURSIVE pg_indexes AS (SELECT name FROM pg_indexes UNION ALL "
           "SELECT name FROM pg_indexes WHERE false) SELECT * FROM pg_indexes",
           Code::kNotFound},
          // A nested WITH that shadows an outer CTE: its body sees the outer one.
          {"WITH x AS (SELECT 1 AS v) SELECT * FROM (WITH x AS (SELECT * FROM x) SELECT * FROM x)",
           Code::kOk},
          {"WITH x AS (SELECT 1 AS v) SELECT (WITH pg_indexes AS (SELECT * FROM pg_indexes) "
           "SELECT 1)",
           Code::kNotFound},
          // Earlier CTEs are visible, so these stay allowed.
          {"WITH b AS (SELECT 2 AS v), a AS (SELECT * FROM b) SELECT * FROM a", Code::kOk},
          {"WITH RECURSIVE r AS (SELECT 1 AS n UNION ALL SELECT n + 1 FROM r WHERE n < "
           "(SELECT max(n) FROM r)) SELECT * FROM r",
           Code::kOk},
      },
      [&](const std::string& sql) { return Guard(sql); });
}

// pg_catalog comes first in every search path, as in Postgres: its relations are our scans,
// whatever the engine has under the same names, unless a CTE of the query takes the name.
TEST_F(SqlGuardTest, PgCatalogNamesResolveToOurRelations) {
  const std::string scan = "kalam_system_scan('pg_catalog.pg_settings')";
  for (const char* sql : {"SELECT * FROM pg_settings", "SELECT * FROM pg_catalog.pg_settings",
                          "SELECT * FROM PG_CATALOG.PG_SETTINGS",
                          "WITH x AS (SELECT * FROM pg_settings) SELECT * FROM x",
                          "WITH pg_settings AS (SELECT * FROM pg_settings) SELECT * FROM pg_settings",
                          "SELECT (SELECT count(*) FROM pg_settings)"}) {
    EXPECT_NE(Rewritten(sql).find(scan), std::string::npos) << sql << " -> " << Rewritten(sql);
  }
  const std::string cte = Rewritten("WITH pg_class AS (SELECT 1 AS oid) SELECT * FROM pg_class");
  EXPECT_EQ(cte.find("kalam_system_scan"), std::string::npos) << cte;
  EXPECT_NE(Rewritten("SELECT * FROM pg_class").find("kalam_system_scan('pg_catalog.pg_class')"),
            std::string::npos);
  // A user table of the same name is behind pg_catalog's, as in Postgres; qualified, it is
  // reached.
  catalog::TableDef shadowed = Table(5, "pg_type", catalog::TableType::kShared);
  state_.tables[shadowed.id()] = shadowed;
  EXPECT_NE(Rewritten("SELECT * FROM pg_type").find("pg_catalog.pg_type"), std::string::npos);
  EXPECT_NE(Rewritten("SELECT * FROM app.pg_type").find("kalam_table_scan('app:pg_type'"),
            std::string::npos);
}

// pg_catalog's functions: an allow-list, each rewritten to what answers it here.
TEST_F(SqlGuardTest, PgCatalogFunctionsAreAnAllowList) {
  ExpectVerdicts(
      {
          {"SELECT pg_catalog.format_type(23, -1)", Code::kOk},
          {"SELECT format_type(23, -1)", Code::kOk},
          {"SELECT pg_catalog.pg_get_userbyid(10), pg_catalog.pg_table_is_visible(16388)", Code::kOk},
          {"SELECT pg_catalog.array_to_string([1], ',')", Code::kOk},
          {"SELECT * FROM pg_catalog.generate_series(1, 3) s", Code::kOk},
          {"SELECT current_schema(), current_schemas(true), current_database(), version()", Code::kOk},
          // Not on the list, or the engine's own catalog.
          {"SELECT pg_catalog.pg_get_viewdef(1)", Code::kPermissionDenied},
          {"SELECT pg_catalog.pg_get_keywords()", Code::kInvalidSql},
          {"SELECT pg_catalog.current_setting('threads')", Code::kPermissionDenied},
          {"SELECT pg_get_viewdef(1)", Code::kPermissionDenied},
          {"SELECT format_pg_type('INTEGER', 'x')", Code::kPermissionDenied},
          {"SELECT pg_catalog.duckdb_settings()", Code::kPermissionDenied},
          // Our functions are for the rewrites only.
          {"SELECT kalam_pg_format_type(23, -1)", Code::kPermissionDenied},
          {"SELECT kalam_pg_get_userbyid(10)", Code::kPermissionDenied},
          {"SELECT * FROM pg_catalog.read_csv('/etc/passwd')", Code::kPermissionDenied},
      },
      [&](const std::string& sql) { return Guard(sql); });
  EXPECT_NE(Rewritten("SELECT pg_catalog.format_type(23, -1)").find("kalam_pg_format_type(23"),
            std::string::npos);
  EXPECT_NE(Rewritten("SELECT current_schema()").find("'app'"), std::string::npos);
  EXPECT_NE(Rewritten("SELECT current_schemas(false)").find("['app']"), std::string::npos)
      << Rewritten("SELECT current_schemas(false)");
  EXPECT_NE(Rewritten("SELECT * FROM generate_series(1, 3) s").find("s(s)"), std::string::npos)
      << Rewritten("SELECT * FROM generate_series(1, 3) s");
}

}  // namespace
}  // namespace kalam::query
