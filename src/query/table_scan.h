// The scan of a user, shared or stream table for the caller: the table function every
// table reference becomes. Rows come from the hot store, the caller's
// scope only; rows written under older schema versions read under the current one.
// Internal to query/ (DuckDB types).
#pragma once

#include <duckdb.hpp>

#include "auth/table_access.h"
#include "catalog/models.h"
#include "query/row_mapping.h"
#include "query/slots.h"
#include "store/row_codec.h"

namespace kalam::query {

inline constexpr const char* kTableScanFunction = "kalam_table_scan";

duckdb::TableFunction MakeTableScan(duckdb::shared_ptr<ScanRegistry> registry);

}  // namespace kalam::query
