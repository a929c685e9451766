#include "query/fast_path.h"

#include "duckdb/parser/expression/columnref_expression.hpp"
#include "duckdb/parser/expression/comparison_expression.hpp"
#include "duckdb/parser/expression/constant_expression.hpp"
#include "duckdb/parser/expression/star_expression.hpp"
#include "duckdb/parser/query_node/select_node.hpp"
#include "duckdb/parser/statement/select_statement.hpp"
#include "duckdb/parser/tableref/basetableref.hpp"
#include "cold/merged_scan.h"
#include "common/text.h"
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

std::optional<FastSelect> Answered(Result<RowSet> rows) {
  FastSelect fast;
  fast.rows = std::move(rows);
  return fast;
}

// Fills in the segments of a cold point read that may hold its key and the SQL that reads
// it through the engine: each segment filtered on the key in its own column name (so the
// filter reaches the Parquet scan and its row-group statistics), the newest version, if
// not a tombstone, as outputs. False when no segment may hold the key.
bool PlanColdPoint(ColdPointRead& read) {
  const catalog::TableDef& table = *read.outputs.table;
  const auto& columns = table.current().columns;
  const catalog::ColumnDef& pk = columns[table.current().PrimaryKeyIndex()];
  const std::string literal = read.key.ToSQLString();
  std::string segments;
  const auto& all = read.manifest->segments;
  for (size_t i = all.size(); i-- > 0;) {
    const cold::Segment& segment = all[i];
    const auto name = segment.ColumnName(pk.id);
    if (!name) continue;  // a segment older than the key column holds none of its values
    if (auto range = cold::SegmentRange(segment, pk)) {
      if (read.key < range->first || range->second < read.key) continue;
    }
    read.segments.push_back(i);
    segments += (segments.empty() ? "" : " UNION ALL ") + cold::SegmentSelect(table, read.dir, segment) +
                " WHERE " + QuotedIdentifier(*name) + " = " + literal;
  }
  if (segments.empty()) return false;
  std::string select;
  const PointOutputs& out = read.outputs;
  for (size_t c = 0; c < out.columns.size(); ++c) {
    const bool seq = out.columns[c] == static_cast<int>(columns.size());
    select += (c == 0 ? "" : ", ") + QuotedIdentifier(seq ? "_seq" : columns[out.columns[c]].name) +
              " AS " + QuotedIdentifier(out.names[c]);
  }
  read.sql = "SELECT " + select + " FROM (SELECT * FROM (" + segments +
             ") ORDER BY _seq DESC LIMIT 1) WHERE NOT _deleted";
  return true;
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

std::optional<FastSelect> PointSelect(const duckdb::SelectNode& select,
                                      const catalog::CatalogState& state,
                                      const QueryContext& context, store::KvStore& store,
                                      cold::ColdStore& cold, const TableReadGate* read_gate) {
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
  // Every user's rows (a dba's query) are not one key range: the general path reads them.
  if (context.every_user && table->type != catalog::TableType::kShared) return std::nullopt;
  const int pk = table->current().PrimaryKeyIndex();
  if (pk < 0) return std::nullopt;
  if (read_gate != nullptr) {
    if (Status allowed = (*read_gate)(*table, auth::ScopeFor(*table, context.caller)); !allowed.ok()) {
      return Answered(Result<RowSet>(allowed));
    }
  }
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
  const duckdb::Value& key_value = constant->Cast<duckdb::ConstantExpression>().value;
  auto key_cell = CellFromValue(columns[pk], key_value);
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

  PointOutputs answer{table, std::move(outputs), std::move(names), {}};
  for (int index : answer.columns) {
    answer.types.push_back(index < static_cast<int>(columns.size()) ? EngineType(columns[index])
                                                                    : duckdb::LogicalType::BIGINT);
  }
  std::string key = store::ScopePrefix(table->table_num, auth::ScopeFor(*table, context.caller));
  store::AppendKeyCell(key, columns[pk].type, *key_cell);
  auto read = [&](const std::string& k) {
    return context.transaction != nullptr ? context.transaction->Get(store::Family::kHot, k)
                                          : store.Get(store::Family::kHot, k);
  };
  auto stored = read(key);
  if (!stored.ok()) return Answered(stored.status());
  if (!stored->has_value()) {
    auto marker = read(store::MarkerKey(key));
    if (!marker.ok()) return Answered(marker.status());
    if (marker->has_value()) {
      // Only in cold segments. A transaction reads them as of its snapshot: the general
      // path. A stream table has no cold rows.
      if (context.transaction != nullptr || table->type == catalog::TableType::kStream) {
        return std::nullopt;
      }
      const std::string dir =
          cold::ColdStore::ScopeDir(state, *table, auth::ScopeFor(*table, context.caller));
      if (dir.empty()) return std::nullopt;
      auto manifest = cold.Get(dir);
      if (manifest->damaged) return std::nullopt;  // the general path says so
      ColdPointRead read;
      read.outputs = std::move(answer);
      read.dir = dir;
      read.manifest = std::move(manifest);
      store::AppendKeyCell(read.key_bytes, columns[pk].type, *key_cell);
      try {
        read.key = key_value.DefaultCastAs(EngineType(columns[pk]));
        if (!PlanColdPoint(read)) return std::nullopt;
      } catch (const std::exception&) {
        return std::nullopt;
      }
      FastSelect fast;
      fast.cold_read = std::move(read);
      return fast;
    }
  }
  if (stored->has_value()) {
    store::RowVersion header;
    if (!store::DecodeRowHeader(**stored, header).ok()) return std::nullopt;
    auto row = DecodeCurrentRow(*table, **stored);
    if (!row.ok()) return Answered(row.status());
    if (row->has_value()) return Answered(PointAnswer(answer, &(*row)->cells, (*row)->seq));
  }
  return Answered(PointAnswer(answer, nullptr, 0));
}

}  // namespace

RowSet PointAnswer(const PointOutputs& outputs, const std::vector<store::Cell>* cells, int64_t seq) {
  const auto& columns = outputs.table->current().columns;
  RowSetWriter writer(outputs.names, outputs.types);
  if (cells != nullptr) {
    duckdb::DataChunk chunk;
    chunk.Initialize(duckdb::Allocator::DefaultAllocator(), outputs.types, 1);
    for (size_t c = 0; c < outputs.columns.size(); ++c) {
      const int index = outputs.columns[c];
      if (index < static_cast<int>(columns.size())) {
        WriteCell(chunk.data[c], 0, columns[index], (*cells)[index]);
      } else {
        duckdb::FlatVector::GetData<int64_t>(chunk.data[c])[0] = seq;
      }
    }
    chunk.SetCardinality(1);
    writer.Append(chunk, 1);
  }
  return writer.Finish();
}

std::optional<FastSelect> TryFastSelect(const duckdb::SQLStatement& statement,
                                        const catalog::CatalogState& state,
                                        const QueryContext& context, store::KvStore& store,
                                        cold::ColdStore& cold, const TableReadGate* read_gate) {
  const duckdb::SelectNode* select = PlainSelect(statement);
  if (select == nullptr || !select->from_table) return std::nullopt;
  switch (select->from_table->type) {
    case duckdb::TableReferenceType::EMPTY_FROM: {
      auto rows = ConstantSelect(*select);
      if (!rows) return std::nullopt;
      return Answered(std::move(*rows));
    }
    case duckdb::TableReferenceType::BASE_TABLE:
      return PointSelect(*select, state, context, store, cold, read_gate);
    default: return std::nullopt;
  }
}

}  // namespace kalam::query
