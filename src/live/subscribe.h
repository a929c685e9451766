// The subscribe lifecycle of a live query, apart from the door it came through: limits,
// parse, registration with the hub, the snapshot (straight from the hot store, or the
// engine's merged read when the scope has cold segments), its batches, then ready. The
// WebSocket connection hands it requests and an Outlet; it never touches the network.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "auth/caller.h"
#include "common/status.h"
#include "live/client_message.h"
#include "live/hub.h"

namespace kalam::catalog {
class Catalog;
}
namespace kalam::store {
class KvStore;
}
namespace kalam::cold {
class ColdStore;
}
namespace kalam::query {
class QueryEngine;
}

namespace kalam::live {

class SnapshotCache;

// What subscribing reads. Everything outlives the connections.
struct LiveServices {
  LiveHub& hub;
  catalog::Catalog& catalog;
  store::KvStore& store;
  cold::ColdStore& cold;
  query::QueryEngine& engine;
  SnapshotCache& snapshot_cache;
  int64_t max_subscriptions_per_connection;
  int64_t max_subscriptions_per_user;
  // Cluster mode: Ok when this node holds a replica of the shard of the table's rows of a
  // scope (it hears of their changes); else the refusal, naming where to subscribe.
  std::function<Status(const catalog::TableDef& table, const std::string& scope)> held_here = {};
};

// The subscriptions of one connection, by the client's ids.
// REQUIRES: a connection's Subscribe and Unsubscribe calls come one at a time and in order
// (the WebSocket runs them on one strand); RemoveAll may come from any thread.
class ConnectionSubscriptions {
 public:
  ConnectionSubscriptions(LiveServices& services, std::string connection_id);

  // Registers the subscription, then sends its subscription_ack and snapshot batches to
  // outlet; later commits reach outlet as change events. An error (with the protocol's
  // code) leaves nothing registered.
  Status Subscribe(const auth::Caller& caller, const std::shared_ptr<Outlet>& outlet,
                   const SubscribeRequest& request);
  // Cluster mode: takes id for a subscription relayed to another node (the same checks of
  // the id and the connection's limit as Subscribe's; the node counts the user's).
  Status Reserve(const std::string& id);
  // Gives back an id Reserve took (the relayed subscription ended).
  void Release(const std::string& id);
  // false when the connection has no subscription of that id.
  bool Unsubscribe(const std::string& id);
  // Ends every subscription of the connection (it is closing).
  void RemoveAll();

 private:
  Result<std::vector<std::string>> ReadSnapshotByEngine(const auth::Caller& caller,
                                                        const SubscriptionQuery& q,
                                                        int64_t snapshot_seq,
                                                        std::optional<int64_t> from_seq,
                                                        std::optional<int64_t> last_rows);

  Status CheckNewId(const std::string& id);  // REQUIRES: mutex_ held
  LiveServices& services_;
  const std::string connection_id_;
  std::mutex mutex_;
  std::unordered_map<std::string, std::string> live_ids_;  // client id -> live_id ("": relayed)
};

// Cluster mode: the refusal of a subscription to rows of shard, which this node holds no
// replica of, naming node_id (a node that holds it; "" when none is known) at address.
Status NotHeldHere(int32_t shard, const std::string& node_id, const std::optional<std::string>& address);
// The node a NotHeldHere refusal names.
std::optional<std::string> HolderNamedIn(const Status& refusal);

// The subscription_ack and initial_data_batch messages of a snapshot (rows as JSON objects).
std::vector<std::string> SnapshotMessages(const std::string& id, const std::string& live_id,
                                          const SubscriptionQuery& q, int64_t snapshot_seq,
                                          int64_t batch_size, const std::vector<std::string>& rows);

}  // namespace kalam::live
