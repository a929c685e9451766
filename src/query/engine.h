// The query engine: DuckDB behind the one query path of DESIGN §4. Every SELECT is parsed
// by DuckDB, validated, has its table references replaced by scans bound to the caller,
// and runs on a pooled connection; results come back encoded as JSON.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "auth/caller.h"
#include "common/status.h"

namespace kalam::catalog {
class Catalog;
}

namespace kalam::query {

struct EngineOptions {
  std::string storage_dir;    // the only directory DuckDB itself may read or write
  int threads = 0;            // DuckDB worker threads; 0: one per core
  int connections = 4;        // pooled connections (statements running at once)
  uint64_t max_result_rows = 0;  // 0: no limit
};

// A row-returning statement's result, already JSON: schema_json is the SPEC "schema" array
// and rows_json the "rows" array.
struct RowSet {
  std::string schema_json;
  std::string rows_json;
  uint64_t row_count = 0;
};

struct QueryContext {
  auth::Caller caller;
  std::string default_namespace = "default";
};

class QueryEngine {
 public:
  static Result<std::unique_ptr<QueryEngine>> Open(catalog::Catalog& catalog,
                                                   const EngineOptions& options);
  virtual ~QueryEngine() = default;

  // Runs one statement that is not one of KalamDB's own. Only SELECT (and VALUES / set
  // operations / CTEs) is accepted here; anything that reads files, attaches databases,
  // changes settings or calls table functions is refused with INVALID_SQL or
  // PERMISSION_DENIED before it runs.
  virtual Result<RowSet> Query(const QueryContext& context, std::string_view sql) = 0;
};

}  // namespace kalam::query
