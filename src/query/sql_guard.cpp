#include "query/sql_guard.h"

#include <algorithm>
#include <array>
#include <utility>
#include <vector>

#include "common/text.h"
#include "duckdb/parser/expression/cast_expression.hpp"
#include "duckdb/parser/expression/columnref_expression.hpp"
#include "duckdb/parser/expression/constant_expression.hpp"
#include "duckdb/parser/expression/function_expression.hpp"
#include "duckdb/parser/expression/subquery_expression.hpp"
#include "duckdb/parser/parsed_expression_iterator.hpp"
#include "duckdb/parser/query_node/cte_node.hpp"
#include "duckdb/parser/query_node/recursive_cte_node.hpp"
#include "duckdb/parser/query_node/select_node.hpp"
#include "duckdb/parser/query_node/set_operation_node.hpp"
#include "duckdb/parser/statement/select_statement.hpp"
#include "duckdb/parser/tableref/basetableref.hpp"
#include "duckdb/parser/tableref/expressionlistref.hpp"
#include "duckdb/parser/tableref/joinref.hpp"
#include "duckdb/parser/tableref/pivotref.hpp"
#include "duckdb/parser/tableref/subqueryref.hpp"
#include "duckdb/parser/tableref/table_function_ref.hpp"
#include "query/pg_catalog.h"
#include "query/pg_functions.h"
#include "query/system_tables.h"
#include "query/table_scan.h"
#include "cold/flush.h"
#include "cold/merged_scan.h"
#include "cold/segment_pruning.h"
#include "cold/cold_store.h"
#include "duckdb/parser/parser.hpp"

namespace kalam::query {
namespace {

using duckdb::ExpressionClass;
using duckdb::ParsedExpression;
using duckdb::QueryNode;
using duckdb::QueryNodeType;
using duckdb::TableRef;
using duckdb::TableReferenceType;
using duckdb::unique_ptr;

// Scalar functions that read settings, variables, the environment or run SQL of their own,
// and the engine's pg_catalog macros that read its own catalog (pg_functions.h has ours).
constexpr std::array<const char*, 11> kDeniedFunctions = {
    "current_setting", "getvariable",        "getenv",           "json_execute_serialized_sql",
    "json_deserialize_sql", "json_serialize_sql", "current_catalog", "write_log",
    "query",            "pg_get_viewdef",     "format_pg_type"};
// kalam_: the engine's functions of our own (scans, pg_catalog functions), for the guard's
// rewrites only.
constexpr std::array<const char*, 8> kDeniedPrefixes = {"duckdb_", "pragma_", "read_",  "glob",
                                                         "parquet_", "sqlite_", "query_", "kalam_"};
// Table functions that only generate values.
constexpr std::array<const char*, 3> kAllowedTableFunctions = {"range", "generate_series",
                                                               "unnest"};

bool IsDeniedFunction(const std::string& name) {
  std::string lower = duckdb::StringUtil::Lower(name);
  for (const char* f : kDeniedFunctions) {
    if (lower == f) return true;
  }
  for (const char* p : kDeniedPrefixes) {
    if (lower.starts_with(p)) return true;
  }
  return false;
}


bool IsCurrentUserFunction(const std::string& name) {
  const std::string lower = Lower(name);
  return lower == "current_user" || lower == "user" || lower == "session_user" ||
         lower == "current_role";
}

bool IsIdentifierLike(const std::string& name) {
  return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '_';
  });
}

Status Denied(std::string what) { return {Code::kPermissionDenied, std::move(what)}; }
Status Invalid(std::string what) { return {Code::kInvalidSql, std::move(what)}; }

class Guard {
 public:
  explicit Guard(const GuardContext& context) : context_(context) {}

  std::optional<int64_t> VisibleSeq() const {
    return context_.visible_seq ? context_.visible_seq() : std::nullopt;
  }

  // A name resolves to a CTE only where DuckDB binds it to one: a CTE's body sees the
  // CTEs declared before it in its WITH (and those of enclosing queries), never itself nor
  // later ones, and the anchor of a recursive CTE does not see its own name. Anywhere else
  // the name is DuckDB's own relation and is guarded as a table.
  //
  // The parser gives a WITH twice: as the cte_map that every node of it carries (a copy
  // each), and as a chain of CTE_NODEs, one a CTE (its query, then its child: the next CTE
  // or the query's body). The binder may read either copy of a body, so every copy is
  // guarded, each with the names it sees. chain_member: node is a CTE_NODE's child, and
  // the names its parents declared are in scope already.
  Status Node(QueryNode& node, bool chain_member = false) {
    const size_t scope_size = cte_scope_.size();
    // Where this WITH's names begin: a chain member's parents pushed the earlier ones.
    const size_t base = chain_member ? with_base_ : scope_size;
    const std::vector<std::string> declared(cte_scope_.begin() + static_cast<std::ptrdiff_t>(base),
                                            cte_scope_.end());
    cte_scope_.resize(base);
    Status s;
    for (auto& [name, info] : node.cte_map.map) {
      s = Node(*info->query->node);
      if (!s.ok()) break;
      cte_scope_.push_back(Lower(name));
    }
    if (node.type == QueryNodeType::CTE_NODE || chain_member) {
      // The chain declares its names itself, one CTE_NODE at a time.
      cte_scope_.resize(base);
      cte_scope_.insert(cte_scope_.end(), declared.begin(), declared.end());
    }
    const size_t outer_base = std::exchange(with_base_, base);
    if (s.ok()) s = NodeBody(node);
    with_base_ = outer_base;
    cte_scope_.resize(scope_size);
    return s;
  }

 private:
  Status NodeBody(QueryNode& node) {
    switch (node.type) {
      case QueryNodeType::SELECT_NODE: {
        auto& select = node.Cast<duckdb::SelectNode>();
        // A lone table's WHERE can prune its cold segments.
        if (select.from_table && select.from_table->type == TableReferenceType::BASE_TABLE) {
          from_where_ = select.where_clause.get();
        }
        KALAM_RETURN_IF_ERROR(Ref(select.from_table));
        KALAM_RETURN_IF_ERROR(Exprs(select.select_list));
        KALAM_RETURN_IF_ERROR(Expr(select.where_clause));
        KALAM_RETURN_IF_ERROR(Exprs(select.groups.group_expressions));
        KALAM_RETURN_IF_ERROR(Expr(select.having));
        KALAM_RETURN_IF_ERROR(Expr(select.qualify));
        break;
      }
      case QueryNodeType::SET_OPERATION_NODE: {
        auto& setop = node.Cast<duckdb::SetOperationNode>();
        KALAM_RETURN_IF_ERROR(Child(setop.left));
        KALAM_RETURN_IF_ERROR(Child(setop.right));
        break;
      }
      case QueryNodeType::RECURSIVE_CTE_NODE: {
        auto& cte = node.Cast<duckdb::RecursiveCTENode>();
        KALAM_RETURN_IF_ERROR(Child(cte.left));  // the anchor: before the name is bound
        cte_scope_.push_back(Lower(cte.ctename));
        KALAM_RETURN_IF_ERROR(Child(cte.right));
        KALAM_RETURN_IF_ERROR(Exprs(cte.key_targets));
        break;
      }
      case QueryNodeType::CTE_NODE: {
        auto& cte = node.Cast<duckdb::CTENode>();
        KALAM_RETURN_IF_ERROR(Child(cte.query));
        cte_scope_.push_back(Lower(cte.ctename));
        if (cte.child) KALAM_RETURN_IF_ERROR(Node(*cte.child, /*chain_member=*/true));
        break;
      }
      default:
        return Invalid("This kind of query is not supported");
    }
    Status modifiers;
    duckdb::ParsedExpressionIterator::EnumerateQueryNodeModifiers(
        node, [&](unique_ptr<ParsedExpression>& child) {
          if (modifiers.ok()) modifiers = Expr(child);
        });
    return modifiers;
  }

  Status Child(unique_ptr<QueryNode>& node) { return node ? Node(*node) : Status::Ok(); }

  Status Exprs(std::vector<unique_ptr<ParsedExpression>>& list) {
    for (auto& e : list) KALAM_RETURN_IF_ERROR(Expr(e));
    return Status::Ok();
  }

  Status Expr(unique_ptr<ParsedExpression>& expr) {
    if (!expr) return Status::Ok();
    switch (expr->GetExpressionClass()) {
      case ExpressionClass::FUNCTION: {
        auto& f = expr->Cast<duckdb::FunctionExpression>();
        // The name alone decides, so a qualified name (main.read_csv) changes nothing.
        if (IsDeniedFunction(f.function_name)) {
          return Denied("Function '" + f.function_name + "' is not allowed");
        }
        if (const PgFunction* pg = FindPgFunction(Lower(f.function_name));
            pg != nullptr && f.catalog.empty() &&
            (f.schema.empty() || Lower(f.schema) == pg::kCatalogSchema)) {
          if (pg->kind == PgFunctionKind::kSession) {
            expr = SessionValue(*pg, f, expr->alias);
            return Status::Ok();
          }
          f.function_name = pg->kind == PgFunctionKind::kOurs
                                ? std::string(kPgFunctionPrefix) + std::string(pg->name)
                                : std::string(pg->engine_name);
          f.schema.clear();
        } else if (Lower(f.schema) == pg::kCatalogSchema) {
          return Invalid("Function 'pg_catalog." + f.function_name + "' is not supported");
        }
        if (f.children.empty() && IsCurrentUserFunction(f.function_name)) {
          // The engine's own answer would be its internal user: answer with the caller.
          auto constant = duckdb::make_uniq<duckdb::ConstantExpression>(
              duckdb::Value(context_.caller.user_id));
          constant->alias = expr->alias.empty() ? expr->ToString() : expr->alias;
          expr = std::move(constant);
          return Status::Ok();
        }
        break;
      }
      case ExpressionClass::COLUMN_REF: {
        // CURRENT_USER without parentheses parses as a column; these names are keywords,
        // never columns.
        auto& ref = expr->Cast<duckdb::ColumnRefExpression>();
        const std::string name = Lower(ref.GetColumnName());
        if (ref.column_names.size() == 1 &&
            (name == "current_user" || name == "session_user" || name == "current_role")) {
          auto constant = duckdb::make_uniq<duckdb::ConstantExpression>(
              duckdb::Value(context_.caller.user_id));
          constant->alias = expr->alias.empty() ? name : expr->alias;
          expr = std::move(constant);
          return Status::Ok();
        }
        break;
      }
      case ExpressionClass::SUBQUERY: {
        auto& sub = expr->Cast<duckdb::SubqueryExpression>();
        KALAM_RETURN_IF_ERROR(Node(*sub.subquery->node));
        break;
      }
      case ExpressionClass::PARAMETER:
        return {Code::kInvalidParameter, "A parameter has no value: pass it in \"params\""};
      default:
        break;
    }
    Status s;
    duckdb::ParsedExpressionIterator::EnumerateChildren(
        *expr, [&](unique_ptr<ParsedExpression>& child) {
          if (s.ok()) s = Expr(child);
        });
    return s;
  }

  // current_schema(), current_schemas(b), current_database(), version(): constants of the
  // statement's context.
  unique_ptr<ParsedExpression> SessionValue(const PgFunction& pg, const duckdb::FunctionExpression& f,
                                            const std::string& alias) const {
    duckdb::Value value;
    if (pg.name == "current_schema") {
      value = duckdb::Value(context_.default_namespace);
    } else if (pg.name == "current_schemas") {
      bool implicit = true;  // include pg_catalog, unless told not to by a constant false
      if (f.children.size() == 1) {
        // TRUE and FALSE parse as casts of 't' and 'f'.
        const ParsedExpression* arg = f.children[0].get();
        if (arg->GetExpressionClass() == ExpressionClass::CAST) {
          arg = arg->Cast<duckdb::CastExpression>().child.get();
        }
        if (arg->GetExpressionClass() == ExpressionClass::CONSTANT) {
          const duckdb::Value& flag = arg->Cast<duckdb::ConstantExpression>().value;
          const std::string text = flag.IsNull() ? "t" : Lower(flag.ToString());
          implicit = !(text == "f" || text == "false" || text == "0");
        }
      }
      duckdb::vector<duckdb::Value> schemas;
      if (implicit) schemas.emplace_back(std::string(pg::kCatalogSchema));
      schemas.emplace_back(context_.default_namespace);
      value = duckdb::Value::LIST(duckdb::LogicalType::VARCHAR, std::move(schemas));
    } else if (pg.name == "current_database") {
      value = duckdb::Value(std::string(pg::kDatabaseName));
    } else {
      value = duckdb::Value(std::string(pg::kVersionText));
    }
    auto constant = duckdb::make_uniq<duckdb::ConstantExpression>(std::move(value));
    constant->alias = alias.empty() ? std::string(pg.name) : alias;
    return constant;
  }

  Status Ref(unique_ptr<TableRef>& ref) {
    if (!ref) return Status::Ok();
    switch (ref->type) {
      case TableReferenceType::BASE_TABLE: return BaseTable(ref);
      case TableReferenceType::JOIN: {
        auto& join = ref->Cast<duckdb::JoinRef>();
        KALAM_RETURN_IF_ERROR(Ref(join.left));
        KALAM_RETURN_IF_ERROR(Ref(join.right));
        KALAM_RETURN_IF_ERROR(Expr(join.condition));
        return Exprs(join.duplicate_eliminated_columns);
      }
      case TableReferenceType::SUBQUERY:
        return Node(*ref->Cast<duckdb::SubqueryRef>().subquery->node);
      case TableReferenceType::EXPRESSION_LIST: {
        for (auto& row : ref->Cast<duckdb::ExpressionListRef>().values) {
          KALAM_RETURN_IF_ERROR(Exprs(row));
        }
        return Status::Ok();
      }
      case TableReferenceType::EMPTY_FROM: return Status::Ok();
      case TableReferenceType::TABLE_FUNCTION: {
        auto& tf = ref->Cast<duckdb::TableFunctionRef>();
        if (tf.function->GetExpressionClass() != ExpressionClass::FUNCTION) {
          return Denied("Table functions are not allowed");
        }
        auto& f = tf.function->Cast<duckdb::FunctionExpression>();
        const std::string name = duckdb::StringUtil::Lower(f.function_name);
        // The generators are pg_catalog's too (psql writes pg_catalog.generate_series).
        if (Lower(f.schema) == pg::kCatalogSchema) f.schema.clear();
        bool allowed = f.catalog.empty() && f.schema.empty() &&
                       std::find(kAllowedTableFunctions.begin(), kAllowedTableFunctions.end(),
                                 name) != kAllowedTableFunctions.end();
        if (!allowed) return Denied("Table function '" + f.function_name + "' is not allowed");
        if (tf.subquery) return Denied("Table function '" + f.function_name + "' is not allowed");
        // As in Postgres, a generator's one column takes the alias of the function:
        // generate_series(1, 3) s yields s, not a row named s.
        if (!tf.alias.empty() && tf.column_name_alias.empty()) tf.column_name_alias.push_back(tf.alias);
        return Exprs(f.children);
      }
      case TableReferenceType::PIVOT: {
        auto& pivot = ref->Cast<duckdb::PivotRef>();
        KALAM_RETURN_IF_ERROR(Ref(pivot.source));
        KALAM_RETURN_IF_ERROR(Exprs(pivot.aggregates));
        for (auto& column : pivot.pivots) {
          KALAM_RETURN_IF_ERROR(Exprs(column.pivot_expressions));
          KALAM_RETURN_IF_ERROR(Child(column.subquery));
        }
        return Status::Ok();
      }
      default:
        return Invalid("This kind of table reference is not supported");
    }
  }

  Status BaseTable(unique_ptr<TableRef>& ref) {
    auto& base = ref->Cast<duckdb::BaseTableRef>();
    const ParsedExpression* where = std::exchange(from_where_, nullptr);
    if (base.at_clause) return Invalid("AT (time travel) is not supported");
    if (!base.catalog_name.empty()) {
      return Invalid("Catalog-qualified table names are not supported: " + base.ToString());
    }
    if (!IsIdentifierLike(base.table_name) || !IsIdentifierLike(base.schema_name.empty()
                                                                     ? std::string("x")
                                                                     : base.schema_name)) {
      return Denied("Reading files is not allowed: '" + base.table_name + "' is not a table");
    }
    const std::string table = duckdb::StringUtil::Lower(base.table_name);
    std::string schema = duckdb::StringUtil::Lower(base.schema_name);
    if (schema.empty() &&
        std::find(cte_scope_.begin(), cte_scope_.end(), table) != cte_scope_.end()) {
      return Status::Ok();  // a common table expression of this query
    }
    // As in Postgres, pg_catalog comes first in every search path.
    if (schema.empty() && FindSystemTable(pg::kCatalogSchema, table) != nullptr) {
      schema = pg::kCatalogSchema;
    }
    if (auth::IsSystemSchema(schema)) {
      const SystemTable* system_table = FindSystemTable(schema, table);
      if (system_table == nullptr) {
        return {Code::kNotFound, "Table '" + schema + "." + table + "' does not exist"};
      }
      if (context_.caller.role < system_table->min_role) {
        return Denied("Permission denied: role '" + std::string(RoleName(context_.caller.role)) +
                      "' may not read " + schema + "." + table);
      }
      Replace(ref, kSystemScanFunction, {duckdb::Value(schema + "." + table)},
              base.alias.empty() ? table : base.alias);
      return Status::Ok();
    }
    auto found = auth::LookupTable(context_.state, schema, table, context_.default_namespace);
    if (!found.ok()) return found.status();
    const catalog::TableDef* def = *found;
    KALAM_RETURN_IF_ERROR(auth::CheckRead(*def, context_.caller));
    if (context_.every_scope != nullptr && def->type != catalog::TableType::kShared) {
      return EveryScope(ref, *def, where, base.alias.empty() ? table : base.alias);
    }
    bool gathered = false;  // the rows come from another node (which flushes them too)
    if (context_.read_gate != nullptr) {
      const Status allowed = (*context_.read_gate)(*def, auth::ScopeFor(*def, context_.caller));
      if (!allowed.ok()) {
        if (context_.gather == nullptr) return allowed;
        auto got = (*context_.gather)(*def, auth::ScopeFor(*def, context_.caller));
        if (!got.ok()) return got.status();
        if (!*got) return allowed;
        gathered = true;
      }
    }
    const std::string alias = base.alias.empty() ? table : base.alias;
    if (context_.cold != nullptr && def->type != catalog::TableType::kStream) {
      // Rows flushed to cold segments: read hot and cold merged.
      const std::string dir =
          cold::ColdStore::ScopeDir(context_.state, *def, auth::ScopeFor(*def, context_.caller));
      auto manifest = gathered ? context_.cold->GetFresh(dir) : context_.cold->Get(dir);
      KALAM_RETURN_IF_ERROR(manifest->CheckReadable(dir));
      // With column aliases (t AS a(x, y)) the WHERE's names are not the table's: no pruning.
      const std::string merged = cold::MergedScanSql(
          *def, dir, *manifest,
          base.column_name_alias.empty() ? cold::SegmentFilter(*def, where, alias) : nullptr,
          VisibleSeq());
      if (context_.pinned != nullptr) context_.pinned->push_back(std::move(manifest));
      if (!merged.empty()) return ReplaceWithQuery(ref, merged, alias);
    }
    Replace(ref, kTableScanFunction, {duckdb::Value(def->id()), duckdb::Value::BOOLEAN(false)}, alias);
    return Status::Ok();
  }

  // A read of every user's rows of a USER or STREAM table: one scan of all users' hot
  // rows, and the cold rows of each user who has some merged in.
  Status EveryScope(unique_ptr<TableRef>& ref, const catalog::TableDef& def, const ParsedExpression* where,
                    const std::string& alias) {
    auto scopes = (*context_.every_scope)(def);
    if (!scopes.ok()) return scopes.status();
    std::vector<cold::ScopeSegments> flushed;
    if (context_.cold != nullptr && def.type != catalog::TableType::kStream) {
      for (const ScopeToMerge& s : *scopes) {
        const std::string dir = cold::ColdStore::ScopeDir(context_.state, def, s.scope);
        auto manifest = s.fresh ? context_.cold->GetFresh(dir) : context_.cold->Get(dir);
        KALAM_RETURN_IF_ERROR(manifest->CheckReadable(dir));
        if (manifest->segments.empty()) continue;
        if (context_.pinned != nullptr) context_.pinned->push_back(manifest);
        flushed.push_back({s.scope, dir, std::move(manifest)});
      }
    }
    std::string scan = kTableScanFunction;
    scan.append("(").append(SqlString(def.id())).append(", false, every_scope := true)");
    if (flushed.empty()) return ReplaceWithFrom(ref, scan, alias);
    return ReplaceWithQuery(ref,
                            cold::EveryScopeSql(def, flushed,
                                                ref->column_name_alias.empty() ? cold::SegmentFilter(def, where, alias)
                                                                               : nullptr,
                                                VisibleSeq()),
                            alias);
  }

  // Replaces a base table reference by the scan function(argument), keeping its aliases.
  static void Replace(unique_ptr<TableRef>& ref, const char* function,
                      const std::vector<duckdb::Value>& arguments, const std::string& alias) {
    auto scan = duckdb::make_uniq<duckdb::TableFunctionRef>();
    duckdb::vector<unique_ptr<ParsedExpression>> args;
    for (const auto& a : arguments) args.push_back(duckdb::make_uniq<duckdb::ConstantExpression>(a));
    scan->function = duckdb::make_uniq<duckdb::FunctionExpression>(function, std::move(args));
    scan->alias = alias;
    scan->column_name_alias = ref->column_name_alias;
    ref = std::move(scan);
  }

  // Replaces a base table reference by a query of our own making (not walked again).
  static Status ReplaceWithQuery(unique_ptr<TableRef>& ref, const std::string& sql,
                                 const std::string& alias) {
    return ReplaceWithFrom(ref, "(" + sql + ") AS merged", alias);
  }

  // Replaces a base table reference by what `SELECT * FROM <from>` reads (a query in
  // parentheses, or a table function call with named parameters), keeping its aliases.
  static Status ReplaceWithFrom(unique_ptr<TableRef>& ref, const std::string& from, const std::string& alias) {
    duckdb::Parser parser;
    try {
      parser.ParseQuery("SELECT * FROM " + from);
    } catch (const std::exception& e) {
      return {Code::kInternalError, "the read of a table could not be planned: " + duckdb::ErrorData(e).RawMessage()};
    }
    auto& node = parser.statements[0]->Cast<duckdb::SelectStatement>().node->Cast<duckdb::SelectNode>();
    auto replacement = std::move(node.from_table);
    replacement->alias = alias;
    replacement->column_name_alias = ref->column_name_alias;
    ref = std::move(replacement);
    return Status::Ok();
  }

  const GuardContext& context_;
  std::vector<std::string> cte_scope_;
  size_t with_base_ = 0;  // see Node()
  const ParsedExpression* from_where_ = nullptr;  // for the base table being guarded
};

std::string StatementName(duckdb::StatementType type) {
  std::string name = duckdb::StatementTypeToString(type);
  return name;
}

}  // namespace

Status GuardStatement(duckdb::SQLStatement& statement, const GuardContext& context) {
  using duckdb::StatementType;
  switch (statement.type) {
    case StatementType::SELECT_STATEMENT: {
      Guard guard(context);
      return guard.Node(*statement.Cast<duckdb::SelectStatement>().node);
    }
    case StatementType::COPY_STATEMENT:
    case StatementType::ATTACH_STATEMENT:
    case StatementType::DETACH_STATEMENT:
    case StatementType::SET_STATEMENT:
    case StatementType::VARIABLE_SET_STATEMENT:
    case StatementType::PRAGMA_STATEMENT:
    case StatementType::LOAD_STATEMENT:
    case StatementType::EXPORT_STATEMENT:
    case StatementType::CALL_STATEMENT:
    case StatementType::COPY_DATABASE_STATEMENT:
    case StatementType::VACUUM_STATEMENT:
    case StatementType::UPDATE_EXTENSIONS_STATEMENT:
      return Denied(StatementName(statement.type) + " statements are not allowed");
    default:
      return Invalid(StatementName(statement.type) + " statements are not supported");
  }
}

}  // namespace kalam::query
