#include "query/flush.h"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <map>
#include <mutex>

#include "duckdb/parser/keyword_helper.hpp"
#include "common/json_text.h"
#include "common/clock.h"
#include "query/cells.h"
#include "query/table_scan.h"
#include "store/committer.h"
#include "store/kv_store.h"
#include "store/row_codec.h"

namespace kalam::query {
namespace {

namespace fs = std::filesystem;
using catalog::TableDef;

std::string Quoted(const std::string& name) { return duckdb::KeywordHelper::WriteQuoted(name, '"'); }
std::string Literal(const std::string& text) { return duckdb::KeywordHelper::WriteQuoted(text, '\''); }

struct FlushRow {
  std::string key;
  int64_t seq = 0;
  bool deleted = false;
  std::vector<store::Cell> cells;  // current column order
};

struct FlushBatch {
  const TableDef* table;
  const std::vector<FlushRow>* rows;
};

// Batches handed to COPY through kalam_flush_rows(handle).
std::mutex batches_mutex;
std::map<int64_t, FlushBatch> batches;
int64_t next_batch_handle = 1;

struct FlushRowsData : duckdb::TableFunctionData {
  FlushBatch batch;
};
struct FlushRowsState : duckdb::GlobalTableFunctionState {
  size_t next = 0;
};

duckdb::unique_ptr<duckdb::FunctionData> FlushRowsBind(duckdb::ClientContext&,
                                                       duckdb::TableFunctionBindInput& input,
                                                       duckdb::vector<duckdb::LogicalType>& types,
                                                       duckdb::vector<std::string>& names) {
  auto data = duckdb::make_uniq<FlushRowsData>();
  {
    std::lock_guard lock(batches_mutex);
    auto it = batches.find(input.inputs[0].GetValue<int64_t>());
    if (it == batches.end()) throw duckdb::PermissionException("Permission denied");
    data->batch = it->second;
  }
  for (const auto& c : data->batch.table->current().columns) {
    names.push_back(c.name);
    types.push_back(EngineType(c));
  }
  names.push_back("_seq");
  types.push_back(duckdb::LogicalType::BIGINT);
  names.push_back("_deleted");
  types.push_back(duckdb::LogicalType::BOOLEAN);
  return data;
}

duckdb::unique_ptr<duckdb::GlobalTableFunctionState> FlushRowsInit(duckdb::ClientContext&,
                                                                   duckdb::TableFunctionInitInput&) {
  return duckdb::make_uniq<FlushRowsState>();
}

void FlushRowsScan(duckdb::ClientContext&, duckdb::TableFunctionInput& input, duckdb::DataChunk& output) {
  const auto& data = input.bind_data->Cast<FlushRowsData>();
  auto& state = input.global_state->Cast<FlushRowsState>();
  const auto& columns = data.batch.table->current().columns;
  const auto& rows = *data.batch.rows;
  idx_t count = 0;
  while (state.next < rows.size() && count < STANDARD_VECTOR_SIZE) {
    const FlushRow& row = rows[state.next++];
    for (size_t c = 0; c < columns.size(); ++c) WriteCell(output.data[c], count, columns[c], row.cells[c]);
    duckdb::FlatVector::GetData<int64_t>(output.data[columns.size()])[count] = row.seq;
    duckdb::FlatVector::GetData<bool>(output.data[columns.size() + 1])[count] = row.deleted;
    ++count;
  }
  output.SetCardinality(count);
}

Status RunSql(duckdb::Connection& connection, const std::string& sql) {
  auto result = connection.Query(sql);
  if (result->HasError()) return {Code::kInternalError, "Flush failed: " + result->GetError()};
  return Status::Ok();
}

// Per-column min, max and null count of a written segment, as JSON text.
std::string SegmentStats(duckdb::Connection& connection, const TableDef& table, const std::string& path) {
  const auto& columns = table.current().columns;
  std::string sql = "SELECT ";
  for (size_t i = 0; i < columns.size(); ++i) {
    const std::string c = Quoted(columns[i].name);
    if (i > 0) sql += ", ";
    sql += "min(" + c + ")::VARCHAR, max(" + c + ")::VARCHAR, count(*) - count(" + c + ")";
  }
  sql += " FROM read_parquet(" + Literal(path) + ")";
  auto result = connection.Query(sql);
  if (result->HasError() || result->RowCount() == 0) return "{}";
  std::string json = "{";
  for (size_t i = 0; i < columns.size(); ++i) {
    if (i > 0) json += ",";
    auto text = [&](size_t col) {
      const duckdb::Value v = result->GetValue(col, 0);
      return v.IsNull() ? std::string("null") : JsonString(v.ToString());
    };
    json += JsonString(columns[i].name) + ":{\"min\":" + text(i * 3) + ",\"max\":" +
            text(i * 3 + 1) + ",\"nulls\":" + result->GetValue(i * 3 + 2, 0).ToString() + "}";
  }
  return json + "}";
}

}  // namespace

duckdb::TableFunction MakeFlushRowsFunction() {
  return duckdb::TableFunction(kFlushRowsFunction, {duckdb::LogicalType::BIGINT}, FlushRowsScan,
                               FlushRowsBind, FlushRowsInit);
}

Result<std::string> FlushTable(duckdb::Connection& connection, store::KvStore& store,
                               store::Committer& committer, cold::ColdStore& cold,
                               const catalog::CatalogState& state, const TableDef& table,
                               const std::function<bool()>& cancelled) {
  if (table.type == catalog::TableType::kStream) {
    return Status(Code::kInvalidSql, "STREAM tables are never flushed");
  }
  const int pk = table.current().PrimaryKeyIndex();
  const auto& columns = table.current().columns;
  int64_t flushed = 0, segments = 0, scopes = 0;

  // One snapshot cursor over the table; rows come grouped by scope.
  auto cursor = store.NewCursor(store::Family::kHot, store::TablePrefix(table.table_num));
  std::vector<FlushRow> rows;
  std::string scope;
  auto flush_scope = [&]() -> Status {
    if (rows.empty()) return Status::Ok();
    if (cancelled()) return {Code::kInternalError, "Cancelled"};
    const std::string dir = cold::ColdStore::ScopeDir(state, table, scope);
    if (dir.empty()) return {Code::kNotFound, "The table's storage does not exist"};
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) return {Code::kInternalError, "Cannot create " + dir + ": " + ec.message()};
    cold::Manifest manifest = *cold.Get(dir);
    const std::string file = "batch-" + std::to_string(manifest.next_batch) + ".parquet";
    const std::string path = (fs::path(dir) / file).string();
    int64_t handle;
    {
      std::lock_guard lock(batches_mutex);
      handle = next_batch_handle++;
      batches[handle] = FlushBatch{&table, &rows};
    }
    Status written = RunSql(connection, "COPY (SELECT * FROM " + std::string(kFlushRowsFunction) + "(" +
                                            std::to_string(handle) + ")) TO " + Literal(path + ".tmp") +
                                            " (FORMAT parquet, COMPRESSION zstd)");
    {
      std::lock_guard lock(batches_mutex);
      batches.erase(handle);
    }
    KALAM_RETURN_IF_ERROR(written);
    if (!cold::SyncPath(path + ".tmp")) return {Code::kInternalError, "Cannot sync " + path};
    fs::rename(path + ".tmp", path, ec);
    if (ec) return {Code::kInternalError, "Cannot rename " + path + ".tmp"};
    cold::SyncPath(dir);

    cold::Segment segment;
    segment.file = file;
    segment.rows = static_cast<int64_t>(rows.size());
    segment.min_seq = rows.front().seq;
    segment.max_seq = rows.front().seq;
    for (const auto& r : rows) {
      segment.min_seq = std::min(segment.min_seq, r.seq);
      segment.max_seq = std::max(segment.max_seq, r.seq);
    }
    segment.schema_version = table.current().version;
    for (const auto& c : columns) segment.columns.emplace_back(c.id, c.name);
    segment.stats_json = SegmentStats(connection, table, path);
    segment.bytes = static_cast<int64_t>(fs::file_size(path, ec));
    manifest.segments.push_back(std::move(segment));
    ++manifest.next_batch;
    KALAM_RETURN_IF_ERROR(cold.Commit(dir, std::move(manifest)));  // the commit point

    // The rows are in cold storage now: keep their keys (as markers) unless newer versions
    // replaced them meanwhile; flushed tombstones go.
    const std::vector<ColumnType> none;
    KALAM_RETURN_IF_ERROR(committer.Commit([&](store::CommitContext& commit) -> Status {
      for (const auto& r : rows) {
        auto current = commit.Get(store::Family::kHot, r.key);
        if (!current.ok()) return current.status();
        if (!current->has_value()) continue;
        store::RowVersion header;
        KALAM_RETURN_IF_ERROR(store::DecodeRowHeader(**current, header));
        if (header.seq != r.seq) continue;
        if (r.deleted) {
          commit.Delete(store::Family::kHot, r.key);
        } else {
          store::RowVersion marker{table.current().version, r.seq, false, true, {}};
          commit.Put(store::Family::kHot, r.key, store::EncodeRow(marker, none));
        }
      }
      return Status::Ok();
    }));
    flushed += static_cast<int64_t>(rows.size());
    ++segments;
    ++scopes;
    rows.clear();
    return Status::Ok();
  };

  for (; cursor->Valid(); cursor->Next()) {
    const std::string_view key = cursor->key();
    const std::string row_scope(store::ScopeOfKey(key));
    if (row_scope != scope) {
      KALAM_RETURN_IF_ERROR(flush_scope());
      scope = row_scope;
    }
    store::RowVersion header;
    KALAM_RETURN_IF_ERROR(store::DecodeRowHeader(cursor->value(), header));
    if (header.in_cold) continue;  // flushed before
    FlushRow row;
    row.key = std::string(key);
    row.seq = header.seq;
    row.deleted = header.deleted;
    if (header.deleted) {
      row.cells.resize(columns.size());
      if (pk >= 0) row.cells[pk] = store::DecodeKeyCell(key, columns[pk].type);
    } else {
      auto current = DecodeCurrentRow(table, cursor->value());
      if (!current.ok()) return current.status();
      row.cells = std::move((*current)->cells);
    }
    rows.push_back(std::move(row));
  }
  KALAM_RETURN_IF_ERROR(cursor->status());
  KALAM_RETURN_IF_ERROR(flush_scope());
  return "{\"rows_flushed\":" + std::to_string(flushed) + ",\"segments\":" +
         std::to_string(segments) + ",\"scopes\":" + std::to_string(scopes) + "}";
}

namespace {

std::string Typed(const std::string& expr, const catalog::ColumnDef& c) {
  return "CAST(" + expr + " AS " + EngineType(c).ToString() + ") AS " + Quoted(c.name);
}

// One SELECT per segment, read by column id, UNION ALL'd.
std::string SegmentsSql(const TableDef& table, const std::string& scope_dir,
                        const cold::Manifest& manifest) {
  const auto& columns = table.current().columns;
  std::string all;
  for (const auto& segment : manifest.segments) {
    std::string select = "SELECT ";
    for (const auto& c : columns) {
      // A column added after the segment was written reads as its literal default, as
      // older hot rows do.
      std::string source = "NULL";
      if (auto literal = LiteralDefault(c.default_expr)) source = literal->ToSQLString();
      for (const auto& [id, name] : segment.columns) {
        if (id == c.id) source = Quoted(name);
      }
      select += Typed(source, c) + ", ";
    }
    select += "_seq, _deleted FROM read_parquet(" +
              Literal((fs::path(scope_dir) / segment.file).string()) + ")";
    all += (all.empty() ? "" : " UNION ALL ") + select;
  }
  return all;
}

}  // namespace

Result<std::string> CompactTable(duckdb::Connection& connection, cold::ColdStore& cold,
                                 const catalog::CatalogState& state, const TableDef& table,
                                 const std::function<bool()>& cancelled) {
  auto storage = state.storages.find(table.storage_id);
  if (storage == state.storages.end()) return Status(Code::kNotFound, "The table's storage does not exist");
  const std::string marker = "t" + std::to_string(table.table_num);
  std::vector<std::string> dirs;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(storage->second.base_directory, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (it->is_directory() && it->path().filename() == marker) dirs.push_back(it->path().string());
  }
  const auto& columns = table.current().columns;
  const int pk = table.current().PrimaryKeyIndex();
  const int64_t now_ms = NowMicros() / 1000;
  const int64_t keep_tombstones_after =
      store::SeqFloorAt(now_ms - table.deleted_retention_hours * 3600 * 1000);
  int64_t merged = 0, before = 0, after = 0;
  for (const auto& dir : dirs) {
    if (cancelled()) return Status(Code::kInternalError, "Cancelled");
    cold::Manifest manifest = *cold.Get(dir);
    if (manifest.segments.empty()) continue;
    std::string names;
    for (const auto& c : columns) names += Quoted(c.name) + ", ";
    const std::string file = "batch-" + std::to_string(manifest.next_batch) + ".parquet";
    const std::string path = (fs::path(dir) / file).string();
    const std::string select =
        "SELECT " + names + "_seq, _deleted FROM (SELECT *, row_number() OVER (PARTITION BY " +
        Quoted(columns[pk].name) + " ORDER BY _seq DESC) AS __kalam_rn FROM (" +
        SegmentsSql(table, dir, manifest) + ")) WHERE __kalam_rn = 1 AND NOT (_deleted AND _seq < " +
        std::to_string(keep_tombstones_after) + ")";
    KALAM_RETURN_IF_ERROR(RunSql(connection, "COPY (" + select + ") TO " + Literal(path + ".tmp") +
                                                 " (FORMAT parquet, COMPRESSION zstd)"));
    if (!cold::SyncPath(path + ".tmp")) return Status(Code::kInternalError, "Cannot sync " + path);
    fs::rename(path + ".tmp", path, ec);
    if (ec) return Status(Code::kInternalError, "Cannot rename " + path + ".tmp");
    cold::SyncPath(dir);
    auto counted = connection.Query("SELECT count(*), min(_seq), max(_seq) FROM read_parquet(" + Literal(path) + ")");
    if (counted->HasError()) return Status(Code::kInternalError, counted->GetError());
    cold::Segment segment;
    segment.file = file;
    segment.rows = counted->GetValue(0, 0).GetValue<int64_t>();
    segment.min_seq = counted->GetValue(1, 0).IsNull() ? 0 : counted->GetValue(1, 0).GetValue<int64_t>();
    segment.max_seq = counted->GetValue(2, 0).IsNull() ? 0 : counted->GetValue(2, 0).GetValue<int64_t>();
    segment.schema_version = table.current().version;
    for (const auto& c : columns) segment.columns.emplace_back(c.id, c.name);
    segment.stats_json = SegmentStats(connection, table, path);
    segment.bytes = static_cast<int64_t>(fs::file_size(path, ec));
    std::vector<std::string> old_files;  // kept for now: see below
    for (const auto& s : manifest.segments) {
      old_files.push_back(s.file);
      before += s.rows;
    }
    after += segment.rows;
    cold::Manifest next;
    next.next_batch = manifest.next_batch + 1;
    next.segments.push_back(std::move(segment));
    KALAM_RETURN_IF_ERROR(cold.Commit(dir, std::move(next)));  // the commit point
    // The replaced segments stay a while: queries planned on the old manifest may still be
    // reading them. Segments no manifest lists are removed at start-up and, once they are
    // ten minutes old, by the next compaction here.
    const auto now = fs::file_time_type::clock::now();
    for (const auto& entry : fs::directory_iterator(dir, ec)) {
      const std::string name = entry.path().filename().string();
      if (!name.starts_with("batch-") || !name.ends_with(".parquet") || name == file) continue;
      if (std::find(old_files.begin(), old_files.end(), name) != old_files.end()) continue;
      if (now - entry.last_write_time() > std::chrono::minutes(10)) fs::remove(entry.path(), ec);
    }
    ++merged;
  }
  return "{\"scopes_compacted\":" + std::to_string(merged) + ",\"rows_before\":" + std::to_string(before) +
         ",\"rows_after\":" + std::to_string(after) + "}";
}

std::string MergedScanSql(const TableDef& table, const std::string& scope_dir,
                          const cold::Manifest& manifest) {
  if (manifest.segments.empty()) return {};
  const auto& columns = table.current().columns;
  const int pk = table.current().PrimaryKeyIndex();
  std::string hot = "SELECT ";
  for (const auto& c : columns) hot += Typed(Quoted(c.name), c) + ", ";
  hot += "_seq, _deleted FROM " + std::string(kTableScanFunction) + "(" + Literal(table.id()) + ", true)";
  std::string all = hot + " UNION ALL " + SegmentsSql(table, scope_dir, manifest);
  std::string names;
  for (const auto& c : columns) names += Quoted(c.name) + ", ";
  return "SELECT " + names + "_seq FROM (SELECT *, row_number() OVER (PARTITION BY " +
         Quoted(columns[pk].name) + " ORDER BY _seq DESC) AS __kalam_rn FROM (" + all +
         ")) WHERE __kalam_rn = 1 AND NOT _deleted";
}

}  // namespace kalam::query
