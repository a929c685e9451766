// DuckDB results to the JSON of SPEC §2.1, straight from the result chunks.
// Internal to query/ (DuckDB types).
#pragma once

#include <duckdb.hpp>
#include <string>

#include "common/status.h"
#include "query/engine.h"

namespace kalam::query {

// The SPEC data_type name of a DuckDB type: BigInt, Text, Decimal(10,2), ...
std::string SpecTypeName(const duckdb::LogicalType& type);

// Encodes a successful materialized or streaming result. max_rows 0: no limit.
Result<RowSet> EncodeResult(duckdb::QueryResult& result, uint64_t max_rows);

}  // namespace kalam::query
