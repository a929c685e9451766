#include "query/pg_catalog.h"

#include "query/cells.h"

namespace kalam::query::pg {
namespace {

using duckdb::LogicalType;
using duckdb::LogicalTypeId;

constexpr int64_t kFirstUserOid = 16384;
constexpr int64_t kFirstSystemRelationOid = 12100;
constexpr int64_t kInformationSchemaOid = 12000;
constexpr int64_t kSystemSchemaOid = 12001;

uint32_t Fnv1a(std::string_view text) {
  uint32_t hash = 2166136261u;
  for (const char c : text) {
    hash ^= static_cast<uint8_t>(c);
    hash *= 16777619u;
  }
  return hash;
}

std::vector<Type> MakeTypes() {
  std::vector<Type> types = {
      {16, "bool", "boolean", 1, true, 'B', 0, 1000},
      {17, "bytea", "bytea", -1, false, 'U', 0, 1001},
      {18, "char", "\"char\"", 1, true, 'Z', 0, 1002},
      {19, "name", "name", 64, false, 'S', 0, 1003},
      {20, "int8", "bigint", 8, true, 'N', 0, 1016},
      {21, "int2", "smallint", 2, true, 'N', 0, 1005},
      {23, "int4", "integer", 4, true, 'N', 0, 1007},
      {25, "text", "text", -1, false, 'S', 0, 1009},
      {26, "oid", "oid", 4, true, 'N', 0, 1028},
      {114, "json", "json", -1, false, 'U', 0, 199},
      {700, "float4", "real", 4, true, 'N', 0, 1021},
      {701, "float8", "double precision", 8, true, 'N', 0, 1022},
      {1043, "varchar", "character varying", -1, false, 'S', 0, 1015},
      {1082, "date", "date", 4, true, 'D', 0, 1182},
      {1083, "time", "time without time zone", 8, true, 'D', 0, 1183},
      {1114, "timestamp", "timestamp without time zone", 8, true, 'D', 0, 1115},
      {1184, "timestamptz", "timestamp with time zone", 8, true, 'D', 0, 1185},
      {1700, "numeric", "numeric", -1, false, 'N', 0, 1231},
      {2950, "uuid", "uuid", 16, false, 'U', 0, 2951},
  };
  const size_t elements = types.size();
  for (size_t i = 0; i < elements; ++i) {
    const Type& e = types[i];
    types.push_back({e.array, "_" + e.name, e.formatted + "[]", -1, false, 'A', e.oid, 0});
  }
  return types;
}

const Type* FindType(int64_t oid) {
  for (const Type& t : Types()) {
    if (t.oid == oid) return &t;
  }
  return nullptr;
}

}  // namespace

int64_t NamespaceOid(std::string_view schema) {
  if (schema == kCatalogSchema) return 11;
  if (schema == "information_schema") return kInformationSchemaOid;
  if (schema == "system") return kSystemSchemaOid;
  return (int64_t{1} << 30) | (Fnv1a(schema) & ((1u << 30) - 1));
}

int64_t RoleOid(const catalog::User& user) {
  if (user.user_id == "root") return kRootRoleOid;
  return (int64_t{1} << 29) | (Fnv1a(user.user_id) & ((1u << 29) - 1));
}

std::vector<Relation> Relations(const catalog::CatalogState& state, const auth::Caller& caller) {
  std::vector<Relation> relations;
  const auto& system = SystemTables();
  for (size_t i = 0; i < system.size(); ++i) {
    const SystemTable& t = system[i];
    if (caller.role < t.min_role) continue;
    Relation r{kFirstSystemRelationOid + static_cast<int64_t>(i), t.schema, t.name, {}, 0};
    for (size_t c = 0; c < t.column_names.size(); ++c) {
      r.attributes.push_back({t.column_names[c], t.column_types[c], static_cast<int16_t>(c + 1), false, {}});
    }
    relations.push_back(std::move(r));
  }
  for (const auto& [id, t] : state.tables) {
    Relation r{kFirstUserOid + 4 * static_cast<int64_t>(t.table_num), t.ns, t.name, {}, 0};
    const auto& columns = t.current().columns;
    for (size_t c = 0; c < columns.size(); ++c) {
      const auto& column = columns[c];
      const auto number = static_cast<int16_t>(c + 1);
      r.attributes.push_back({column.name, EngineType(column), number,
                              !column.nullable || column.primary_key, column.default_expr});
      if (column.primary_key) r.primary_key = number;
    }
    // The system columns: _seq is in SELECT *, _deleted only when named.
    r.attributes.push_back({"_seq", LogicalType::BIGINT, static_cast<int16_t>(columns.size() + 1), true, {}});
    r.attributes.push_back({"_deleted", LogicalType::BOOLEAN, -1, true, {}});
    relations.push_back(std::move(r));
  }
  return relations;
}

std::optional<Relation> FindRelation(const catalog::CatalogState& state,
                                     const auth::Caller& caller, int64_t oid, bool* is_index) {
  for (Relation& r : Relations(state, caller)) {
    if (r.oid == oid || (r.primary_key != 0 && r.IndexOid() == oid)) {
      if (is_index != nullptr) *is_index = r.oid != oid;
      return std::move(r);
    }
  }
  return std::nullopt;
}

TypeRef TypeOf(const LogicalType& type) {
  if (type.IsJSONType()) return {114};
  switch (type.id()) {
    case LogicalTypeId::BOOLEAN: return {16};
    case LogicalTypeId::TINYINT:
    case LogicalTypeId::SMALLINT: return {21};
    case LogicalTypeId::INTEGER: return {23};
    case LogicalTypeId::BIGINT: return {20};
    case LogicalTypeId::FLOAT: return {700};
    case LogicalTypeId::DOUBLE: return {701};
    case LogicalTypeId::DECIMAL:
      // Postgres' numeric typmod: ((precision << 16) | scale) + VARHDRSZ.
      return {1700, ((duckdb::DecimalType::GetWidth(type) << 16) | duckdb::DecimalType::GetScale(type)) + 4};
    case LogicalTypeId::BLOB: return {17};
    case LogicalTypeId::TIMESTAMP: return {1114};
    case LogicalTypeId::TIMESTAMP_TZ: return {1184};
    case LogicalTypeId::DATE: return {1082};
    case LogicalTypeId::TIME: return {1083};
    case LogicalTypeId::UUID: return {2950};
    case LogicalTypeId::LIST: {
      const Type* element = FindType(TypeOf(duckdb::ListType::GetChildType(type)).oid);
      return {element != nullptr ? element->array : 1009};
    }
    default: return {25};
  }
}

const std::vector<Type>& Types() {
  static const std::vector<Type> types = MakeTypes();
  return types;
}

std::optional<std::string> FormatType(int64_t oid, int32_t typmod) {
  const Type* type = FindType(oid);
  if (type == nullptr) return std::nullopt;
  if (oid != 1700 || typmod < 4) return type->formatted;
  return "numeric(" + std::to_string((typmod - 4) >> 16) + "," + std::to_string((typmod - 4) & 0xffff) + ")";
}

std::optional<std::string> RoleName(const catalog::CatalogState& state,
                                    const auth::Caller& caller, int64_t oid) {
  for (const auto& [id, user] : state.users) {
    // root owns every object, so its name is no one's secret.
    if (RoleOid(user) == oid && (auth::MaySeeUser(caller, id) || oid == kRootRoleOid)) {
      return user.username;
    }
  }
  return std::nullopt;
}

}  // namespace kalam::query::pg
