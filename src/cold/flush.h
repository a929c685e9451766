// Flush: a table's hot rows, per scope, into a Parquet segment and the scope's manifest;
// then the flushed hot rows become key-only markers (tombstones go), unless a newer
// version replaced them meanwhile. Compaction: a scope's segments merged into one. Both
// run on the engine's background database (DuckDB types in the interface).
#pragma once

#include <duckdb.hpp>
#include <functional>
#include <optional>
#include <utility>
#include <string>
#include <string_view>

#include "catalog/catalog.h"
#include "cold/cold_store.h"
#include "common/status.h"

namespace kalam::store {
class Committer;
}

namespace kalam::cold {

inline constexpr const char* kFlushRowsFunction = "kalam_flush_rows";

// The table function COPY reads a flush batch from.
duckdb::TableFunction MakeFlushRowsFunction();

// Which scopes of a table a flush takes (cluster mode: those of the shards this node
// leads); null: every scope.
using ScopeFilter = std::function<bool(std::string_view scope)>;

// Flushes every scope of the table that include takes; the JSON result names what was
// written.
Result<std::string> FlushTable(duckdb::Connection& connection, store::KvStore& store,
                               store::Committer& committer, ColdStore& cold,
                               const catalog::CatalogState& state, const catalog::TableDef& table,
                               const std::function<bool()>& cancelled, const ScopeFilter& include = nullptr);

// Runs sql on connection; an error names the flush.
Status RunSql(duckdb::Connection& connection, const std::string& sql);
// Per-column min, max and null count of a written segment, as JSON text.
std::string SegmentStats(duckdb::Connection& connection, const catalog::TableDef& table,
                         const std::string& path);

// Merges each scope's segments into one, keeping the newest version per key and dropping
// tombstones older than the table's DELETED_RETENTION_HOURS. It first waits for the
// transactions open when it starts: their snapshots may need the older versions it drops.
Result<std::string> CompactTable(duckdb::Connection& connection, store::Committer& committer,
                                 ColdStore& cold, const catalog::CatalogState& state,
                                 const catalog::TableDef& table,
                                 const std::function<bool()>& cancelled);

}  // namespace kalam::cold
