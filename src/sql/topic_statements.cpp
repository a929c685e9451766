// CREATE/DROP/CLEAR TOPIC, ALTER TOPIC ... ADD|DROP SOURCE, CONSUME FROM, ACK, RESET
// CONSUMER GROUP: checks of role and names here, the work in topics/.
#include "auth/table_access.h"
#include "catalog/catalog.h"
#include "common/json_text.h"
#include "common/text.h"
#include "sql/executor.h"
#include "sql/replies.h"
#include "topics/topics.h"

namespace kalam::sql {
namespace {

// The topic's id ("ns.name"); the request's namespace when none is written.
std::string TopicId(const TableName& name, const std::string& default_namespace) {
  return (name.ns.empty() ? default_namespace : name.ns) + "." + name.name;
}

topics::StartAt StartOf(const TopicPosition& p) {
  switch (p.kind) {
    case TopicPosition::Kind::kLatest: return {topics::StartAt::Kind::kLatest, 0};
    case TopicPosition::Kind::kEarliest: return {topics::StartAt::Kind::kEarliest, 0};
    case TopicPosition::Kind::kOffset: return {topics::StartAt::Kind::kOffset, p.offset};
  }
  return {};
}

// A PARTITION clause's number (0 when none), refused past the largest partition count.
Result<int32_t> PartitionNumber(std::optional<int64_t> p) {
  if (p && *p >= topics::TopicRegistry::kMaxPartitions) {
    return Status(Code::kInvalidInput, "No topic has partition " + std::to_string(*p));
  }
  return static_cast<int32_t>(p.value_or(0));
}

}  // namespace

Result<StatementResult> Executor::Run(const Scope& scope, const CreateTopic& stmt) {
  if (!auth::MayRunDdl(scope.caller.role)) return Denied(scope.caller, "create topics");
  const std::string ns = stmt.topic.ns.empty() ? scope.default_namespace : stmt.topic.ns;
  if (!catalog_.snapshot()->namespaces.contains(ns)) {
    return Status(Code::kNotFound, "Namespace '" + ns + "' does not exist");
  }
  if (stmt.partitions > topics::TopicRegistry::kMaxPartitions) {
    return Status(Code::kInvalidInput, "A topic has 1 to " + std::to_string(topics::TopicRegistry::kMaxPartitions) +
                                           " partitions, not " + std::to_string(stmt.partitions));
  }
  const std::string id = ns + "." + stmt.topic.name;
  const bool existed = topics_.snapshot()->Find(id) != nullptr;
  auto created = topics_.Create(ns, stmt.topic.name, static_cast<int32_t>(stmt.partitions), stmt.if_not_exists);
  if (!created.ok()) return created.status();
  if (existed) return Done("Topic '" + id + "' already exists");
  return Done("Topic '" + id + "' created");
}

Result<StatementResult> Executor::Run(const Scope& scope, const DropTopic& stmt) {
  if (!auth::MayRunDdl(scope.caller.role)) return Denied(scope.caller, "drop topics");
  const std::string id = TopicId(stmt.topic, scope.default_namespace);
  if (stmt.if_exists && topics_.snapshot()->Find(id) == nullptr) {
    return Done("Topic '" + id + "' does not exist");
  }
  KALAM_RETURN_IF_ERROR(topics_.Drop(id));
  return Done("Topic '" + id + "' dropped");
}

Result<StatementResult> Executor::Run(const Scope& scope, const ClearTopic& stmt) {
  if (!auth::MayRunDdl(scope.caller.role)) return Denied(scope.caller, "clear topics");
  const std::string id = TopicId(stmt.topic, scope.default_namespace);
  auto removed = topics_.Clear(id);
  if (!removed.ok()) return removed.status();
  return Done("Topic '" + id + "' cleared: " + std::to_string(*removed) + " messages removed",
              static_cast<uint64_t>(*removed));
}

Result<StatementResult> Executor::Run(const Scope& scope, const AlterTopicSource& stmt) {
  if (!auth::MayRunDdl(scope.caller.role)) return Denied(scope.caller, "alter topics");
  const std::string id = TopicId(stmt.topic, scope.default_namespace);
  const auto op = topics::OpFromName(stmt.op);
  if (!op) return Status(Code::kInvalidSql, "Unknown operation " + stmt.op);
  auto state = catalog_.snapshot();
  auto table = auth::LookupTable(*state, stmt.table.ns, stmt.table.name, scope.default_namespace);
  if (!stmt.add) {
    // A source outlives its table's DROP; it is dropped by name then.
    const std::string ns = stmt.table.ns.empty() ? scope.default_namespace : stmt.table.ns;
    KALAM_RETURN_IF_ERROR(topics_.DropSource(id, table.ok() ? (*table)->id() : ns + ":" + stmt.table.name, *op));
    return Done("Source " + ns + "." + stmt.table.name + " ON " + Upper(stmt.op) + " dropped from topic '" +
                id + "'");
  }
  if (!table.ok()) return table.status();
  topics::TopicSource source;
  source.op = *op;
  source.where_sql = stmt.where_sql;
  source.payload = topics::PayloadFromName(stmt.payload).value_or(topics::Payload::kFull);
  KALAM_RETURN_IF_ERROR(topics_.AddSource(id, **table, std::move(source)));
  return Done("Source " + (*table)->ns + "." + (*table)->name + " ON " + Upper(stmt.op) +
              " added to topic '" + id + "'");
}

Result<StatementResult> Executor::Run(const Scope& scope, const ConsumeFrom& stmt) {
  if (scope.caller.role < auth::Role::kService) return Denied(scope.caller, "consume topics");
  topics::ConsumeRequest request;
  request.topic_id = TopicId(stmt.topic, scope.default_namespace);
  request.group = stmt.group;
  if (stmt.partition) {
    auto partition = PartitionNumber(stmt.partition);
    if (!partition.ok()) return partition.status();
    request.partition = *partition;
  }
  request.start = StartOf(stmt.from);
  const int64_t max = std::max<int64_t>(1, config_.topics.max_consume_limit);
  if (stmt.limit && *stmt.limit > max) {
    return Status(Code::kInvalidInput, "LIMIT is at most " + std::to_string(max) + " ([topics] max_consume_limit)");
  }
  request.limit = static_cast<size_t>(stmt.limit.value_or(100));
  auto batch = topics_.Consume(request);
  if (!batch.ok()) return batch.status();
  query::RowSet rows;
  rows.schema_json =
      "[{\"name\":\"topic_id\",\"data_type\":\"Text\",\"index\":0},"
      "{\"name\":\"partition_id\",\"data_type\":\"Int\",\"index\":1},"
      "{\"name\":\"offset\",\"data_type\":\"BigInt\",\"index\":2},"
      "{\"name\":\"op\",\"data_type\":\"Text\",\"index\":3},"
      "{\"name\":\"key\",\"data_type\":\"Text\",\"index\":4},"
      "{\"name\":\"payload\",\"data_type\":\"Text\",\"index\":5},"
      "{\"name\":\"timestamp_ms\",\"data_type\":\"BigInt\",\"index\":6},"
      "{\"name\":\"user\",\"data_type\":\"Text\",\"index\":7}]";
  rows.rows_json = "[";
  const std::string topic = JsonString(request.topic_id);
  for (const auto& m : batch->messages) {
    if (rows.row_count++ > 0) rows.rows_json += ",";
    rows.rows_json += "[" + topic + "," + std::to_string(m.partition) + "," + std::to_string(m.offset) + "," +
                      JsonString(topics::OpName(m.op)) + ",";
    AppendJsonString(rows.rows_json, m.key);
    rows.rows_json += ",";
    AppendJsonString(rows.rows_json, m.payload);
    rows.rows_json += "," + std::to_string(m.timestamp_ms) + ",";
    if (m.user.empty()) {
      rows.rows_json += "null";
    } else {
      AppendJsonString(rows.rows_json, m.user);
    }
    rows.rows_json += "]";
  }
  rows.rows_json += "]";
  StatementResult r;
  r.row_count = rows.row_count;
  r.rows = std::move(rows);
  return r;
}

Result<StatementResult> Executor::Run(const Scope& scope, const AckTopic& stmt) {
  if (scope.caller.role < auth::Role::kService) return Denied(scope.caller, "acknowledge topics");
  auto partition = PartitionNumber(stmt.partition);
  if (!partition.ok()) return partition.status();
  const std::string id = TopicId(stmt.topic, scope.default_namespace);
  auto committed = topics_.Ack(id, stmt.group, *partition, stmt.upto);
  if (!committed.ok()) return committed.status();
  return Done("Group '" + stmt.group + "' acknowledged topic '" + id + "' partition " +
              std::to_string(*partition) + " up to offset " + std::to_string(*committed));
}

Result<StatementResult> Executor::Run(const Scope& scope, const ResetConsumerGroup& stmt) {
  if (!auth::IsAdmin(scope.caller.role)) return Denied(scope.caller, "reset consumer groups");
  std::optional<int32_t> partition;
  if (stmt.partition) {
    auto p = PartitionNumber(stmt.partition);
    if (!p.ok()) return p.status();
    partition = *p;
  }
  const std::string id = TopicId(stmt.topic, scope.default_namespace);
  KALAM_RETURN_IF_ERROR(topics_.Reset(id, stmt.group, partition, StartOf(stmt.to)));
  return Done("Group '" + stmt.group + "' reset on topic '" + id + "'");
}

}  // namespace kalam::sql
