// The system tables (system.*) and information_schema: their schemas, who may read them,
// and their rows for a caller. Internal to query/ (DuckDB types).
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
  std::string schema;  // "system" or "information_schema"
  std::string name;
  std::vector<std::string> column_names;
  std::vector<duckdb::LogicalType> column_types;
  auth::Role min_role;  // below it: PERMISSION_DENIED
  // The rows this caller may see. REQUIRES: caller.role >= min_role.
  std::function<std::vector<Row>(const catalog::CatalogState&, const auth::Caller&)> rows;
};

const std::vector<SystemTable>& SystemTables();
const SystemTable* FindSystemTable(std::string_view schema, std::string_view name);

}  // namespace kalam::query
