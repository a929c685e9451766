// KILL QUERY: cancels a statement of system.running_queries. The statement answers
// QUERY_CANCELLED and applies nothing; KILL QUERY answers at once, without waiting for it.
#include "sql/executor.h"
#include "sql/replies.h"

namespace kalam::sql {

Result<StatementResult> Executor::Run(const Scope& scope, const KillQuery& stmt) {
  KALAM_RETURN_IF_ERROR(running_.Kill(stmt.query_id, scope.caller));
  return Done("Query '" + stmt.query_id + "' cancelled", 1);
}

}  // namespace kalam::sql
