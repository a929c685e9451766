#include "sql/executor.h"

#include <chrono>

#include "catalog/catalog.h"
#include "common/sql_lexer.h"
#include "live/hub.h"
#include "sql/replies.h"
#include "sql/splitter.h"
#include "store/committer.h"
#include "store/row_codec.h"
#include "topics/topics.h"

namespace kalam::sql {
namespace {

using auth::Caller;
using auth::Role;

// Who may run a statement as whom: system → anyone; dba → dba, service, user;
// service → service, user; user → only themself.
bool MayActAs(const Caller& caller, const catalog::User& target) {
  if (caller.user_id == target.user_id) return true;
  switch (caller.role) {
    case Role::kSystem: return true;
    case Role::kDba: return target.role <= Role::kDba;
    case Role::kService: return target.role <= Role::kService;
    case Role::kUser: return false;
  }
  return false;
}

}  // namespace

BatchResult Executor::Execute(const Caller& caller, const BatchRequest& request) {
  Session session(session_limits());
  BatchResult batch = Execute(caller, request, session);
  if (batch.error.ok() && session.state() != Session::State::kIdle) {
    batch.error = {Code::kTransactionAborted,
                   "The request ended inside a transaction (BEGIN without COMMIT): it was rolled back"};
  }
  return batch;
}

BatchResult Executor::Execute(const Caller& caller, const BatchRequest& request, Session& session) {
  BatchResult batch;
  session.set_freshness(request.freshness);
  std::vector<std::string> statements = SplitStatements(request.sql);
  if (statements.empty()) {
    batch.error = {Code::kEmptySql, "The request holds no SQL statement"};
    return batch;
  }
  if (request.params && statements.size() > 1) {
    batch.error = {Code::kParamsWithBatch, "Parameters can be used with a single statement only"};
    return batch;
  }
  // The 1-based index of the BEGIN of the transaction open now (0: none, or begun in an
  // earlier batch).
  size_t begun_at = 0;
  for (size_t i = 0; i < statements.size(); ++i) {
    const bool in_transaction = session.state() != Session::State::kIdle;
    std::string sql = std::move(statements[i]);
    Status bind = Status::Ok();
    if (request.params) {
      auto bound = BindParams(sql, *request.params);
      if (bound.ok()) {
        sql = std::move(bound).value();
      } else {
        bind = bound.status();
      }
    }
    Result<StatementResult> result = bind;
    if (bind.ok()) {
      const auto started = std::chrono::steady_clock::now();
      const auto running = running_.Start(caller, sql, request.cancellation);
      const Cancellation& cancellation = running.cancellation();
      result = cancellation.cancelled()
                   ? Result<StatementResult>(CancelledStatus(cancellation.reason()))
                   : RunStatement(caller, sql, request.default_namespace, session, cancellation);
      // Cluster mode: a name made through another node a moment ago may not have reached
      // this one yet (its announcement lost or late). Asked once more after catching up
      // with the shared catalog; outside a transaction only, where a failed statement
      // left nothing behind.
      if (!result.ok() && result.status().code() == Code::kNotFound && !in_transaction &&
          session.state() == Session::State::kIdle && !cancellation.cancelled() && catalog_.CaughtUpWithNewer()) {
        result = RunStatement(caller, sql, request.default_namespace, session, cancellation);
      }
      if (observer_) {
        observer_(sql, result.status().code(),
                  std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
      }
    }
    if (result.ok()) {
      Status within = session.AfterStatement();
      if (!within.ok()) result = within;
    }
    if (!result.ok()) {
      session.Fail(result.status());  // inside a transaction, an error aborts it
      batch.error = result.status();
      batch.statement_index = i + 1;
      batch.replay_from = in_transaction ? begun_at : i + 1;
      return batch;
    }
    if (!in_transaction && session.state() != Session::State::kIdle) begun_at = i + 1;
    batch.results.push_back(std::move(result).value());
  }
  return batch;
}

namespace {

// What may run inside a transaction besides queries and data changes: reads of the
// catalog, EXECUTE AS, and the statements that begin and end it. DDL, FLUSH, KILL, user
// and storage management, SUBSCRIBE TO, BACKUP and RESTORE may not.
bool RunsInTransaction(const KalamStatement& statement) {
  return std::holds_alternative<ShowNamespaces>(statement) ||
         std::holds_alternative<ShowStorages>(statement) ||
         std::holds_alternative<ShowTables>(statement) ||
         std::holds_alternative<DescribeTable>(statement) ||
         std::holds_alternative<ShowStats>(statement) ||
         std::holds_alternative<ExecuteAs>(statement) ||
         std::holds_alternative<BeginTransaction>(statement) ||
         std::holds_alternative<CommitTransaction>(statement) ||
         std::holds_alternative<RollbackTransaction>(statement);
}

bool EndsTransaction(const KalamStatement& statement) {
  return std::holds_alternative<CommitTransaction>(statement) ||
         std::holds_alternative<RollbackTransaction>(statement);
}

}  // namespace

Result<StatementResult> Executor::RunStatement(const Caller& caller, const std::string& text,
                                               const std::string& default_namespace,
                                               Session& session, const Cancellation& cancellation,
                                               bool acting_as) {
  // Without comments: DuckDB's lexer takes quadratic time over many block comments. Most
  // statements have none, and are not copied.
  const bool may_have_comments =
      text.find("--") != std::string::npos || text.find("/*") != std::string::npos;
  const std::string stripped = may_have_comments ? StripComments(text) : std::string();
  const std::string& sql = may_have_comments ? stripped : text;
  auto parsed = ParseKalamStatement(sql);
  if (!parsed.ok()) return parsed.status();
  if (!parsed->has_value() || !EndsTransaction(parsed->value())) {
    KALAM_RETURN_IF_ERROR(session.BeforeStatement());
  }
  if (!parsed->has_value()) {
    query::QueryContext context{caller, default_namespace, session.transaction(), &cancellation, session.freshness()};
    // A dba's or system's query reads every user's rows of USER and STREAM tables.
    context.every_user = IsAdmin(caller.role) && !acting_as;
    auto outcome = engine_.Execute(context, sql);
    if (!outcome.ok()) return outcome.status();
    // Cluster mode: the changes it routed to topics are there before it returns (a table
    // no topic sources waits for nothing).
    if (outcome->wrote && (outcome->written_table.empty() || topics_.Sourced(outcome->written_table))) {
      topics_.AwaitDelivered();
    }
    StatementResult r;
    r.rows = std::move(outcome->rows);
    r.row_count = outcome->row_count;
    r.message = std::move(outcome->message);
    return r;
  }
  if (session.state() != Session::State::kIdle && !RunsInTransaction(parsed->value())) {
    return Status(Code::kUnsupported,
                  "Inside a transaction only queries, INSERT, UPDATE, DELETE, SHOW, DESCRIBE and "
                  "EXECUTE AS run (not DDL, FLUSH, KILL, user or storage management, SUBSCRIBE, "
                  "BACKUP or RESTORE); the transaction was aborted");
  }
  const Scope scope{caller, default_namespace, session, cancellation};
  return std::visit([&](const auto& stmt) { return Run(scope, stmt); }, parsed->value());
}

Result<StatementResult> Executor::Run(const Scope& scope, const BeginTransaction& stmt) {
  if (scope.session.state() != Session::State::kIdle) {
    return Done("A transaction is already in progress");
  }
  scope.session.Begin(store_, committer_, stmt.read_only);
  return Done("Transaction started");
}

Result<StatementResult> Executor::Run(const Scope& scope, const CommitTransaction&) {
  switch (scope.session.state()) {
    case Session::State::kIdle:
      return Done("No transaction in progress");
    case Session::State::kFailed:
      scope.session.End();
      return Status(Code::kTransactionAborted,
                    "The transaction was aborted by an earlier error and rolled back; nothing was committed");
    case Session::State::kInTransaction:
      break;
  }
  std::unique_ptr<store::Transaction> transaction = scope.session.Take();
  KALAM_RETURN_IF_ERROR(engine_.Commit(*transaction));
  topics_.AwaitDelivered();
  return Done("Transaction committed");
}

Result<StatementResult> Executor::Run(const Scope& scope, const RollbackTransaction&) {
  if (scope.session.state() == Session::State::kIdle) return Done("No transaction in progress");
  scope.session.End();
  return Done("Transaction rolled back");
}

// The user is a user id or, failing that, a user name (only a name in the USER form).
Result<StatementResult> Executor::Run(const Scope& scope, const ExecuteAs& stmt) {
  auto state = catalog_.snapshot();
  const catalog::User* target = stmt.by_name_only ? nullptr : state->FindUser(stmt.user);
  if (target == nullptr || target->deleted()) target = state->FindUserByName(stmt.user);
  if (target == nullptr || target->deleted()) {
    return Status(Code::kNotFound, "User '" + stmt.user + "' does not exist");
  }
  if (!MayActAs(scope.caller, *target)) return Denied(scope.caller, "execute as '" + stmt.user + "'");
  auto inner = ParseKalamStatement(stmt.statement);
  if (inner.ok() && inner->has_value() && std::holds_alternative<ExecuteAs>(inner->value())) {
    return Status(Code::kInvalidSql, "EXECUTE AS can't be nested");
  }
  const Caller as{target->user_id, target->username, target->role};
  auto result = RunStatement(as, stmt.statement, scope.default_namespace, scope.session, scope.cancellation,
                             /*acting_as=*/true);
  if (result.ok()) result->as_user = target->user_id;
  return result;
}

Result<StatementResult> Executor::Query(const Scope& scope, const std::string& select) {
  auto rows = engine_.Query(
      {scope.caller, scope.default_namespace, scope.session.transaction(), &scope.cancellation,
       scope.session.freshness()},
      select);
  if (!rows.ok()) return rows.status();
  StatementResult r;
  r.row_count = rows->row_count;
  r.rows = std::move(rows).value();
  return r;
}

Status Executor::ForgetTable(const catalog::TableDef& table) {
  KALAM_RETURN_IF_ERROR(RemoveRows(table.table_num));
  hub_.DropTable(table.id());
  CleanUpFiles(table);
  return Status::Ok();
}

Status Executor::RemoveRows(uint64_t table_num) {
  // Every replica removes its own copy (no other table ever has the number again).
  return committer_.CommitLocal([&](store::CommitContext& commit) {
    for (auto family : {store::Family::kHot, store::Family::kStream}) {
      commit.DeleteRange(family, store::TablePrefix(table_num), store::TablePrefix(table_num + 1));
    }
    commit.DeleteRange(store::Family::kHot, store::MarkerTablePrefix(table_num),
                       store::MarkerTablePrefix(table_num + 1));
    return Status::Ok();
  });
}


Result<StatementResult> Executor::Run(const Scope& scope, const CreateNamespace& stmt) {
  if (!auth::MayRunDdl(scope.caller.role)) return Denied(scope.caller, "create namespaces");
  if (stmt.if_not_exists && catalog_.snapshot()->namespaces.contains(stmt.name)) {
    return Done("Namespace '" + stmt.name + "' already exists");
  }
  KALAM_RETURN_IF_ERROR(catalog_.CreateNamespace(stmt.name, stmt.if_not_exists));
  return Done("Namespace '" + stmt.name + "' created");
}

Result<StatementResult> Executor::Run(const Scope& scope, const DropNamespace& stmt) {
  if (!auth::MayRunDdl(scope.caller.role)) return Denied(scope.caller, "drop namespaces");
  if (stmt.if_exists && !catalog_.snapshot()->namespaces.contains(stmt.name)) {
    return Done("Namespace '" + stmt.name + "' does not exist");
  }
  auto dropped = catalog_.DropNamespace(stmt.name, stmt.if_exists, stmt.cascade);
  if (!dropped.ok()) return dropped.status();
  for (const auto& table : *dropped) KALAM_RETURN_IF_ERROR(ForgetTable(table));
  return Done("Namespace '" + stmt.name + "' dropped");
}

Result<StatementResult> Executor::Run(const Scope& scope, const AlterNamespace& stmt) {
  if (!auth::MayRunDdl(scope.caller.role)) return Denied(scope.caller, "alter namespaces");
  std::map<std::string, std::string> options(stmt.options.begin(), stmt.options.end());
  KALAM_RETURN_IF_ERROR(catalog_.SetNamespaceOptions(stmt.name, options));
  return Done("Namespace '" + stmt.name + "' altered");
}

Result<StatementResult> Executor::Run(const Scope& scope, const ShowNamespaces&) {
  return Query(scope,
               "SELECT namespace_id, name, options, table_count, created_at "
               "FROM system.namespaces ORDER BY namespace_id");
}

Result<StatementResult> Executor::Run(const Scope& scope, const ShowStorages&) {
  return Query(scope, "SELECT * FROM system.storages ORDER BY storage_id");
}


}  // namespace kalam::sql
