// The WHERE clause of a subscription, compiled once to run over one stored row: the
// router asks it whether a committed change concerns a subscription. Comparisons,
// AND/OR/NOT, IN, IS [NOT] NULL, BETWEEN, [I]LIKE, casts and + - * / % compile; anything
// else is refused at compile time (UNSUPPORTED), never ignored. NULLs follow SQL's
// three-valued logic: a row matches only when the clause is true. Values are typed and
// computed as the engine does (integer overflow and a failed CAST raise there); a row for
// which any term raises does not match, whatever the order of the terms.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "catalog/models.h"
#include "common/status.h"
#include "store/row_codec.h"

namespace duckdb {
class ParsedExpression;
class ColumnRefExpression;
}  // namespace duckdb

namespace kalam::live {

class RowPredicate {
 public:
  virtual ~RowPredicate() = default;
  // cells: a row in the table's current column order; seq: its _seq.
  virtual bool Matches(const std::vector<store::Cell>& cells, int64_t seq) const = 0;
};

// where: the parsed WHERE clause over table, whose columns may be qualified by qualifier
// (the table's name or alias, lower case). REQUIRES: table outlives the predicate (its
// nodes point into the columns).
Result<std::unique_ptr<RowPredicate>> CompilePredicate(const duckdb::ParsedExpression& where,
                                                       const catalog::TableDef& table,
                                                       const std::string& qualifier);

// A WHERE written as text (a topic source's filter) over the table as of one schema
// version: the rows it is asked about are in that version's column order. INVALID_SQL when
// it does not parse, UNSUPPORTED when it uses what the evaluator does not compile. The
// predicate keeps a copy of the table's definition.
Result<std::unique_ptr<RowPredicate>> CompileRowFilter(std::string_view where,
                                                       const catalog::TableDef& table,
                                                       uint32_t version);

// A stored cell as the API's JSON writes it (the value of a "rows" object).
void AppendCellJson(std::string& out, const catalog::ColumnDef& column, const store::Cell& cell);
// A stored cell as text: a text column's value as it is, others as the engine casts them
// to VARCHAR; "" for NULL.
std::string CellText(const catalog::ColumnDef& column, const store::Cell& cell);

// The current column a reference names: its index, columns.size() for _seq, -1 when unknown.
int ResolveColumn(const duckdb::ColumnRefExpression& ref, const catalog::TableDef& table,
                  const std::string& qualifier);

// `column = constant` at the top of a WHERE, or among the terms of a top-level AND: lets the
// router wake only the subscriptions a changed row can match.
std::optional<std::pair<int, store::Cell>> FindEquality(const duckdb::ParsedExpression& where,
                                                        const catalog::TableDef& table,
                                                        const std::string& qualifier);

}  // namespace kalam::live
