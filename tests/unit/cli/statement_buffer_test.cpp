#include "cli/statement_buffer.h"

#include <gtest/gtest.h>

namespace kalam::cli {
namespace {

using Statements = std::vector<std::string>;

TEST(StatementBuffer, StatementsSpanLinesUntilSemicolon) {
  StatementBuffer buffer;
  EXPECT_TRUE(buffer.empty());
  EXPECT_EQ(buffer.AddLine("SELECT 1 +"), Statements{});
  EXPECT_FALSE(buffer.empty());
  EXPECT_EQ(buffer.AddLine("  41 AS answer;"), Statements{"SELECT 1 +\n  41 AS answer"});
  EXPECT_TRUE(buffer.empty());
}

TEST(StatementBuffer, SeveralStatementsOnOneLineAndARest) {
  StatementBuffer buffer;
  EXPECT_EQ(buffer.AddLine("SELECT 1; SELECT 2 ;SELECT"), (Statements{"SELECT 1", "SELECT 2"}));
  EXPECT_FALSE(buffer.empty());
  EXPECT_EQ(buffer.AddLine("3;"), Statements{"SELECT\n3"});
}

TEST(StatementBuffer, SemicolonsInsideQuotesAndCommentsDoNotEnd) {
  StatementBuffer buffer;
  EXPECT_EQ(buffer.AddLine("SELECT 'a;b', 'it''s;'"), Statements{});
  EXPECT_EQ(buffer.AddLine(", \"we;ird\" -- no; end here"), Statements{});
  EXPECT_EQ(buffer.AddLine("/* one; /* nested; */ still; */ , E'x\\';y'"), Statements{});
  EXPECT_EQ(buffer.AddLine(", $fn$ a; b $fn$, $$;$$;"),
            Statements{"SELECT 'a;b', 'it''s;'\n, \"we;ird\" -- no; end here\n"
                       "/* one; /* nested; */ still; */ , E'x\\';y'\n, $fn$ a; b $fn$, $$;$$"});
}

TEST(StatementBuffer, QuoteSpanningLines) {
  StatementBuffer buffer;
  EXPECT_EQ(buffer.AddLine("INSERT INTO t VALUES ('line one;"), Statements{});
  EXPECT_EQ(buffer.AddLine("line two');"),
            Statements{"INSERT INTO t VALUES ('line one;\nline two')"});
}

TEST(StatementBuffer, DollarParameterIsNotAQuote) {
  StatementBuffer buffer;
  EXPECT_EQ(buffer.AddLine("SELECT $1; SELECT a$b$ FROM t;"),
            (Statements{"SELECT $1", "SELECT a$b$ FROM t"}));
  // WHERE'x' is a plain string, not an escape string started by the E of WHERE.
  EXPECT_EQ(buffer.AddLine("SELECT 1 WHERE'\\';"), Statements{"SELECT 1 WHERE'\\'"});
}

TEST(StatementBuffer, EmptyStatementsAndCommentsAreDropped) {
  StatementBuffer buffer;
  EXPECT_EQ(buffer.AddLine(";;  ; -- just a comment"), Statements{});
  EXPECT_EQ(buffer.AddLine("/* c */ ;"), Statements{});
  EXPECT_EQ(buffer.TakeRest(), "");
}

TEST(StatementBuffer, TakeRestGivesTheUnterminatedLastStatement) {
  StatementBuffer buffer;
  buffer.AddLine("SELECT 1;");
  buffer.AddLine("SELECT 2");
  EXPECT_EQ(buffer.TakeRest(), "SELECT 2");
  EXPECT_TRUE(buffer.empty());
  EXPECT_EQ(buffer.AddLine("SELECT 3;"), Statements{"SELECT 3"});
}

TEST(StatementBuffer, ClearForgetsAnOpenQuote) {
  StatementBuffer buffer;
  buffer.AddLine("SELECT 'open");
  buffer.Clear();
  EXPECT_EQ(buffer.AddLine("SELECT 1;"), Statements{"SELECT 1"});
}

TEST(StatementBuffer, SplitStatementsOfAScript) {
  EXPECT_EQ(SplitStatements("CREATE NAMESPACE a;\nSELECT ';'\n  ;\nSELECT 2"),
            (Statements{"CREATE NAMESPACE a", "SELECT ';'", "SELECT 2"}));
  EXPECT_EQ(SplitStatements(""), Statements{});
}

}  // namespace
}  // namespace kalam::cli
