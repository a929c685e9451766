// Rows of the system tables whose data lives outside the catalog (live queries, running
// statements, jobs, topics), for a caller: admins see every live query and statement, others their
// own.
#pragma once

#include <duckdb.hpp>
#include <vector>

#include "query/engine.h"
#include "query/system_tables.h"

namespace kalam::query {

// Whether the caller sees a row that belongs to owner (a user_id).
inline bool SeesRowOf(const auth::Caller& caller, const std::string& owner) {
  return auth::IsAdmin(caller.role) || owner == caller.user_id;
}

inline std::vector<Row> LiveQueryRows(const std::vector<LiveQueryRow>& live,
                                      const auth::Caller& caller) {
  std::vector<Row> rows;
  for (const auto& q : live) {
    if (!SeesRowOf(caller, q.user_id)) continue;
    rows.push_back({duckdb::Value(q.live_id), duckdb::Value(q.connection_id),
                    duckdb::Value(q.subscription_id), duckdb::Value(q.namespace_id),
                    duckdb::Value(q.table_name), duckdb::Value(q.user_id), duckdb::Value(q.query),
                    duckdb::Value(q.options_json),
                    duckdb::Value::TIMESTAMP(duckdb::timestamp_t(q.created_at)),
                    duckdb::Value::TIMESTAMP(duckdb::timestamp_t(q.last_update)),
                    duckdb::Value::BIGINT(q.changes), duckdb::Value(q.node)});
  }
  return rows;
}

inline std::vector<Row> RunningQueryRows(const std::vector<RunningQueryRow>& running,
                                         const auth::Caller& caller) {
  std::vector<Row> rows;
  for (const auto& q : running) {
    if (!SeesRowOf(caller, q.user_id)) continue;
    rows.push_back({duckdb::Value(q.query_id), duckdb::Value(q.query), duckdb::Value(q.user_id),
                    duckdb::Value(q.username),
                    duckdb::Value::TIMESTAMP(duckdb::timestamp_t(q.started_at)),
                    duckdb::Value::BIGINT(q.elapsed_ms)});
  }
  return rows;
}

// system.jobs rows (readers are service and above: the guard checked).
inline std::vector<Row> JobRows(const std::vector<JobRow>& jobs) {
  auto text = [](const std::string& s) {
    return s.empty() ? duckdb::Value(duckdb::LogicalType::VARCHAR) : duckdb::Value(s);
  };
  auto time = [](int64_t micros) {
    return micros == 0 ? duckdb::Value(duckdb::LogicalType::TIMESTAMP)
                       : duckdb::Value::TIMESTAMP(duckdb::timestamp_t(micros));
  };
  std::vector<Row> rows;
  for (const auto& j : jobs) {
    rows.push_back({duckdb::Value(j.job_id), duckdb::Value(j.job_type), duckdb::Value(j.status),
                    text(j.namespace_id), text(j.table_name), text(j.parameters), text(j.result),
                    text(j.error_message), time(j.created_at), time(j.started_at),
                    time(j.completed_at), duckdb::Value(j.node_id)});
  }
  return rows;
}

// system.topics rows (readers are service and above: the guard checked).
inline std::vector<Row> TopicRows(const std::vector<TopicRow>& topics) {
  std::vector<Row> rows;
  for (const auto& t : topics) {
    rows.push_back({duckdb::Value(t.topic_id), duckdb::Value::INTEGER(t.partitions),
                    duckdb::Value(t.sources_json), duckdb::Value::BIGINT(t.message_count),
                    duckdb::Value::TIMESTAMP(duckdb::timestamp_t(t.created_at))});
  }
  return rows;
}

// system.topic_offsets rows (readers are service and above).
inline std::vector<Row> TopicOffsetRows(const std::vector<TopicOffsetRow>& offsets) {
  std::vector<Row> rows;
  for (const auto& o : offsets) {
    rows.push_back({duckdb::Value(o.topic_id), duckdb::Value(o.group_id),
                    duckdb::Value::INTEGER(o.partition_id), duckdb::Value::BIGINT(o.committed_offset),
                    o.reserved_until_ms == 0
                        ? duckdb::Value(duckdb::LogicalType::TIMESTAMP)
                        : duckdb::Value::TIMESTAMP(duckdb::timestamp_t(o.reserved_until_ms * 1000)),
                    duckdb::Value::TIMESTAMP(duckdb::timestamp_t(o.updated_at))});
  }
  return rows;
}

// system.cluster_nodes rows (readers are dba and system).
inline std::vector<Row> ClusterNodeRows(const std::vector<ClusterNodeRow>& nodes) {
  std::vector<Row> rows;
  for (const auto& n : nodes) {
    rows.push_back({duckdb::Value(n.node_id), duckdb::Value(n.address), duckdb::Value(n.state),
                    duckdb::Value::BIGINT(n.shards_led), duckdb::Value::BIGINT(n.shards_held),
                    n.last_heartbeat == 0 ? duckdb::Value(duckdb::LogicalType::TIMESTAMP)
                                          : duckdb::Value::TIMESTAMP(duckdb::timestamp_t(n.last_heartbeat))});
  }
  return rows;
}

// system.shards rows (readers are dba and system).
inline std::vector<Row> ShardRows(const std::vector<ShardRow>& shards) {
  std::vector<Row> rows;
  for (const auto& s : shards) {
    rows.push_back({duckdb::Value::INTEGER(s.shard_id),
                    s.leader.empty() ? duckdb::Value(duckdb::LogicalType::VARCHAR) : duckdb::Value(s.leader),
                    duckdb::Value(s.replicas_json), duckdb::Value::BIGINT(s.applied_index),
                    duckdb::Value::BIGINT(s.lag)});
  }
  return rows;
}

}  // namespace kalam::query
