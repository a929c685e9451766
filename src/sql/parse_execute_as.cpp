// EXECUTE AS USER 'name' ( statement ) and EXECUTE AS 'user_id or name' ( statement ).
#include "sql/statement_parser.h"

namespace kalam::sql {

Result<KalamStatement> StatementParser::ParseExecuteAsUser() {
  Result<KalamStatement> parsed = ParseExecuteAs();
  if (parsed.ok()) std::get<ExecuteAs>(*parsed).by_name_only = true;
  return parsed;
}

Result<KalamStatement> StatementParser::ParseExecuteAs() {
  ExecuteAs execute;
  Result<std::string> user = String("user", After(""));
  if (!user.ok()) return user.status();
  execute.user = std::move(*user);
  if (!IsSymbol(Peek(), '(')) return Fail("'(' and a statement", After("the user"));
  const size_t open = next_;
  const size_t close = ClosingParen(open);
  if (close == tokens_.size() - 1) return Fail("')' closing the statement", After("'('"));
  execute.statement = std::string(Trim(SourceBetween(open + 1, close)));
  if (execute.statement.empty()) return Fail("a statement", After("'('"));
  next_ = close + 1;
  return KalamStatement(std::move(execute));
}

}  // namespace kalam::sql
