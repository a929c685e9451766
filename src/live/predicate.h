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
// (the table's name or alias, lower case).
Result<std::unique_ptr<RowPredicate>> CompilePredicate(const duckdb::ParsedExpression& where,
                                                       const catalog::TableDef& table,
                                                       const std::string& qualifier);

// The current column a reference names: its index, columns.size() for _seq, -1 when unknown.
int ResolveColumn(const duckdb::ColumnRefExpression& ref, const catalog::TableDef& table,
                  const std::string& qualifier);

// `column = constant` at the top of a WHERE, or among the terms of a top-level AND: lets the
// router wake only the subscriptions a changed row can match.
std::optional<std::pair<int, store::Cell>> FindEquality(const duckdb::ParsedExpression& where,
                                                        const catalog::TableDef& table,
                                                        const std::string& qualifier);

}  // namespace kalam::live
