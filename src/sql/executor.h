// The executor: runs a batch of SQL for a caller. It splits the batch, binds parameters,
// sends KalamDB's own statements to their handlers and everything else to the query
// engine, and stops at the first failure (statements before it stay applied, unless they
// are inside a transaction, which the failure aborts).
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "auth/caller.h"
#include "catalog/models.h"
#include "common/config.h"
#include "common/status.h"
#include "query/engine.h"
#include "sql/kalam_statement.h"
#include "sql/params.h"
#include "sql/running_statements.h"
#include "sql/session.h"

namespace kalam::catalog {
class Catalog;
}
namespace kalam::store {
class KvStore;
class Committer;
}
namespace kalam::live {
class LiveHub;
}
namespace kalam::jobs {
class JobManager;
}
namespace kalam::topics {
class Topics;
}

namespace kalam::sql {

struct StatementResult {
  std::optional<query::RowSet> rows;  // set for row-returning statements
  uint64_t row_count = 0;             // rows affected, for the others
  std::string message;
  std::optional<std::string> as_user;  // EXECUTE AS: whose scope the statement ran in
};

struct BatchResult {
  std::vector<StatementResult> results;  // the statements that succeeded, in order
  Status error;                          // the failure that stopped the batch, if any
  size_t statement_index = 0;            // 1-based index of the failed statement; 0: none
  // Where a replay of the batch on another node (cluster mode: the failed statement's
  // shard is led elsewhere) must start: the failed statement, or the BEGIN of the
  // transaction it failed in; 0 when that BEGIN was in an earlier batch.
  size_t replay_from = 0;
};

// What CLUSTER STATUS reports beside the nodes' states.
struct ClusterSummary {
  std::string mode;     // "standalone" or "cluster"
  std::string node_id;  // this node's
  std::string etcd;     // "ok (<endpoint>)", why etcd can't be reached, or "" (standalone)
  int64_t shards = 0, replication_factor = 0;
};

struct BatchRequest {
  std::string_view sql;
  std::optional<std::vector<ParamValue>> params;
  std::string default_namespace = "default";
  // The request's: cancelled when its client goes away (may be null).
  const Cancellation* cancellation = nullptr;
  // Cluster mode: how fresh the rows read must be. kLeader: a read refused names the
  // shard's leader, and the batch's replay_from tells where to send the rest (the HTTP API
  // does).
  query::ReadFreshness freshness = query::ReadFreshness::kReplica;
};

class Executor {
 public:
  Executor(catalog::Catalog& catalog, query::QueryEngine& engine, store::KvStore& store,
           store::Committer& committer, live::LiveHub& hub, jobs::JobManager& jobs,
           topics::Topics& topics, const Config& config)
      : catalog_(catalog),
        engine_(engine),
        store_(store),
        committer_(committer),
        hub_(hub),
        jobs_(jobs),
        topics_(topics),
        config_(config) {}

  // One HTTP request: the batch is its session. A transaction it leaves open (no COMMIT)
  // is rolled back and the batch answers TRANSACTION_ABORTED.
  BatchResult Execute(const auth::Caller& caller, const BatchRequest& request);
  // A batch in a session that outlives it (a Postgres-wire connection): a transaction may
  // span batches.
  BatchResult Execute(const auth::Caller& caller, const BatchRequest& request, Session& session);

  // Called after each statement of a batch with its text, outcome and duration. Set once,
  // before statements run.
  using StatementObserver = std::function<void(std::string_view sql, Code outcome, double seconds)>;
  void SetStatementObserver(StatementObserver observer) { observer_ = std::move(observer); }

  // What dropping a table leaves to do where it is dropped: its rows here removed, its
  // subscriptions ended, its files removed by a cleanup job. Cluster mode: also for a table
  // another node dropped.
  Status ForgetTable(const catalog::TableDef& table);

  // Where CLUSTER STATUS gets this node's view. Set once, before statements run.
  // Cluster mode: marks a node draining or not (CLUSTER DRAIN / UNDRAIN). Set once.
  void SetDrainer(std::function<Status(const std::string& node_id, bool draining)> drainer) {
    drainer_ = std::move(drainer);
  }
  // Cluster mode: SHOW STATS's hot rows of a table, over every shard (this node holds
  // only some). Set once.
  void SetHotRowCounter(std::function<Result<int64_t>(const catalog::TableDef& table)> counter) {
    hot_row_counter_ = std::move(counter);
  }
  void SetClusterSummarySource(std::function<ClusterSummary()> source) {
    cluster_summary_ = std::move(source);
  }

  // The statements running now (system.running_queries, KILL QUERY).
  RunningStatements& running() { return running_; }

  SessionLimits session_limits() const {
    return {config_.limits.max_transaction_rows, config_.limits.idle_in_transaction_timeout_secs};
  }

 private:
  struct Scope {
    const auth::Caller& caller;
    const std::string& default_namespace;
    Session& session;
    const Cancellation& cancellation;
  };

  // acting_as: the statement of an EXECUTE AS, run in that user's own rows.
  Result<StatementResult> RunStatement(const auth::Caller& caller, const std::string& sql,
                                       const std::string& default_namespace, Session& session,
                                       const Cancellation& cancellation, bool acting_as = false);
  Result<StatementResult> Query(const Scope& scope, const std::string& select);
  // Files of a dropped table: removed by a cleanup job.
  void CleanUpFiles(const catalog::TableDef& table);
  Result<StatementResult> StartFlushJobs(const Scope& scope,
                                         const std::vector<const catalog::TableDef*>& tables,
                                         bool compact);

  // KalamDB's own statements, one overload each: namespaces and EXECUTE AS in executor.cpp,
  // the others in <family>_statements.cpp.
  Result<StatementResult> Run(const Scope& scope, const CreateNamespace& stmt);
  Result<StatementResult> Run(const Scope& scope, const DropNamespace& stmt);
  Result<StatementResult> Run(const Scope& scope, const AlterNamespace& stmt);
  Result<StatementResult> Run(const Scope& scope, const ShowNamespaces& stmt);
  Result<StatementResult> Run(const Scope& scope, const ShowStorages& stmt);
  Result<StatementResult> Run(const Scope& scope, const CreateUser& stmt);
  Result<StatementResult> Run(const Scope& scope, const AlterUser& stmt);
  Result<StatementResult> Run(const Scope& scope, const DropUser& stmt);
  Result<StatementResult> Run(const Scope& scope, const CreateTable& stmt);
  Result<StatementResult> Run(const Scope& scope, const DropTable& stmt);
  Result<StatementResult> Run(const Scope& scope, const AlterTable& stmt);
  Result<StatementResult> Run(const Scope& scope, const ShowTables& stmt);
  Result<StatementResult> Run(const Scope& scope, const DescribeTable& stmt);
  Result<StatementResult> Run(const Scope& scope, const ShowStats& stmt);
  Result<StatementResult> Run(const Scope& scope, const CreateStorage& stmt);
  Result<StatementResult> Run(const Scope& scope, const AlterStorage& stmt);
  Result<StatementResult> Run(const Scope& scope, const DropStorage& stmt);
  Result<StatementResult> Run(const Scope& scope, const FlushTable& stmt);
  Result<StatementResult> Run(const Scope& scope, const FlushAllTables& stmt);
  Result<StatementResult> Run(const Scope& scope, const KillJob& stmt);
  Result<StatementResult> Run(const Scope& scope, const SubscribeTo& stmt);
  Result<StatementResult> Run(const Scope& scope, const KillLiveQuery& stmt);
  Result<StatementResult> Run(const Scope& scope, const KillQuery& stmt);
  Result<StatementResult> Run(const Scope& scope, const ExecuteAs& stmt);
  Result<StatementResult> Run(const Scope& scope, const BackupDatabaseTo& stmt);
  Result<StatementResult> Run(const Scope& scope, const RestoreDatabaseFrom& stmt);
  Result<StatementResult> Run(const Scope& scope, const BeginTransaction& stmt);
  Result<StatementResult> Run(const Scope& scope, const CommitTransaction& stmt);
  Result<StatementResult> Run(const Scope& scope, const RollbackTransaction& stmt);
  Result<StatementResult> Run(const Scope& scope, const CreateTopic& stmt);
  Result<StatementResult> Run(const Scope& scope, const DropTopic& stmt);
  Result<StatementResult> Run(const Scope& scope, const ClearTopic& stmt);
  Result<StatementResult> Run(const Scope& scope, const AlterTopicSource& stmt);
  Result<StatementResult> Run(const Scope& scope, const ConsumeFrom& stmt);
  Result<StatementResult> Run(const Scope& scope, const AckTopic& stmt);
  Result<StatementResult> Run(const Scope& scope, const ResetConsumerGroup& stmt);
  Result<StatementResult> Run(const Scope& scope, const ClusterStatus& stmt);
  Result<StatementResult> Run(const Scope& scope, const ClusterList& stmt);
  Result<StatementResult> Run(const Scope& scope, const ClusterDrain& stmt);

  // Removes every row of dropped tables, hot and stream (this node's copy).
  Status RemoveRows(uint64_t table_num);

  catalog::Catalog& catalog_;
  query::QueryEngine& engine_;
  store::KvStore& store_;
  store::Committer& committer_;
  live::LiveHub& hub_;
  jobs::JobManager& jobs_;
  topics::Topics& topics_;
  const Config& config_;
  RunningStatements running_;
  StatementObserver observer_;
  std::function<ClusterSummary()> cluster_summary_;
  std::function<Status(const std::string&, bool)> drainer_;
  std::function<Result<int64_t>(const catalog::TableDef&)> hot_row_counter_;
};

}  // namespace kalam::sql
