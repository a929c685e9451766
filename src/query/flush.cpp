#include "query/flush.h"

#include <algorithm>
#include <chrono>
#include <deque>
#include <limits>
#include <filesystem>
#include <map>
#include <mutex>
#include <thread>

#include <spdlog/spdlog.h>

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

constexpr size_t kMaxSegmentRows = 1'000'000;

struct FlushBatch {
  const TableDef* table;
  const std::deque<FlushRow>* rows;
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

// The name a column (by id) has in a segment; nullopt when the segment predates it.
std::optional<std::string> SegmentColumnName(const cold::Segment& segment, uint32_t id) {
  for (const auto& [column_id, name] : segment.columns) {
    if (column_id == id) return name;
  }
  return std::nullopt;
}

}  // namespace

std::optional<std::pair<duckdb::Value, duckdb::Value>> SegmentRange(const cold::Segment& segment,
                                                                   const catalog::ColumnDef& column) {
  const auto name = SegmentColumnName(segment, column.id);
  if (!name) return std::nullopt;
  const auto range = segment.ColumnRange(*name);
  if (!range) return std::nullopt;
  try {
    const duckdb::LogicalType type = EngineType(column);
    return std::make_pair(duckdb::Value(range->first).DefaultCastAs(type),
                          duckdb::Value(range->second).DefaultCastAs(type));
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

namespace {

// Whether a key of the fresh segment (at path) is also in an earlier segment of the scope.
// Segments whose key ranges are apart are not read; an error counts as an overlap.
bool OverlapsEarlier(duckdb::Connection& connection, const TableDef& table, const std::string& dir,
                     const cold::Manifest& earlier, const cold::Segment& fresh,
                     const std::string& path) {
  const int pk = table.current().PrimaryKeyIndex();
  if (pk < 0) return true;
  const catalog::ColumnDef& key = table.current().columns[pk];
  const std::string type = EngineType(key).ToString();
  const auto fresh_range = SegmentRange(fresh, key);
  std::string older;
  for (const auto& segment : earlier.segments) {
    const auto range = SegmentRange(segment, key);
    if (fresh_range && range &&
        (range->second < fresh_range->first || fresh_range->second < range->first)) {
      continue;
    }
    const auto name = SegmentColumnName(segment, key.id);
    if (!name) return true;
    older += (older.empty() ? "" : " UNION ALL ") + std::string("SELECT CAST(") + Quoted(*name) +
             " AS " + type + ") AS k FROM read_parquet(" +
             Literal((fs::path(dir) / segment.file).string()) + ")";
  }
  if (older.empty()) return false;
  auto result = connection.Query("SELECT 1 FROM (" + older + ") o SEMI JOIN (SELECT CAST(" +
                                 Quoted(key.name) + " AS " + type + ") AS k FROM read_parquet(" +
                                 Literal(path) + ")) n ON o.k = n.k LIMIT 1");
  return result->HasError() || result->RowCount() > 0;
}

// Statements planned on the manifest before the new segment read these rows hot: the
// flush waits for them to finish before it turns the rows into markers. (Their store
// snapshots, taken while the manifest was pinned, already predate the markers; the wait
// is a second guard, and gives up after a minute.)
void WaitForReaders(const std::weak_ptr<const cold::Manifest>& previous, const std::string& dir) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (!previous.expired()) {
    if (std::chrono::steady_clock::now() > deadline) {
      spdlog::warn("flush of {}: a query planned before the flush is still running after 60 s", dir);
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
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
  // Where the time went, in milliseconds: reading hot rows, writing Parquet (with the
  // manifest), turning flushed rows into markers, compacting the flushed key range.
  int64_t read_ms = 0, write_ms = 0, markers_ms = 0, compact_ms = 0;
  auto millis_since = [](std::chrono::steady_clock::time_point t) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t).count();
  };
  auto phase = std::chrono::steady_clock::now();

  // Keys written from now on: those rows stay hot when the flushed ones become markers.
  const auto written_since = committer.Watch(table.table_num);
  // One snapshot cursor over the table; rows come grouped by scope.
  auto cursor = store.NewCursor(store::Family::kHot, store::TablePrefix(table.table_num));
  // A deque: growing it never copies one huge block over.
  std::deque<FlushRow> rows;
  std::string scope;
  std::optional<std::string> counted_scope;
  auto flush_scope = [&]() -> Status {
    if (rows.empty()) return Status::Ok();
    if (cancelled()) return {Code::kInternalError, "Cancelled"};
    const std::string dir = cold::ColdStore::ScopeDir(state, table, scope);
    if (dir.empty()) return {Code::kNotFound, "The table's storage does not exist"};
    read_ms += millis_since(phase);
    phase = std::chrono::steady_clock::now();
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) return {Code::kInternalError, "Cannot create " + dir + ": " + ec.message()};
    std::shared_ptr<const cold::Manifest> current = cold.Get(dir);  // dropped before waiting
    const std::weak_ptr<const cold::Manifest> previous = current;
    cold::Manifest manifest = *current;
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
    segment.overlaps_earlier = OverlapsEarlier(connection, table, dir, manifest, segment, path);
    manifest.segments.push_back(std::move(segment));
    ++manifest.next_batch;
    KALAM_RETURN_IF_ERROR(cold.Commit(dir, std::move(manifest)));  // the commit point
    current.reset();
    WaitForReaders(previous, dir);
    write_ms += millis_since(phase);
    phase = std::chrono::steady_clock::now();

    // The rows are in cold storage now: each row not written since the snapshot leaves
    // the hot rows; its key stays as a marker while the cold version is live (tombstones
    // take their marker along). In small commits, so writers wait little.
    constexpr size_t kMarkersPerCommit = 32;
    for (size_t begin = 0; begin < rows.size(); begin += kMarkersPerCommit) {
      const size_t end = std::min(rows.size(), begin + kMarkersPerCommit);
      KALAM_RETURN_IF_ERROR(committer.Commit([&](store::CommitContext& commit) -> Status {
        for (size_t i = begin; i < end; ++i) {
          const FlushRow& r = rows[i];
          if (written_since->Changed(r.key)) continue;  // the newer version stays
          // Unread: a later statement of the group that reads r.key finds the flushed
          // version, as good as the marker for key checks, and writes after this delete.
          commit.DeleteUnread(store::Family::kHot, r.key);
          if (r.deleted) {
            commit.DeleteUnread(store::Family::kHot, store::MarkerKey(r.key));
          } else {
            commit.PutUnread(store::Family::kHot, store::MarkerKey(r.key), std::string());  // a key, no value
          }
        }
        return Status::Ok();
      }));
      // Writers that arrived meanwhile commit in a group of their own, not behind the next
      // chunk.
      std::this_thread::sleep_for(std::chrono::microseconds(100));
    }
    markers_ms += millis_since(phase);
    phase = std::chrono::steady_clock::now();
    flushed += static_cast<int64_t>(rows.size());
    ++segments;
    if (counted_scope != scope) {  // a scope may take several segments
      ++scopes;
      counted_scope = scope;
    }
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
    // A large scope goes out in several segments: the rows held at once stay bounded.
    if (rows.size() >= kMaxSegmentRows) KALAM_RETURN_IF_ERROR(flush_scope());
  }
  KALAM_RETURN_IF_ERROR(cursor->status());
  KALAM_RETURN_IF_ERROR(flush_scope());
  if (flushed > 0) {
    // The flushed rows left the hot store as deletions: compacted away, they stop costing
    // every later scan of the table a step each.
    cursor.reset();
    phase = std::chrono::steady_clock::now();
    KALAM_RETURN_IF_ERROR(store.CompactRange(store::Family::kHot, store::TablePrefix(table.table_num),
                                             store::TablePrefix(table.table_num + 1)));
    compact_ms = millis_since(phase);
  }
  return "{\"rows_flushed\":" + std::to_string(flushed) + ",\"segments\":" +
         std::to_string(segments) + ",\"scopes\":" + std::to_string(scopes) +
         ",\"read_ms\":" + std::to_string(read_ms) + ",\"write_ms\":" + std::to_string(write_ms) +
         ",\"markers_ms\":" + std::to_string(markers_ms) + ",\"compact_ms\":" +
         std::to_string(compact_ms) + "}";
}

namespace {

std::string Typed(const std::string& expr, const catalog::ColumnDef& c) {
  return "CAST(" + expr + " AS " + EngineType(c).ToString() + ") AS " + Quoted(c.name);
}

// A segment's rows under the current schema, read by column id: the columns, _seq and
// _deleted (and extra, when given, after them).
std::string SegmentSelect(const TableDef& table, const std::string& scope_dir,
                          const cold::Segment& segment, const std::string& extra = {}) {
  std::string select = "SELECT ";
  for (const auto& c : table.current().columns) {
    // A column added after the segment was written reads as its literal default, as
    // older hot rows do.
    std::string source = "NULL";
    if (auto literal = LiteralDefault(c.default_expr)) source = literal->ToSQLString();
    if (auto name = SegmentColumnName(segment, c.id)) source = Quoted(*name);
    select += Typed(source, c) + ", ";
  }
  return select + "_seq, _deleted" + extra + " FROM read_parquet(" +
         Literal((fs::path(scope_dir) / segment.file).string()) + ")";
}

// Every segment's rows, UNION ALL'd.
std::string SegmentsSql(const TableDef& table, const std::string& scope_dir,
                        const cold::Manifest& manifest) {
  std::string all;
  for (const auto& segment : manifest.segments) {
    all += (all.empty() ? "" : " UNION ALL ") + SegmentSelect(table, scope_dir, segment);
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
    segment.overlaps_earlier = false;  // the scope's only segment
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
                          const cold::Manifest& manifest,
                          const std::function<bool(const cold::Segment&)>& may_match) {
  if (manifest.segments.empty()) return {};
  const auto& columns = table.current().columns;
  const int pk = table.current().PrimaryKeyIndex();
  const catalog::ColumnDef& key = columns[pk];
  const std::string scan = std::string(kTableScanFunction) + "(" + Literal(table.id());
  std::string names;
  for (const auto& c : columns) names += Quoted(c.name) + ", ";
  // Hot rows are newer than any cold version of their key (a flushed row that changes
  // comes back to the hot store), so they are read as they are.
  std::string hot = "SELECT ";
  for (const auto& c : columns) hot += Typed(Quoted(c.name), c) + ", ";
  hot += "_seq FROM " + scan + ", false)";

  // Cold rows: the segments the filters may match, minus the keys that have a newer
  // version: in the hot store (rows and tombstones), or in a later segment that shares
  // keys with earlier ones (overlaps_earlier). Tombstones hide only older versions, so
  // they go after that.
  const int64_t kHotRank = std::numeric_limits<int32_t>::max();
  bool any_overlap = false;
  std::string rows;
  std::vector<std::pair<duckdb::Value, duckdb::Value>> ranges;  // of the keys read
  bool range_known = true;
  for (size_t i = 0; i < manifest.segments.size(); ++i) {
    const cold::Segment& segment = manifest.segments[i];
    if (i > 0 && segment.overlaps_earlier) any_overlap = true;
    if (may_match && !may_match(segment)) continue;
    rows += (rows.empty() ? "" : " UNION ALL ") +
            SegmentSelect(table, scope_dir, segment, ", " + std::to_string(i) + " AS __kalam_seg");
    auto r = SegmentRange(segment, key);
    if (r) {
      ranges.push_back(std::move(*r));
    } else {
      range_known = false;
    }
  }
  if (rows.empty()) return hot;
  // Hot keys outside the cold key range shadow nothing (new rows, mostly): left out, the
  // join's build side stays small or empty.
  std::string newer = "SELECT " + Quoted(key.name) + " AS __kalam_key, " + std::to_string(kHotRank) +
                      " AS __kalam_seg FROM " + scan + ", true)";
  if (range_known && !ranges.empty()) {
    // The segments' key ranges, overlapping ones joined (at most 32: then one range).
    std::sort(ranges.begin(), ranges.end(),
              [](const auto& a, const auto& b) { return a.first < b.first; });
    std::vector<std::pair<duckdb::Value, duckdb::Value>> joined;
    for (auto& r : ranges) {
      if (!joined.empty() && !(joined.back().second < r.first)) {
        if (joined.back().second < r.second) joined.back().second = r.second;
      } else {
        joined.push_back(std::move(r));
      }
    }
    if (joined.size() > 32) {
      duckdb::Value high = joined.front().second;
      for (const auto& r : joined) {
        if (high < r.second) high = r.second;
      }
      joined = {{joined.front().first, high}};
    }
    const std::string type = EngineType(key).ToString();
    std::string where;
    for (const auto& [low, high] : joined) {
      where += (where.empty() ? "" : " OR ") + std::string("(") + Quoted(key.name) + " >= CAST(" +
               Literal(low.ToString()) + " AS " + type + ") AND " + Quoted(key.name) + " <= CAST(" +
               Literal(high.ToString()) + " AS " + type + "))";
    }
    newer += " WHERE " + where;
  }
  if (any_overlap) {
    for (size_t j = 1; j < manifest.segments.size(); ++j) {
      const cold::Segment& segment = manifest.segments[j];
      if (!segment.overlaps_earlier) continue;
      const auto name = SegmentColumnName(segment, key.id);
      newer += " UNION ALL SELECT " + Typed(name ? Quoted(*name) : "NULL", key) +
               ", " + std::to_string(j) + " FROM read_parquet(" +
               Literal((fs::path(scope_dir) / segment.file).string()) + ")";
    }
  }
  return hot + " UNION ALL SELECT " + names + "_seq FROM (" + rows + ") AS __kalam_cold ANTI JOIN (" +
         newer + ") AS __kalam_newer ON __kalam_cold." + Quoted(key.name) +
         " = __kalam_newer.__kalam_key" +
         (any_overlap ? " AND __kalam_newer.__kalam_seg > __kalam_cold.__kalam_seg" : "") +
         " WHERE NOT __kalam_cold._deleted";
}

}  // namespace kalam::query
