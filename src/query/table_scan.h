// The scan of a user, shared or stream table for the caller (DESIGN §4): the table
// function every table reference becomes. Rows come from the hot store, the caller's
// scope only; rows written under older schema versions read under the current one.
// Internal to query/ (DuckDB types).
#pragma once

#include <duckdb.hpp>

#include "auth/table_access.h"
#include "catalog/models.h"
#include "query/slots.h"
#include "store/row_codec.h"

namespace kalam::query {

inline constexpr const char* kTableScanFunction = "kalam_table_scan";

duckdb::TableFunction MakeTableScan(duckdb::shared_ptr<ScanRegistry> registry);

// A stored row read under the current schema: cells in current column order and its
// _seq; nullopt for a tombstone.
struct CurrentRow {
  std::vector<store::Cell> cells;
  int64_t seq = 0;
};
Result<std::optional<CurrentRow>> DecodeCurrentRow(const catalog::TableDef& table,
                                                   std::string_view bytes);

// A literal default ("'x'", "42", "TRUE", "NULL") as a value to cast; nullopt for the
// functions (NOW(), SNOWFLAKE_ID(), ...), which have no value for rows already written.
std::optional<duckdb::Value> LiteralDefault(const std::string& default_expr);

}  // namespace kalam::query
