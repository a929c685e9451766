// DuckDB results to the JSON of POST /v1/api/sql (docs/api.md), straight from the result chunks.
// Internal to query/ (DuckDB types).
#pragma once

#include <duckdb.hpp>
#include <string>

#include "common/status.h"
#include "query/engine.h"

namespace kalam::query {

// The API's data_type name of a DuckDB type: BigInt, Text, Decimal(10,2), ...
std::string SpecTypeName(const duckdb::LogicalType& type);

// One value as JSON, by the value encoding of docs/api.md.
void AppendValue(std::string& out, const duckdb::Value& value);

// Builds a RowSet chunk by chunk.
class RowSetWriter {
 public:
  RowSetWriter(const duckdb::vector<std::string>& names,
               const duckdb::vector<duckdb::LogicalType>& types);
  // Appends up to max_rows rows of chunk (whose columns have the writer's types).
  void Append(duckdb::DataChunk& chunk, idx_t max_rows);
  uint64_t row_count() const { return out_.row_count; }
  RowSet Finish();

 private:
  duckdb::vector<duckdb::LogicalType> types_;
  RowSet out_;
};

// Encodes a successful materialized or streaming result. max_rows 0: no limit.
Result<RowSet> EncodeResult(duckdb::QueryResult& result, uint64_t max_rows);

}  // namespace kalam::query
