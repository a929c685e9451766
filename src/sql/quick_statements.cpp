#include "sql/quick_statements.h"

#include <algorithm>
#include <optional>

#include "common/sql_lexer.h"

namespace kalam::sql {

// One pass, no tokens built: this runs for every request, on the I/O thread.
std::string StatementShape(std::string_view statement) {
  std::string shape;
  shape.reserve(std::min<size_t>(statement.size(), 1024));
  auto is_digit = [](char c) { return c >= '0' && c <= '9'; };
  size_t pos = 0;
  const size_t size = statement.size();
  while (pos < size) {
    const char c = statement[pos];
    if (IsSpace(c)) {
      ++pos;
      continue;
    }
    if (std::optional<Span> span = SpanAt(statement, pos)) {
      if (span->kind == SpanKind::kQuotedIdentifier) {
        shape.append(statement.substr(pos, span->end - pos));
      } else if (!IsComment(span->kind)) {
        shape += '?';
      }
      pos = span->end;
      if (!IsComment(span->kind)) shape += ' ';
      continue;
    }
    if (is_digit(c) || (c == '.' && pos + 1 < size && is_digit(statement[pos + 1]))) {
      // A number: digits, a point, an exponent with its sign.
      while (pos < size) {
        const char d = statement[pos];
        if (is_digit(d) || d == '.') {
          ++pos;
        } else if ((d == 'e' || d == 'E') && pos + 1 < size &&
                   (is_digit(statement[pos + 1]) ||
                    ((statement[pos + 1] == '-' || statement[pos + 1] == '+') && pos + 2 < size &&
                     is_digit(statement[pos + 2])))) {
          pos += 2;
        } else {
          break;
        }
      }
      shape += "? ";
      continue;
    }
    const size_t start = pos++;
    if (IsIdentifierStart(c)) {
      while (pos < size && IsIdentifierChar(statement[pos])) ++pos;
    }
    shape.append(statement.substr(start, pos - start));
    shape += ' ';
  }
  return shape;
}

bool QuickStatements::IsQuick(const std::string& key) const {
  auto found = runs_.find(key);
  return found != runs_.end() && found->second >= kRunsToInline;
}

void QuickStatements::Note(const std::string& key, Clock::duration took) {
  if (runs_.size() >= kMaxKeys && !runs_.contains(key)) runs_.clear();
  int& runs = runs_[key];
  runs = took <= kQuick ? std::min(runs + 1, kRunsToInline) : -kRunsToInline;
}

}  // namespace kalam::sql
