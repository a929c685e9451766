// What live queries need from the query layer, without DuckDB in the interface: the parse
// of a subscription's SELECT, a predicate compiled to run over one row, and rows as the
// JSON objects of SPEC §5.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "auth/caller.h"
#include "catalog/catalog.h"
#include "common/status.h"
#include "store/row_codec.h"

namespace kalam::store {
class KvStore;
}
namespace kalam::cold {
class ColdStore;
}

namespace kalam::query {

// A WHERE clause over one row of a table (cells in current column order, and _seq).
// Compiled from comparisons, AND/OR/NOT, IN, IS [NOT] NULL, [I]LIKE, BETWEEN and
// arithmetic; anything else is refused at compile time (UNSUPPORTED), never ignored.
class RowPredicate {
 public:
  virtual ~RowPredicate() = default;
  virtual bool Matches(const std::vector<store::Cell>& cells, int64_t seq) const = 0;
};

struct SubscriptionQuery {
  // As of the subscription; one copy per schema version, shared by the subscriptions.
  std::shared_ptr<const catalog::TableDef> table;
  std::string scope;              // the caller's scope in the table
  std::vector<int> projection;    // current column indices; columns.size() stands for _seq
  std::vector<std::string> names;
  std::string qualifier;          // the table's name or alias in the query
  std::string where_sql;          // "" when there is no WHERE
  std::unique_ptr<RowPredicate> predicate;  // null: every row matches
  // `column = constant` at the top of the WHERE (possibly under AND): lets the router
  // wake only the subscriptions a changed row can match.
  std::optional<std::pair<int, store::Cell>> equality;
};

// The SPEC "schema" array of the projection (with _seq).
std::string SchemaJson(const SubscriptionQuery& query);
// "SELECT <projection>, _seq FROM <table>", for snapshots read by the engine.
std::string SelectSql(const SubscriptionQuery& query);

// SELECT cols|* FROM [ns.]t [WHERE cond] on a USER, STREAM or SHARED table the caller may
// read. Joins, aggregates, ORDER BY, LIMIT and the like: UNSUPPORTED.
Result<SubscriptionQuery> ParseSubscription(std::string_view sql,
                                            const catalog::CatalogState& state,
                                            const auth::Caller& caller,
                                            const std::string& default_namespace);

// The decoded rows of recently read scopes (USER and SHARED tables, hot rows only), shared
// by the snapshots of subscriptions that arrive together: many clients subscribing to one
// table at once decode it once, and an equality in their WHERE finds its rows through an
// index. An entry holds a scope's rows as of a _seq and serves while its table has not
// changed since (last_change: the last _seq published with a change of the table).
class SnapshotCache {
 public:
  SnapshotCache(std::function<int64_t(const std::string& table_id)> last_change,
                size_t max_rows = 200000);
  ~SnapshotCache();

  // The snapshot of q as ReadSnapshot defines it (the scope's hot rows only), from the
  // cached rows, read and kept first if need be; nullopt when they can't serve (a scope too
  // large to keep, another reader rebuilding it, a read error): then read the store directly.
  std::optional<std::vector<std::string>> Read(const SubscriptionQuery& q, store::KvStore& store,
                                               int64_t max_seq, int64_t min_seq,
                                               std::optional<int64_t> last_rows);

  struct Entry;

 private:
  // An entry for q's scope valid at max_seq: found, or read now (others wait for it).
  std::shared_ptr<Entry> Find(const SubscriptionQuery& q, store::KvStore& store, int64_t max_seq);
  struct State;
  std::unique_ptr<State> state_;
};

// The snapshot of a subscription read straight from the hot store, without the engine:
// the matching rows with max_seq >= _seq > from_seq (and the newest last_rows), in _seq
// order, as JSON objects. nullopt when the scope has cold segments: then the engine's
// merged read must answer. cache, when given, is used and filled.
Result<std::optional<std::vector<std::string>>> ReadSnapshot(
    const SubscriptionQuery& query, const catalog::CatalogState& state, store::KvStore& store,
    cold::ColdStore& cold, int64_t max_seq, std::optional<int64_t> from_seq,
    std::optional<int64_t> last_rows, SnapshotCache* cache = nullptr);

// {"col": value, ..., "_seq": n} for the projected columns of a row.
void AppendRowObject(std::string& out, const SubscriptionQuery& query,
                     const std::vector<store::Cell>& cells, int64_t seq);

// A key for routing: the column's cell, encoded so equal values give equal keys.
std::string EqualityKey(int column, ColumnType type, const store::Cell& cell);

}  // namespace kalam::query
