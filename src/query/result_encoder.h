// DuckDB results to the JSON of POST /v1/api/sql (docs/api.md), straight from the result chunks.
// Internal to query/ (DuckDB types).
#pragma once

#include <duckdb.hpp>
#include <string>

#include "common/status.h"
#include "query/engine.h"

namespace kalam::query {

// An engine error as a Status: parser, binder and catalog errors are INVALID_SQL, running
// out of the engine's memory RESOURCE_EXHAUSTED, ...; internal errors name no internals.
Status FromError(const duckdb::ErrorData& error);

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
  size_t bytes() const { return out_.rows_json.size(); }
  RowSet Finish();

 private:
  duckdb::vector<duckdb::LogicalType> types_;
  RowSet out_;
};

struct ResultLimits {
  uint64_t max_rows = 0;   // rows past it are not fetched, and the RowSet says truncated; 0: none
  uint64_t max_bytes = 0;  // encoded rows past it: RESOURCE_EXHAUSTED; 0: none
};

// Encodes a successful materialized or streaming result, fetching chunk by chunk: a
// streaming result stops being computed once a limit is reached.
Result<RowSet> EncodeResult(duckdb::QueryResult& result, const ResultLimits& limits);

}  // namespace kalam::query
