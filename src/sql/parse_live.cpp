// SUBSCRIBE TO t [WHERE cond] [OPTIONS (name = n, ...)], KILL LIVE QUERY 'live_id'.
#include "sql/statement_parser.h"

namespace kalam::sql {

Result<KalamStatement> StatementParser::ParseSubscribeTo() {
  SubscribeTo subscribe;
  Result<TableName> table = QualifiedName(After(""));
  if (!table.ok()) return table.status();
  subscribe.table = std::move(*table);
  if (Accept("WHERE")) {
    // The condition runs up to OPTIONS ( at the top level, or the end. Strings, quoted
    // names and parentheses are tokens here, so an 'OPTIONS (...)' inside them is no clause.
    const size_t first = next_;
    int depth = 0;
    while (!AtEnd()) {
      if (depth == 0 && PeekKeyword("OPTIONS") && IsSymbol(Peek(1), '(')) break;
      if (IsSymbol(Peek(), '(')) ++depth;
      if (IsSymbol(Peek(), ')')) --depth;
      Take();
    }
    subscribe.where_sql = std::string(SourceBetween(first, next_));
    if (subscribe.where_sql.empty()) return Fail("a condition", After("WHERE"));
  }
  if (Accept("OPTIONS")) {
    KALAM_RETURN_IF_ERROR(OptionList("OPTIONS", [&](std::string key, const std::string& option) {
      Result<int64_t> value = Integer(0, After("'=' of " + option));
      if (!value.ok()) return value.status();
      subscribe.options.emplace_back(std::move(key), *value);
      return Status::Ok();
    }));
  }
  if (!AtEnd()) return Fail("WHERE, OPTIONS or the end", After("the table name"));
  return KalamStatement(std::move(subscribe));
}

Result<KalamStatement> StatementParser::ParseKillLiveQuery() {
  Result<std::string> id = String("live query id", After(""));
  if (!id.ok()) return id.status();
  return KalamStatement(KillLiveQuery{std::move(*id)});
}

}  // namespace kalam::sql
