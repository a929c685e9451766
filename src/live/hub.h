// Live queries: the subscriptions of every connection, routed by table and
// scope, fed by the committer in commit order.
//
// Hand-off: a subscription is registered first, under the hub's lock, and learns the last
// _seq published (S). Its snapshot is read with `_seq <= S`; every commit after S reaches
// it as an event, held back until the snapshot has been queued. So each commit reaches a
// subscriber exactly once, in _seq order.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <set>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "auth/caller.h"
#include "common/status.h"
#include "query/engine.h"
#include "live/subscription.h"
#include "store/committer.h"

namespace kalam::live {

// Where a connection's messages go: its outbound queue. Never blocks. Shared by the
// connection's subscriptions, so the messages a commit has for one connection are handed
// over at once.
class Outlet {
 public:
  virtual ~Outlet() = default;
  virtual void Send(std::string message) = 0;
  virtual void SendMany(std::vector<std::string> messages) = 0;
};

struct Subscription {
  std::string live_id;  // set by the hub
  std::string connection_id;
  std::string subscription_id;  // the client's id
  std::string user_id;
  std::string sql;
  std::string options_json;
  live::SubscriptionQuery query;
  std::shared_ptr<Outlet> outlet;
  int64_t created_at = 0;
  std::atomic<int64_t> last_update = 0;
  std::atomic<int64_t> changes = 0;
  // Resumed (from_seq_id): the client has every change up to this _seq. In a cluster,
  // it may have heard of some from a node ahead of this one: they are not sent again.
  int64_t known_through = 0;

  // REQUIRES: the hub's mutex.
  bool ready = false;               // the snapshot is queued: events go straight out
  std::vector<std::string> held;    // events that arrived before that
  uint64_t seen = 0;                // the last row (of Publish's count) it was a candidate for
  uint64_t pending_round = 0;       // the event whose pending changes pending_slot holds
  size_t pending_slot = 0;
};

class LiveHub {
 public:
  // Where publication starts: every commit up to it is durable already (at start-up, the
  // committer's last _seq). Call before any subscription.
  void StartAt(int64_t last_seq) {
    std::lock_guard lock(mutex_);
    last_seq_ = start_seq_ = last_seq;
  }
  // Cluster mode: the shard the rows of a table's scope belong to. Each shard's changes
  // arrive in _seq order, different shards' not, so a subscription's snapshot is cut at
  // the last _seq published for its own shard. Call before any subscription.
  void SetShardOf(std::function<int32_t(const std::string& table_id, const std::string& scope)> shard_of) {
    std::lock_guard lock(mutex_);
    shard_of_ = std::move(shard_of);
  }
  // The node system.live_queries names (default "node-1", a single server's name). Call
  // before any subscription.
  void SetNodeId(std::string node_id) {
    std::lock_guard lock(mutex_);
    node_id_ = std::move(node_id);
  }
  // Registers sub and returns S, the last _seq published (see above).
  int64_t Add(std::shared_ptr<Subscription> sub);
  // The snapshot is queued: send the events held meanwhile, then go live.
  void MarkReady(const std::string& live_id);
  bool Remove(const std::string& live_id);
  void RemoveConnection(const std::string& connection_id);
  // KILL LIVE QUERY: its client gets an error. NOT_FOUND / PERMISSION_DENIED.
  Status Kill(const std::string& live_id, const auth::Caller& caller);
  // DROP TABLE: its subscriptions get an error and end.
  void DropTable(const std::string& table_id);

  // The committer's listener.
  void Publish(std::vector<store::ChangeEvent>& events, int64_t last_seq);

  // The last _seq published with a change of the table (0: none since start-up).
  int64_t LastChange(const std::string& table_id) const;

  // Change messages handed to subscriptions since start-up (held ones included).
  uint64_t ChangeMessages() const;

  std::vector<query::LiveQueryRow> List() const;
  // Cluster mode (SetShardOf): the shards whose changes some subscription here waits for.
  std::set<int32_t> WatchedShards() const;
  size_t Count() const;  // of List(), without building it
  size_t CountForConnection(const std::string& connection_id) const;
  size_t CountForUser(const std::string& user_id) const;

 private:
  struct ScopeSubs {
    std::unordered_map<std::string, std::vector<Subscription*>> by_value;  // equality index
    std::vector<Subscription*> others;
    // column -> (subscriptions indexed on it, its type)
    std::map<int, std::pair<int, ColumnType>> indexed_columns;
  };
  using TableSubs = std::unordered_map<std::string, ScopeSubs>;  // by scope

  // REQUIRES: mutex_ held.
  void Unindex(Subscription* sub);
  // Queues message for the subscription's connection (or holds it until the snapshot is
  // out); SendQueued hands each connection its messages at once.
  void Deliver(Subscription* sub, std::string message);
  void SendQueued();
  void EndWithError(Subscription* sub, std::string_view code, const std::string& message);

  mutable std::mutex mutex_;
  int64_t last_seq_ = 0;
  int64_t start_seq_ = 0;  // StartAt's
  std::function<int32_t(const std::string&, const std::string&)> shard_of_;
  std::unordered_map<int32_t, int64_t> last_seq_by_shard_;  // with shard_of_
  std::string node_id_ = "node-1";
  uint64_t next_id_ = 1;
  std::unordered_map<std::string, std::shared_ptr<Subscription>> subs_;  // by live_id
  std::unordered_map<std::string, TableSubs> tables_;                   // by table_id
  std::unordered_map<std::string, size_t> per_user_;                     // live subscriptions
  std::unordered_map<std::string, std::vector<Subscription*>> by_connection_;
  uint64_t rounds_ = 0;                               // rows and events routed, for marks
  std::vector<std::pair<Outlet*, std::vector<std::string>>> queued_;  // by Deliver
  std::unordered_map<Outlet*, size_t> queued_index_;                   // into queued_
  std::unordered_map<std::string, int64_t> last_change_;                  // by table_id
  uint64_t change_messages_ = 0;
};

// An error message for a subscription (or, with no id, for the connection).
std::string ErrorMessage(std::string_view subscription_id, std::string_view code,
                         const std::string& message);

}  // namespace kalam::live
