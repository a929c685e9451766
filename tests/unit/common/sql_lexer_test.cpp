#include "common/sql_lexer.h"

#include <gtest/gtest.h>

namespace kalam::sql {
namespace {

// The kinds and texts of sql's tokens, kEnd left out, as "kind:text" lines.
std::vector<std::string> Lex(std::string_view sql) {
  std::vector<std::string> out;
  for (const Token& token : Tokenize(sql)) {
    if (token.kind == TokenKind::kEnd) break;
    const char* kind = token.kind == TokenKind::kWord               ? "word"
                       : token.kind == TokenKind::kQuotedIdentifier ? "ident"
                       : token.kind == TokenKind::kString           ? "string"
                       : token.kind == TokenKind::kNumber           ? "number"
                       : token.kind == TokenKind::kSymbol           ? "symbol"
                                                                    : "invalid";
    out.push_back(std::string(kind) + ":" + token.text);
  }
  return out;
}

using Lines = std::vector<std::string>;

TEST(Tokenize, WordsNumbersSymbolsAndCommentsDropped) {
  EXPECT_EQ(Lex("Create /* x */ a$1 -- y\n(1.5e-3, .5, 7e)"),
            (Lines{"word:Create", "word:a$1", "symbol:(", "number:1.5e-3", "symbol:,", "number:.5",
                   "symbol:,", "number:7", "word:e", "symbol:)"}));
  EXPECT_TRUE(Lex("  -- nothing\n /* at /* all */ */ ").empty());
  EXPECT_EQ(Tokenize("").back().kind, TokenKind::kEnd);
}

TEST(Tokenize, QuotedTextIsUnescaped) {
  EXPECT_EQ(Lex(R"('it''s' "a""b" $$x'y$$ $q$ $$ $q$)"),
            (Lines{"string:it's", "ident:a\"b", "string:x'y", "string: $$ "}));
  EXPECT_EQ(Lex(R"(E'\x41\101\n\q\'''\\')"), (Lines{"string:AA\nq''\\"}));
  // A standard string knows no backslash escapes.
  EXPECT_EQ(Lex(R"('a\' 'b')"), (Lines{"string:a\\", "string:b"}));
}

TEST(Tokenize, ProblemsBecomeInvalidTokens) {
  EXPECT_EQ(Lex("x 'abc"), (Lines{"word:x", "invalid:Unterminated string literal"}));
  EXPECT_EQ(Lex("x \"abc"), (Lines{"word:x", "invalid:Unterminated quoted identifier"}));
  EXPECT_EQ(Lex("x /* /* */"), (Lines{"word:x", "invalid:Unterminated comment"}));
  EXPECT_EQ(Lex("$a$ x"), (Lines{"invalid:Unterminated string literal"}));
  EXPECT_EQ(Lex(R"(E'\u00e9')"),
            (Lines{"invalid:Unicode escapes (\\u, \\U) are not supported in string literals"}));
}

TEST(SpanAt, PrefixesOnlyAtWordStart) {
  ASSERT_TRUE(SpanAt("E'x'", 0));
  EXPECT_EQ(SpanAt("E'x'", 0)->kind, SpanKind::kEscapeString);
  EXPECT_FALSE(SpanAt("WHERE'x'", 4));  // the E ends a word
  EXPECT_FALSE(SpanAt("a$b$", 1));
  EXPECT_FALSE(SpanAt("$1", 0));
  const std::optional<Span> dollar = SpanAt("$t$ a $t$ b", 0);
  ASSERT_TRUE(dollar);
  EXPECT_EQ(dollar->kind, SpanKind::kDollarQuoted);
  EXPECT_EQ(dollar->body_begin, 3u);
  EXPECT_EQ(dollar->body_end, 6u);
  EXPECT_EQ(dollar->end, 9u);
  EXPECT_TRUE(dollar->terminated);
}

}  // namespace
}  // namespace kalam::sql

namespace kalam::sql {
namespace {

TEST(StripComments, ReplacesTerminatedCommentsAndKeepsQuotedText) {
  EXPECT_EQ(StripComments("SELECT /* a */ 1 -- b\n, '/* c */', \"--d\", $$/*e*/$$"),
            "SELECT   1  \n, '/* c */', \"--d\", $$/*e*/$$");
  EXPECT_EQ(StripComments("SELECT 1 /* open"), "SELECT 1 /* open");
  EXPECT_EQ(StripComments("/* a /* nested */ still */SELECT 1"), " SELECT 1");
}

TEST(StripComments, IsLinearOverManyBlockComments) {
  std::string sql;
  for (int i = 0; i < 1000000; ++i) sql += "/**/";
  sql += "SELECT 1";
  const std::string stripped = StripComments(sql);
  EXPECT_EQ(stripped.size(), 1000000u + 8u);
  EXPECT_TRUE(stripped.ends_with("SELECT 1"));
}

}  // namespace
}  // namespace kalam::sql
