#include "sql/splitter.h"

#include "common/sql_lexer.h"
#include "common/text.h"

namespace kalam::sql {

std::vector<std::string> SplitStatements(std::string_view sql) {
  std::vector<std::string> statements;
  size_t start = 0;      // where the current statement begins
  bool has_sql = false;  // it holds more than whitespace and comments
  auto finish = [&](size_t end) {
    if (has_sql) statements.emplace_back(Trim(sql.substr(start, end - start)));
    start = end + 1;
    has_sql = false;
  };

  size_t pos = 0;
  while (pos < sql.size()) {
    if (std::optional<Span> span = SpanAt(sql, pos)) {
      // An unterminated quote or comment runs to the end: the rest is one statement, kept
      // even when it is an unterminated comment so that DuckDB reports it.
      has_sql = has_sql || !IsComment(span->kind) || !span->terminated;
      pos = span->end;
      continue;
    }
    if (sql[pos] == ';') {
      finish(pos);
    } else if (!IsSpace(sql[pos])) {
      has_sql = true;
    }
    ++pos;
  }
  finish(sql.size());
  return statements;
}

}  // namespace kalam::sql
