#include "sql/quick_statements.h"

#include <algorithm>

#include "common/sql_lexer.h"

namespace kalam::sql {

// One pass, no token text built: this runs for every HTTP request on the I/O thread.
std::string StatementShape(std::string_view statement) {
  std::string shape;
  shape.reserve(std::min<size_t>(statement.size(), 1024));
  size_t pos = 0;
  for (Lexeme lexeme = NextLexeme(statement, pos); lexeme.kind != TokenKind::kEnd;
       lexeme = NextLexeme(statement, pos)) {
    if (lexeme.kind == TokenKind::kNumber || lexeme.kind == TokenKind::kString) {
      shape += '?';
    } else {
      shape += lexeme.source;
    }
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
