#include "sql/quick_statements.h"

#include <gtest/gtest.h>

namespace kalam::sql {
namespace {

using std::chrono::microseconds;

TEST(StatementShape, LiteralsBecomePlaceholdersAndLayoutIsIgnored) {
  EXPECT_EQ(StatementShape("SELECT * FROM t WHERE id = 42"), StatementShape("SELECT  *\nFROM t WHERE id=7"));
  EXPECT_EQ(StatementShape("SELECT * FROM t WHERE room = 'a'"), StatementShape("SELECT * FROM t WHERE room = 'b''c'"));
  EXPECT_EQ(StatementShape("SELECT 1 /* a comment */"), StatementShape("SELECT 2"));
  // Names and operators are the shape: other columns, tables or operators are other shapes.
  EXPECT_NE(StatementShape("SELECT * FROM t WHERE id = 1"), StatementShape("SELECT * FROM u WHERE id = 1"));
  EXPECT_NE(StatementShape("SELECT * FROM t WHERE id = 1"), StatementShape("SELECT * FROM t WHERE id > 1"));
  EXPECT_NE(StatementShape("SELECT * FROM \"t\""), StatementShape("SELECT * FROM 't'"));
  EXPECT_EQ(StatementShape("SELECT 1.5e-3, .5, 2E+7 -- the end"), StatementShape("SELECT 7, 8, 9"));
  EXPECT_EQ(StatementShape("SELECT E'a\\'b', $$x$$"), StatementShape("SELECT 'c', $t$y$t$"));
  EXPECT_NE(StatementShape("SELECT t1 FROM x"), StatementShape("SELECT t2 FROM x"));
  EXPECT_NE(StatementShape("SELECT a FROM x"), StatementShape("SELECT ab FROM x"));
  EXPECT_NE(StatementShape("SELECT a b FROM x"), StatementShape("SELECT ab FROM x"));
  EXPECT_EQ(StatementShape(""), "");
  EXPECT_EQ(StatementShape("  /* only a comment */ "), "");
}

TEST(QuickStatements, QuickAfterEnoughQuickRunsAndBackToThePoolAfterASlowOne) {
  QuickStatements quick;
  const std::string key = "SELECT ? ";
  EXPECT_FALSE(quick.IsQuick(key));
  for (int i = 0; i < QuickStatements::kRunsToInline; ++i) {
    EXPECT_FALSE(quick.IsQuick(key)) << i;
    quick.Note(key, microseconds(10));
  }
  EXPECT_TRUE(quick.IsQuick(key));
  quick.Note(key, QuickStatements::kQuick + microseconds(1));
  EXPECT_FALSE(quick.IsQuick(key));
  // A slow run costs twice as many quick ones before the key is quick again.
  for (int i = 0; i < 2 * QuickStatements::kRunsToInline - 1; ++i) quick.Note(key, microseconds(10));
  EXPECT_FALSE(quick.IsQuick(key));
  quick.Note(key, microseconds(10));
  EXPECT_TRUE(quick.IsQuick(key));
  EXPECT_FALSE(quick.IsQuick("SELECT ? FROM t "));
}

TEST(QuickStatements, RemembersABoundedNumberOfKeys) {
  QuickStatements quick;
  for (int i = 0; i < QuickStatements::kRunsToInline; ++i) quick.Note("first", microseconds(1));
  ASSERT_TRUE(quick.IsQuick("first"));
  for (size_t k = 0; k < QuickStatements::kMaxKeys; ++k) quick.Note("key " + std::to_string(k), microseconds(1));
  // The record started again once it was full: what it knew is forgotten, never wrong.
  EXPECT_FALSE(quick.IsQuick("first"));
}

}  // namespace
}  // namespace kalam::sql
