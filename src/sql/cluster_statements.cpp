// CLUSTER STATUS and CLUSTER LIST: the cluster as this node sees it, read from
// system.cluster_nodes (so dba and system only, like the table); CLUSTER DRAIN and
// UNDRAIN.
#include "auth/table_access.h"
#include "common/text.h"
#include "sql/executor.h"
#include "sql/replies.h"

namespace kalam::sql {

Result<StatementResult> Executor::Run(const Scope& scope, const ClusterStatus&) {
  const ClusterSummary s = cluster_summary_ ? cluster_summary_() : ClusterSummary{"standalone", "node-1", "", 0, 0};
  return Query(scope, "SELECT " + SqlString(s.mode) + " AS mode, " + SqlString(s.node_id) +
                          " AS node_id, count(*) FILTER (WHERE state IN ('alive', 'draining')) AS nodes_alive, "
                          "count(*) AS nodes, " +
                          std::to_string(s.shards) + "::BIGINT AS shards, " +
                          std::to_string(s.replication_factor) + "::BIGINT AS replication_factor, " +
                          (s.etcd.empty() ? std::string("NULL::VARCHAR") : SqlString(s.etcd)) +
                          " AS etcd FROM system.cluster_nodes");
}

Result<StatementResult> Executor::Run(const Scope& scope, const ClusterList&) {
  return Query(scope, "SELECT * FROM system.cluster_nodes ORDER BY node_id");
}

Result<StatementResult> Executor::Run(const Scope& scope, const ClusterDrain& stmt) {
  if (!auth::IsAdmin(scope.caller.role)) return Denied(scope.caller, stmt.draining ? "drain nodes" : "undrain nodes");
  if (!drainer_) return Status(Code::kUnsupported, "A single server has no replicas to move: CLUSTER DRAIN is for cluster mode");
  KALAM_RETURN_IF_ERROR(drainer_(stmt.node_id, stmt.draining));
  return Done(stmt.draining ? "Node '" + stmt.node_id + "' is draining: its replicas move to other nodes (CLUSTER LIST)"
                            : "Node '" + stmt.node_id + "' takes replicas again");
}

}  // namespace kalam::sql
