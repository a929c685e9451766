#include "sql/quick_statements.h"

#include <algorithm>

#include "common/sql_lexer.h"

namespace kalam::sql {

std::string StatementShape(std::string_view statement) {
  std::string shape;
  shape.reserve(statement.size());
  for (const Token& token : Tokenize(statement)) {
    if (token.kind == TokenKind::kEnd) break;
    if (token.kind == TokenKind::kNumber || token.kind == TokenKind::kString) {
      shape += '?';
    } else {
      shape += token.source;
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
