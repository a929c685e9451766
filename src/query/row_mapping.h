// How a stored row of any schema version reads under the table's current columns — the
// one rule every reader of stored rows uses (the scan, DML, flush, live queries): columns
// match by id, so renamed columns keep their values and dropped ones vanish; a column
// added since the row was written reads as its literal default, or NULL when its default
// is a function (NOW(), SNOWFLAKE_ID(), ...), which has no value for rows already written.
// Cold segments apply the same rule in SQL (cold/merged_scan.h).
#pragma once

#include <duckdb.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "catalog/models.h"
#include "common/status.h"
#include "store/row_codec.h"

namespace kalam::query {

struct RowMapping {
  std::vector<ColumnType> types;     // the version's column types, for decoding
  std::vector<int> source;           // per current column: its index in the version, or -1
  std::vector<store::Cell> missing;  // per current column: the cell when source is -1

  // The mapping of the table's rows written under version; an error for an unknown version.
  static Result<RowMapping> For(const catalog::TableDef& table, uint32_t version);
};

// A stored row read under the current schema: cells in current column order and its _seq.
struct CurrentRow {
  std::vector<store::Cell> cells;
  int64_t seq = 0;
};

// The column types of the table's current schema, in order (what rows written now are
// encoded with).
std::vector<ColumnType> CurrentTypes(const catalog::TableDef& table);

// The stored row (bytes as the hot store keeps them) under the current schema; nullopt for
// a tombstone.
Result<std::optional<CurrentRow>> DecodeCurrentRow(const catalog::TableDef& table,
                                                   std::string_view bytes);

// A literal default ("'x'", "42", "TRUE", "NULL") as a value to cast; nullopt for the
// functions (NOW(), SNOWFLAKE_ID(), ...), which have no value for rows already written.
std::optional<duckdb::Value> LiteralDefault(const std::string& default_expr);

}  // namespace kalam::query
