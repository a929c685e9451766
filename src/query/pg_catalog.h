// PostgreSQL's catalog (pg_catalog.pg_class, pg_attribute, pg_roles, ...) drawn from
// KalamDB's: namespaces are schemas, tables are relations, users are roles. The relations
// are system tables like system.* (rows built per scan, for the caller); the pg_catalog
// functions (pg_functions.h) read the same model, so an object has one id everywhere.
// Internal to query/ (DuckDB types).
//
// Object ids are derived, never stored, and stay the same while the object exists:
//   user tables        16384 + 4 * table_num   (its primary key index +1, constraint +2)
//   system relations   12100 + position in SystemTables()
//   schemas            pg_catalog 11, information_schema 12000, system 12001; namespaces
//                      2^30 + a hash of the name (30 bits)
//   roles              root 10; other users 2^29 + a hash of the user id (29 bits)
//   types              PostgreSQL's own (bool 16, int8 20, text 25, ...)
#pragma once

#include <duckdb.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "auth/caller.h"
#include "catalog/catalog.h"
#include "query/pg_compat.h"
#include "query/system_tables.h"

namespace kalam::query {

// The relations of schema pg_catalog, for SystemTables().
std::vector<SystemTable> PgCatalogTables();

namespace pg {

inline constexpr std::string_view kCatalogSchema = "pg_catalog";
// root's role: the owner of every schema, relation and the database.
inline constexpr int64_t kRootRoleOid = 10;

int64_t NamespaceOid(std::string_view schema);
int64_t RoleOid(const catalog::User& user);

struct Attribute {
  std::string name;
  duckdb::LogicalType type;
  int16_t number = 0;  // 1, 2, ...; negative: hidden (_deleted), as Postgres' system columns
  bool not_null = false;
  std::string default_expr;  // empty: none
};

// A table or system table as pg_class shows it to a caller.
struct Relation {
  int64_t oid = 0;
  std::string schema;
  std::string name;
  std::vector<Attribute> attributes;
  int16_t primary_key = 0;  // the attribute number of the primary key; 0: none

  int64_t IndexOid() const { return oid + 1; }  // the primary key's index, when there is one
  int64_t ConstraintOid() const { return oid + 2; }
  std::string IndexName() const { return name + "_pkey"; }
};

// The relations the caller may see: every user table (that a table exists and what its
// columns are is no secret, as in information_schema) and the system tables its role may
// read.
std::vector<Relation> Relations(const catalog::CatalogState& state, const auth::Caller& caller);

// The relation (or primary key index) with that oid, if the caller sees it; is_index tells
// which one it named.
std::optional<Relation> FindRelation(const catalog::CatalogState& state,
                                     const auth::Caller& caller, int64_t oid, bool* is_index);

// PostgreSQL's type of an engine type: its oid and typmod (-1: none).
struct TypeRef {
  int64_t oid = 25;
  int32_t typmod = -1;
};
TypeRef TypeOf(const duckdb::LogicalType& type);

// A row of pg_type: the element types KalamDB and its catalog use, and an array type of
// each.
struct Type {
  int64_t oid;
  std::string name;       // typname: int4, _int4, ...
  std::string formatted;  // as format_type prints it: integer, integer[], ...
  int16_t length;         // typlen; -1: variable
  bool by_value;
  char category;          // typcategory
  int64_t element = 0;    // arrays: the element's oid
  int64_t array = 0;      // elements: their array type's oid
};
const std::vector<Type>& Types();

// format_type(oid, typmod): "integer", "numeric(10,2)", "text[]", ...; nullopt for an
// unknown oid.
std::optional<std::string> FormatType(int64_t oid, int32_t typmod);

// The name of the role with that oid, if the caller may see it (as in pg_roles; root's, the
// owner of everything, to anyone).
std::optional<std::string> RoleName(const catalog::CatalogState& state,
                                    const auth::Caller& caller, int64_t oid);

}  // namespace pg
}  // namespace kalam::query
