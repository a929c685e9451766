// INSERT, UPDATE and DELETE on user, shared and stream tables.
// Values and WHERE clauses are evaluated by the engine over the caller's scope (literal
// VALUES skip it); the new row versions are checked and committed in one group-commit
// write. Internal to query/ (DuckDB types).
#pragma once

#include <duckdb.hpp>
#include <shared_mutex>

#include "catalog/catalog.h"
#include "query/engine.h"
#include "store/committer.h"


namespace kalam::query {

// What the statements need from the engine.
class DmlHost {
 public:
  virtual ~DmlHost() = default;
  // Parses, guards and runs a SELECT for the caller; all its rows.
  virtual Result<duckdb::unique_ptr<duckdb::MaterializedQueryResult>> Select(
      const QueryContext& context, const std::string& sql) = 0;
  // The same after the statement has committed (RETURNING): past the statement's deadline
  // and during shutdown too, since a committed change must be answered as applied.
  virtual Result<duckdb::unique_ptr<duckdb::MaterializedQueryResult>> SelectCommitted(
      const QueryContext& context, const std::string& sql) = 0;
  // Runs apply on the statement's rows: under the group committer (the statement commits
  // on its own), or into the caller's open transaction (it commits at COMMIT).
  virtual Status Write(const QueryContext& context,
                       const std::function<Status(store::Writer&)>& apply) = 0;
  // A stored value as the statement sees it: committed data, or in a transaction its
  // snapshot under its own writes.
  virtual Result<std::optional<std::string>> Read(const QueryContext& context, store::Family family,
                                                  const std::string& key) = 0;
  // Writers of one table: statements that read rows before writing them (UPDATE, DELETE,
  // ON CONFLICT DO UPDATE) hold it exclusively, plain INSERTs share it.
  virtual std::shared_mutex& TableLock(uint64_t table_num) = 0;
  virtual int64_t NextSnowflakeId() = 0;
};

// The table an INSERT, UPDATE or DELETE writes; null for another statement, or one whose
// target can't be resolved (running it reports why).
const catalog::TableDef* WrittenTable(const catalog::CatalogState& state, const QueryContext& context,
                                      duckdb::SQLStatement& statement);

Result<Outcome> RunInsert(DmlHost& host, const QueryContext& context,
                          const catalog::CatalogState& state, duckdb::InsertStatement& insert);
Result<Outcome> RunUpdate(DmlHost& host, const QueryContext& context,
                          const catalog::CatalogState& state, duckdb::UpdateStatement& update);
Result<Outcome> RunDelete(DmlHost& host, const QueryContext& context,
                          const catalog::CatalogState& state, duckdb::DeleteStatement& del);

}  // namespace kalam::query
