// system.live_queries rows for a caller: admins see every subscription, others their own.
#pragma once

#include <duckdb.hpp>
#include <vector>

#include "query/engine.h"
#include "query/system_tables.h"

namespace kalam::query {

inline std::vector<Row> LiveQueryRows(const std::vector<LiveQueryRow>& live,
                                      const auth::Caller& caller) {
  std::vector<Row> rows;
  for (const auto& q : live) {
    if (!auth::IsAdmin(caller.role) && q.user_id != caller.user_id) continue;
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

}  // namespace kalam::query
