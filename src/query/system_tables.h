// The system tables (system.*, information_schema.* and pg_catalog.*): their schemas, who
// may read them, and their rows for a caller. Internal to query/ (DuckDB types).
#pragma once

#include <duckdb.hpp>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "auth/caller.h"
#include "catalog/catalog.h"

namespace kalam::query {

using Row = std::vector<duckdb::Value>;

struct SystemTable {
  std::string schema;  // "system", "information_schema" or "pg_catalog"
  std::string name;
  std::vector<std::string> column_names;
  std::vector<duckdb::LogicalType> column_types;
  auth::Role min_role;  // below it: PERMISSION_DENIED
  // The rows this caller may see. REQUIRES: caller.role >= min_role.
  std::function<std::vector<Row>(const catalog::CatalogState&, const auth::Caller&)> rows;
};

using SystemRows =
    std::function<std::vector<Row>(const catalog::CatalogState&, const auth::Caller&)>;

struct SystemColumn {
  const char* name;
  duckdb::LogicalType type;
};

SystemTable DefineSystemTable(std::string schema, std::string name, auth::Role min_role,
                              std::vector<SystemColumn> columns, SystemRows rows);

// Every system table, in a fixed order (pg_class numbers them by it).
const std::vector<SystemTable>& SystemTables();
const SystemTable* FindSystemTable(std::string_view schema, std::string_view name);

}  // namespace kalam::query
