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

// A user whose flushed rows a read of every user's rows merges in. fresh: its manifest is
// read from the file, not a cached copy (another node flushes the user's shard).
struct ScopeToMerge {
  std::string scope;
  bool fresh = false;
};

struct GuardContext {
  const catalog::CatalogState& state;
  const auth::Caller& caller;
  const std::string& default_namespace;
  cold::ColdStore* cold = nullptr;  // where flushed rows live; null: hot rows only
  // Receives the manifests the rewritten statement reads; the caller keeps them until it
  // has run (a flush waits for them before it turns flushed hot rows into markers).
  std::vector<std::shared_ptr<const cold::Manifest>>* pinned = nullptr;
  // In a transaction: the last _seq its snapshot holds; cold rows written later are not
  // read. Empty, or nullopt: every row. (Asked once the table's read gate let it be read:
  // a transaction takes its snapshot at its first read.)
  std::function<std::optional<int64_t>()> visible_seq;
  // Set: each table read must pass it (QueryEngine's ReadGate: at the leader of its shard).
  const std::function<Status(const catalog::TableDef&, const std::string&)>* read_gate = nullptr;
  // Set for a query of every user's rows (QueryContext::every_user): what a USER or STREAM
  // table reads is every user's rows, and this names the users with flushed rows, whose
  // cold segments are merged in (its refusal fails the statement). The read gate is not
  // asked for these tables: this sees to their freshness.
  const std::function<Result<std::vector<ScopeToMerge>>(const catalog::TableDef&)>* every_scope = nullptr;
  // Set (cluster mode, reads caught up): when the read gate refuses a table's rows, this
  // may fetch them from the leader of a shard this node holds no replica of, for the
  // scans; true when it did (else the refusal stands).
  const std::function<Result<bool>(const catalog::TableDef&, const std::string& scope)>* gather = nullptr;
};

// Ok: the statement is a query that only reads what the caller may read, through scans.
Status GuardStatement(duckdb::SQLStatement& statement, const GuardContext& context);

}  // namespace kalam::query
