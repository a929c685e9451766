#include "query/row_mapping.h"

#include "query/cells.h"

namespace kalam::query {

Result<RowMapping> RowMapping::For(const catalog::TableDef& table, uint32_t version) {
  const catalog::TableSchema* old = table.Version(version);
  if (old == nullptr) {
    return Status(Code::kInternalError, "A stored row of table '" + table.id() +
                                            "' has an unknown schema version " +
                                            std::to_string(version));
  }
  RowMapping mapping;
  for (const auto& c : old->columns) mapping.types.push_back(c.type);
  for (const auto& c : table.current().columns) {
    int source = -1;
    for (size_t i = 0; i < old->columns.size(); ++i) {
      if (old->columns[i].id == c.id) source = static_cast<int>(i);
    }
    mapping.source.push_back(source);
    store::Cell fill;
    if (source < 0) {
      if (auto literal = LiteralDefault(c.default_expr)) {
        auto cell = CellFromValue(c, *literal);
        if (cell.ok()) fill = std::move(cell).value();
      }
    }
    mapping.missing.push_back(std::move(fill));
  }
  return mapping;
}

std::vector<ColumnType> CurrentTypes(const catalog::TableDef& table) {
  std::vector<ColumnType> types;
  for (const auto& c : table.current().columns) types.push_back(c.type);
  return types;
}

Result<std::optional<CurrentRow>> DecodeCurrentRow(const catalog::TableDef& table,
                                                   std::string_view bytes) {
  store::RowVersion row;
  KALAM_RETURN_IF_ERROR(store::DecodeRowHeader(bytes, row));
  if (row.deleted) return std::optional<CurrentRow>();
  auto mapping = RowMapping::For(table, row.schema_version);
  if (!mapping.ok()) return mapping.status();
  KALAM_RETURN_IF_ERROR(store::DecodeRowCells(bytes, mapping->types, row));
  CurrentRow out;
  out.seq = row.seq;
  out.cells.reserve(mapping->source.size());
  for (size_t i = 0; i < mapping->source.size(); ++i) {
    const int source = mapping->source[i];
    out.cells.push_back(source >= 0 ? std::move(row.cells[source]) : mapping->missing[i]);
  }
  return std::optional<CurrentRow>(std::move(out));
}

std::optional<duckdb::Value> LiteralDefault(const std::string& expr) {
  if (expr.empty() || expr == "NULL") return std::nullopt;
  if (expr.front() == '\'') {
    std::string text;
    for (size_t i = 1; i + 1 < expr.size(); ++i) {
      text.push_back(expr[i]);
      if (expr[i] == '\'') ++i;  // '' stands for '
    }
    return duckdb::Value(text);
  }
  if (expr.back() == ')') return std::nullopt;  // NOW(), SNOWFLAKE_ID(), ...
  return duckdb::Value(expr);                   // a number or TRUE/FALSE, cast by the caller
}

}  // namespace kalam::query
