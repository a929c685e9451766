// The executor: runs a batch of SQL for a caller. It splits the batch, binds parameters,
// sends KalamDB's own statements to their handlers and everything else to the query
// engine, and stops at the first failure (SPEC §2.1).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "auth/caller.h"
#include "common/config.h"
#include "common/status.h"
#include "query/engine.h"
#include "sql/params.h"

namespace kalam::catalog {
class Catalog;
}

namespace kalam::sql {

struct StatementResult {
  std::optional<query::RowSet> rows;  // set for row-returning statements
  uint64_t row_count = 0;             // rows affected, for the others
  std::string message;
};

struct BatchResult {
  std::vector<StatementResult> results;  // the statements that succeeded, in order
  Status error;                          // the failure that stopped the batch, if any
  size_t statement_index = 0;            // 1-based index of the failed statement; 0: none
};

struct BatchRequest {
  std::string_view sql;
  std::optional<std::vector<ParamValue>> params;
  std::string default_namespace = "default";
};

class Executor {
 public:
  Executor(catalog::Catalog& catalog, query::QueryEngine& engine, const Config& config)
      : catalog_(catalog), engine_(engine), config_(config) {}

  BatchResult Execute(const auth::Caller& caller, const BatchRequest& request);

 private:
  Result<StatementResult> RunStatement(const auth::Caller& caller, const std::string& sql,
                                       const std::string& default_namespace);

  catalog::Catalog& catalog_;
  query::QueryEngine& engine_;
  const Config& config_;
};

}  // namespace kalam::sql
