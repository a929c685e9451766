#include "query/fast_path.h"

#include "duckdb/parser/expression/columnref_expression.hpp"
#include "duckdb/parser/expression/comparison_expression.hpp"
#include "duckdb/parser/expression/constant_expression.hpp"
#include "duckdb/parser/expression/star_expression.hpp"
#include "duckdb/parser/query_node/select_node.hpp"
#include "duckdb/parser/statement/select_statement.hpp"
#include "duckdb/parser/tableref/basetableref.hpp"
#include "query/cells.h"
#include "query/result_encoder.h"
#include "query/table_scan.h"
#include "store/kv_store.h"
#include "store/transaction.h"

namespace kalam::query {
namespace {

using duckdb::ExpressionClass;
using duckdb::LogicalTypeId;

// A SELECT node with nothing but a select list, a FROM and a WHERE.
const duckdb::SelectNode* PlainSelect(const duckdb::SQLStatement& statement) {
  if (statement.type != duckdb::StatementType::SELECT_STATEMENT) return nullptr;
  const auto& node = *statement.Cast<duckdb::SelectStatement>().node;
  if (node.type != duckdb::QueryNodeType::SELECT_NODE || !node.modifiers.empty() ||
      !node.cte_map.map.empty()) {
    return nullptr;
  }
  const auto& select = node.Cast<duckdb::SelectNode>();
  if (!select.groups.group_expressions.empty() || !select.groups.grouping_sets.empty() ||
      select.having || select.qualify || select.sample ||
      select.aggregate_handling != duckdb::AggregateHandling::STANDARD_HANDLING) {
    return nullptr;
  }
  return &select;
}

std::optional<Result<RowSet>> ConstantSelect(const duckdb::SelectNode& select) {
  if (select.where_clause) return std::nullopt;
  duckdb::vector<std::string> names;
  duckdb::vector<duckdb::LogicalType> types;
  duckdb::vector<duckdb::Value> values;
  for (const auto& expr : select.select_list) {
    if (expr->GetExpressionClass() != ExpressionClass::CONSTANT) return std::nullopt;
    const duckdb::Value& value = expr->Cast<duckdb::ConstantExpression>().value;
    switch (value.type().id()) {
      case LogicalTypeId::BOOLEAN:
      case LogicalTypeId::INTEGER:
      case LogicalTypeId::BIGINT:
      case LogicalTypeId::DOUBLE:
      case LogicalTypeId::DECIMAL:
      case LogicalTypeId::VARCHAR:
        break;
      default:
        return std::nullopt;  // NULL, huge integers, ...: the engine decides their type
    }
    names.push_back(expr->alias.empty() ? expr->ToString() : expr->alias);
    types.push_back(value.type());
    values.push_back(value);
  }
  if (values.empty()) return std::nullopt;
  duckdb::DataChunk chunk;
  chunk.Initialize(duckdb::Allocator::DefaultAllocator(), types, 1);
  for (size_t c = 0; c < values.size(); ++c) chunk.SetValue(c, 0, values[c]);
  chunk.SetCardinality(1);
  RowSetWriter writer(names, types);
  writer.Append(chunk, 1);
  return Result<RowSet>(writer.Finish());
}

// The column a reference names in a table referred to as qualifier: its index among the
// current columns, columns.size() for _seq, -1 for anything else.
int ColumnIndex(const duckdb::ColumnRefExpression& ref, const catalog::TableDef& table,
                const std::string& qualifier) {
  const auto& parts = ref.column_names;
  if (parts.size() == 2 && duckdb::StringUtil::Lower(parts[0]) != qualifier) return -1;
  if (parts.empty() || parts.size() > 2) return -1;
  const std::string name = duckdb::StringUtil::Lower(parts.back());
  const auto& columns = table.current().columns;
  for (size_t i = 0; i < columns.size(); ++i) {
    if (columns[i].name == name) return static_cast<int>(i);
  }
  return name == "_seq" ? static_cast<int>(columns.size()) : -1;
}

std::optional<Result<RowSet>> PointSelect(const duckdb::SelectNode& select,
                                          const catalog::CatalogState& state,
                                          const QueryContext& context, store::KvStore& store) {
  const auto& base = select.from_table->Cast<duckdb::BaseTableRef>();
  if (base.at_clause || !base.catalog_name.empty() || !base.column_name_alias.empty() ||
      !select.where_clause) {
    return std::nullopt;
  }
  auto found = auth::LookupTable(state, duckdb::StringUtil::Lower(base.schema_name),
                                 duckdb::StringUtil::Lower(base.table_name),
                                 context.default_namespace);
  if (!found.ok() || !auth::CheckRead(**found, context.caller).ok()) return std::nullopt;
  const catalog::TableDef* table = *found;
  const int pk = table->current().PrimaryKeyIndex();
  if (pk < 0) return std::nullopt;
  const std::string qualifier =
      duckdb::StringUtil::Lower(base.alias.empty() ? base.table_name : base.alias);

  // WHERE pk = constant
  const auto& where = *select.where_clause;
  if (where.type != duckdb::ExpressionType::COMPARE_EQUAL) return std::nullopt;
  const auto& cmp = where.Cast<duckdb::ComparisonExpression>();
  const duckdb::ParsedExpression* column = cmp.left.get();
  const duckdb::ParsedExpression* constant = cmp.right.get();
  if (column->GetExpressionClass() == ExpressionClass::CONSTANT) std::swap(column, constant);
  if (column->GetExpressionClass() != ExpressionClass::COLUMN_REF ||
      constant->GetExpressionClass() != ExpressionClass::CONSTANT ||
      ColumnIndex(column->Cast<duckdb::ColumnRefExpression>(), *table, qualifier) != pk) {
    return std::nullopt;
  }
  const auto& columns = table->current().columns;
  auto key_cell = CellFromValue(columns[pk], constant->Cast<duckdb::ConstantExpression>().value);
  if (!key_cell.ok() || store::IsNull(*key_cell)) return std::nullopt;

  // The select list: * or plain columns.
  std::vector<int> outputs;
  duckdb::vector<std::string> names;
  for (const auto& expr : select.select_list) {
    if (expr->GetExpressionClass() == ExpressionClass::STAR) {
      const auto& star = expr->Cast<duckdb::StarExpression>();
      if (select.select_list.size() != 1 || star.columns || star.expr ||
          !star.exclude_list.empty() || !star.replace_list.empty() || !star.rename_list.empty() ||
          (!star.relation_name.empty() && duckdb::StringUtil::Lower(star.relation_name) != qualifier)) {
        return std::nullopt;
      }
      for (size_t i = 0; i <= columns.size(); ++i) {
        outputs.push_back(static_cast<int>(i));
        names.push_back(i < columns.size() ? columns[i].name : "_seq");
      }
    } else if (expr->GetExpressionClass() == ExpressionClass::COLUMN_REF) {
      const auto& ref = expr->Cast<duckdb::ColumnRefExpression>();
      const int index = ColumnIndex(ref, *table, qualifier);
      if (index < 0) return std::nullopt;
      outputs.push_back(index);
      // Unaliased, the engine names a column as the table does, not as the query wrote it.
      const bool seq = index == static_cast<int>(columns.size());
      names.push_back(!expr->alias.empty() ? expr->alias : seq ? "_seq" : columns[index].name);
    } else {
      return std::nullopt;
    }
  }

  duckdb::vector<duckdb::LogicalType> types;
  for (int index : outputs) {
    types.push_back(index < static_cast<int>(columns.size()) ? EngineType(columns[index])
                                                            : duckdb::LogicalType::BIGINT);
  }
  std::string key = store::ScopePrefix(table->table_num, auth::ScopeFor(*table, context.caller));
  store::AppendKeyCell(key, columns[pk].type, *key_cell);
  auto read = [&](const std::string& k) {
    return context.transaction != nullptr ? context.transaction->Get(store::Family::kHot, k)
                                          : store.Get(store::Family::kHot, k);
  };
  auto stored = read(key);
  if (!stored.ok()) return Result<RowSet>(stored.status());
  if (!stored->has_value()) {
    auto marker = read(store::MarkerKey(key));
    if (!marker.ok()) return Result<RowSet>(marker.status());
    if (marker->has_value()) return std::nullopt;  // in a cold segment: the merged read finds it
  }
  RowSetWriter writer(names, types);
  if (stored->has_value()) {
    store::RowVersion header;
    if (!store::DecodeRowHeader(**stored, header).ok()) return std::nullopt;
    auto row = DecodeCurrentRow(*table, **stored);
    if (!row.ok()) return Result<RowSet>(row.status());
    if (row->has_value()) {
      duckdb::DataChunk chunk;
      chunk.Initialize(duckdb::Allocator::DefaultAllocator(), types, 1);
      for (size_t c = 0; c < outputs.size(); ++c) {
        const int index = outputs[c];
        if (index < static_cast<int>(columns.size())) {
          WriteCell(chunk.data[c], 0, columns[index], (*row)->cells[index]);
        } else {
          duckdb::FlatVector::GetData<int64_t>(chunk.data[c])[0] = (*row)->seq;
        }
      }
      chunk.SetCardinality(1);
      writer.Append(chunk, 1);
    }
  }
  return Result<RowSet>(writer.Finish());
}

}  // namespace

std::optional<Result<RowSet>> TryFastSelect(const duckdb::SQLStatement& statement,
                                            const catalog::CatalogState& state,
                                            const QueryContext& context, store::KvStore& store) {
  const duckdb::SelectNode* select = PlainSelect(statement);
  if (select == nullptr || !select->from_table) return std::nullopt;
  switch (select->from_table->type) {
    case duckdb::TableReferenceType::EMPTY_FROM: return ConstantSelect(*select);
    case duckdb::TableReferenceType::BASE_TABLE: return PointSelect(*select, state, context, store);
    default: return std::nullopt;
  }
}

}  // namespace kalam::query
