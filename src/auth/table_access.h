// Who may touch a table and whose rows they see, and how a table name resolves. Every
// door and every statement (SQL scans, DML, the fast paths, DDL, flush, live queries)
// asks here; a second copy of a rule would drift.
#pragma once

#include <string>
#include <string_view>

#include "auth/caller.h"
#include "catalog/catalog.h"
#include "common/status.h"

namespace kalam::auth {

// The scope of a caller in a table: their user_id in USER and STREAM tables, "" in SHARED.
// Rows are keyed by scope, so a caller's reads and writes never reach another partition.
std::string ScopeFor(const catalog::TableDef& table, const Caller& caller);

// Whether the caller may read the table's rows: everyone their own USER/STREAM rows;
// SHARED tables service and above, and users when the table is public.
Status CheckRead(const catalog::TableDef& table, const Caller& caller);
// Whether the caller may change the table's rows: the same, but SHARED tables only from
// service up, whatever their access level.
Status CheckWrite(const catalog::TableDef& table, const Caller& caller);

// Whether schema names the system's own relations (system, information_schema, pg_catalog).
bool IsSystemSchema(std::string_view schema);

// The user table [schema.]name names (schema empty: default_namespace); both already
// folded to lower case. NOT_FOUND naming the namespace or the table; the system schemas
// are read-only (PERMISSION_DENIED), since their relations are no user tables.
Result<const catalog::TableDef*> LookupTable(const catalog::CatalogState& state,
                                             const std::string& schema, const std::string& name,
                                             const std::string& default_namespace);

}  // namespace kalam::auth
