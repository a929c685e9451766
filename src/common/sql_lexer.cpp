#include "common/sql_lexer.h"

#include <algorithm>

namespace kalam::sql {

namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// A quoted span whose body starts at body_begin and ends at the first `quote` that is not
// doubled (nor, with backslash escapes, preceded by a backslash).
Span QuotedSpan(std::string_view sql, SpanKind kind, size_t body_begin, char quote,
                bool backslash_escapes) {
  size_t i = body_begin;
  while (i < sql.size()) {
    if (backslash_escapes && sql[i] == '\\') {
      i += 2;
    } else if (sql[i] != quote) {
      ++i;
    } else if (i + 1 < sql.size() && sql[i + 1] == quote) {
      i += 2;
    } else {
      return {kind, body_begin, i, i + 1, true};
    }
  }
  return {kind, body_begin, sql.size(), sql.size(), false};
}

Span BlockComment(std::string_view sql, size_t pos) {
  int depth = 1;
  size_t i = pos + 2;
  while (i < sql.size()) {
    if (sql.substr(i, 2) == "/*") {
      ++depth;
      i += 2;
    } else if (sql.substr(i, 2) == "*/") {
      i += 2;
      if (--depth == 0) return {SpanKind::kBlockComment, pos + 2, i - 2, i, true};
    } else {
      ++i;
    }
  }
  return {SpanKind::kBlockComment, pos + 2, sql.size(), sql.size(), false};
}

// $tag$ at pos, where the tag is empty or an identifier without '$'.
std::optional<Span> DollarQuoted(std::string_view sql, size_t pos) {
  size_t i = pos + 1;
  if (i < sql.size() && IsIdentifierStart(sql[i])) {
    while (i < sql.size() && (IsIdentifierStart(sql[i]) || IsDigit(sql[i]))) ++i;
  }
  if (i >= sql.size() || sql[i] != '$') return std::nullopt;
  const std::string_view tag = sql.substr(pos, i + 1 - pos);
  const size_t body_begin = i + 1;
  const size_t close = sql.find(tag, body_begin);
  if (close == std::string_view::npos) {
    return Span{SpanKind::kDollarQuoted, body_begin, sql.size(), sql.size(), false};
  }
  return Span{SpanKind::kDollarQuoted, body_begin, close, close + tag.size(), true};
}

int HexValue(char c) {
  if (IsDigit(c)) return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// The body of a '...' or "..." span: a doubled quote stands for one.
std::string Undouble(std::string_view body, char quote) {
  std::string out;
  for (size_t i = 0; i < body.size(); ++i) {
    out += body[i];
    if (body[i] == quote) ++i;
  }
  return out;
}

// The body of an E'...' span, with PostgreSQL's escapes: \b \f \n \r \t, \ooo (octal),
// \xhh; a backslash before any other character keeps that character. nullopt on \u and \U
// (Unicode escapes), which DuckDB refuses.
std::optional<std::string> Unescape(std::string_view body) {
  std::string out;
  size_t i = 0;
  while (i < body.size()) {
    const char c = body[i++];
    if (c == '\'') {  // doubled
      out += c;
      ++i;
      continue;
    }
    if (c != '\\' || i == body.size()) {
      out += c;
      continue;
    }
    const char e = body[i++];
    switch (e) {
      case 'b':
        out += '\b';
        break;
      case 'f':
        out += '\f';
        break;
      case 'n':
        out += '\n';
        break;
      case 'r':
        out += '\r';
        break;
      case 't':
        out += '\t';
        break;
      case 'x': {
        int value = 0;
        size_t digits = 0;
        for (; digits < 2 && i < body.size() && HexValue(body[i]) >= 0; ++digits) {
          value = value * 16 + HexValue(body[i++]);
        }
        out += digits == 0 ? 'x' : static_cast<char>(value);
        break;
      }
      case 'u':
      case 'U':
        return std::nullopt;  // DuckDB does not implement them either
      default:
        if (e >= '0' && e <= '7') {
          int value = e - '0';
          for (int digits = 1; digits < 3 && i < body.size() && body[i] >= '0' && body[i] <= '7';
               ++digits) {
            value = value * 8 + (body[i++] - '0');
          }
          out += static_cast<char>(value);
        } else {
          out += e;
        }
    }
  }
  return out;
}

// digits [. digits] [e [+-] digits], or . digits [...]; pos is at a digit or at '.'.
size_t NumberEnd(std::string_view sql, size_t pos) {
  size_t i = pos;
  while (i < sql.size() && IsDigit(sql[i])) ++i;
  if (i < sql.size() && sql[i] == '.') {
    ++i;
    while (i < sql.size() && IsDigit(sql[i])) ++i;
  }
  if (i < sql.size() && (sql[i] == 'e' || sql[i] == 'E')) {
    size_t exponent = i + 1;
    if (exponent < sql.size() && (sql[exponent] == '+' || sql[exponent] == '-')) ++exponent;
    if (exponent < sql.size() && IsDigit(sql[exponent])) {
      i = exponent;
      while (i < sql.size() && IsDigit(sql[i])) ++i;
    }
  }
  return i;
}

Token QuotedToken(std::string_view sql, size_t pos, const Span& span) {
  const std::string_view source = sql.substr(pos, span.end - pos);
  if (!span.terminated) {
    const char* what = span.kind == SpanKind::kQuotedIdentifier ? "quoted identifier"
                       : span.kind == SpanKind::kBlockComment   ? "comment"
                                                                : "string literal";
    return {TokenKind::kInvalid, std::string("Unterminated ") + what, source};
  }
  const std::string_view body = sql.substr(span.body_begin, span.body_end - span.body_begin);
  switch (span.kind) {
    case SpanKind::kQuotedIdentifier:
      return {TokenKind::kQuotedIdentifier, Undouble(body, '"'), source};
    case SpanKind::kEscapeString:
      if (std::optional<std::string> text = Unescape(body)) {
        return {TokenKind::kString, std::move(*text), source};
      }
      return {TokenKind::kInvalid,
              "Unicode escapes (\\u, \\U) are not supported in string literals", source};
    case SpanKind::kDollarQuoted:
      return {TokenKind::kString, std::string(body), source};
    default:
      return {TokenKind::kString, Undouble(body, '\''), source};
  }
}

}  // namespace

bool IsComment(SpanKind kind) {
  return kind == SpanKind::kLineComment || kind == SpanKind::kBlockComment;
}

bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

bool IsIdentifierStart(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
         static_cast<unsigned char>(c) >= 0x80;
}

bool IsIdentifierChar(char c) { return IsIdentifierStart(c) || IsDigit(c) || c == '$'; }

std::optional<Span> SpanAt(std::string_view sql, size_t pos) {
  const char c = sql[pos];
  const char next = pos + 1 < sql.size() ? sql[pos + 1] : '\0';
  const bool word_boundary = pos == 0 || !IsIdentifierChar(sql[pos - 1]);
  switch (c) {
    case '\'':
      return QuotedSpan(sql, SpanKind::kString, pos + 1, '\'', false);
    case '"':
      return QuotedSpan(sql, SpanKind::kQuotedIdentifier, pos + 1, '"', false);
    case 'E':
    case 'e':
      if (next == '\'' && word_boundary) {
        return QuotedSpan(sql, SpanKind::kEscapeString, pos + 2, '\'', true);
      }
      return std::nullopt;
    case '$':
      return word_boundary ? DollarQuoted(sql, pos) : std::nullopt;
    case '-':
      if (next == '-') {
        const size_t newline = std::min(sql.find('\n', pos), sql.size());
        return Span{SpanKind::kLineComment, pos + 2, newline, newline, true};
      }
      return std::nullopt;
    case '/':
      return next == '*' ? std::optional<Span>(BlockComment(sql, pos)) : std::nullopt;
    default:
      return std::nullopt;
  }
}

Lexeme NextLexeme(std::string_view sql, size_t& pos) {
  while (pos < sql.size()) {
    const size_t start = pos;
    const char c = sql[pos];
    if (IsSpace(c)) {
      ++pos;
    } else if (std::optional<Span> span = SpanAt(sql, pos)) {
      pos = span->end;
      if (IsComment(span->kind) && span->terminated) continue;
      // A quoted token, or an unterminated comment (invalid): its kind as Tokenize says.
      TokenKind kind = TokenKind::kInvalid;
      if (span->terminated) kind = span->kind == SpanKind::kQuotedIdentifier ? TokenKind::kQuotedIdentifier : TokenKind::kString;
      return {kind, sql.substr(start, pos - start), span};
    } else if (IsIdentifierStart(c)) {
      ++pos;
      while (pos < sql.size() && IsIdentifierChar(sql[pos])) ++pos;
      return {TokenKind::kWord, sql.substr(start, pos - start), std::nullopt};
    } else if (IsDigit(c) || (c == '.' && pos + 1 < sql.size() && IsDigit(sql[pos + 1]))) {
      pos = NumberEnd(sql, pos);
      return {TokenKind::kNumber, sql.substr(start, pos - start), std::nullopt};
    } else {
      ++pos;
      return {TokenKind::kSymbol, sql.substr(start, 1), std::nullopt};
    }
  }
  return {TokenKind::kEnd, sql.substr(sql.size()), std::nullopt};
}

std::vector<Token> Tokenize(std::string_view sql) {
  std::vector<Token> tokens;
  size_t pos = 0;
  while (true) {
    const Lexeme lexeme = NextLexeme(sql, pos);
    if (lexeme.span) {
      // Quoted text: its value (escapes resolved), or why it is invalid.
      tokens.push_back(QuotedToken(sql, pos - lexeme.source.size(), *lexeme.span));
    } else {
      tokens.push_back({lexeme.kind, std::string(lexeme.source), lexeme.source});
    }
    if (lexeme.kind == TokenKind::kEnd) break;
  }
  return tokens;
}

std::string StripComments(std::string_view sql) {
  std::string out;
  out.reserve(sql.size());
  size_t pos = 0;
  while (pos < sql.size()) {
    if (std::optional<Span> span = SpanAt(sql, pos)) {
      if (IsComment(span->kind) && span->terminated) {
        out += ' ';
      } else {
        out.append(sql.substr(pos, span->end - pos));
      }
      pos = span->end;
      continue;
    }
    out += sql[pos++];
  }
  return out;
}

}  // namespace kalam::sql
