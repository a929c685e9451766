// Lexing SQL text the way DuckDB's (PostgreSQL's) scanner does, for the places that read
// SQL before DuckDB does: the statement splitter, parameter binding, the parser of
// KalamDB's own statements, and the removal of comments before DuckDB's parser (whose
// lexer takes quadratic time over many block comments). Spans find where quoted text and comments begin and end, so
// that a ';' or '$1' inside them is never taken for syntax; tokens feed the parser.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kalam::sql {

enum class SpanKind {
  kString,            // '...', '' stands for a quote
  kEscapeString,      // E'...', backslash escapes as well as ''
  kQuotedIdentifier,  // "...", "" stands for a quote
  kDollarQuoted,      // $tag$...$tag$ (the tag may be empty), nothing is escaped
  kLineComment,       // -- up to the end of the line (the newline is not part of it)
  kBlockComment,      // /* ... */, which nest as in PostgreSQL
};

struct Span {
  SpanKind kind;
  size_t body_begin;  // the text between the delimiters: [body_begin, body_end)
  size_t body_end;
  size_t end;       // one past the closing delimiter
  bool terminated;  // false: the input ended inside the span, and body_end == end == size
};

// The quoted text or comment that starts at sql[pos]; nullopt when none does. E'...' and
// $tag$ only start where no identifier continues: in WHERE'x', 'x' is a plain string.
std::optional<Span> SpanAt(std::string_view sql, size_t pos);

bool IsComment(SpanKind kind);
bool IsSpace(char c);
// As in PostgreSQL: letters, '_' and every byte of a multi-byte UTF-8 character start an
// identifier; digits and '$' may continue one.
bool IsIdentifierStart(char c);
bool IsIdentifierChar(char c);

enum class TokenKind {
  kWord,              // keyword or unquoted identifier; text as written
  kQuotedIdentifier,  // text without the quotes, "" resolved
  kString,            // any string literal; text is its value, escapes resolved
  kNumber,            // 42, 1.5, .5, 1e-3; text as written, without a sign
  kSymbol,            // any other single character: ( ) , = ; ...
  kInvalid,           // an unterminated quote or comment, a bad escape; text says which
  kEnd,               // after the last token
};

struct Token {
  TokenKind kind;
  std::string text;
  std::string_view source;  // the token as written in the input
};

// sql with each terminated comment replaced by one space, in linear time; quoted text is
// kept as written, and an unterminated comment stays for DuckDB to report.
std::string StripComments(std::string_view sql);

// The token at or after pos (past whitespace and terminated comments) without building its
// text: its kind and where it is written, and for quoted text (and an unterminated
// comment) its span. pos moves past it. At the end: kEnd, with pos unchanged. A kString or
// kQuotedIdentifier here may still turn out kInvalid in Tokenize (a bad escape).
struct Lexeme {
  TokenKind kind;
  std::string_view source;
  std::optional<Span> span;
};
Lexeme NextLexeme(std::string_view sql, size_t& pos);

// The tokens of sql, comments and whitespace dropped; the last one is always kEnd.
// Lexing never fails: what cannot be read becomes a kInvalid token.
std::vector<Token> Tokenize(std::string_view sql);

}  // namespace kalam::sql
