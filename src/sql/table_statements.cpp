// Table statements: CREATE, DROP, ALTER, SHOW TABLES, DESCRIBE, SHOW STATS.
#include <set>

#include <sys/stat.h>

#include <chrono>
#include <filesystem>

#include "catalog/catalog.h"
#include "cold/cold_store.h"
#include "auth/table_access.h"
#include "common/clock.h"
#include "common/text.h"
#include "live/hub.h"
#include "sql/executor.h"
#include "sql/replies.h"
#include "store/kv_store.h"
#include "store/row_codec.h"

namespace kalam::sql {
namespace {

using catalog::ColumnDef;
using catalog::TableDef;
using catalog::TableType;

Status Invalid(std::string message) { return {Code::kInvalidSql, std::move(message)}; }

Result<ColumnDef> ToColumn(const ColumnSpec& spec, uint32_t id) {
  if (spec.name == "_seq" || spec.name == "_deleted") {
    return Invalid("Column name '" + spec.name + "' is reserved for a system column");
  }
  auto type = ParseColumnType(spec.type);
  if (!type) return Invalid("Unknown type '" + spec.type + "' for column '" + spec.name + "'");
  ColumnDef c;
  c.id = id;
  c.name = spec.name;
  c.type = *type;
  c.precision = static_cast<uint8_t>(spec.precision);
  c.scale = static_cast<uint8_t>(spec.scale);
  c.primary_key = spec.primary_key;
  c.nullable = !spec.not_null && !spec.primary_key;
  c.default_expr = spec.default_expr.value_or("");
  if (c.default_expr == "NULL") c.default_expr.clear();
  // Function defaults produce one kind of value; the column must hold it.
  auto holds = [&](std::initializer_list<ColumnType> types, const char* what) -> Status {
    for (ColumnType t : types) {
      if (c.type == t) return Status::Ok();
    }
    return Invalid("DEFAULT " + c.default_expr + " gives " + what + ": column '" + c.name +
                   "' is " + c.SqlType());
  };
  Status fits = Status::Ok();
  if (c.default_expr == "SNOWFLAKE_ID()") {
    fits = holds({ColumnType::kBigInt}, "a BIGINT");
  } else if (c.default_expr == "NOW()") {
    fits = holds({ColumnType::kTimestamp, ColumnType::kDate, ColumnType::kText}, "a TIMESTAMP");
  } else if (c.default_expr == "UUID_V7()") {
    fits = holds({ColumnType::kUuid, ColumnType::kText}, "a UUID");
  } else if (c.default_expr == "ULID()" || c.default_expr == "CURRENT_USER()") {
    fits = holds({ColumnType::kText}, "TEXT");
  }
  if (!fits.ok()) return fits;
  return c;
}

std::string ResolveNamespace(const TableName& name, const std::string& default_namespace) {
  return name.ns.empty() ? default_namespace : name.ns;
}

// The user table DESCRIBE ... HISTORY and SHOW STATS describe (ns already resolved): the
// system's relations have no schema versions or statistics.
Result<const TableDef*> TableWithHistory(const catalog::CatalogState& state, const std::string& ns,
                                         const std::string& name) {
  if (auth::IsSystemSchema(ns)) {
    return Status(Code::kNotFound,
                  "System table '" + ns + "." + name + "' has no schema history or statistics");
  }
  return auth::LookupTable(state, ns, name, ns);
}

uint32_t NextColumnId(const TableDef& table) {
  uint32_t max = 0;
  for (const auto& schema : table.schemas) {
    for (const auto& c : schema.columns) max = std::max(max, c.id);
  }
  return max + 1;
}

}  // namespace

Result<StatementResult> Executor::Run(const Scope& scope, const CreateTable& stmt) {
  if (!auth::MayRunDdl(scope.caller.role)) return Denied(scope.caller, "create tables");
  TableDef table;
  table.ns = ResolveNamespace(stmt.table, scope.default_namespace);
  table.name = stmt.table.name;
  const std::string kind = stmt.kind.value_or("shared");
  table.type = kind == "user" ? TableType::kUser
               : kind == "stream" ? TableType::kStream
                                  : TableType::kShared;
  const std::string full = table.ns + "." + table.name;
  if (table.ns == "system" || table.ns == "information_schema") {
    return Status(Code::kPermissionDenied, "Namespace '" + table.ns + "' is reserved for the system");
  }
  if (stmt.storage_id) table.storage_id = *stmt.storage_id;

  std::vector<ColumnDef> columns;
  std::set<std::string> names;
  int keys = 0;
  for (const auto& spec : stmt.columns) {
    auto column = ToColumn(spec, static_cast<uint32_t>(columns.size() + 2));
    if (!column.ok()) return column.status();
    if (!names.insert(column->name).second) return Invalid("Column '" + column->name + "' is declared twice");
    keys += column->primary_key ? 1 : 0;
    columns.push_back(std::move(column).value());
  }
  if (keys > 1) return Invalid("Table '" + full + "' declares more than one primary key");
  if (table.type == TableType::kStream) {
    // Stream rows are keyed by _seq; a declared key stays a NOT NULL column.
    for (auto& c : columns) c.primary_key = false;
  } else if (keys == 0) {
    if (names.contains("id")) {
      return Invalid("Table '" + full + "' has a column 'id' but no primary key: declare one");
    }
    ColumnDef id;
    id.id = 1;
    id.name = "id";
    id.type = ColumnType::kBigInt;
    id.nullable = false;
    id.primary_key = true;
    id.default_expr = "SNOWFLAKE_ID()";
    columns.insert(columns.begin(), id);
  }

  if (stmt.ttl_seconds && table.type != TableType::kStream) {
    return Invalid("TTL_SECONDS applies to STREAM tables only");
  }
  if (stmt.access_level && table.type != TableType::kShared) {
    return Invalid("ACCESS_LEVEL applies to SHARED tables only");
  }
  if ((stmt.flush_rows || stmt.flush_interval_secs) && table.type == TableType::kStream) {
    return Invalid("STREAM tables are never flushed: FLUSH_POLICY does not apply");
  }
  if (table.type == TableType::kStream) {
    table.ttl_seconds = stmt.ttl_seconds.value_or(config_.stream.default_ttl_secs);
  } else if (stmt.flush_rows || stmt.flush_interval_secs) {
    table.flush_rows = stmt.flush_rows;
    table.flush_interval_secs = stmt.flush_interval_secs;
  } else {
    table.flush_rows = config_.flush.default_row_limit;
    table.flush_interval_secs = config_.flush.default_interval_secs;
  }
  if (stmt.access_level) table.access_level = *stmt.access_level;
  if (stmt.deleted_retention_hours) table.deleted_retention_hours = *stmt.deleted_retention_hours;
  table.schemas.push_back({1, std::move(columns), "CREATE TABLE", 0});

  auto created = catalog_.CreateTable(std::move(table), stmt.if_not_exists);
  if (!created.ok()) return created.status();
  StatementResult r;
  r.message = *created ? "Table '" + full + "' created" : "Table '" + full + "' already exists";
  return r;
}

Result<StatementResult> Executor::Run(const Scope& scope, const DropTable& stmt) {
  if (!auth::MayRunDdl(scope.caller.role)) return Denied(scope.caller, "drop tables");
  const std::string ns = ResolveNamespace(stmt.table, scope.default_namespace);
  auto dropped = catalog_.DropTable(ns, stmt.table.name, stmt.if_exists);
  if (!dropped.ok()) return dropped.status();
  StatementResult r;
  if (!dropped->has_value()) {
    r.message = "Table '" + ns + "." + stmt.table.name + "' does not exist";
    return r;
  }
  KALAM_RETURN_IF_ERROR(ForgetTable(**dropped));
  r.message = "Table '" + ns + "." + stmt.table.name + "' dropped";
  return r;
}

Result<StatementResult> Executor::Run(const Scope& scope, const AlterTable& stmt) {
  if (!auth::MayRunDdl(scope.caller.role)) return Denied(scope.caller, "alter tables");
  const std::string ns = ResolveNamespace(stmt.table, scope.default_namespace);
  auto state = catalog_.snapshot();
  auto found = auth::LookupTable(*state, ns, stmt.table.name, scope.default_namespace);
  if (!found.ok()) return found.status();
  TableDef table = **found;
  catalog::TableSchema next = table.current();
  next.version = table.current().version + 1;
  auto find = [&](const std::string& name) -> ColumnDef* {
    for (auto& c : next.columns) {
      if (c.name == name) return &c;
    }
    return nullptr;
  };
  const std::string full = ns + "." + table.name;
  switch (stmt.action) {
    case AlterTable::Action::kAddColumn: {
      if (stmt.column.primary_key) return Invalid("ALTER TABLE can't add a primary key");
      auto column = ToColumn(stmt.column, NextColumnId(table));
      if (!column.ok()) return column.status();
      if (find(column->name) != nullptr) {
        return Invalid("Table '" + full + "' already has a column '" + column->name + "'");
      }
      if (!column->nullable &&
          (column->default_expr.empty() || column->default_expr.back() == ')')) {
        return Invalid("A NOT NULL column added to '" + full +
                       "' needs a literal DEFAULT for the rows it already has");
      }
      next.changes = "ADD COLUMN " + column->name;
      next.columns.push_back(std::move(column).value());
      break;
    }
    case AlterTable::Action::kDropColumn: {
      ColumnDef* column = find(stmt.column_name);
      if (column == nullptr) return Invalid("Table '" + full + "' has no column '" + stmt.column_name + "'");
      if (column->primary_key) return Invalid("The primary key column '" + column->name + "' can't be dropped");
      if (next.columns.size() == 1) return Invalid("A table keeps at least one column");
      next.changes = "DROP COLUMN " + column->name;
      next.columns.erase(next.columns.begin() + (column - next.columns.data()));
      break;
    }
    case AlterTable::Action::kRenameColumn: {
      ColumnDef* column = find(stmt.column_name);
      if (column == nullptr) return Invalid("Table '" + full + "' has no column '" + stmt.column_name + "'");
      if (column->primary_key) return Invalid("The primary key column '" + column->name + "' can't be renamed");
      if (stmt.new_name == "_seq" || stmt.new_name == "_deleted") {
        return Invalid("Column name '" + stmt.new_name + "' is reserved for a system column");
      }
      if (find(stmt.new_name) != nullptr) {
        return Invalid("Table '" + full + "' already has a column '" + stmt.new_name + "'");
      }
      next.changes = "RENAME COLUMN " + column->name + " TO " + stmt.new_name;
      column->name = stmt.new_name;
      break;
    }
  }
  next.created_at = NowMicros();
  table.schemas.push_back(std::move(next));
  KALAM_RETURN_IF_ERROR(catalog_.UpdateTable(table));
  StatementResult r;
  r.message = "Table '" + full + "' altered: schema version " +
              std::to_string(table.current().version);
  return r;
}

Result<StatementResult> Executor::Run(const Scope& scope, const ShowTables& stmt) {
  std::string sql =
      "SELECT namespace_id, table_name, table_type, storage_id, created_at FROM system.tables";
  if (stmt.ns) sql += " WHERE namespace_id = " + SqlString(*stmt.ns);
  return Query(scope, sql + " ORDER BY namespace_id, table_name");
}

Result<StatementResult> Executor::Run(const Scope& scope, const DescribeTable& stmt) {
  const std::string ns = ResolveNamespace(stmt.table, scope.default_namespace);
  if ((ns == "system" || ns == "information_schema") && !stmt.history) {
    // System tables are not in the catalog: information_schema describes them.
    auto r = Query(scope,
                   "SELECT column_name, data_type, is_nullable = 'YES' AS is_nullable, false AS "
                   "is_primary_key, column_default FROM information_schema.columns WHERE "
                   "table_schema = " + SqlString(ns) + " AND table_name = " +
                       SqlString(stmt.table.name) + " ORDER BY ordinal_position");
    if (r.ok() && r->row_count == 0) {
      return Status(Code::kNotFound, "Table '" + ns + "." + stmt.table.name + "' does not exist");
    }
    return r;
  }
  auto state = catalog_.snapshot();
  auto found = TableWithHistory(*state, ns, stmt.table.name);
  if (!found.ok()) return found.status();
  const TableDef* table = *found;
  if (stmt.history) {
    return Query(scope,
                 "SELECT version, columns, changes, created_at FROM system.table_schemas "
                 "WHERE table_id = " + SqlString(table->id()) + " ORDER BY version");
  }
  std::string sql =
      "SELECT * FROM (VALUES ";
  const auto& columns = table->current().columns;
  for (size_t i = 0; i < columns.size(); ++i) {
    const ColumnDef& c = columns[i];
    if (i > 0) sql += ", ";
    sql += "(" + std::to_string(i + 1) + ", " + SqlString(c.name) + ", " + SqlString(c.SqlType()) +
           ", " + (c.nullable ? "true" : "false") + ", " + (c.primary_key ? "true" : "false") +
           ", " + (c.default_expr.empty() ? "NULL::VARCHAR" : SqlString(c.default_expr)) + ")";
  }
  sql += ") AS t(n, column_name, data_type, is_nullable, is_primary_key, column_default) ORDER BY n";
  sql = "SELECT column_name, data_type, is_nullable, is_primary_key, column_default FROM (" + sql + ")";
  return Query(scope, sql);
}

Result<StatementResult> Executor::Run(const Scope& scope, const ShowStats& stmt) {
  if (!auth::MayRunDdl(scope.caller.role)) return Denied(scope.caller, "read table statistics");
  const std::string ns = ResolveNamespace(stmt.table, scope.default_namespace);
  auto state = catalog_.snapshot();
  auto found = TableWithHistory(*state, ns, stmt.table.name);
  if (!found.ok()) return found.status();
  const TableDef* table = *found;
  // Hot rows of every scope: live versions, not tombstones (in a cluster, of every shard).
  int64_t hot_rows = 0;
  if (hot_row_counter_) {
    auto counted = hot_row_counter_(*table);
    if (!counted.ok()) return counted.status();
    hot_rows = *counted;
  } else {
    const auto family = table->type == TableType::kStream ? store::Family::kStream : store::Family::kHot;
    auto cursor = store_.NewCursor(family, store::TablePrefix(table->table_num));
    for (; cursor->Valid(); cursor->Next()) {
      store::RowVersion header;
      KALAM_RETURN_IF_ERROR(store::DecodeRowHeader(cursor->value(), header));
      if (!header.deleted) ++hot_rows;
    }
    KALAM_RETURN_IF_ERROR(cursor->status());
  }
  // Cold segments of every scope: the manifests under the table's directories.
  int64_t cold_rows = 0, cold_files = 0, cold_bytes = 0;
  int64_t last_flush = 0;  // seconds since the epoch
  if (auto storage = state->storages.find(table->storage_id); storage != state->storages.end()) {
    namespace fs = std::filesystem;
    const std::string marker = "t" + std::to_string(table->table_num);
    std::error_code ec;
    cold::ColdStore reader;
    for (auto it = fs::recursive_directory_iterator(storage->second.base_directory, ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
      if (!it->is_directory() || it->path().filename() != marker) continue;
      for (const auto& segment : reader.Get(it->path().string())->segments) {
        cold_rows += segment.rows;
        ++cold_files;
        cold_bytes += segment.bytes;
      }
      struct stat info{};
      if (::stat((it->path() / "manifest.json").c_str(), &info) == 0) {
        last_flush = std::max<int64_t>(last_flush, info.st_mtime);
      }
    }
  }
  const std::string flushed_at = cold_files > 0 ? "'" + std::to_string(last_flush) + "'" : "NULL";
  const std::string sql =
      "SELECT * FROM (VALUES ('hot_rows', '" + std::to_string(hot_rows) + "'), ('cold_rows', '" +
      std::to_string(cold_rows) + "'), ('cold_files', '" + std::to_string(cold_files) +
      "'), ('cold_bytes', '" + std::to_string(cold_bytes) + "'), ('schema_version', '" +
      std::to_string(table->current().version) + "'), ('last_flush_at', " +
      (flushed_at == "NULL" ? std::string("NULL")
                            : "strftime(to_timestamp(" + flushed_at.substr(1, flushed_at.size() - 2) +
                                  ")::TIMESTAMP, '%Y-%m-%dT%H:%M:%SZ')") +
      ")) AS t(statistic, value)";
  return Query(scope, sql);
}

}  // namespace kalam::sql
