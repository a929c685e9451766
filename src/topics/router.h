// Routes committed changes into topics: for each statement in a commit group, the rows of
// its changes that a topic's source takes (table, operation, filter) become messages,
// written in the same group write as the rows themselves — a committed change is never
// missing from its topic and a rolled-back one never in it. Transactions commit as one
// statement of a group, so their changes route the same way.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <tuple>
#include <unordered_map>
#include <vector>

#include "live/predicate.h"
#include "store/committer.h"
#include "topics/log.h"
#include "topics/outbox.h"
#include "topics/registry.h"

namespace kalam::catalog {
class Catalog;
}

namespace kalam::topics {

// The partition of a primary key (its text): a stable hash, the same across restarts.
int32_t PartitionOf(std::string_view key, int32_t partitions);

class TopicRouter final : public store::CommitHook {
 public:
  TopicRouter(TopicRegistry& registry, TopicLog& log, catalog::Catalog& catalog)
      : registry_(registry), log_(log), catalog_(catalog) {}

  // Cluster mode: messages are committed as records of the outbox of their rows' shard
  // (shard_of: the shard of a table's rows of a scope), which outbox delivers to each
  // topic's shard. Set before statements run; set again with a null outbox at shutdown.
  void SetOutbox(std::function<int32_t(const catalog::TableDef& table, const std::string& scope)> shard_of,
                 TopicOutbox* outbox) {
    shard_of_ = std::move(shard_of);
    outbox_.store(outbox);
  }

  Status OnStatement(store::CommitContext& context,
                     const std::vector<store::ChangeEvent>& events) override;
  void OnGroupEnd(bool written) override;

 private:
  struct Route {
    const TopicDef* topic;
    const TopicSource* source;
  };
  // The routes of the registry's generation, by table id; rebuilt when it changes.
  // REQUIRES: called by the leader.
  const std::vector<Route>* RoutesOf(const std::string& table_id);
  // The source's filter compiled for one schema version (null: no filter).
  const live::RowPredicate* FilterOf(const Route& route, const catalog::TableDef& table,
                                             uint32_t version);

  TopicRegistry& registry_;
  TopicLog& log_;
  catalog::Catalog& catalog_;
  std::function<int32_t(const catalog::TableDef&, const std::string&)> shard_of_;
  std::atomic<TopicOutbox*> outbox_{nullptr};  // null again when the node leaves the cluster
  uint64_t group_records_ = 0;  // outbox records in the group being built
  // The leader's alone, like the log's pending offsets.
  std::shared_ptr<const TopicState> state_;
  std::unordered_map<std::string, std::vector<Route>> routes_;
  std::map<std::tuple<const TopicSource*, uint64_t, uint32_t>, std::unique_ptr<live::RowPredicate>> filters_;
};

}  // namespace kalam::topics
