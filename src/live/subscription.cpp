#include "live/subscription.h"

#include <algorithm>
#include <map>
#include <mutex>
#include <unordered_map>

#include <duckdb.hpp>

#include "common/text.h"
#include "common/json_text.h"
#include "common/sql_lexer.h"
#include "duckdb/parser/expression/list.hpp"
#include "duckdb/parser/keyword_helper.hpp"
#include "duckdb/parser/parser.hpp"
#include "duckdb/parser/query_node/select_node.hpp"
#include "duckdb/parser/statement/select_statement.hpp"
#include "duckdb/parser/tableref/basetableref.hpp"
#include "live/predicate.h"
#include "query/cells.h"
#include "query/result_encoder.h"
#include "query/table_scan.h"

namespace kalam::live {
namespace {

using duckdb::ExpressionClass;
using query::AppendValue;
using query::CellToValue;
using auth::CheckRead;
using query::EngineType;
using auth::ScopeFor;
using query::SpecTypeName;

Status Unsupported(std::string what) { return {Code::kUnsupported, std::move(what)}; }

// One shared copy of a table's definition per (table, schema version) for all the
// subscriptions on it: holding the catalog snapshot instead would keep every snapshot a
// subscription saw alive, one per catalog change.
std::shared_ptr<const catalog::TableDef> SharedTableDef(const catalog::TableDef& table) {
  static std::mutex mutex;
  static std::map<std::pair<uint64_t, uint32_t>, std::weak_ptr<const catalog::TableDef>> defs;
  std::lock_guard lock(mutex);
  auto& slot = defs[{table.table_num, table.current().version}];
  if (auto def = slot.lock();
      def && def->ttl_seconds == table.ttl_seconds && def->access_level == table.access_level &&
      def->ns == table.ns && def->name == table.name) {
    return def;
  }
  auto def = std::make_shared<const catalog::TableDef>(table);
  slot = def;
  if (defs.size() > 1024) std::erase_if(defs, [](const auto& d) { return d.second.expired(); });
  return def;
}

}  // namespace

std::shared_ptr<const Projection> InternProjection(Projection p) {
  // By a key spelling out the whole value (names length-prefixed, so no two values share
  // one); entries whose last subscription went are swept when the table has doubled
  // since the last sweep.
  static std::mutex mutex;
  static std::unordered_map<std::string, std::weak_ptr<const Projection>> interned;
  static size_t sweep_at = 1024;
  std::string key = std::to_string(p.qualifier.size()) + ':' + p.qualifier;
  for (size_t i = 0; i < p.columns.size(); ++i) {
    key += ',' + std::to_string(p.columns[i]) + ',' + std::to_string(p.names[i].size()) + ':' + p.names[i];
  }
  std::lock_guard lock(mutex);
  auto& slot = interned[key];
  if (auto shared = slot.lock()) return shared;
  auto made = std::make_shared<const Projection>(std::move(p));
  slot = made;
  if (interned.size() >= sweep_at) {
    std::erase_if(interned, [](const auto& entry) { return entry.second.expired(); });
    sweep_at = std::max<size_t>(1024, interned.size() * 2);
  }
  return made;
}

std::string SchemaJson(const SubscriptionQuery& q) {
  const auto& columns = q.table->current().columns;
  const int seq_index = static_cast<int>(columns.size());
  std::string json = "[";
  const Projection& p = *q.projection;
  for (size_t i = 0; i < p.columns.size(); ++i) {
    const int index = p.columns[i];
    if (i > 0) json += ",";
    json += "{\"name\":" + JsonString(p.names[i]) + ",\"data_type\":" +
            JsonString(index == seq_index ? "BigInt" : SpecTypeName(EngineType(columns[index]))) +
            ",\"index\":" + std::to_string(i) + "}";
  }
  return json + "]";
}

std::string SelectSql(const SubscriptionQuery& q) {
  const auto& columns = q.table->current().columns;
  const int seq_index = static_cast<int>(columns.size());
  std::string sql = "SELECT ";
  const Projection& p = *q.projection;
  for (size_t i = 0; i < p.columns.size(); ++i) {
    const int index = p.columns[i];
    if (i > 0) sql += ", ";
    sql += QuotedIdentifier(index == seq_index ? "_seq" : columns[index].name) + " AS " + QuotedIdentifier(p.names[i]);
  }
  return sql + " FROM " + QuotedIdentifier(q.table->ns) + "." + QuotedIdentifier(q.table->name) + " AS " + QuotedIdentifier(p.qualifier);
}

Result<SubscriptionQuery> ParseSubscription(std::string_view sql, const catalog::CatalogState& state,
                                            const auth::Caller& caller,
                                            const std::string& default_namespace) {
  duckdb::unique_ptr<duckdb::SQLStatement> statement;
  try {
    duckdb::Parser parser;
    // Without comments: DuckDB's lexer takes quadratic time over many block comments.
    parser.ParseQuery(sql::StripComments(sql));
    if (parser.statements.size() != 1) return Status(Code::kInvalidSql, "Subscribe to one query");
    statement = std::move(parser.statements[0]);
  } catch (const std::exception& e) {
    return Status(Code::kInvalidSql, duckdb::ErrorData(e).RawMessage());
  }
  if (statement->type != duckdb::StatementType::SELECT_STATEMENT) {
    return Status(Code::kInvalidSql, "A subscription is a SELECT");
  }
  const auto& node = *statement->Cast<duckdb::SelectStatement>().node;
  if (node.type != duckdb::QueryNodeType::SELECT_NODE) {
    return Unsupported("Subscriptions take one SELECT, without UNION or WITH");
  }
  const auto& select = node.Cast<duckdb::SelectNode>();
  if (!node.modifiers.empty()) {
    return Unsupported("Subscriptions don't take ORDER BY, LIMIT or DISTINCT: use last_rows");
  }
  if (!node.cte_map.map.empty() || !select.groups.group_expressions.empty() || select.having ||
      select.qualify || select.sample ||
      select.aggregate_handling != duckdb::AggregateHandling::STANDARD_HANDLING) {
    return Unsupported("Subscriptions don't take WITH, GROUP BY, HAVING or QUALIFY");
  }
  if (!select.from_table || select.from_table->type != duckdb::TableReferenceType::BASE_TABLE) {
    return Unsupported("A subscription reads one table: joins and subqueries are not supported");
  }
  const auto& base = select.from_table->Cast<duckdb::BaseTableRef>();
  const std::string schema = Lower(base.schema_name);
  const std::string name = Lower(base.table_name);
  if (auth::IsSystemSchema(schema)) return Unsupported("System tables can't be subscribed to");
  auto found = auth::LookupTable(state, schema, name, default_namespace);
  if (!found.ok()) return found.status();
  const catalog::TableDef* table = *found;
  KALAM_RETURN_IF_ERROR(CheckRead(*table, caller));
  const std::string qualifier = Lower(base.alias.empty() ? base.table_name : base.alias);

  SubscriptionQuery q;
  q.table = SharedTableDef(*table);
  q.scope = ScopeFor(*table, caller);
  const auto& columns = table->current().columns;
  const int seq_index = static_cast<int>(columns.size());
  Projection p;
  for (const auto& expr : select.select_list) {
    if (expr->GetExpressionClass() == ExpressionClass::STAR) {
      const auto& star = expr->Cast<duckdb::StarExpression>();
      if (star.columns || star.expr || !star.exclude_list.empty() || !star.replace_list.empty() ||
          !star.rename_list.empty()) {
        return Unsupported("Only a plain * is supported in subscriptions");
      }
      for (int i = 0; i <= seq_index; ++i) {
        p.columns.push_back(i);
        p.names.push_back(i < seq_index ? columns[i].name : "_seq");
      }
    } else if (expr->GetExpressionClass() == ExpressionClass::COLUMN_REF) {
      const int index = ResolveColumn(expr->Cast<duckdb::ColumnRefExpression>(), *table, qualifier);
      if (index < 0) return Status(Code::kInvalidSql, "Unknown column " + expr->ToString());
      p.columns.push_back(index);
      p.names.push_back(!expr->alias.empty() ? expr->alias : index < seq_index ? columns[index].name : "_seq");
    } else {
      return Unsupported("Subscriptions select columns: " + expr->ToString() + " is not supported");
    }
  }
  if (std::find(p.columns.begin(), p.columns.end(), seq_index) == p.columns.end()) {
    p.columns.push_back(seq_index);
    p.names.push_back("_seq");
  }
  p.qualifier = qualifier;
  q.projection = InternProjection(std::move(p));
  if (select.where_clause) {
    auto predicate = CompilePredicate(*select.where_clause, *table, qualifier);
    if (!predicate.ok()) return predicate.status();
    q.predicate = std::move(predicate).value();
    q.where_sql = select.where_clause->ToString();
    q.equality = FindEquality(*select.where_clause, *table, qualifier);
    if (q.equality && select.where_clause->type == duckdb::ExpressionType::COMPARE_EQUAL) {
      switch (columns[q.equality->first].type) {
        case ColumnType::kSmallInt:
        case ColumnType::kInt:
        case ColumnType::kBigInt:
        case ColumnType::kText:
          q.equality_only = true;  // compiled above all the same: its errors are the WHERE's
          q.predicate.reset();
          break;
        default:
          break;
      }
    }
  }
  return q;
}

bool RowMatches(const SubscriptionQuery& query, const std::vector<store::Cell>& cells, int64_t seq) {
  if (query.predicate) return query.predicate->Matches(cells, seq);
  if (!query.equality_only) return true;
  const auto& [column, value] = *query.equality;
  return !store::IsNull(cells[column]) && cells[column] == value;
}

void AppendRowObject(std::string& out, const SubscriptionQuery& query,
                     const std::vector<store::Cell>& cells, int64_t seq) {
  const auto& columns = query.table->current().columns;
  out.push_back('{');
  const Projection& p = *query.projection;
  for (size_t i = 0; i < p.columns.size(); ++i) {
    if (i > 0) out.push_back(',');
    AppendJsonString(out, p.names[i]);
    out.push_back(':');
    const int index = p.columns[i];
    if (index == static_cast<int>(columns.size())) {
      out += std::to_string(seq);
    } else {
      AppendValue(out, CellToValue(columns[index], cells[index]));
    }
  }
  out.push_back('}');
}

std::string EqualityKey(int column, ColumnType type, const store::Cell& cell) {
  std::string key = std::to_string(column) + ":";
  if (store::IsNull(cell)) return key + "null";
  store::AppendKeyCell(key, type, cell);
  return key;
}

}  // namespace kalam::live
