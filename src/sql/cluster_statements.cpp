// CLUSTER STATUS and CLUSTER LIST: the cluster as this node sees it, read from
// system.cluster_nodes (so dba and system only, like the table).
#include "common/text.h"
#include "sql/executor.h"

namespace kalam::sql {

Result<StatementResult> Executor::Run(const Scope& scope, const ClusterStatus&) {
  const ClusterSummary s = cluster_summary_ ? cluster_summary_() : ClusterSummary{"standalone", "node-1", "", 0, 0};
  return Query(scope, "SELECT " + SqlString(s.mode) + " AS mode, " + SqlString(s.node_id) +
                          " AS node_id, count(*) FILTER (WHERE state = 'alive') AS nodes_alive, "
                          "count(*) AS nodes, " +
                          std::to_string(s.shards) + "::BIGINT AS shards, " +
                          std::to_string(s.replication_factor) + "::BIGINT AS replication_factor, " +
                          (s.etcd.empty() ? std::string("NULL::VARCHAR") : SqlString(s.etcd)) +
                          " AS etcd FROM system.cluster_nodes");
}

Result<StatementResult> Executor::Run(const Scope& scope, const ClusterList&) {
  return Query(scope, "SELECT * FROM system.cluster_nodes ORDER BY node_id");
}

}  // namespace kalam::sql
