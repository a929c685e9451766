// Snapshots of live queries: the rows a subscription starts from, read straight from the
// hot store when its scope has no cold segments (the engine's merged read otherwise), and
// a cache that lets subscriptions arriving together share one decoded read of a scope.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "catalog/catalog.h"
#include "common/status.h"
#include "live/subscription.h"
#include "store/kv_store.h"
namespace kalam::cold {
class ColdStore;
}

namespace kalam::live {

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
  // at: the store's rows are read as of it (null: the latest).
  std::optional<std::vector<std::string>> Read(const SubscriptionQuery& q, store::KvStore& store,
                                               int64_t max_seq, int64_t min_seq,
                                               std::optional<int64_t> last_rows,
                                               const store::KvStore::Snapshot* at = nullptr);

  struct Entry;

 private:
  // An entry for q's scope valid at max_seq: found, or read now (others wait for it).
  std::shared_ptr<Entry> Find(const SubscriptionQuery& q, store::KvStore& store, int64_t max_seq,
                              const store::KvStore::Snapshot* at);
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

}  // namespace kalam::live
