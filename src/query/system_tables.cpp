#include "query/system_tables.h"

#include "common/json_text.h"
#include "common/recent_logs.h"
#include "query/cells.h"
#include "query/pg_catalog.h"
#include "query/result_encoder.h"

namespace kalam::query {
namespace {

using duckdb::LogicalType;
using duckdb::Value;
using auth::Role;

Value Text(const std::string& s) { return Value(s); }
Value NullText() { return Value(LogicalType::VARCHAR); }
Value Timestamp(int64_t micros) { return Value::TIMESTAMP(duckdb::timestamp_t(micros)); }
Value OptTimestamp(const std::optional<int64_t>& micros) {
  return micros ? Timestamp(*micros) : Value(LogicalType::TIMESTAMP);
}

std::vector<Row> NoRows(const catalog::CatalogState&, const auth::Caller&) { return {}; }

std::vector<SystemTable> MakeSystemTables() {
  const LogicalType text = LogicalType::VARCHAR;
  const LogicalType bigint = LogicalType::BIGINT;
  const LogicalType integer = LogicalType::INTEGER;
  const LogicalType ts = LogicalType::TIMESTAMP;
  std::vector<SystemTable> tables;

  tables.push_back(DefineSystemTable(
      "system", "users", Role::kUser,
      {{"user_id", text}, {"username", text}, {"role", text}, {"email", text},
       {"auth_type", text}, {"created_at", ts}, {"updated_at", ts}, {"last_seen", ts},
       {"deleted_at", ts}},
      [](const catalog::CatalogState& state, const auth::Caller& caller) {
        // No column of this table, for any role, holds a password hash.
        std::vector<Row> rows;
        for (const auto& [id, u] : state.users) {
          if (!auth::MaySeeUser(caller, id)) continue;
          rows.push_back({Text(u.user_id), Text(u.username), Text(std::string(RoleName(u.role))),
                          u.email ? Text(*u.email) : NullText(), Text(u.auth_type),
                          Timestamp(u.created_at), Timestamp(u.updated_at),
                          OptTimestamp(u.last_seen), OptTimestamp(u.deleted_at)});
        }
        return rows;
      }));

  tables.push_back(DefineSystemTable(
      "system", "namespaces", Role::kUser,
      {{"namespace_id", text}, {"name", text}, {"options", text}, {"table_count", integer},
       {"created_at", ts}},
      [](const catalog::CatalogState& state, const auth::Caller&) {
        std::vector<Row> rows;
        for (const auto& [name, n] : state.namespaces) {
          rows.push_back({Text(n.name), Text(n.name), Text(n.options_json),
                          Value::INTEGER(static_cast<int32_t>(state.TableCount(n.name))),
                          Timestamp(n.created_at)});
        }
        return rows;
      }));

  tables.push_back(DefineSystemTable(
      "system", "tables", Role::kUser,
      {{"table_id", text}, {"namespace_id", text}, {"table_name", text}, {"table_type", text},
       {"storage_id", text}, {"flush_policy", text}, {"ttl_seconds", bigint},
       {"access_level", text}, {"schema_version", integer}, {"deleted_retention_hours", bigint},
       {"created_at", ts}},
      [](const catalog::CatalogState& state, const auth::Caller&) {
        std::vector<Row> rows;
        for (const auto& [id, t] : state.tables) {
          const bool shared = t.type == catalog::TableType::kShared;
          rows.push_back({Text(t.id()), Text(t.ns), Text(t.name),
                          Text(std::string(catalog::TableTypeName(t.type))), Text(t.storage_id),
                          Text(t.FlushPolicyJson()),
                          t.ttl_seconds ? Value::BIGINT(*t.ttl_seconds) : Value(LogicalType::BIGINT),
                          shared ? Text(t.access_level) : NullText(),
                          Value::INTEGER(static_cast<int32_t>(t.current().version)),
                          Value::BIGINT(t.deleted_retention_hours), Timestamp(t.created_at)});
        }
        return rows;
      }));

  tables.push_back(DefineSystemTable(
      "system", "table_schemas", Role::kUser,
      {{"schema_id", text}, {"table_id", text}, {"namespace_id", text}, {"table_name", text},
       {"version", integer}, {"columns", text}, {"changes", text}, {"created_at", ts}},
      [](const catalog::CatalogState& state, const auth::Caller&) {
        std::vector<Row> rows;
        for (const auto& [id, t] : state.tables) {
          for (const auto& schema : t.schemas) {
            std::string columns = "[";
            for (size_t i = 0; i < schema.columns.size(); ++i) {
              const auto& c = schema.columns[i];
              if (i > 0) columns += ",";
              columns += "{\"name\":" + JsonString(c.name) + ",\"type\":" +
                         JsonString(c.SqlType()) + ",\"nullable\":" +
                         (c.nullable ? "true" : "false") + ",\"primary_key\":" +
                         (c.primary_key ? "true" : "false") + ",\"default\":" +
                         (c.default_expr.empty() ? std::string("null") : JsonString(c.default_expr)) +
                         "}";
            }
            columns += "]";
            rows.push_back({Text(t.id() + ":v" + std::to_string(schema.version)), Text(t.id()),
                            Text(t.ns), Text(t.name),
                            Value::INTEGER(static_cast<int32_t>(schema.version)), Text(columns),
                            Text(schema.changes), Timestamp(schema.created_at)});
          }
        }
        return rows;
      }));

  auto storage_rows = [](bool legacy_names) {
    return [legacy_names](const catalog::CatalogState& state, const auth::Caller&) {
      std::vector<Row> rows;
      for (const auto& [id, s] : state.storages) {
        if (legacy_names) {
          int32_t usage = 0;
          for (const auto& [table_id, t] : state.tables) usage += t.storage_id == s.storage_id ? 1 : 0;
          rows.push_back({Text(s.storage_id), Text(s.storage_type), Text(s.base_directory),
                          NullText(), Value::INTEGER(usage), Timestamp(s.created_at),
                          Timestamp(s.updated_at)});
        } else {
          rows.push_back({Text(s.storage_id), Text(s.storage_name), Text(s.description),
                          Text(s.storage_type), Text(s.base_directory),
                          Text(s.shared_tables_template), Text(s.user_tables_template),
                          Timestamp(s.created_at), Timestamp(s.updated_at)});
        }
      }
      return rows;
    };
  };
  tables.push_back(DefineSystemTable("system", "storages", Role::kService,
                          {{"storage_id", text}, {"storage_name", text}, {"description", text},
                           {"storage_type", text}, {"base_directory", text},
                           {"shared_tables_template", text}, {"user_tables_template", text},
                           {"created_at", ts}, {"updated_at", ts}},
                          storage_rows(false)));
  tables.push_back(DefineSystemTable("system", "storage_locations", Role::kService,
                          {{"location_name", text}, {"location_type", text}, {"path", text},
                           {"credentials_ref", text}, {"usage_count", integer},
                           {"created_at", ts}, {"updated_at", ts}},
                          storage_rows(true)));

  tables.push_back(DefineSystemTable("system", "jobs", Role::kService,
                          {{"job_id", text}, {"job_type", text}, {"status", text},
                           {"namespace_id", text}, {"table_name", text}, {"parameters", text},
                           {"result", text}, {"error_message", text}, {"created_at", ts},
                           {"started_at", ts}, {"completed_at", ts}, {"node_id", text}},
                          NoRows));

  // Topics and their consumer groups; rows from the topics part (sources the engine is
  // given).
  tables.push_back(DefineSystemTable("system", "topics", Role::kService,
                          {{"topic_id", text}, {"partitions", integer}, {"sources", text},
                           {"message_count", bigint}, {"created_at", ts}},
                          NoRows));
  tables.push_back(DefineSystemTable("system", "topic_offsets", Role::kService,
                          {{"topic_id", text}, {"group_id", text}, {"partition_id", integer},
                           {"committed_offset", bigint}, {"reserved_until", ts}, {"updated_at", ts}},
                          NoRows));

  tables.push_back(DefineSystemTable("system", "live_queries", Role::kUser,
                          {{"live_id", text}, {"connection_id", text}, {"subscription_id", text},
                           {"namespace_id", text}, {"table_name", text}, {"user_id", text},
                           {"query", text}, {"options", text}, {"created_at", ts},
                           {"last_update", ts}, {"changes", bigint}, {"node", text}},
                          NoRows));

  // The statements running now; its rows come from the executor (a source the engine is
  // given). Like system.live_queries: admins see every row, others their own.
  tables.push_back(DefineSystemTable("system", "running_queries", Role::kUser,
                          {{"query_id", text}, {"query", text}, {"user_id", text},
                           {"username", text}, {"started_at", ts}, {"elapsed_ms", bigint}},
                          NoRows));

  // Cluster mode: the nodes and the shards, as this node sees them (sources the engine is
  // given; a single node lists itself and no shards).
  tables.push_back(DefineSystemTable("system", "cluster_nodes", Role::kDba,
                          {{"node_id", text}, {"address", text}, {"state", text},
                           {"shards_led", bigint}, {"shards_held", bigint}, {"last_heartbeat", ts}},
                          NoRows));
  tables.push_back(DefineSystemTable("system", "shards", Role::kDba,
                          {{"shard_id", integer}, {"leader", text}, {"replicas", text},
                           {"applied_index", bigint}, {"lag", bigint}},
                          NoRows));

  // The server's most recent log lines (the last 500), oldest first: for operators.
  tables.push_back(DefineSystemTable("system", "server_logs", Role::kDba,
                          {{"logged_at", ts}, {"level", text}, {"message", text}},
                          [](const catalog::CatalogState&, const auth::Caller&) {
                            std::vector<Row> rows;
                            for (const LogLine& line : RecentLogLines()) {
                              rows.push_back({Timestamp(line.logged_at), Text(line.level), Text(line.message)});
                            }
                            return rows;
                          }));

  // information_schema describes every table, with the API's type names. Like
  // system.tables and system.table_schemas it is catalog metadata, the same for every
  // signed-in caller (as PostgreSQL's catalogs are): that a table exists and what its
  // columns are is no secret. Who may read a table's rows is the guard's rule (CheckRead,
  // min_role), applied when they are read.
  tables.push_back(DefineSystemTable(
      "information_schema", "tables", Role::kUser,
      {{"table_catalog", text}, {"table_schema", text}, {"table_name", text},
       {"table_type", text}},
      [](const catalog::CatalogState& state, const auth::Caller&) {
        std::vector<Row> rows;
        for (const auto& t : SystemTables()) {
          rows.push_back({Text("kalamdb"), Text(t.schema), Text(t.name), Text("SYSTEM TABLE")});
        }
        for (const auto& [id, t] : state.tables) {
          rows.push_back({Text("kalamdb"), Text(t.ns), Text(t.name), Text("BASE TABLE")});
        }
        return rows;
      }));
  tables.push_back(DefineSystemTable(
      "information_schema", "columns", Role::kUser,
      {{"table_catalog", text}, {"table_schema", text}, {"table_name", text},
       {"column_name", text}, {"ordinal_position", integer}, {"data_type", text},
       {"is_nullable", text}, {"column_default", text}},
      [](const catalog::CatalogState& state, const auth::Caller&) {
        std::vector<Row> rows;
        for (const auto& t : SystemTables()) {
          for (size_t i = 0; i < t.column_names.size(); ++i) {
            rows.push_back({Text("kalamdb"), Text(t.schema), Text(t.name),
                            Text(t.column_names[i]), Value::INTEGER(static_cast<int32_t>(i + 1)),
                            Text(SpecTypeName(t.column_types[i])), Text("YES"), NullText()});
          }
        }
        for (const auto& [id, t] : state.tables) {
          const auto& columns = t.current().columns;
          for (size_t i = 0; i < columns.size(); ++i) {
            const auto& c = columns[i];
            rows.push_back({Text("kalamdb"), Text(t.ns), Text(t.name), Text(c.name),
                            Value::INTEGER(static_cast<int32_t>(i + 1)),
                            Text(SpecTypeName(EngineType(c))), Text(c.nullable ? "YES" : "NO"),
                            c.default_expr.empty() ? NullText() : Text(c.default_expr)});
          }
        }
        return rows;
      }));
  for (SystemTable& t : PgCatalogTables()) tables.push_back(std::move(t));
  return tables;
}

}  // namespace

SystemTable DefineSystemTable(std::string schema, std::string name, Role min_role,
                              std::vector<SystemColumn> columns, SystemRows rows) {
  SystemTable t{std::move(schema), std::move(name), {}, {}, min_role, std::move(rows)};
  for (auto& c : columns) {
    t.column_names.emplace_back(c.name);
    t.column_types.push_back(c.type);
  }
  return t;
}

const std::vector<SystemTable>& SystemTables() {
  static const std::vector<SystemTable> tables = MakeSystemTables();
  return tables;
}

const SystemTable* FindSystemTable(std::string_view schema, std::string_view name) {
  for (const auto& t : SystemTables()) {
    if (t.schema == schema && t.name == name) return &t;
  }
  return nullptr;
}

}  // namespace kalam::query
