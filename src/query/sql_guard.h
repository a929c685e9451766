// The first wall of the query path: a parsed statement is validated and each
// table reference is replaced by the scan of that table for the caller. What is not
// known to be safe is refused. Internal to query/ (DuckDB types).
#pragma once

#include <duckdb.hpp>
#include <functional>
#include <memory>
#include <string>
#include <optional>
#include <vector>

#include "auth/caller.h"
#include "catalog/catalog.h"
#include "common/status.h"

namespace kalam::cold {
class ColdStore;
struct Manifest;
}

namespace kalam::query {

// The table function every system-table reference becomes. User SQL can never name it:
// table functions written by users are refused before the rewrite.
inline constexpr const char* kSystemScanFunction = "kalam_system_scan";

struct GuardContext {
  const catalog::CatalogState& state;
  const auth::Caller& caller;
  const std::string& default_namespace;
  cold::ColdStore* cold = nullptr;  // where flushed rows live; null: hot rows only
  // Receives the manifests the rewritten statement reads; the caller keeps them until it
  // has run (a flush waits for them before it turns flushed hot rows into markers).
  std::vector<std::shared_ptr<const cold::Manifest>>* pinned = nullptr;
  // In a transaction: the last _seq its snapshot holds; cold rows written later are not
  // read. Unset: every row.
  std::optional<int64_t> visible_seq;
  // Set: each table read must pass it (QueryEngine's ReadGate: at the leader of its shard).
  const std::function<Status(const catalog::TableDef&, const std::string&)>* read_gate = nullptr;
};

// Ok: the statement is a query that only reads what the caller may read, through scans.
Status GuardStatement(duckdb::SQLStatement& statement, const GuardContext& context);

}  // namespace kalam::query
