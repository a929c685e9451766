// The table statements: CREATE / DROP / ALTER TABLE, SHOW TABLES,
// DESCRIBE TABLE and SHOW STATS.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <tuple>

#include "sql/kalam_statement.h"
#include "statement_test_helpers.h"

namespace kalam::sql {
namespace {

using testing::ErrorOf;
using testing::IsForTheEngine;
using testing::ParseAs;

// The one column of CREATE TABLE t (<column>).
std::optional<ColumnSpec> ColumnOf(const std::string& column) {
  const std::optional<CreateTable> create = ParseAs<CreateTable>("CREATE TABLE t (" + column + ")");
  if (!create) return std::nullopt;
  EXPECT_EQ(create->columns.size(), 1u) << column;
  return create->columns.at(0);
}

std::optional<CreateTable> Options(const std::string& options) {
  return ParseAs<CreateTable>("CREATE TABLE t (a INT) " + options);
}

// ---- which statements are these ---------------------------------------------------------

TEST(TableStatement, LeadingKeywordsPickTheStatement) {
  EXPECT_TRUE(ParseAs<CreateTable>("CREATE TABLE t (a INT)"));
  EXPECT_TRUE(ParseAs<CreateTable>("create /* x */ table t (a int);"));
  EXPECT_TRUE(ParseAs<DropTable>("DROP TABLE t"));
  EXPECT_TRUE(ParseAs<AlterTable>("ALTER TABLE t ADD b INT"));
  EXPECT_TRUE(ParseAs<ShowTables>("SHOW TABLES"));
  EXPECT_TRUE(ParseAs<DescribeTable>("DESCRIBE TABLE t"));
  EXPECT_TRUE(ParseAs<ShowStats>("SHOW STATS FOR TABLE t"));
}

TEST(TableStatement, CreateUserTableIsNotCreateUser) {
  std::optional<CreateTable> table = ParseAs<CreateTable>("CREATE USER TABLE t (a INT)");
  ASSERT_TRUE(table);
  EXPECT_EQ(table->kind, "user");

  table = ParseAs<CreateTable>("CREATE USER TABLE IF NOT EXISTS t (a INT)");
  ASSERT_TRUE(table);
  EXPECT_TRUE(table->if_not_exists);

  std::optional<CreateUser> user =
      ParseAs<CreateUser>("CREATE USER 'x' WITH PASSWORD 'p' ROLE user");
  ASSERT_TRUE(user);
  EXPECT_EQ(user->username, "x");
  // A user named table.
  user = ParseAs<CreateUser>("CREATE USER table WITH PASSWORD 'p' ROLE user");
  ASSERT_TRUE(user);
  EXPECT_EQ(user->username, "table");
  user = ParseAs<CreateUser>("CREATE USER Table PASSWORD 'p' ROLE user");
  ASSERT_TRUE(user);
  EXPECT_EQ(user->username, "table");

  std::optional<DropTable> drop = ParseAs<DropTable>("DROP USER TABLE t");
  ASSERT_TRUE(drop);
  EXPECT_EQ(drop->table.name, "t");
  std::optional<DropUser> drop_user = ParseAs<DropUser>("DROP USER table;");
  ASSERT_TRUE(drop_user);
  EXPECT_EQ(drop_user->username, "table");
  drop_user = ParseAs<DropUser>("DROP USER 'bob'");
  ASSERT_TRUE(drop_user);
  EXPECT_EQ(drop_user->username, "bob");
}

TEST(TableStatement, QueriesBelongToTheEngine) {
  for (const char* sql : {"SELECT * FROM t",
                          "INSERT INTO t VALUES (1)",
                          "UPDATE t SET a = 1",
                          "DELETE FROM t",
                          "DESCRIBE SELECT * FROM t",
                          "describe select 1",
                          "DESCRIBE (SELECT 1)",
                          "DESC SELECT 1",
                          "DESCRIBE WITH x AS (SELECT 1) SELECT * FROM x",
                          "DESCRIBE FROM t",
                          "DESCRIBE VALUES (1)",
                          "DESCRIBE",
                          "DESCRIBE;",
                          "DESCRIBE 'data.csv'",
                          "CREATE TEMP TABLE t (a INT)",
                          "CREATE OR REPLACE TABLE t (a INT)",
                          "SHOW ALL TABLES",
                          "SHOW t",
                          "DROP VIEW v",
                          "ALTER VIEW v RENAME TO w",
                          "CREATE INDEX i ON t (a)"}) {
    EXPECT_TRUE(IsForTheEngine(sql)) << sql;
  }
}

// ---- CREATE TABLE ------------------------------------------------------------------------

TEST(CreateTable, NamesColumnsAndKind) {
  std::optional<CreateTable> create = ParseAs<CreateTable>(
      "CREATE SHARED TABLE IF NOT EXISTS App.Messages (Id BIGINT PRIMARY KEY, \"Body\" TEXT NOT "
      "NULL, sent_at TIMESTAMP NULL);");
  ASSERT_TRUE(create);
  EXPECT_EQ(create->table.ns, "app");
  EXPECT_EQ(create->table.name, "messages");
  EXPECT_TRUE(create->if_not_exists);
  EXPECT_EQ(create->kind, "shared");
  ASSERT_EQ(create->columns.size(), 3u);
  EXPECT_EQ(create->columns[0].name, "id");
  EXPECT_EQ(create->columns[0].type, "BIGINT");
  EXPECT_TRUE(create->columns[0].primary_key);
  EXPECT_TRUE(create->columns[0].not_null);  // a primary key is NOT NULL
  EXPECT_EQ(create->columns[1].name, "Body");
  EXPECT_TRUE(create->columns[1].not_null);
  EXPECT_FALSE(create->columns[1].primary_key);
  EXPECT_EQ(create->columns[2].name, "sent_at");
  EXPECT_FALSE(create->columns[2].not_null);
  EXPECT_EQ(create->columns[2].default_expr, std::nullopt);
  // Nothing but what was written: no implicit id, no options.
  EXPECT_EQ(create->storage_id, std::nullopt);
  EXPECT_EQ(create->flush_rows, std::nullopt);
  EXPECT_EQ(create->ttl_seconds, std::nullopt);

  create = ParseAs<CreateTable>("CREATE TABLE \"My\"\"Ns\".\"T\" (a INT)");
  ASSERT_TRUE(create);
  EXPECT_EQ(create->table.ns, "My\"Ns");
  EXPECT_EQ(create->table.name, "T");
  EXPECT_EQ(create->kind, std::nullopt);
  EXPECT_FALSE(create->if_not_exists);
  ASSERT_EQ(create->columns.size(), 1u);
  EXPECT_FALSE(create->columns[0].primary_key);

  create = ParseAs<CreateTable>("create stream table Events (e JSON)");
  ASSERT_TRUE(create);
  EXPECT_EQ(create->table.ns, "");
  EXPECT_EQ(create->table.name, "events");
  EXPECT_EQ(create->kind, "stream");
}

TEST(CreateTable, TypesAndAliases) {
  const std::pair<const char*, const char*> cases[] = {
      {"BOOLEAN", "BOOLEAN"},
      {"bool", "BOOLEAN"},
      {"SMALLINT", "SMALLINT"},
      {"int2", "SMALLINT"},
      {"INT", "INT"},
      {"Integer", "INT"},
      {"INT4", "INT"},
      {"BIGINT", "BIGINT"},
      {"int8", "BIGINT"},
      {"FLOAT", "FLOAT"},
      {"REAL", "FLOAT"},
      {"FLOAT4", "FLOAT"},
      {"DOUBLE", "DOUBLE"},
      {"double precision", "DOUBLE"},
      {"FLOAT8", "DOUBLE"},
      {"TEXT", "TEXT"},
      {"VARCHAR", "TEXT"},
      {"varchar(255)", "TEXT"},
      {"STRING", "TEXT"},
      {"CHAR(3)", "TEXT"},
      {"BYTES", "BYTES"},
      {"BYTEA", "BYTES"},
      {"blob", "BYTES"},
      {"BINARY", "BYTES"},
      {"JSON", "JSON"},
      {"TIMESTAMP", "TIMESTAMP"},
      {"DateTime", "TIMESTAMP"},
      {"DATE", "DATE"},
      {"TIME", "TIME"},
      {"uuid", "UUID"},
  };
  for (const auto& [written, canonical] : cases) {
    const std::optional<ColumnSpec> column = ColumnOf(std::string("c ") + written);
    ASSERT_TRUE(column) << written;
    EXPECT_EQ(column->type, canonical) << written;
    EXPECT_EQ(column->precision, 0) << written;
  }
}

TEST(CreateTable, Decimal) {
  const std::tuple<const char*, int, int> cases[] = {
      {"DECIMAL", 18, 3},       {"numeric", 18, 3},
      {"DECIMAL(10,2)", 10, 2}, {"NUMERIC ( 38 , 38 )", 38, 38},
      {"DECIMAL(5)", 5, 0},     {"decimal(1,0)", 1, 0},
  };
  for (const auto& [written, precision, scale] : cases) {
    const std::optional<ColumnSpec> column = ColumnOf(std::string("price ") + written);
    ASSERT_TRUE(column) << written;
    EXPECT_EQ(column->type, "DECIMAL") << written;
    EXPECT_EQ(column->precision, precision) << written;
    EXPECT_EQ(column->scale, scale) << written;
  }
  EXPECT_EQ(ErrorOf("CREATE TABLE t (price DECIMAL(39,2))"),
            "Invalid DECIMAL(39,2) for column 'price': the precision must be 1 to 38 and the "
            "scale 0 to the precision");
  EXPECT_EQ(ErrorOf("CREATE TABLE t (price NUMERIC(0))"),
            "Invalid NUMERIC(0,0) for column 'price': the precision must be 1 to 38 and the "
            "scale 0 to the precision");
  EXPECT_EQ(ErrorOf("CREATE TABLE t (price DECIMAL(4,5))"),
            "Invalid DECIMAL(4,5) for column 'price': the precision must be 1 to 38 and the "
            "scale 0 to the precision");
  EXPECT_EQ(ErrorOf("CREATE TABLE t (price DECIMAL(10,-1))"),
            "Expected a non-negative integer as the scale for column 'price' in CREATE TABLE, "
            "found '-'");
  EXPECT_EQ(ErrorOf("CREATE TABLE t (price DECIMAL(1.5))"),
            "Expected a non-negative integer as the precision for column 'price' in CREATE "
            "TABLE, found '1.5'");
  EXPECT_EQ(ErrorOf("CREATE TABLE t (price DECIMAL(10,2,1))"),
            "Expected ')' after DECIMAL's precision for column 'price' in CREATE TABLE, found "
            "','");
}

TEST(CreateTable, TypeErrors) {
  EXPECT_EQ(ErrorOf("CREATE TABLE t (price MONEY)"), "Unknown type 'MONEY' for column 'price'");
  EXPECT_EQ(ErrorOf("CREATE TABLE t (price money NOT NULL)"),
            "Unknown type 'money' for column 'price'");
  EXPECT_EQ(ErrorOf("CREATE TABLE t (at TIMESTAMPTZ)"),
            "Unknown type 'TIMESTAMPTZ' for column 'at'");
  EXPECT_EQ(ErrorOf("CREATE TABLE t (a)"),
            "Expected a type for column 'a' in CREATE TABLE, found ')'");
  EXPECT_EQ(ErrorOf("CREATE TABLE t (a 'INT')"),
            "Expected a type for column 'a' in CREATE TABLE, found a string literal");
  EXPECT_EQ(ErrorOf("CREATE TABLE t (name VARCHAR(0))"),
            "Expected a positive integer as the length of VARCHAR for column 'name' in CREATE "
            "TABLE, found '0'");
  EXPECT_EQ(ErrorOf("CREATE TABLE t (name CHAR(3)"),
            "Expected ',' or ')' after column 'name' in CREATE TABLE, found the end of the "
            "statement");
  EXPECT_EQ(ErrorOf("CREATE TABLE t (n INT(11))"),
            "Expected ',' or ')' after column 'n' in CREATE TABLE, found '('");
  EXPECT_EQ(ErrorOf("CREATE TABLE t (n TEXT UNIQUE)"),
            "Expected ',' or ')' after column 'n' in CREATE TABLE, found 'UNIQUE'");
}

TEST(CreateTable, Defaults) {
  const std::pair<const char*, const char*> cases[] = {
      {"DEFAULT NOW()", "NOW()"},
      {"DEFAULT now ( )", "NOW()"},
      {"DEFAULT CURRENT_TIMESTAMP", "NOW()"},
      {"DEFAULT current_timestamp()", "NOW()"},
      {"DEFAULT SNOWFLAKE_ID()", "SNOWFLAKE_ID()"},
      {"DEFAULT snowflake_id()", "SNOWFLAKE_ID()"},
      {"AUTO_INCREMENT", "SNOWFLAKE_ID()"},
      {"auto_increment", "SNOWFLAKE_ID()"},
      {"DEFAULT Uuid_V7()", "UUID_V7()"},
      {"DEFAULT ulid()", "ULID()"},
      {"DEFAULT CURRENT_USER()", "CURRENT_USER()"},
      {"DEFAULT 'it''s'", "'it''s'"},
      {"DEFAULT E'a\\'b'", "'a''b'"},
      {"DEFAULT ''", "''"},
      {"DEFAULT 42", "42"},
      {"DEFAULT -1.5", "-1.5"},
      {"DEFAULT +7", "7"},
      {"DEFAULT 1e3", "1e3"},
      {"DEFAULT .5", ".5"},
      {"DEFAULT true", "TRUE"},
      {"DEFAULT False", "FALSE"},
      {"DEFAULT null", "NULL"},
  };
  for (const auto& [written, canonical] : cases) {
    const std::optional<ColumnSpec> column = ColumnOf(std::string("c TEXT ") + written);
    ASSERT_TRUE(column) << written;
    EXPECT_EQ(column->default_expr, canonical) << written;
  }
}

TEST(CreateTable, ConstraintsInAnyOrder) {
  std::optional<ColumnSpec> column = ColumnOf("id BIGINT AUTO_INCREMENT PRIMARY KEY");
  ASSERT_TRUE(column);
  EXPECT_TRUE(column->primary_key);
  EXPECT_TRUE(column->not_null);
  EXPECT_EQ(column->default_expr, "SNOWFLAKE_ID()");

  column = ColumnOf("n INT DEFAULT 0 NOT NULL");
  ASSERT_TRUE(column);
  EXPECT_TRUE(column->not_null);
  EXPECT_FALSE(column->primary_key);
  EXPECT_EQ(column->default_expr, "0");

  column = ColumnOf("n INT PRIMARY KEY DEFAULT 1 NOT NULL");
  ASSERT_TRUE(column);
  EXPECT_TRUE(column->primary_key);
  EXPECT_EQ(column->default_expr, "1");

  column = ColumnOf("s TEXT NULL DEFAULT NULL");
  ASSERT_TRUE(column);
  EXPECT_FALSE(column->not_null);
  EXPECT_EQ(column->default_expr, "NULL");
}

TEST(CreateTable, DefaultErrorsNameTheColumn) {
  const std::string hint =
      ": use a literal, NOW(), CURRENT_TIMESTAMP, SNOWFLAKE_ID(), UUID_V7(), ULID() or "
      "CURRENT_USER()";
  EXPECT_EQ(ErrorOf("CREATE TABLE t (id UUID DEFAULT gen_random_uuid())"),
            "Unsupported DEFAULT for column 'id' in CREATE TABLE (at 'gen_random_uuid')" + hint);
  EXPECT_EQ(ErrorOf("CREATE TABLE t (n INT DEFAULT 1 + 2)"),
            "Unsupported DEFAULT for column 'n' in CREATE TABLE (at '+')" + hint);
  EXPECT_EQ(ErrorOf("CREATE TABLE t (at TIMESTAMP DEFAULT NOW() - INTERVAL 1 DAY)"),
            "Unsupported DEFAULT for column 'at' in CREATE TABLE (at '-')" + hint);
  EXPECT_EQ(ErrorOf("CREATE TABLE t (n INT DEFAULT (1))"),
            "Unsupported DEFAULT for column 'n' in CREATE TABLE (at '(')" + hint);
  EXPECT_EQ(ErrorOf("CREATE TABLE t (n INT DEFAULT 1::INT)"),
            "Unsupported DEFAULT for column 'n' in CREATE TABLE (at ':')" + hint);
  EXPECT_EQ(ErrorOf("CREATE TABLE t (at TIMESTAMP DEFAULT NOW)"),
            "Unsupported DEFAULT for column 'at' in CREATE TABLE (at 'NOW')" + hint);
  EXPECT_EQ(ErrorOf("CREATE TABLE t (u TEXT DEFAULT CURRENT_USER)"),
            "Unsupported DEFAULT for column 'u' in CREATE TABLE (at 'CURRENT_USER')" + hint);
  EXPECT_EQ(ErrorOf("CREATE TABLE t (at TIMESTAMP DEFAULT NOW(1))"),
            "Unsupported DEFAULT for column 'at' in CREATE TABLE (at 'NOW')" + hint);
  EXPECT_EQ(ErrorOf("CREATE TABLE t (s TEXT DEFAULT)"),
            "Unsupported DEFAULT for column 's' in CREATE TABLE (at ')')" + hint);
  EXPECT_EQ(ErrorOf("CREATE TABLE t (s TEXT DEFAULT 'a' || 'b')"),
            "Unsupported DEFAULT for column 's' in CREATE TABLE (at '|')" + hint);
  EXPECT_EQ(ErrorOf("CREATE TABLE t (s TEXT DEFAULT 'a' 'b')"),
            "Expected ',' or ')' after column 's' in CREATE TABLE, found a string literal");

  EXPECT_EQ(ErrorOf("CREATE TABLE t (id BIGINT DEFAULT 1 AUTO_INCREMENT)"),
            "Column 'id' has both DEFAULT and AUTO_INCREMENT (which means DEFAULT "
            "SNOWFLAKE_ID()) in CREATE TABLE");
  EXPECT_EQ(ErrorOf("CREATE TABLE t (id BIGINT AUTO_INCREMENT DEFAULT SNOWFLAKE_ID())"),
            "Column 'id' has both DEFAULT and AUTO_INCREMENT (which means DEFAULT "
            "SNOWFLAKE_ID()) in CREATE TABLE");
  EXPECT_EQ(ErrorOf("CREATE TABLE t (n INT DEFAULT 1 DEFAULT 2)"),
            "Column 'n' declares DEFAULT twice in CREATE TABLE");
  EXPECT_EQ(ErrorOf("CREATE TABLE t (n INT AUTO_INCREMENT AUTO_INCREMENT)"),
            "Column 'n' declares AUTO_INCREMENT twice in CREATE TABLE");
  EXPECT_EQ(ErrorOf("CREATE TABLE t (n INT NOT NULL NULL)"),
            "Column 'n' declares NULL or NOT NULL twice in CREATE TABLE");
  EXPECT_EQ(ErrorOf("CREATE TABLE t (n INT NOT 5)"),
            "Expected ',' or ')' after column 'n' in CREATE TABLE, found 'NOT'");
}

TEST(CreateTable, TableLevelPrimaryKey) {
  const std::optional<CreateTable> create =
      ParseAs<CreateTable>("CREATE TABLE t (a INT, Code TEXT, PRIMARY KEY (code))");
  ASSERT_TRUE(create);
  ASSERT_EQ(create->columns.size(), 2u);
  EXPECT_FALSE(create->columns[0].primary_key);
  EXPECT_TRUE(create->columns[1].primary_key);
  EXPECT_TRUE(create->columns[1].not_null);

  // Before the column it names, as PostgreSQL allows.
  const std::optional<CreateTable> first =
      ParseAs<CreateTable>("CREATE TABLE t (PRIMARY KEY (b), a INT, b INT)");
  ASSERT_TRUE(first);
  EXPECT_FALSE(first->columns[0].primary_key);
  EXPECT_TRUE(first->columns[1].primary_key);
}

TEST(CreateTable, PrimaryKeyErrors) {
  EXPECT_EQ(ErrorOf("CREATE TABLE t (a INT PRIMARY KEY, b INT PRIMARY KEY)"),
            "A table's primary key is one column, but CREATE TABLE names 'a' and 'b'");
  EXPECT_EQ(ErrorOf("CREATE TABLE t (a INT PRIMARY KEY, b INT, PRIMARY KEY (b))"),
            "A table's primary key is one column, but CREATE TABLE names 'a' and 'b'");
  EXPECT_EQ(ErrorOf("CREATE TABLE t (a INT, b INT, PRIMARY KEY (a, b))"),
            "A table's primary key is one column, but CREATE TABLE names 'a' and 'b'");
  EXPECT_EQ(ErrorOf("CREATE TABLE t (a INT, PRIMARY KEY (a), PRIMARY KEY (a))"),
            "PRIMARY KEY is given twice for column 'a' in CREATE TABLE");
  EXPECT_EQ(ErrorOf("CREATE TABLE t (a INT PRIMARY KEY, PRIMARY KEY (a))"),
            "PRIMARY KEY is given twice for column 'a' in CREATE TABLE");
  EXPECT_EQ(ErrorOf("CREATE TABLE t (a INT PRIMARY KEY PRIMARY KEY)"),
            "Column 'a' declares PRIMARY KEY twice in CREATE TABLE");
  EXPECT_EQ(ErrorOf("CREATE TABLE t (a INT, PRIMARY KEY (id))"),
            "PRIMARY KEY names column 'id', which CREATE TABLE does not declare");
  EXPECT_EQ(ErrorOf("CREATE TABLE t (a INT NULL PRIMARY KEY)"),
            "Column 'a' is the primary key and cannot be NULL in CREATE TABLE");
  EXPECT_EQ(ErrorOf("CREATE TABLE t (a INT NULL, PRIMARY KEY (a))"),
            "Column 'a' is the primary key and cannot be NULL in CREATE TABLE");
  EXPECT_EQ(ErrorOf("CREATE TABLE t (a INT, PRIMARY KEY a)"),
            "Expected '(' after PRIMARY KEY in CREATE TABLE, found 'a'");
  EXPECT_EQ(ErrorOf("CREATE TABLE t (a INT, PRIMARY KEY ())"),
            "Expected a column name after PRIMARY KEY ( in CREATE TABLE, found ')'");
}

TEST(CreateTable, ColumnListErrors) {
  EXPECT_EQ(ErrorOf("CREATE TABLE t ()"),
            "Expected a column definition after '(' in CREATE TABLE, found ')'");
  EXPECT_EQ(ErrorOf("CREATE TABLE t"),
            "Expected '(' after the table name in CREATE TABLE, found the end of the statement");
  EXPECT_EQ(ErrorOf("CREATE TABLE t AS SELECT 1"),
            "Expected '(' after the table name in CREATE TABLE, found 'AS'");
  EXPECT_EQ(ErrorOf("CREATE TABLE t (a INT,)"),
            "Expected a column definition after ',' in CREATE TABLE, found ')'");
  EXPECT_EQ(ErrorOf("CREATE TABLE t (a INT, A TEXT)"),
            "Column 'a' is declared twice in CREATE TABLE");
  EXPECT_EQ(ErrorOf("CREATE TABLE"),
            "Expected a table name after CREATE TABLE, found the end of the statement");
  EXPECT_EQ(ErrorOf("CREATE SHARED TABLE IF NOT EXISTS (a INT)"),
            "Expected a table name after IF NOT EXISTS in CREATE SHARED TABLE, found '('");
  EXPECT_EQ(ErrorOf("CREATE TABLE app. (a INT)"),
            "Expected a table name after 'app.' in CREATE TABLE, found '('");
  EXPECT_EQ(ErrorOf("CREATE TABLE a.b.c (a INT)"),
            "Expected '(' after the table name in CREATE TABLE, found '.'");
  EXPECT_EQ(ErrorOf("CREATE TABLE t (s TEXT DEFAULT 'x)"),
            "Unterminated string literal in CREATE TABLE");
}

// A quoted column name keeps its case, so "A" and a are two columns.
TEST(CreateTable, QuotedNamesAreDistinct) {
  const std::optional<CreateTable> create =
      ParseAs<CreateTable>("CREATE TABLE t (a INT, \"A\" INT)");
  ASSERT_TRUE(create);
  ASSERT_EQ(create->columns.size(), 2u);
  EXPECT_EQ(create->columns[1].name, "A");
}

TEST(CreateTable, WithOptions) {
  const std::optional<CreateTable> create = Options(
      "WITH (TYPE = 'User', storage_id = 'local', Flush_Policy = 'rows:1000,interval:60', "
      "TTL_SECONDS = 3600, ACCESS_LEVEL = 'PUBLIC', DELETED_RETENTION_HOURS = 0);");
  ASSERT_TRUE(create);
  EXPECT_EQ(create->kind, "user");
  EXPECT_EQ(create->storage_id, "local");
  EXPECT_EQ(create->flush_rows, 1000);
  EXPECT_EQ(create->flush_interval_secs, 60);
  EXPECT_EQ(create->ttl_seconds, 3600);
  EXPECT_EQ(create->access_level, "public");
  EXPECT_EQ(create->deleted_retention_hours, 0);

  std::optional<CreateTable> other = Options("WITH (type = 'stream', FLUSH_POLICY = 'rows:5')");
  ASSERT_TRUE(other);
  EXPECT_EQ(other->kind, "stream");
  EXPECT_EQ(other->flush_rows, 5);
  EXPECT_EQ(other->flush_interval_secs, std::nullopt);

  other = Options("WITH (FLUSH_POLICY = 'Interval: 30', ACCESS_LEVEL = 'private')");
  ASSERT_TRUE(other);
  EXPECT_EQ(other->flush_rows, std::nullopt);
  EXPECT_EQ(other->flush_interval_secs, 30);
  EXPECT_EQ(other->access_level, "private");
  EXPECT_EQ(other->kind, std::nullopt);

  other = Options("WITH (FLUSH_POLICY = 'interval:30,rows:7', TYPE = SHARED)");
  ASSERT_TRUE(other);
  EXPECT_EQ(other->flush_rows, 7);
  EXPECT_EQ(other->flush_interval_secs, 30);
  EXPECT_EQ(other->kind, "shared");
}

TEST(CreateTable, WithOptionErrors) {
  EXPECT_EQ(ErrorOf("CREATE TABLE t (a INT) WITH (COLOR = 'red')"),
            "Unknown option 'COLOR' in CREATE TABLE (the options are TYPE, STORAGE_ID, "
            "FLUSH_POLICY, TTL_SECONDS, ACCESS_LEVEL and DELETED_RETENTION_HOURS)");
  EXPECT_EQ(ErrorOf("CREATE TABLE t (a INT) WITH (TYPE = 'table')"),
            "Invalid table type 'table' in CREATE TABLE: expected USER, SHARED or STREAM");
  EXPECT_EQ(ErrorOf("CREATE TABLE t (a INT) WITH (ACCESS_LEVEL = 'everyone')"),
            "Invalid access level 'everyone' in CREATE TABLE: expected 'public' or 'private'");
  EXPECT_EQ(ErrorOf("CREATE TABLE t (a INT) WITH (TTL_SECONDS = 0)"),
            "Expected a positive integer for option 'ttl_seconds' in CREATE TABLE, found '0'");
  EXPECT_EQ(ErrorOf("CREATE TABLE t (a INT) WITH (TTL_SECONDS = -5)"),
            "Expected a positive integer for option 'ttl_seconds' in CREATE TABLE, found '-'");
  EXPECT_EQ(ErrorOf("CREATE TABLE t (a INT) WITH (TTL_SECONDS = 1.5)"),
            "Expected a positive integer for option 'ttl_seconds' in CREATE TABLE, found '1.5'");
  EXPECT_EQ(ErrorOf("CREATE TABLE t (a INT) WITH (TTL_SECONDS = 99999999999999999999)"),
            "Expected a positive integer for option 'ttl_seconds' in CREATE TABLE, found "
            "'99999999999999999999'");
  EXPECT_EQ(ErrorOf("CREATE TABLE t (a INT) WITH (DELETED_RETENTION_HOURS = -1)"),
            "Expected a non-negative integer for option 'deleted_retention_hours' in CREATE "
            "TABLE, found '-'");
  EXPECT_EQ(ErrorOf("CREATE TABLE t (a INT) WITH (FLUSH_POLICY = rows)"),
            "Expected the flush policy as a string literal for option 'flush_policy' in CREATE "
            "TABLE, found 'rows'");
  for (const char* policy : {"rows", "rows:0", "rows:x", "interval:-1", "rows:1,rows:2", "bytes:10",
                             "rows:1,", "", "rows:1;interval:2"}) {
    EXPECT_EQ(ErrorOf(fmt::format("CREATE TABLE t (a INT) WITH (FLUSH_POLICY = '{}')", policy)),
              fmt::format("Invalid FLUSH_POLICY '{}' in CREATE TABLE: expected 'rows:N', "
                          "'interval:S' or 'rows:N,interval:S' with N and S positive integers",
                          policy));
  }
  EXPECT_EQ(ErrorOf("CREATE TABLE t (a INT) WITH (TTL_SECONDS = 5, TTL_SECONDS = 6)"),
            "The TTL is given twice in CREATE TABLE");
  EXPECT_EQ(ErrorOf("CREATE TABLE t (a INT) WITH (TTL_SECONDS 5)"),
            "Expected '=' after option 'ttl_seconds' in CREATE TABLE, found '5'");
  EXPECT_EQ(ErrorOf("CREATE TABLE t (a INT) WITH (TTL_SECONDS = 5 STORAGE_ID = 'local')"),
            "Expected ',' or ')' after the value of option 'ttl_seconds' in CREATE TABLE, found "
            "'STORAGE_ID'");
  EXPECT_EQ(ErrorOf("CREATE TABLE t (a INT) WITH TTL_SECONDS = 5"),
            "Expected '(' after WITH in CREATE TABLE, found 'TTL_SECONDS'");
  EXPECT_EQ(ErrorOf("CREATE TABLE t (a INT) WITH ()"),
            "Expected an option name after '(' in CREATE TABLE, found ')'");
}

TEST(CreateTable, KindKeywordAndOptionMustAgree) {
  std::optional<CreateTable> create =
      ParseAs<CreateTable>("CREATE USER TABLE t (a INT) WITH (TYPE = 'user') TABLE_TYPE 'USER'");
  ASSERT_TRUE(create);
  EXPECT_EQ(create->kind, "user");

  EXPECT_EQ(ErrorOf("CREATE USER TABLE t (a INT) WITH (TYPE = 'SHARED')"),
            "The table type is given as USER and as SHARED in CREATE USER TABLE");
  EXPECT_EQ(ErrorOf("CREATE STREAM TABLE t (a INT) TABLE_TYPE 'user'"),
            "The table type is given as STREAM and as USER in CREATE STREAM TABLE");
  EXPECT_EQ(ErrorOf("CREATE TABLE t (a INT) WITH (TYPE = 'shared', TYPE = 'stream')"),
            "The table type is given as SHARED and as STREAM in CREATE TABLE");
}

TEST(CreateTable, InlineOptions) {
  std::optional<CreateTable> create = Options("FLUSH ROWS 100 FLUSH SECONDS 30");
  ASSERT_TRUE(create);
  EXPECT_EQ(create->flush_rows, 100);
  EXPECT_EQ(create->flush_interval_secs, 30);

  for (const char* interval :
       {"FLUSH INTERVAL 300s ROW_THRESHOLD 1000", "flush interval 300 row_threshold 1000",
        "FLUSH INTERVAL 300 S ROW_THRESHOLD 1000"}) {
    create = Options(interval);
    ASSERT_TRUE(create) << interval;
    EXPECT_EQ(create->flush_interval_secs, 300) << interval;
    EXPECT_EQ(create->flush_rows, 1000) << interval;
  }
  create = Options("FLUSH INTERVAL 60s");
  ASSERT_TRUE(create);
  EXPECT_EQ(create->flush_interval_secs, 60);
  EXPECT_EQ(create->flush_rows, std::nullopt);

  create = Options("TTL 60 SECONDS STORAGE local ACCESS LEVEL Public TABLE_TYPE 'SHARED';");
  ASSERT_TRUE(create);
  EXPECT_EQ(create->ttl_seconds, 60);
  EXPECT_EQ(create->storage_id, "local");
  EXPECT_EQ(create->access_level, "public");
  EXPECT_EQ(create->kind, "shared");

  create = Options("TTL 5 STORAGE 'S3-Main' ACCESS LEVEL 'private' TABLE_TYPE stream");
  ASSERT_TRUE(create);
  EXPECT_EQ(create->ttl_seconds, 5);
  EXPECT_EQ(create->storage_id, "S3-Main");
  EXPECT_EQ(create->access_level, "private");
  EXPECT_EQ(create->kind, "stream");

  // Inline options and WITH together.
  create = Options("WITH (STORAGE_ID = 'local') FLUSH ROWS 10");
  ASSERT_TRUE(create);
  EXPECT_EQ(create->storage_id, "local");
  EXPECT_EQ(create->flush_rows, 10);
}

TEST(CreateTable, InlineOptionErrors) {
  EXPECT_EQ(ErrorOf("CREATE TABLE t (a INT) COLOR red"),
            "Expected WITH, FLUSH, TTL, STORAGE, ACCESS LEVEL or TABLE_TYPE after the column "
            "list in CREATE TABLE, found 'COLOR'");
  EXPECT_EQ(ErrorOf("CREATE TABLE t (a INT) TTL 5 COLOR red"),
            "Expected WITH, FLUSH, TTL, STORAGE, ACCESS LEVEL or TABLE_TYPE after the TTL clause "
            "in CREATE TABLE, found 'COLOR'");
  EXPECT_EQ(ErrorOf("CREATE TABLE t (a INT) WITH (TTL_SECONDS = 5) COLOR red"),
            "Expected WITH, FLUSH, TTL, STORAGE, ACCESS LEVEL or TABLE_TYPE after WITH (...) in "
            "CREATE TABLE, found 'COLOR'");
  EXPECT_EQ(ErrorOf("CREATE TABLE t (a INT) FLUSH BYTES 5"),
            "Expected ROWS, SECONDS or INTERVAL after FLUSH in CREATE TABLE, found 'BYTES'");
  EXPECT_EQ(ErrorOf("CREATE TABLE t (a INT) FLUSH ROWS 0"),
            "Expected a positive integer after FLUSH ROWS in CREATE TABLE, found '0'");
  EXPECT_EQ(ErrorOf("CREATE TABLE t (a INT) FLUSH SECONDS -1"),
            "Expected a positive integer after FLUSH SECONDS in CREATE TABLE, found '-'");
  EXPECT_EQ(ErrorOf("CREATE TABLE t (a INT) FLUSH INTERVAL 5m"),
            "Expected WITH, FLUSH, TTL, STORAGE, ACCESS LEVEL or TABLE_TYPE after the FLUSH "
            "clause in CREATE TABLE, found 'm'");
  EXPECT_EQ(ErrorOf("CREATE TABLE t (a INT) FLUSH INTERVAL 5 ROW_THRESHOLD"),
            "Expected a positive integer after ROW_THRESHOLD in CREATE TABLE, found the end of "
            "the statement");
  EXPECT_EQ(ErrorOf("CREATE TABLE t (a INT) TTL"),
            "Expected a positive integer after TTL in CREATE TABLE, found the end of the "
            "statement");
  EXPECT_EQ(ErrorOf("CREATE TABLE t (a INT) STORAGE"),
            "Expected a storage id after STORAGE in CREATE TABLE, found the end of the "
            "statement");
  EXPECT_EQ(ErrorOf("CREATE TABLE t (a INT) ACCESS public"),
            "Expected LEVEL after ACCESS in CREATE TABLE, found 'public'");
  EXPECT_EQ(ErrorOf("CREATE TABLE t (a INT) ACCESS LEVEL open"),
            "Invalid access level 'open' in CREATE TABLE: expected 'public' or 'private'");
  EXPECT_EQ(ErrorOf("CREATE TABLE t (a INT) TABLE_TYPE 'view'"),
            "Invalid table type 'view' in CREATE TABLE: expected USER, SHARED or STREAM");
  // The same setting twice, in any two spellings.
  EXPECT_EQ(ErrorOf("CREATE TABLE t (a INT) WITH (FLUSH_POLICY = 'rows:5') FLUSH ROWS 6"),
            "The flush row threshold is given twice in CREATE TABLE");
  EXPECT_EQ(ErrorOf("CREATE TABLE t (a INT) FLUSH SECONDS 5 FLUSH INTERVAL 6"),
            "The flush interval is given twice in CREATE TABLE");
  EXPECT_EQ(ErrorOf("CREATE TABLE t (a INT) TTL 5 WITH (TTL_SECONDS = 5)"),
            "The TTL is given twice in CREATE TABLE");
  EXPECT_EQ(ErrorOf("CREATE TABLE t (a INT) STORAGE a STORAGE b"),
            "The storage is given twice in CREATE TABLE");
  EXPECT_EQ(ErrorOf("CREATE TABLE t (a INT) ACCESS LEVEL public WITH (ACCESS_LEVEL = 'public')"),
            "The access level is given twice in CREATE TABLE");
  EXPECT_EQ(ErrorOf("CREATE TABLE t (a INT) WITH (DELETED_RETENTION_HOURS = 1, "
                    "DELETED_RETENTION_HOURS = 1)"),
            "The deleted retention is given twice in CREATE TABLE");
}

// ---- DROP TABLE --------------------------------------------------------------------------

TEST(DropTable, Forms) {
  std::optional<DropTable> drop = ParseAs<DropTable>("DROP TABLE App.T");
  ASSERT_TRUE(drop);
  EXPECT_EQ(drop->table.ns, "app");
  EXPECT_EQ(drop->table.name, "t");
  EXPECT_FALSE(drop->if_exists);

  drop = ParseAs<DropTable>("drop table if exists \"T\";");
  ASSERT_TRUE(drop);
  EXPECT_EQ(drop->table.ns, "");
  EXPECT_EQ(drop->table.name, "T");
  EXPECT_TRUE(drop->if_exists);

  for (const char* sql : {"DROP USER TABLE IF EXISTS t", "DROP SHARED TABLE IF EXISTS t",
                          "DROP STREAM TABLE IF EXISTS t"}) {
    drop = ParseAs<DropTable>(sql);
    ASSERT_TRUE(drop) << sql;
    EXPECT_EQ(drop->table.name, "t") << sql;
    EXPECT_TRUE(drop->if_exists) << sql;
  }
}

TEST(DropTable, Errors) {
  EXPECT_EQ(ErrorOf("DROP TABLE"),
            "Expected a table name after DROP TABLE, found the end of the statement");
  EXPECT_EQ(ErrorOf("DROP TABLE IF EXISTS"),
            "Expected a table name after IF EXISTS in DROP TABLE, found the end of the "
            "statement");
  EXPECT_EQ(ErrorOf("DROP TABLE a, b"), "Expected the end of DROP TABLE, found ','");
  EXPECT_EQ(ErrorOf("DROP STREAM TABLE t CASCADE"),
            "Expected the end of DROP STREAM TABLE, found 'CASCADE'");
}

// ---- ALTER TABLE -------------------------------------------------------------------------

TEST(AlterTable, AddColumn) {
  std::optional<AlterTable> alter =
      ParseAs<AlterTable>("ALTER TABLE app.T ADD COLUMN Score DECIMAL(6,2) NOT NULL DEFAULT 0");
  ASSERT_TRUE(alter);
  EXPECT_EQ(alter->table.ns, "app");
  EXPECT_EQ(alter->table.name, "t");
  EXPECT_EQ(alter->action, AlterTable::Action::kAddColumn);
  EXPECT_EQ(alter->column.name, "score");
  EXPECT_EQ(alter->column.type, "DECIMAL");
  EXPECT_EQ(alter->column.precision, 6);
  EXPECT_EQ(alter->column.scale, 2);
  EXPECT_TRUE(alter->column.not_null);
  EXPECT_EQ(alter->column.default_expr, "0");

  alter = ParseAs<AlterTable>("alter table t add note varchar(20);");
  ASSERT_TRUE(alter);
  EXPECT_EQ(alter->action, AlterTable::Action::kAddColumn);
  EXPECT_EQ(alter->column.name, "note");
  EXPECT_EQ(alter->column.type, "TEXT");
  EXPECT_FALSE(alter->column.not_null);
  EXPECT_EQ(alter->column.default_expr, std::nullopt);

  alter = ParseAs<AlterTable>("ALTER TABLE t ADD seen TIMESTAMP DEFAULT CURRENT_TIMESTAMP");
  ASSERT_TRUE(alter);
  EXPECT_EQ(alter->column.default_expr, "NOW()");
}

TEST(AlterTable, DropAndRenameColumn) {
  std::optional<AlterTable> alter = ParseAs<AlterTable>("ALTER TABLE t DROP COLUMN Note");
  ASSERT_TRUE(alter);
  EXPECT_EQ(alter->action, AlterTable::Action::kDropColumn);
  EXPECT_EQ(alter->column_name, "note");

  alter = ParseAs<AlterTable>("ALTER TABLE t DROP \"Note\"");
  ASSERT_TRUE(alter);
  EXPECT_EQ(alter->action, AlterTable::Action::kDropColumn);
  EXPECT_EQ(alter->column_name, "Note");

  alter = ParseAs<AlterTable>("ALTER TABLE ns.t RENAME COLUMN Old TO \"New\"");
  ASSERT_TRUE(alter);
  EXPECT_EQ(alter->table.ns, "ns");
  EXPECT_EQ(alter->action, AlterTable::Action::kRenameColumn);
  EXPECT_EQ(alter->column_name, "old");
  EXPECT_EQ(alter->new_name, "New");
}

TEST(AlterTable, Errors) {
  EXPECT_EQ(ErrorOf("ALTER TABLE t ADD id BIGINT PRIMARY KEY"),
            "Column 'id' cannot be a PRIMARY KEY in ALTER TABLE: a table's primary key is set "
            "when it is created");
  EXPECT_EQ(ErrorOf("ALTER TABLE t ADD PRIMARY KEY (a)"),
            "ALTER TABLE cannot add a PRIMARY KEY: a table's primary key is set when it is "
            "created");
  EXPECT_EQ(ErrorOf("ALTER TABLE t ADD COLUMN price MONEY"),
            "Unknown type 'MONEY' for column 'price'");
  EXPECT_EQ(ErrorOf("ALTER TABLE t ADD COLUMN at TIMESTAMP DEFAULT NOW() + 1"),
            "Unsupported DEFAULT for column 'at' in ALTER TABLE (at '+'): use a literal, NOW(), "
            "CURRENT_TIMESTAMP, SNOWFLAKE_ID(), UUID_V7(), ULID() or CURRENT_USER()");
  EXPECT_EQ(ErrorOf("ALTER TABLE t ADD COLUMN"),
            "Expected a column name after ADD COLUMN in ALTER TABLE, found the end of the "
            "statement");
  EXPECT_EQ(ErrorOf("ALTER TABLE t ADD a INT, b INT"),
            "Expected the end of ALTER TABLE, found ','");
  EXPECT_EQ(ErrorOf("ALTER TABLE t RENAME TO u"),
            "Expected COLUMN after RENAME in ALTER TABLE, found 'TO'");
  EXPECT_EQ(ErrorOf("ALTER TABLE t RENAME COLUMN a b"),
            "Expected TO after RENAME COLUMN a in ALTER TABLE, found 'b'");
  EXPECT_EQ(ErrorOf("ALTER TABLE t RENAME COLUMN a TO"),
            "Expected the new column name after TO in ALTER TABLE, found the end of the "
            "statement");
  EXPECT_EQ(ErrorOf("ALTER TABLE t ALTER COLUMN a SET DEFAULT 1"),
            "Expected ADD, DROP or RENAME COLUMN after the table name in ALTER TABLE, found "
            "'ALTER'");
  EXPECT_EQ(ErrorOf("ALTER TABLE t DROP"),
            "Expected a column name after DROP in ALTER TABLE, found the end of the statement");
  EXPECT_EQ(ErrorOf("ALTER TABLE"),
            "Expected a table name after ALTER TABLE, found the end of the statement");
}

// ---- SHOW TABLES, DESCRIBE TABLE, SHOW STATS ---------------------------------------------

TEST(ShowTables, Forms) {
  std::optional<ShowTables> show = ParseAs<ShowTables>("SHOW TABLES");
  ASSERT_TRUE(show);
  EXPECT_EQ(show->ns, std::nullopt);

  show = ParseAs<ShowTables>("show tables in App;");
  ASSERT_TRUE(show);
  EXPECT_EQ(show->ns, "app");

  show = ParseAs<ShowTables>("SHOW TABLES FROM \"App\"");
  ASSERT_TRUE(show);
  EXPECT_EQ(show->ns, "App");

  EXPECT_EQ(ErrorOf("SHOW TABLES IN"),
            "Expected a namespace name after IN in SHOW TABLES, found the end of the statement");
  EXPECT_EQ(ErrorOf("SHOW TABLES LIKE 'a%'"), "Expected the end of SHOW TABLES, found 'LIKE'");
}

TEST(DescribeTable, Forms) {
  for (const char* sql :
       {"DESCRIBE TABLE app.Msgs", "DESC TABLE app.msgs", "describe app.msgs;", "DESC APP.MSGS"}) {
    const std::optional<DescribeTable> describe = ParseAs<DescribeTable>(sql);
    ASSERT_TRUE(describe) << sql;
    EXPECT_EQ(describe->table.ns, "app") << sql;
    EXPECT_EQ(describe->table.name, "msgs") << sql;
    EXPECT_FALSE(describe->history) << sql;
  }
  for (const char* sql : {"DESCRIBE TABLE t HISTORY", "desc t history", "DESCRIBE \"t\" HISTORY"}) {
    const std::optional<DescribeTable> describe = ParseAs<DescribeTable>(sql);
    ASSERT_TRUE(describe) << sql;
    EXPECT_EQ(describe->table.ns, "") << sql;
    EXPECT_EQ(describe->table.name, "t") << sql;
    EXPECT_TRUE(describe->history) << sql;
  }
  EXPECT_EQ(ErrorOf("DESCRIBE TABLE"),
            "Expected a table name after DESCRIBE TABLE, found the end of the statement");
  EXPECT_EQ(ErrorOf("DESCRIBE TABLE t VERSIONS"),
            "Expected the end of DESCRIBE TABLE, found 'VERSIONS'");
  EXPECT_EQ(ErrorOf("DESCRIBE t x"), "Expected the end of DESCRIBE, found 'x'");
}

TEST(ShowStats, Forms) {
  std::optional<ShowStats> stats = ParseAs<ShowStats>("SHOW STATS FOR TABLE App.T");
  ASSERT_TRUE(stats);
  EXPECT_EQ(stats->table.ns, "app");
  EXPECT_EQ(stats->table.name, "t");

  stats = ParseAs<ShowStats>("show stats for table t;");
  ASSERT_TRUE(stats);
  EXPECT_EQ(stats->table.ns, "");
  EXPECT_EQ(stats->table.name, "t");

  EXPECT_EQ(ErrorOf("SHOW STATS"), "Expected FOR after SHOW STATS, found the end of the statement");
  EXPECT_EQ(ErrorOf("SHOW STATS FOR t"), "Expected TABLE after FOR in SHOW STATS, found 't'");
  EXPECT_EQ(ErrorOf("SHOW STATS FOR TABLE"),
            "Expected a table name after FOR TABLE in SHOW STATS, found the end of the "
            "statement");
}

}  // namespace
}  // namespace kalam::sql
