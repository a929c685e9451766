// The merged read of a scope: its hot rows and its cold segments as one relation, the
// newest version of each key, tombstones hidden. Segments are read by column id under the
// table's current schema, so renamed, dropped and added columns read right.
#pragma once

#include <duckdb.hpp>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "catalog/catalog.h"
#include "cold/cold_store.h"

namespace kalam::cold {

// SQL for the rows of a table in one scope, hot and cold merged (newest version per key,
// tombstones hidden), with the same columns as the plain scan. Empty when the scope has
// no cold segment (the plain scan is then the whole story). may_match, when given, leaves
// out the rows of segments it says no to (their keys still hide older versions).
// visible_seq (a transaction's snapshot): cold rows with a later _seq are left out.
std::string MergedScanSql(const catalog::TableDef& table, const std::string& scope_dir,
                          const Manifest& manifest,
                          const std::function<bool(const Segment&)>& may_match = {},
                          std::optional<int64_t> visible_seq = std::nullopt);

// A scope with flushed rows, for EveryScopeSql: its user id, directory and manifest.
struct ScopeSegments {
  std::string scope;
  std::string dir;
  std::shared_ptr<const Manifest> manifest;
};

// SQL for the rows of a USER or STREAM table in every scope (every user's rows): the hot
// rows of all scopes in one scan, and the cold rows of each scope in cold_scopes that no
// newer version hides, as MergedScanSql merges them. Same columns as the plain scan.
std::string EveryScopeSql(const catalog::TableDef& table, const std::vector<ScopeSegments>& cold_scopes,
                          const std::function<bool(const Segment&)>& may_match = {},
                          std::optional<int64_t> visible_seq = std::nullopt);

// A segment's rows under the current schema: the columns, _seq and _deleted (and extra,
// when given, after them). A column added after the segment was written reads as its
// literal default, as older hot rows do.
std::string SegmentSelect(const catalog::TableDef& table, const std::string& scope_dir,
                          const Segment& segment, const std::string& extra = {});

// Every segment's rows, UNION ALL'd.
std::string SegmentsSql(const catalog::TableDef& table, const std::string& scope_dir,
                        const Manifest& manifest);

// A segment's min and max of a column (statistics of the manifest), typed; nullopt when
// not recorded.
std::optional<std::pair<duckdb::Value, duckdb::Value>> SegmentRange(const Segment& segment,
                                                                   const catalog::ColumnDef& column);

}  // namespace kalam::cold
