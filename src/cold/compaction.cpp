#include "cold/flush.h"

#include <filesystem>
#include <thread>

#include "cold/merged_scan.h"
#include "common/clock.h"
#include "common/text.h"
#include "store/committer.h"

namespace kalam::cold {

namespace fs = std::filesystem;
using catalog::TableDef;

Result<std::string> CompactTable(duckdb::Connection& connection, store::Committer& committer,
                                 ColdStore& cold, const catalog::CatalogState& state,
                                 const TableDef& table, const std::function<bool()>& cancelled) {
  // Every row in the segments was committed by now: a transaction that began later sees
  // the newest version of each key anyway. One that began earlier may read an older one.
  const int64_t started = committer.last_seq();
  while (committer.OldestOpenTransaction() < started) {
    if (cancelled()) return Status(Code::kInternalError, "Cancelled");
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
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
    // On shared storage read afresh: another node may have written the scope meanwhile.
    Manifest manifest = cold.shared() ? *cold.GetFresh(dir) : *cold.Get(dir);
    KALAM_RETURN_IF_ERROR(manifest.CheckReadable(dir));
    if (manifest.segments.empty()) continue;
    std::string names;
    for (const auto& c : columns) names += QuotedIdentifier(c.name) + ", ";
    const std::string file = "batch-" + std::to_string(manifest.next_batch) + ".parquet";
    const std::string path = (fs::path(dir) / file).string();
    const std::string select =
        "SELECT " + names + "_seq, _deleted FROM (SELECT *, row_number() OVER (PARTITION BY " +
        QuotedIdentifier(columns[pk].name) + " ORDER BY _seq DESC) AS __kalam_rn FROM (" +
        SegmentsSql(table, dir, manifest) + ")) WHERE __kalam_rn = 1 AND NOT (_deleted AND _seq < " +
        std::to_string(keep_tombstones_after) + ")";
    KALAM_RETURN_IF_ERROR(WriteSegmentFile(path, [&](const std::string& tmp) {
      return RunSql(connection, "COPY (" + select + ") TO " + SqlString(tmp) +
                                    " (FORMAT parquet, COMPRESSION zstd)");
    }));
    auto counted = connection.Query("SELECT count(*), min(_seq), max(_seq) FROM read_parquet(" + SqlString(path) + ")");
    if (counted->HasError()) return Status(Code::kInternalError, counted->GetError());
    Segment segment;
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
    Manifest next;
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
}  // namespace kalam::cold
