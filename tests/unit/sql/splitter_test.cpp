#include "sql/splitter.h"

#include <gtest/gtest.h>

namespace kalam::sql {
namespace {

using Statements = std::vector<std::string>;

TEST(SplitStatements, SplitsAtSemicolonsAndTrims) {
  EXPECT_EQ(SplitStatements("SELECT 1; SELECT 2"), (Statements{"SELECT 1", "SELECT 2"}));
  EXPECT_EQ(SplitStatements(" \r\n\tSELECT 1 ;\n"), (Statements{"SELECT 1"}));
  EXPECT_EQ(SplitStatements("SELECT 1"), (Statements{"SELECT 1"}));
  EXPECT_EQ(SplitStatements("SELECT 1;;SELECT 2;"), (Statements{"SELECT 1", "SELECT 2"}));
}

TEST(SplitStatements, EmptyBatchesHaveNoStatements) {
  EXPECT_TRUE(SplitStatements("").empty());
  EXPECT_TRUE(SplitStatements("   \n").empty());
  EXPECT_TRUE(SplitStatements(";;").empty());
  EXPECT_TRUE(SplitStatements(" ; \n ; ").empty());
  EXPECT_TRUE(SplitStatements("-- only a comment").empty());
  EXPECT_TRUE(SplitStatements("/* a; b */ ; -- c;\n;").empty());
}

TEST(SplitStatements, CommentOnlyStatementsAreDropped) {
  EXPECT_EQ(SplitStatements("SELECT 1; -- done"), (Statements{"SELECT 1"}));
  EXPECT_EQ(SplitStatements("SELECT 1; /* x */; SELECT 2"), (Statements{"SELECT 1", "SELECT 2"}));
}

TEST(SplitStatements, CommentsAroundSqlStayInTheStatement) {
  EXPECT_EQ(SplitStatements("-- first\nSELECT 1 -- one; two\n; SELECT 2"),
            (Statements{"-- first\nSELECT 1 -- one; two", "SELECT 2"}));
  EXPECT_EQ(SplitStatements("SELECT /* ; */ 1; SELECT 2"),
            (Statements{"SELECT /* ; */ 1", "SELECT 2"}));
}

TEST(SplitStatements, BlockCommentsNest) {
  EXPECT_EQ(SplitStatements("SELECT /* a /* ; */ ; */ 1; SELECT 2"),
            (Statements{"SELECT /* a /* ; */ ; */ 1", "SELECT 2"}));
}

TEST(SplitStatements, SemicolonsInStringsDoNotSplit) {
  EXPECT_EQ(SplitStatements("INSERT INTO t VALUES ('a;b'); SELECT 2"),
            (Statements{"INSERT INTO t VALUES ('a;b')", "SELECT 2"}));
  EXPECT_EQ(SplitStatements("SELECT 'it''s; fine'; SELECT 2"),
            (Statements{"SELECT 'it''s; fine'", "SELECT 2"}));
  EXPECT_EQ(SplitStatements("SELECT '-- no comment'; SELECT '/*'; SELECT 3"),
            (Statements{"SELECT '-- no comment'", "SELECT '/*'", "SELECT 3"}));
}

TEST(SplitStatements, BackslashEscapesOnlyInEscapeStrings) {
  // E'\'' is one quote; in a standard string a backslash is an ordinary character.
  EXPECT_EQ(SplitStatements(R"(SELECT E'\';'; SELECT 2)"),
            (Statements{R"(SELECT E'\';')", "SELECT 2"}));
  EXPECT_EQ(SplitStatements(R"(SELECT e'\\'; SELECT 2)"),
            (Statements{R"(SELECT e'\\')", "SELECT 2"}));
  EXPECT_EQ(SplitStatements(R"(SELECT '\'; SELECT 2)"), (Statements{R"(SELECT '\')", "SELECT 2"}));
  // The E of a word is not a prefix: name'\' is name followed by '\'.
  EXPECT_EQ(SplitStatements(R"(SELECT name'\'; SELECT 2)"),
            (Statements{R"(SELECT name'\')", "SELECT 2"}));
}

TEST(SplitStatements, SemicolonsInQuotedIdentifiersDoNotSplit) {
  EXPECT_EQ(SplitStatements(R"(SELECT 1 AS "a;""b"; SELECT 2)"),
            (Statements{R"(SELECT 1 AS "a;""b")", "SELECT 2"}));
}

TEST(SplitStatements, DollarQuotedBodiesDoNotSplit) {
  EXPECT_EQ(SplitStatements("SELECT $$a;b$$; SELECT $tag$ $$ ; $tag$; SELECT 3"),
            (Statements{"SELECT $$a;b$$", "SELECT $tag$ $$ ; $tag$", "SELECT 3"}));
}

TEST(SplitStatements, ParametersAndDollarIdentifiersAreNotDollarQuotes) {
  EXPECT_EQ(SplitStatements("SELECT $1; SELECT $2"), (Statements{"SELECT $1", "SELECT $2"}));
  EXPECT_EQ(SplitStatements("SELECT a$b$; SELECT 2"), (Statements{"SELECT a$b$", "SELECT 2"}));
}

TEST(SplitStatements, UnterminatedQuoteTakesTheRest) {
  EXPECT_EQ(SplitStatements("SELECT 1; SELECT 'abc; SELECT 2"),
            (Statements{"SELECT 1", "SELECT 'abc; SELECT 2"}));
  EXPECT_EQ(SplitStatements("SELECT 1; SELECT \"abc; SELECT 2"),
            (Statements{"SELECT 1", "SELECT \"abc; SELECT 2"}));
  EXPECT_EQ(SplitStatements("SELECT $x$ ; SELECT 2"), (Statements{"SELECT $x$ ; SELECT 2"}));
}

TEST(SplitStatements, UnterminatedBlockCommentIsKeptForTheEngineToReport) {
  EXPECT_EQ(SplitStatements("SELECT 1; /* ; SELECT 2"), (Statements{"SELECT 1", "/* ; SELECT 2"}));
}

}  // namespace
}  // namespace kalam::sql
