#include "auth/table_access.h"

namespace kalam::auth {

using catalog::TableDef;
using catalog::TableType;

std::string ScopeFor(const TableDef& table, const Caller& caller) {
  return table.type == TableType::kShared ? std::string() : caller.user_id;
}

Status CheckRead(const TableDef& table, const Caller& caller) {
  if (table.type != TableType::kShared || caller.role >= Role::kService) return Status::Ok();
  if (table.access_level == "public") return Status::Ok();
  return {Code::kPermissionDenied, "Permission denied: table '" + table.ns + "." + table.name +
                                       "' is a private shared table"};
}

Status CheckWrite(const TableDef& table, const Caller& caller) {
  if (table.type != TableType::kShared || caller.role >= Role::kService) return Status::Ok();
  return {Code::kPermissionDenied, "Permission denied: role 'user' may not change shared table '" +
                                       table.ns + "." + table.name + "'"};
}

bool IsSystemSchema(std::string_view schema) {
  return schema == "system" || schema == "information_schema" || schema == "pg_catalog";
}

Result<const TableDef*> LookupTable(const catalog::CatalogState& state, const std::string& schema,
                                    const std::string& name, const std::string& default_namespace) {
  if (IsSystemSchema(schema)) {
    return Status(Code::kPermissionDenied,
                  "System table '" + schema + "." + name + "' is read-only");
  }
  const std::string& ns = schema.empty() ? default_namespace : schema;
  if (!state.namespaces.contains(ns)) {
    return Status(Code::kNotFound, "Namespace '" + ns + "' does not exist");
  }
  const TableDef* table = state.FindTable(ns, name);
  if (table == nullptr) {
    return Status(Code::kNotFound, "Table '" + ns + "." + name + "' does not exist");
  }
  return table;
}

}  // namespace kalam::auth
