// A live query: the SELECT a client subscribes to, parsed once into the table, the caller's
// scope, the projection and the compiled WHERE; and the JSON of its rows and schema as
// the WebSocket protocol sends them.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "auth/caller.h"
#include "catalog/catalog.h"
#include "common/column_type.h"
#include "common/status.h"
#include "live/predicate.h"
#include "store/row_codec.h"

namespace kalam::live {

// What a live query selects: the columns it sends, their names, and the name it gives the
// table. One copy per distinct value, shared by every subscription that has it (a chat's
// thousands of `SELECT * FROM messages WHERE room = ...`): ~250 bytes a subscription less,
// and the hub encodes a changed row once per Projection for all of them.
struct Projection {
  std::vector<int> columns;  // current column indices; columns.size() stands for _seq
  std::vector<std::string> names;
  std::string qualifier;     // the table's name or alias in the query
};

// The shared copy of p (made now when no subscription has one).
std::shared_ptr<const Projection> InternProjection(Projection p);

struct SubscriptionQuery {
  // As of the subscription; one copy per schema version, shared by the subscriptions.
  std::shared_ptr<const catalog::TableDef> table;
  std::string scope;              // the caller's scope in the table
  std::shared_ptr<const Projection> projection;  // interned
  std::string where_sql;          // "" when there is no WHERE
  std::unique_ptr<RowPredicate> predicate;  // null: the WHERE is equality alone, or none
  // `column = constant` at the top of the WHERE (possibly under AND): lets the router
  // wake only the subscriptions a changed row can match.
  std::optional<std::pair<int, store::Cell>> equality;
  // The WHERE is that equality alone, on a column compared exactly (integers, text): no
  // predicate is compiled (~150 bytes a subscription), rows are matched by their key.
  bool equality_only = false;
};

// Whether a row (the table's current columns) matches the query's WHERE.
bool RowMatches(const SubscriptionQuery& query, const std::vector<store::Cell>& cells, int64_t seq);

// The "schema" array (name, data_type, index) of the projection (with _seq).
std::string SchemaJson(const SubscriptionQuery& query);
// "SELECT <projection>, _seq FROM <table>", for snapshots read by the engine.
std::string SelectSql(const SubscriptionQuery& query);

// SELECT cols|* FROM [ns.]t [WHERE cond] on a USER, STREAM or SHARED table the caller may
// read. Joins, aggregates, ORDER BY, LIMIT and the like: UNSUPPORTED.
Result<SubscriptionQuery> ParseSubscription(std::string_view sql,
                                            const catalog::CatalogState& state,
                                            const auth::Caller& caller,
                                            const std::string& default_namespace);

// {"col": value, ..., "_seq": n} for the projected columns of a row.
void AppendRowObject(std::string& out, const SubscriptionQuery& query,
                     const std::vector<store::Cell>& cells, int64_t seq);

// A key for routing: the column's cell, encoded so equal values give equal keys.
std::string EqualityKey(int column, ColumnType type, const store::Cell& cell);

}  // namespace kalam::live
