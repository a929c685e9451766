#include "sql/kalam_statement.h"
#include "statement_test_helpers.h"

#include <gtest/gtest.h>

namespace kalam::sql {
namespace {

using testing::ErrorOf;
using testing::IsForTheEngine;
using testing::ParseAs;

TEST(ParseKalamStatement, OtherStatementsBelongToTheEngine) {
  for (const char* sql : {"SELECT 1", "CREATE VIEW v AS SELECT 1", "DROP VIEW v", "SHOW ALL TABLES",
                          "ALTER VIEW v RENAME TO w", "INSERT INTO namespace VALUES (1)", "CREATE",
                          "", "-- only a comment", "'CREATE NAMESPACE'", "SELECT 'unterminated",
                          "CREATE /* x */ VIEW v AS SELECT 1", "EXPLAIN CREATE NAMESPACE a",
                          "ALTER SCHEMA a RENAME TO b"}) {
    EXPECT_TRUE(IsForTheEngine(sql)) << sql;
  }
}

// ---- namespaces ------------------------------------------------------------------------

TEST(ParseKalamStatement, CreateNamespace) {
  std::optional<CreateNamespace> create = ParseAs<CreateNamespace>("CREATE NAMESPACE app");
  ASSERT_TRUE(create);
  EXPECT_EQ(create->name, "app");
  EXPECT_FALSE(create->if_not_exists);

  create = ParseAs<CreateNamespace>("create schema if not exists App;");
  ASSERT_TRUE(create);
  EXPECT_EQ(create->name, "app");
  EXPECT_TRUE(create->if_not_exists);

  create = ParseAs<CreateNamespace>("/* a */ CREATE -- b\n NAMESPACE \"My\"\"App\" -- c");
  ASSERT_TRUE(create);
  EXPECT_EQ(create->name, "My\"App");

  // IF without NOT is a name.
  create = ParseAs<CreateNamespace>("CREATE NAMESPACE if");
  ASSERT_TRUE(create);
  EXPECT_EQ(create->name, "if");
  EXPECT_FALSE(create->if_not_exists);
}

TEST(ParseKalamStatement, CreateNamespaceErrors) {
  EXPECT_EQ(ErrorOf("CREATE NAMESPACE"),
            "Expected a namespace name after CREATE NAMESPACE, found the end of the statement");
  EXPECT_EQ(ErrorOf("CREATE NAMESPACE ;"),
            "Expected a namespace name after CREATE NAMESPACE, found the end of the statement");
  EXPECT_EQ(ErrorOf("CREATE NAMESPACE , a"),
            "Expected a namespace name after CREATE NAMESPACE, found ','");
  EXPECT_EQ(ErrorOf("CREATE SCHEMA 'app'"),
            "Expected a namespace name after CREATE SCHEMA, found a string literal");
  EXPECT_EQ(ErrorOf("CREATE NAMESPACE IF NOT app"),
            "Expected EXISTS after IF NOT in CREATE NAMESPACE, found 'app'");
  EXPECT_EQ(ErrorOf("CREATE NAMESPACE IF NOT EXISTS"),
            "Expected a namespace name after IF NOT EXISTS in CREATE NAMESPACE, found the end "
            "of the statement");
  EXPECT_EQ(ErrorOf("CREATE NAMESPACE a b"), "Expected the end of CREATE NAMESPACE, found 'b'");
  EXPECT_EQ(ErrorOf("CREATE NAMESPACE a; CREATE NAMESPACE b"),
            "Expected the end of CREATE NAMESPACE, found 'CREATE'");
  EXPECT_EQ(ErrorOf("CREATE NAMESPACE \"app"),
            "Unterminated quoted identifier in CREATE NAMESPACE");
  EXPECT_EQ(ErrorOf("CREATE NAMESPACE app /* never closed"),
            "Unterminated comment in CREATE NAMESPACE");
}

TEST(ParseKalamStatement, DropNamespace) {
  std::optional<DropNamespace> drop = ParseAs<DropNamespace>("DROP NAMESPACE app");
  ASSERT_TRUE(drop);
  EXPECT_EQ(drop->name, "app");
  EXPECT_FALSE(drop->if_exists);
  EXPECT_FALSE(drop->cascade);

  drop = ParseAs<DropNamespace>("drop schema IF EXISTS \"App\" cascade;");
  ASSERT_TRUE(drop);
  EXPECT_EQ(drop->name, "App");
  EXPECT_TRUE(drop->if_exists);
  EXPECT_TRUE(drop->cascade);
}

TEST(ParseKalamStatement, DropNamespaceErrors) {
  EXPECT_EQ(ErrorOf("DROP NAMESPACE IF EXISTS"),
            "Expected a namespace name after IF EXISTS in DROP NAMESPACE, found the end of the "
            "statement");
  EXPECT_EQ(ErrorOf("DROP NAMESPACE app RESTRICT"),
            "Expected the end of DROP NAMESPACE, found 'RESTRICT'");
  EXPECT_EQ(ErrorOf("DROP NAMESPACE app CASCADE CASCADE"),
            "Expected the end of DROP NAMESPACE, found 'CASCADE'");
}

TEST(ParseKalamStatement, AlterNamespaceOptionsBecomeJson) {
  std::optional<AlterNamespace> alter = ParseAs<AlterNamespace>(
      "ALTER NAMESPACE App SET OPTIONS (Retention = 7, label = 'it''s \"x\"\\', "
      "public = TRUE, owner = null, enabled = false, ratio = -0.5, big = 007, frac = .5, "
      "exp = 1e3, plus = +2, \"Quoted\" = E'a\\nb', zero = -0.0e999);");
  ASSERT_TRUE(alter);
  EXPECT_EQ(alter->name, "app");
  const std::vector<std::pair<std::string, std::string>> expected = {
      {"retention", "7"},     {"label", R"("it's \"x\"\\")"},
      {"public", "true"},     {"owner", "null"},
      {"enabled", "false"},   {"ratio", "-0.5"},
      {"big", "7"},           {"frac", "0.5"},
      {"exp", "1e3"},         {"plus", "2"},
      {"quoted", R"("a\nb")"}, {"zero", "-0.0"}};
  EXPECT_EQ(alter->options, expected);
}

TEST(ParseKalamStatement, AlterNamespaceErrors) {
  EXPECT_EQ(ErrorOf("ALTER NAMESPACE"),
            "Expected a namespace name after ALTER NAMESPACE, found the end of the statement");
  EXPECT_EQ(ErrorOf("ALTER NAMESPACE app OPTIONS (a = 1)"),
            "Expected SET after the namespace name in ALTER NAMESPACE, found 'OPTIONS'");
  EXPECT_EQ(ErrorOf("ALTER NAMESPACE app SET (a = 1)"),
            "Expected OPTIONS after SET in ALTER NAMESPACE, found '('");
  EXPECT_EQ(ErrorOf("ALTER NAMESPACE app SET OPTIONS a = 1"),
            "Expected '(' after SET OPTIONS in ALTER NAMESPACE, found 'a'");
  EXPECT_EQ(ErrorOf("ALTER NAMESPACE app SET OPTIONS ()"),
            "Expected an option name after '(' in ALTER NAMESPACE, found ')'");
  EXPECT_EQ(ErrorOf("ALTER NAMESPACE app SET OPTIONS (a = 1,)"),
            "Expected an option name after ',' in ALTER NAMESPACE, found ')'");
  EXPECT_EQ(ErrorOf("ALTER NAMESPACE app SET OPTIONS (a 1)"),
            "Expected '=' after option 'a' in ALTER NAMESPACE, found '1'");
  // A string literal where a name goes may be a misplaced secret: not repeated before its '='.
  EXPECT_EQ(ErrorOf("ALTER NAMESPACE app SET OPTIONS ('hunter2' 1)"),
            "Expected '=' after an option name in quotes in ALTER NAMESPACE, found '1'");
  EXPECT_EQ(ErrorOf("CREATE TABLE t (id INT PRIMARY KEY) WITH ('hunter2' 'x')"),
            "Expected '=' after an option name in quotes in CREATE TABLE, found a string literal");
  EXPECT_EQ(ErrorOf("ALTER NAMESPACE app SET OPTIONS (a = local)"),
            "Expected a value (a string, a number, TRUE, FALSE or NULL) for option 'a' in ALTER "
            "NAMESPACE, found 'local'");
  // Past a double's range: JSON readers take it for infinity, which they cannot write back.
  EXPECT_EQ(ErrorOf("ALTER NAMESPACE app SET OPTIONS (a = -1e999)"),
            "The value of option 'a' in ALTER NAMESPACE is out of range: '1e999'");
  EXPECT_EQ(ErrorOf("ALTER NAMESPACE app SET OPTIONS (a = " + std::string(400, '9') + ")"),
            "The value of option 'a' in ALTER NAMESPACE is out of range: '" + std::string(40, '9') + "...'");
  EXPECT_EQ(ErrorOf("ALTER NAMESPACE app SET OPTIONS (a = - 'x')"),
            "Expected a value (a string, a number, TRUE, FALSE or NULL) for option 'a' in ALTER "
            "NAMESPACE, found '-'");
  EXPECT_EQ(ErrorOf("ALTER NAMESPACE app SET OPTIONS (a = 1"),
            "Expected ',' or ')' after the value of option 'a' in ALTER NAMESPACE, found the end "
            "of the statement");
  EXPECT_EQ(ErrorOf("ALTER NAMESPACE app SET OPTIONS (a = 1 b = 2)"),
            "Expected ',' or ')' after the value of option 'a' in ALTER NAMESPACE, found 'b'");
  EXPECT_EQ(ErrorOf("ALTER NAMESPACE app SET OPTIONS (a = 1, A = 2)"),
            "The option 'a' is given twice in ALTER NAMESPACE");
  EXPECT_EQ(ErrorOf("ALTER NAMESPACE app SET OPTIONS (a = 1) x"),
            "Expected the end of ALTER NAMESPACE, found 'x'");
}

TEST(ParseKalamStatement, Show) {
  EXPECT_TRUE(ParseAs<ShowNamespaces>("SHOW NAMESPACES"));
  EXPECT_TRUE(ParseAs<ShowNamespaces>("show namespaces;"));
  EXPECT_TRUE(ParseAs<ShowStorages>("Show Storages -- all of them"));
  EXPECT_EQ(ErrorOf("SHOW NAMESPACES LIKE 'a%'"),
            "Expected the end of SHOW NAMESPACES, found 'LIKE'");
  EXPECT_EQ(ErrorOf("SHOW STORAGES;;"), "Expected the end of SHOW STORAGES, found ';'");
}

// ---- users -----------------------------------------------------------------------------

TEST(ParseKalamStatement, CreateUser) {
  std::optional<CreateUser> create = ParseAs<CreateUser>(
      "CREATE USER 'Alice' WITH PASSWORD 'p@ss''word' ROLE Dba EMAIL 'Alice@Example.com';");
  ASSERT_TRUE(create);
  EXPECT_EQ(create->username, "Alice");
  EXPECT_EQ(create->password, "p@ss'word");
  EXPECT_EQ(create->role, "dba");
  EXPECT_EQ(create->email, "Alice@Example.com");
  EXPECT_FALSE(create->if_not_exists);

  create = ParseAs<CreateUser>("create user if not exists Bob with password 'pw' role user");
  ASSERT_TRUE(create);
  EXPECT_EQ(create->username, "bob");
  EXPECT_EQ(create->role, "user");
  EXPECT_EQ(create->email, std::nullopt);
  EXPECT_TRUE(create->if_not_exists);
}

TEST(ParseKalamStatement, CreateUserVariants) {
  std::optional<CreateUser> create =
      ParseAs<CreateUser>("CREATE USER \"Carol\" WITH PASSWORD E'a\\'b' ROLE 'Service'");
  ASSERT_TRUE(create);
  EXPECT_EQ(create->username, "Carol");
  EXPECT_EQ(create->password, "a'b");
  EXPECT_EQ(create->role, "service");

  // EMAIL before ROLE; a quoted role; PASSWORD without WITH and last.
  create = ParseAs<CreateUser>(
      "CREATE USER 'dave' EMAIL 'd@x.io' ROLE \"DBA\" PASSWORD $$it's$$ -- done");
  ASSERT_TRUE(create);
  EXPECT_EQ(create->username, "dave");
  EXPECT_EQ(create->password, "it's");
  EXPECT_EQ(create->role, "dba");
  EXPECT_EQ(create->email, "d@x.io");
}

TEST(ParseKalamStatement, CreateUserErrors) {
  EXPECT_EQ(ErrorOf("CREATE USER"),
            "Expected a user name after CREATE USER, found the end of the statement");
  EXPECT_EQ(ErrorOf("CREATE USER IF NOT EXISTS"),
            "Expected a user name after IF NOT EXISTS in CREATE USER, found the end of the "
            "statement");
  EXPECT_EQ(ErrorOf("CREATE USER 'a' WITH PASSWORD 'p'"),
            "Expected ROLE after the password in CREATE USER, found the end of the statement");
  EXPECT_EQ(ErrorOf("CREATE USER 'a' WITH PASSWORD 'p' EMAIL 'e';"),
            "Expected ROLE after the email in CREATE USER, found the end of the statement");
  EXPECT_EQ(ErrorOf("CREATE USER 'a' ROLE user"),
            "Expected WITH PASSWORD after the role in CREATE USER, found the end of the "
            "statement");
  EXPECT_EQ(ErrorOf("CREATE USER 'a' WITH PASSWORD secret ROLE user"),
            "Expected the password as a string literal after PASSWORD in CREATE USER, found "
            "'secret'");
  EXPECT_EQ(ErrorOf("CREATE USER 'a' WITH PASSWORD 'p' ROLE"),
            "Expected a role after ROLE in CREATE USER, found the end of the statement");
  EXPECT_EQ(ErrorOf("CREATE USER 'a' WITH PASSWORD 'p' ROLE user EMAIL bob"),
            "Expected the email as a string literal after EMAIL in CREATE USER, found 'bob'");
  EXPECT_EQ(ErrorOf("CREATE USER 'a' WITH PASSWORD 'p' ROLE user ROLE dba"),
            "ROLE is given twice in CREATE USER");
  EXPECT_EQ(ErrorOf("CREATE USER 'a' PASSWORD 'p' WITH PASSWORD 'q' ROLE dba"),
            "PASSWORD is given twice in CREATE USER");
  EXPECT_EQ(ErrorOf("CREATE USER 'a' WITH PASSWORD 'p' ROLE user NAME 'x'"),
            "Expected PASSWORD, ROLE or EMAIL after the role in CREATE USER, found 'NAME'");
  EXPECT_EQ(ErrorOf("CREATE USER 'a' WITH"),
            "Expected PASSWORD, ROLE or EMAIL after WITH in CREATE USER, found the end of the "
            "statement");
  EXPECT_EQ(ErrorOf("CREATE USER 'a' WITH PASSWORD 'p ROLE user"),
            "Unterminated string literal in CREATE USER");
  EXPECT_EQ(ErrorOf("CREATE USER 'a' WITH PASSWORD E'\\u0041' ROLE user"),
            "Unicode escapes (\\u, \\U) are not supported in string literals in CREATE USER");
}

TEST(ParseKalamStatement, ErrorsNeverShowStringLiterals) {
  const std::string message = ErrorOf("CREATE USER 'a' WITH 'hunter2' ROLE user");
  EXPECT_EQ(message,
            "Expected PASSWORD, ROLE or EMAIL after WITH in CREATE USER, found a string literal");
  EXPECT_EQ(message.find("hunter2"), std::string::npos);
}

TEST(ParseKalamStatement, AlterUser) {
  std::optional<AlterUser> alter = ParseAs<AlterUser>("ALTER USER 'Alice' SET PASSWORD 'new'");
  ASSERT_TRUE(alter);
  EXPECT_EQ(alter->username, "Alice");
  EXPECT_EQ(alter->field, AlterUser::Field::kPassword);
  EXPECT_EQ(alter->value, "new");

  alter = ParseAs<AlterUser>("alter user Bob set role 'DBA';");
  ASSERT_TRUE(alter);
  EXPECT_EQ(alter->username, "bob");
  EXPECT_EQ(alter->field, AlterUser::Field::kRole);
  EXPECT_EQ(alter->value, "dba");

  alter = ParseAs<AlterUser>("ALTER USER \"Carol\" SET EMAIL 'Carol@X.io'");
  ASSERT_TRUE(alter);
  EXPECT_EQ(alter->username, "Carol");
  EXPECT_EQ(alter->field, AlterUser::Field::kEmail);
  EXPECT_EQ(alter->value, "Carol@X.io");

  alter = ParseAs<AlterUser>("ALTER USER 'dave' WITH PASSWORD 'pw'");
  ASSERT_TRUE(alter);
  EXPECT_EQ(alter->field, AlterUser::Field::kPassword);
  EXPECT_EQ(alter->value, "pw");
}

TEST(ParseKalamStatement, AlterUserErrors) {
  EXPECT_EQ(ErrorOf("ALTER USER"),
            "Expected a user name after ALTER USER, found the end of the statement");
  EXPECT_EQ(ErrorOf("ALTER USER 'a'"),
            "Expected SET after the user name in ALTER USER, found the end of the statement");
  EXPECT_EQ(ErrorOf("ALTER USER 'a' SET NAME 'b'"),
            "Expected PASSWORD, ROLE or EMAIL after SET in ALTER USER, found 'NAME'");
  EXPECT_EQ(ErrorOf("ALTER USER 'a' SET EMAIL"),
            "Expected the email as a string literal after SET EMAIL in ALTER USER, found the end "
            "of the statement");
  EXPECT_EQ(ErrorOf("ALTER USER 'a' SET ROLE ,"),
            "Expected a role after SET ROLE in ALTER USER, found ','");
  EXPECT_EQ(ErrorOf("ALTER USER 'a' SET PASSWORD 'x' ROLE dba"),
            "Expected the end of ALTER USER, found 'ROLE'");
}

TEST(ParseKalamStatement, DropUser) {
  std::optional<DropUser> drop = ParseAs<DropUser>("DROP USER 'Alice'");
  ASSERT_TRUE(drop);
  EXPECT_EQ(drop->username, "Alice");
  EXPECT_FALSE(drop->if_exists);

  drop = ParseAs<DropUser>("drop user if exists Bob;");
  ASSERT_TRUE(drop);
  EXPECT_EQ(drop->username, "bob");
  EXPECT_TRUE(drop->if_exists);

  drop = ParseAs<DropUser>("DROP USER \"Carol\"");
  ASSERT_TRUE(drop);
  EXPECT_EQ(drop->username, "Carol");
}

TEST(ParseKalamStatement, DropUserErrors) {
  EXPECT_EQ(ErrorOf("DROP USER"),
            "Expected a user name after DROP USER, found the end of the statement");
  EXPECT_EQ(ErrorOf("DROP USER IF EXISTS 42"),
            "Expected a user name after IF EXISTS in DROP USER, found '42'");
  EXPECT_EQ(ErrorOf("DROP USER 'a' 'b'"), "Expected the end of DROP USER, found a string literal");
}

}  // namespace
}  // namespace kalam::sql
