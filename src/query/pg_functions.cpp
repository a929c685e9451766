#include "query/pg_functions.h"

#include "duckdb/main/extension/extension_loader.hpp"
#include "query/pg_catalog.h"

namespace kalam::query {
namespace {

using duckdb::LogicalType;
using duckdb::Value;

constexpr PgFunction kFunctions[] = {
    // Ours: they read KalamDB's catalog as pg_catalog shows it to the caller.
    {"pg_get_userbyid", PgFunctionKind::kOurs},
    {"pg_table_is_visible", PgFunctionKind::kOurs},
    {"format_type", PgFunctionKind::kOurs},
    {"pg_get_expr", PgFunctionKind::kOurs},
    {"pg_get_indexdef", PgFunctionKind::kOurs},
    {"pg_get_constraintdef", PgFunctionKind::kOurs},
    {"pg_encoding_to_char", PgFunctionKind::kOurs},
    {"quote_ident", PgFunctionKind::kOurs},
    {"obj_description", PgFunctionKind::kOurs},
    {"col_description", PgFunctionKind::kOurs},
    {"shobj_description", PgFunctionKind::kOurs},
    {"pg_relation_is_publishable", PgFunctionKind::kOurs},
    {"pg_get_statisticsobjdef_columns", PgFunctionKind::kOurs},
    {"pg_type_is_visible", PgFunctionKind::kOurs},
    {"pg_table_size", PgFunctionKind::kOurs},
    {"pg_relation_size", PgFunctionKind::kOurs},
    {"pg_total_relation_size", PgFunctionKind::kOurs},
    {"pg_database_size", PgFunctionKind::kOurs},
    // The session's values.
    {"current_schema", PgFunctionKind::kSession},
    {"current_schemas", PgFunctionKind::kSession},
    {"current_database", PgFunctionKind::kSession},
    {"version", PgFunctionKind::kSession},
    // The engine's own, under Postgres' names.
    {"array_to_string", PgFunctionKind::kEngine, "array_to_string"},
    {"array_upper", PgFunctionKind::kEngine, "array_length"},
    {"array_length", PgFunctionKind::kEngine, "array_length"},
    {"generate_series", PgFunctionKind::kEngine, "generate_series"},
    {"string_agg", PgFunctionKind::kEngine, "string_agg"},
    {"unnest", PgFunctionKind::kEngine, "unnest"},
    {"lower", PgFunctionKind::kEngine, "lower"},
    {"upper", PgFunctionKind::kEngine, "upper"},
    {"length", PgFunctionKind::kEngine, "length"},
    {"concat", PgFunctionKind::kEngine, "concat"},
    {"substring", PgFunctionKind::kEngine, "substring"},
    {"regexp_replace", PgFunctionKind::kEngine, "regexp_replace"},
    {"count", PgFunctionKind::kEngine, "count"},
    {"max", PgFunctionKind::kEngine, "max"},
    {"min", PgFunctionKind::kEngine, "min"},
    {"now", PgFunctionKind::kEngine, "now"},
    {"has_table_privilege", PgFunctionKind::kEngine, "has_table_privilege"},
    {"has_schema_privilege", PgFunctionKind::kEngine, "has_schema_privilege"},
    {"has_database_privilege", PgFunctionKind::kEngine, "has_database_privilege"},
    {"pg_has_role", PgFunctionKind::kEngine, "pg_has_role"},
    {"pg_typeof", PgFunctionKind::kEngine, "pg_typeof"},
    {"pg_size_pretty", PgFunctionKind::kEngine, "pg_size_pretty"},
};

// What a function computes from its arguments for the connection's caller and catalog.
// REQUIRES: no argument is NULL (such a row's result is NULL).
using Body = std::function<Value(const ConnectionSlot& slot, const std::vector<Value>& args)>;

void Register(duckdb::ExtensionLoader& loader, const duckdb::shared_ptr<ScanRegistry>& registry,
              std::string_view name, std::vector<LogicalType> arguments, LogicalType result,
              Body body) {
  duckdb::ScalarFunction function(
      std::string(kPgFunctionPrefix) + std::string(name), std::move(arguments), std::move(result),
      [registry, body = std::move(body)](duckdb::DataChunk& input, duckdb::ExpressionState& state,
                                         duckdb::Vector& out) {
        const ConnectionSlot& slot = registry->SlotFor(state.GetContext());
        std::vector<Value> args(input.ColumnCount());
        for (idx_t row = 0; row < input.size(); ++row) {
          bool null = false;
          for (idx_t c = 0; c < args.size(); ++c) {
            args[c] = input.GetValue(c, row);
            null = null || args[c].IsNull();
          }
          out.SetValue(row, null ? Value(out.GetType()) : body(slot, args));
        }
      });
  function.stability = duckdb::FunctionStability::CONSISTENT_WITHIN_QUERY;
  loader.RegisterFunction(std::move(function));
}

int64_t OidOf(const Value& v) { return v.GetValue<int64_t>(); }

// Postgres' quote_ident: as is when it needs no quotes, else in double quotes.
std::string QuoteIdent(const std::string& name) {
  bool plain = !name.empty() && ((name[0] >= 'a' && name[0] <= 'z') || name[0] == '_');
  for (const char c : name) {
    plain = plain && ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_');
  }
  if (plain) return name;
  std::string quoted = "\"";
  for (const char c : name) quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
  return quoted + "\"";
}

std::string QualifiedName(const pg::Relation& r) {
  return QuoteIdent(r.schema) + "." + QuoteIdent(r.name);
}

std::string PrimaryKeyColumn(const pg::Relation& r) {
  for (const auto& a : r.attributes) {
    if (a.number == r.primary_key) return QuoteIdent(a.name);
  }
  return {};
}

}  // namespace

const PgFunction* FindPgFunction(std::string_view name) {
  for (const PgFunction& f : kFunctions) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

void RegisterPgFunctions(duckdb::ExtensionLoader& loader, duckdb::shared_ptr<ScanRegistry> registry) {
  const LogicalType oid = LogicalType::BIGINT;
  const LogicalType text = LogicalType::VARCHAR;
  const LogicalType int4 = LogicalType::INTEGER;
  const LogicalType boolean = LogicalType::BOOLEAN;
  auto null_text = [](const ConnectionSlot&, const std::vector<Value>&) { return Value(LogicalType::VARCHAR); };

  Register(loader, registry, "pg_get_userbyid", {oid}, text, [](const ConnectionSlot& slot, const std::vector<Value>& a) {
    const int64_t role = OidOf(a[0]);
    return Value(pg::RoleName(*slot.state, slot.caller, role)
                     .value_or("unknown (OID=" + std::to_string(role) + ")"));
  });
  // Visible: in pg_catalog (always searched) or in the session's namespace.
  Register(loader, registry, "pg_table_is_visible", {oid}, boolean, [](const ConnectionSlot& slot, const std::vector<Value>& a) {
    const auto r = pg::FindRelation(*slot.state, slot.caller, OidOf(a[0]), nullptr);
    if (!r) return Value(LogicalType::BOOLEAN);
    return Value::BOOLEAN(r->schema == pg::kCatalogSchema || r->schema == slot.default_namespace);
  });
  Register(loader, registry, "format_type", {oid, int4}, text, [](const ConnectionSlot&, const std::vector<Value>& a) {
    return Value(pg::FormatType(OidOf(a[0]), a[1].GetValue<int32_t>()).value_or("???"));
  });
  // pg_attrdef.adbin holds the expression's SQL already.
  for (const auto& arguments : {std::vector<LogicalType>{text, oid}, std::vector<LogicalType>{text, oid, boolean}}) {
    Register(loader, registry, "pg_get_expr", arguments, text, [](const ConnectionSlot&, const std::vector<Value>& a) { return a[0]; });
  }
  auto indexdef = [](const ConnectionSlot& slot, const std::vector<Value>& a) {
    bool is_index = false;
    const auto r = pg::FindRelation(*slot.state, slot.caller, OidOf(a[0]), &is_index);
    if (!r || !is_index) return Value(LogicalType::VARCHAR);
    if (a.size() > 1 && a[1].GetValue<int32_t>() != 0) return Value(PrimaryKeyColumn(*r));
    return Value("CREATE UNIQUE INDEX " + QuoteIdent(r->IndexName()) + " ON " + QualifiedName(*r) +
                 " USING btree (" + PrimaryKeyColumn(*r) + ")");
  };
  Register(loader, registry, "pg_get_indexdef", {oid}, text, indexdef);
  Register(loader, registry, "pg_get_indexdef", {oid, int4, boolean}, text, indexdef);
  auto constraintdef = [](const ConnectionSlot& slot, const std::vector<Value>& a) {
    const int64_t constraint = OidOf(a[0]);
    const auto r = pg::FindRelation(*slot.state, slot.caller, constraint - 2, nullptr);
    if (!r || r->primary_key == 0 || r->ConstraintOid() != constraint) return Value(LogicalType::VARCHAR);
    return Value("PRIMARY KEY (" + PrimaryKeyColumn(*r) + ")");
  };
  Register(loader, registry, "pg_get_constraintdef", {oid}, text, constraintdef);
  Register(loader, registry, "pg_get_constraintdef", {oid, boolean}, text, constraintdef);
  Register(loader, registry, "pg_encoding_to_char", {int4}, text, [](const ConnectionSlot&, const std::vector<Value>& a) {
    return Value(a[0].GetValue<int32_t>() == 6 ? "UTF8" : "");
  });
  Register(loader, registry, "quote_ident", {text}, text, [](const ConnectionSlot&, const std::vector<Value>& a) {
    return Value(QuoteIdent(a[0].GetValue<std::string>()));
  });
  // KalamDB keeps no comments on objects.
  Register(loader, registry, "obj_description", {oid}, text, null_text);
  Register(loader, registry, "obj_description", {oid, text}, text, null_text);
  Register(loader, registry, "col_description", {oid, int4}, text, null_text);
  Register(loader, registry, "shobj_description", {oid, text}, text, null_text);
  Register(loader, registry, "pg_get_statisticsobjdef_columns", {oid}, text, null_text);
  // Every type of pg_type is in pg_catalog, which every search path holds.
  Register(loader, registry, "pg_type_is_visible", {oid}, boolean, [](const ConnectionSlot&, const std::vector<Value>& a) {
    for (const pg::Type& t : pg::Types()) {
      if (t.oid == OidOf(a[0])) return Value::BOOLEAN(true);
    }
    return Value(LogicalType::BOOLEAN);
  });
  // Sizes on disk are not known without reading every scope's segments: NULL, shown blank.
  auto unknown_size = [](const ConnectionSlot&, const std::vector<Value>&) { return Value(LogicalType::BIGINT); };
  for (const char* name : {"pg_table_size", "pg_relation_size", "pg_total_relation_size", "pg_database_size"}) {
    Register(loader, registry, name, {oid}, LogicalType::BIGINT, unknown_size);
  }
  Register(loader, registry, "pg_database_size", {text}, LogicalType::BIGINT, unknown_size);
  Register(loader, registry, "pg_relation_is_publishable", {oid}, boolean, [](const ConnectionSlot&, const std::vector<Value>&) {
    return Value::BOOLEAN(false);
  });
}

}  // namespace kalam::query
