// Where each shard's replicas live: the shard map. One node at a time (the placement
// leader, holding a key on its lease) fills it in: a shard with fewer replicas than
// replication_factor gets the alive nodes that hold the fewest replicas; then replicas
// move, one at a time, off nodes being drained and from the nodes holding the most to
// those holding the fewest (a node that joined a full cluster). A move only rewrites the
// shard's list: its Raft leader adds the new replica, and removes the old one once the new
// one votes (cluster/shard_groups.h). A node down longer than down_node_timeout_secs is
// passed in draining (cluster/membership.h): its replicas move the same way.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace kalam::cluster {

// shard id -> its replicas (node ids, the first one the preferred leader).
using ShardMap = std::map<int32_t, std::vector<std::string>>;

// The shards whose replica lists change, with their new lists: every shard in
// [0, shards) gets up to replication_factor replicas among alive_nodes, each added replica
// on the node holding the fewest (ties: the lower node id). Deterministic.
ShardMap PlaceReplicas(const ShardMap& current, const std::vector<std::string>& alive_nodes,
                       int32_t shards, int32_t replication_factor);

// One replica moved (nullopt: none to move): off a draining node first, to the alive node
// not draining that holds the fewest replicas and not this shard's (the lowest shard
// first); else, among the alive nodes not draining, from one holding the most to one
// holding the fewest, when they differ by more than one. The shard and its new list: the
// moved node's place taken by the new one. Deterministic.
std::optional<std::pair<int32_t, std::vector<std::string>>> MoveReplica(const ShardMap& current,
                                                                          const std::vector<std::string>& alive_nodes,
                                                                          const std::set<std::string>& draining);

// A shard's entry in the map: its replicas, and the replicas it was created with (they
// start its Raft group together; cluster/shard_groups.h).
struct ShardEntry {
  std::vector<std::string> replicas;
  std::vector<std::string> initial;
  bool operator==(const ShardEntry&) const = default;
};

// The JSON value of a shard's key, and back ({"replicas": [...], "initial": [...]}; empty
// lists on bad input; a value without "initial" was written before it was kept: its first
// replica founded the group).
std::string ShardValue(const ShardEntry& entry);
ShardEntry ReadShardValue(const std::string& value);

}  // namespace kalam::cluster
