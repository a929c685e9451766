#include "cold/flush.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <deque>
#include <filesystem>
#include <limits>
#include <map>
#include <mutex>
#include <thread>

#include "cold/merged_scan.h"
#include "common/clock.h"
#include "common/disk_full.h"
#include "common/json_text.h"
#include "common/text.h"
#include "duckdb/parser/keyword_helper.hpp"
#include "query/cells.h"
#include "query/table_scan.h"
#include "store/committer.h"
#include "store/kv_store.h"
#include "store/row_codec.h"

namespace kalam::cold {
namespace {

namespace fs = std::filesystem;
using catalog::TableDef;
using query::DecodeCurrentRow;
using query::EngineType;
using query::WriteCell;

struct FlushRow {
  std::string key;
  int64_t seq = 0;
  bool deleted = false;
  std::vector<store::Cell> cells;  // current column order
};

constexpr size_t kMaxSegmentRows = 1'000'000;
// Markers are committed in steps that each take about this long (a writer arriving during
// one waits at most that), of kMinMarkersPerCommit to kMaxMarkersPerCommit rows.
constexpr auto kMarkerCommitBudget = std::chrono::microseconds(100);
// In cluster mode a commit takes a round of its shard's log (~1 ms) however small: the
// steps are sized to take about this long, or a flush would take a round per 32 rows.
constexpr auto kReplicatedMarkerCommitBudget = std::chrono::milliseconds(4);
constexpr size_t kMinMarkersPerCommit = 32;
constexpr size_t kMaxMarkersPerCommit = 8192;

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

}  // namespace

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
    const std::string c = QuotedIdentifier(columns[i].name);
    if (i > 0) sql += ", ";
    sql += "min(" + c + ")::VARCHAR, max(" + c + ")::VARCHAR, count(*) - count(" + c + ")";
  }
  sql += " FROM read_parquet(" + SqlString(path) + ")";
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

namespace {

// Whether a key of the fresh segment (at path) is also in an earlier segment of the scope.
// Segments whose key ranges are apart are not read; an error counts as an overlap.
bool OverlapsEarlier(duckdb::Connection& connection, const TableDef& table, const std::string& dir,
                     const Manifest& earlier, const Segment& fresh,
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
    const auto name = segment.ColumnName(key.id);
    if (!name) return true;
    older += (older.empty() ? "" : " UNION ALL ") + std::string("SELECT CAST(") + QuotedIdentifier(*name) +
             " AS " + type + ") AS k FROM read_parquet(" +
             SqlString((fs::path(dir) / segment.file).string()) + ")";
  }
  if (older.empty()) return false;
  auto result = connection.Query("SELECT 1 FROM (" + older + ") o SEMI JOIN (SELECT CAST(" +
                                 QuotedIdentifier(key.name) + " AS " + type + ") AS k FROM read_parquet(" +
                                 SqlString(path) + ")) n ON o.k = n.k LIMIT 1");
  return result->HasError() || result->RowCount() > 0;
}

// Statements planned on the manifest before the new segment read these rows hot: the
// flush waits for them to finish before it turns the rows into markers. (Their store
// snapshots, taken while the manifest was pinned, already predate the markers; the wait
// is a second guard, and gives up after a minute.)
void WaitForReaders(const std::weak_ptr<const Manifest>& previous, const std::string& dir) {
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
                               store::Committer& committer, ColdStore& cold,
                               const catalog::CatalogState& state, const TableDef& table,
                               const std::function<bool()>& cancelled, const ScopeFilter& include) {
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
    const std::string dir = ColdStore::ScopeDir(state, table, scope);
    if (dir.empty()) return {Code::kNotFound, "The table's storage does not exist"};
    read_ms += millis_since(phase);
    phase = std::chrono::steady_clock::now();
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec && IsNoSpace(ec)) return DiskFull("creating " + dir);
    if (ec) return {Code::kInternalError, "Cannot create " + dir + ": " + ec.message()};
    // Dropped before waiting. On shared storage read afresh: another node may have
    // written the scope since this one cached its manifest.
    std::shared_ptr<const Manifest> current = cold.shared() ? cold.GetFresh(dir) : cold.Get(dir);
    KALAM_RETURN_IF_ERROR(current->CheckReadable(dir));
    const std::weak_ptr<const Manifest> previous = current;
    Manifest manifest = *current;
    const std::string file = "batch-" + std::to_string(manifest.next_batch) + ".parquet";
    const std::string path = (fs::path(dir) / file).string();
    int64_t handle;
    {
      std::lock_guard lock(batches_mutex);
      handle = next_batch_handle++;
      batches[handle] = FlushBatch{&table, &rows};
    }
    Status written = WriteSegmentFile(path, [&](const std::string& tmp) {
      return RunSql(connection, "COPY (SELECT * FROM " + std::string(kFlushRowsFunction) + "(" +
                                    std::to_string(handle) + ")) TO " + SqlString(tmp) +
                                    " (FORMAT parquet, COMPRESSION zstd)");
    });
    {
      std::lock_guard lock(batches_mutex);
      batches.erase(handle);
    }
    KALAM_RETURN_IF_ERROR(written);

    Segment segment;
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
    // take their marker along). In commits sized to take about kMarkerCommitBudget, so a
    // writer arriving meanwhile waits little, and stepping aside whenever writers wait, so
    // they commit in groups of their own instead of behind the next step.
    size_t per_commit = kMinMarkersPerCommit;
    const std::chrono::microseconds budget =
        committer.replicated() ? std::chrono::microseconds(kReplicatedMarkerCommitBudget) : kMarkerCommitBudget;
    for (size_t begin = 0; begin < rows.size();) {
      const size_t end = std::min(rows.size(), begin + per_commit);
      const auto started = std::chrono::steady_clock::now();
      KALAM_RETURN_IF_ERROR(committer.Commit([&](store::CommitContext& commit) -> Status {
        for (size_t i = begin; i < end; ++i) {
          const FlushRow& r = rows[i];
          if (written_since->Changed(r.key)) continue;  // the newer version stays
          // Unread: a later statement of the group that reads r.key finds the flushed
          // version, as good as the marker for key checks, and writes after this delete.
          commit.DeleteUnread(store::Family::kHot, r.key);
          commit.NoteRemovedFromHot(table.table_num, r.seq);
          if (r.deleted) {
            commit.DeleteUnread(store::Family::kHot, store::MarkerKey(r.key));
          } else {
            commit.PutUnread(store::Family::kHot, store::MarkerKey(r.key), std::string());  // a key, no value
          }
        }
        return Status::Ok();
      }));
      const auto took = std::chrono::steady_clock::now() - started;
      if (took < budget / 2 && per_commit < kMaxMarkersPerCommit) {
        per_commit *= 2;
      } else if (took > budget && per_commit > kMinMarkersPerCommit) {
        per_commit /= 2;
      }
      begin = end;
      committer.StepAside(std::chrono::milliseconds(5));
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

  bool scope_included = true, first = true;
  for (; cursor->Valid(); cursor->Next()) {
    const std::string_view key = cursor->key();
    const std::string_view key_scope = store::ScopeOfKey(key);
    if (first || key_scope != scope) {
      first = false;
      KALAM_RETURN_IF_ERROR(flush_scope());
      scope = std::string(key_scope);
      scope_included = include == nullptr || include(scope);
    }
    if (!scope_included) continue;
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

}  // namespace kalam::cold
