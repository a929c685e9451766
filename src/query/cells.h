// Stored cells to and from DuckDB: the engine type of a column, writing a cell into a
// result vector, and converting a value to a column's cell. Internal to query/.
#pragma once

#include <duckdb.hpp>

#include "catalog/models.h"
#include "common/status.h"
#include "store/row_codec.h"

namespace kalam::query {

duckdb::LogicalType EngineType(const catalog::ColumnDef& column);

// REQUIRES: vector is flat and of EngineType(column).
void WriteCell(duckdb::Vector& vector, idx_t row, const catalog::ColumnDef& column,
               const store::Cell& cell);

duckdb::Value CellToValue(const catalog::ColumnDef& column, const store::Cell& cell);

// Casts value to the column's type. CONSTRAINT_VIOLATION naming the column when it can't.
Result<store::Cell> CellFromValue(const catalog::ColumnDef& column, const duckdb::Value& value);

}  // namespace kalam::query
