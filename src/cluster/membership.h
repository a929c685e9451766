// A node's place in the cluster (cluster mode): it registers in etcd when the server
// starts and keeps a lease alive while it runs, so every node sees which nodes are alive.
//
// Keys, under [cluster] etcd_prefix:
//   cluster       the cluster's fixed settings (shards, replication_factor), written by
//                 the first node; a node configured otherwise is refused
//   nodes/<id>    a node that ever joined: its address (kept when it stops)
//   alive/<id>    a running node: its address and last heartbeat, attached to its lease
//                 (gone when the lease lapses: heartbeat_ttl_secs after the last renewal)
//   placement/leader  the node that fills in the shard map, on its lease
//   draining/<id> a node whose replicas move to others (CLUSTER DRAIN), until undrained
//                 (a node down longer than down_node_timeout_secs is treated alike by the
//                 placement leader, without a key: back in time, it keeps the rest)
//   shards/<nnnn> a shard's replicas and founders (cluster/placement.h)
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "cluster/etcd_client.h"
#include "cluster/placement.h"
#include "common/config.h"
#include "common/log_throttle.h"
#include "common/periodic_task.h"
#include "common/status.h"

namespace kalam::cluster {

// A node as etcd says it is (system.cluster_nodes adds the shards it leads, from the
// shard groups).
struct NodeView {
  std::string node_id;
  std::string address;
  std::string raft_address;  // host:port of its Raft port
  // "alive", "draining" (alive, its replicas moving to others), "down", or "unknown" (this
  // node has not reached etcd for longer than heartbeat_ttl_secs)
  std::string state;
  int64_t shards_held = 0;
  int64_t last_heartbeat = 0;  // microseconds; 0: never seen alive
  std::vector<int32_t> led;    // the shards it led at its last heartbeat (alive nodes)
};

// What a node's heartbeat says of the groups it leads.
struct LeaderReport {
  std::vector<int32_t> led;
  std::map<int32_t, std::string> settled;  // shard -> GroupView::settled_on
  // The shards whose changes this node's subscribers wait for (their leaders tell this
  // node of each commit at once rather than within 50 ms: cluster/shard_groups.h).
  std::vector<int32_t> watched;
};

// A shard as system.shards shows it.
struct ShardView {
  int32_t shard_id = 0;
  std::vector<std::string> replicas;
  std::vector<std::string> initial;  // the replicas it was created with
};

// What CLUSTER STATUS says of this node's view of the cluster.
struct StatusView {
  std::string node_id;
  std::string etcd;  // "ok (<endpoint>)" or why etcd can't be reached
  int64_t shards = 0;
  int64_t replication_factor = 0;
};

class Membership {
 public:
  // Registers this node (address: where others reach it). Waits up to join_timeout_secs
  // for etcd to answer and for a former run's lease on this node_id to lapse.
  // INVALID_INPUT when the cluster was created with other fixed settings;
  // SERVICE_UNAVAILABLE when etcd can't be reached or the node_id is in use by a node
  // that is alive.
  static Result<std::unique_ptr<Membership>> Join(const Config::Cluster& config,
                                                  const std::string& address);
  // Revokes the lease: other nodes see this one down at once.
  ~Membership();

  // Every node that ever joined, by node_id, as of the last heartbeat (every third of
  // heartbeat_ttl_secs).
  std::vector<NodeView> Nodes() const;
  // The shard map as of the last heartbeat, by shard id.
  std::vector<ShardView> Shards() const;
  StatusView Summary() const;
  // Where this node's heartbeats read the shards it leads (published for the nodes that
  // hold no replica of them, and for the placement leader, which moves a replica only
  // once every shard's members are its listed replicas). Set once, after the shards'
  // groups start.
  void SetLedShards(std::function<LeaderReport()> led);
  // Marks node_id (one that ever joined) as draining — its replicas move to other nodes —
  // or not. NOT_FOUND for a node never seen; SERVICE_UNAVAILABLE when etcd can't be
  // reached.
  Status SetDraining(const std::string& node_id, bool draining);
  // The alive node whose latest heartbeat says it leads shard; nullopt when none does.
  std::optional<std::string> LeaderOf(int32_t shard) const;
  // Whether another alive node's latest heartbeat says subscribers there wait for shard's
  // changes.
  bool WatchedElsewhere(int32_t shard) const;

 private:
  Membership(const Config::Cluster& config, std::string address);

  Result<bool> TryRegister(EtcdClient& etcd);  // false: the node_id is held by a live lease
  void Heartbeat();
  void Refresh(EtcdClient& etcd);
  // As placement leader (taken when free): fills in the shard map. Then reads it.
  // settled: what the leaders' heartbeats report settled, per shard; down: the nodes that
  // joined once and have no heartbeat now.
  void Place(EtcdClient& etcd, const std::vector<std::string>& alive, const std::set<std::string>& draining,
             const std::map<int32_t, std::set<std::string>>& settled, const std::set<std::string>& down);
  // As placement leader: the nodes down for longer than down_node_timeout_secs, counted
  // from when this node saw them down (or became the leader); their replicas move.
  std::set<std::string> LostNodes(const std::set<std::string>& down);
  std::string AliveValue() const;

  const Config::Cluster config_;
  const std::string address_;
  const std::string raft_address_;  // address_'s host, [cluster] raft_port
  const int64_t started_at_;
  EtcdClient etcd_;  // used by the heartbeat thread only, after Join
  int64_t lease_ = 0;
  int64_t leader_since_ = 0;  // the revision placement/leader was taken at; 0: not leader
  // As placement leader: the nodes seen down, since when; the heartbeat thread only.
  std::map<std::string, std::chrono::steady_clock::time_point> down_since_;
  std::set<std::string> lost_;  // those past the timeout (logged once each)
  LogThrottle failures_logged_{std::chrono::minutes(1)};

  mutable std::mutex mutex_;
  std::vector<NodeView> nodes_;
  std::set<int32_t> watched_elsewhere_;
  std::chrono::steady_clock::time_point refreshed_at_;  // when nodes_ was last read
  std::map<int32_t, ShardEntry> shards_;
  std::string etcd_state_;
  mutable std::mutex led_mutex_;
  std::function<LeaderReport()> led_;  // guarded by led_mutex_

  std::unique_ptr<PeriodicTask> heartbeat_;  // last: stops first
};

}  // namespace kalam::cluster
