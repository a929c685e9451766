// Flush (DESIGN §3): a table's hot rows, per scope, into a Parquet segment and the scope's
// manifest; then the flushed hot rows become key-only markers (tombstones go), unless a
// newer version replaced them meanwhile. And the merged read of hot and cold rows.
// Internal to query/ (DuckDB types).
#pragma once

#include <duckdb.hpp>
#include <functional>
#include <optional>
#include <utility>
#include <string>

#include "catalog/catalog.h"
#include "cold/cold_store.h"
#include "common/status.h"
#include "query/slots.h"

namespace kalam::store {
class Committer;
}

namespace kalam::query {

inline constexpr const char* kFlushRowsFunction = "kalam_flush_rows";

// The table function COPY reads a flush batch from.
duckdb::TableFunction MakeFlushRowsFunction();

// Flushes every scope of the table; the JSON result names what was written.
Result<std::string> FlushTable(duckdb::Connection& connection, store::KvStore& store,
                               store::Committer& committer, cold::ColdStore& cold,
                               const catalog::CatalogState& state, const catalog::TableDef& table,
                               const std::function<bool()>& cancelled);

// Merges each scope's segments into one, keeping the newest version per key and dropping
// tombstones older than the table's DELETED_RETENTION_HOURS.
Result<std::string> CompactTable(duckdb::Connection& connection, cold::ColdStore& cold,
                                 const catalog::CatalogState& state, const catalog::TableDef& table,
                                 const std::function<bool()>& cancelled);

// SQL for the rows of a table in one scope, hot and cold merged (newest version per key,
// tombstones hidden), with the same columns as the plain scan. Empty when the scope has
// no cold segment (the plain scan is then the whole story). may_match, when given, leaves
// out the rows of segments it says no to (their keys still hide older versions).
std::string MergedScanSql(const catalog::TableDef& table, const std::string& scope_dir,
                          const cold::Manifest& manifest,
                          const std::function<bool(const cold::Segment&)>& may_match = {});

// A segment's min and max of a column (statistics of the manifest), typed; nullopt when
// not recorded.
std::optional<std::pair<duckdb::Value, duckdb::Value>> SegmentRange(const cold::Segment& segment,
                                                                   const catalog::ColumnDef& column);

}  // namespace kalam::query
