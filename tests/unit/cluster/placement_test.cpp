#include "cluster/placement.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <set>

namespace kalam::cluster {
namespace {

std::map<std::string, int> Held(const ShardMap& map) {
  std::map<std::string, int> held;
  for (const auto& [shard, replicas] : map) {
    for (const auto& node : replicas) ++held[node];
  }
  return held;
}

ShardMap Apply(ShardMap map, const ShardMap& changes) {
  for (const auto& [shard, replicas] : changes) map[shard] = replicas;
  return map;
}

TEST(PlaceReplicas, FillsEveryShardEvenly) {
  const ShardMap map = PlaceReplicas({}, {"a", "b", "c", "d", "e"}, 32, 3);
  ASSERT_EQ(map.size(), 32u);
  for (const auto& [shard, replicas] : map) {
    ASSERT_EQ(replicas.size(), 3u);
    EXPECT_EQ(std::set<std::string>(replicas.begin(), replicas.end()).size(), 3u) << shard;
  }
  const auto held = Held(map);
  ASSERT_EQ(held.size(), 5u);
  int low = 1 << 30, high = 0;
  for (const auto& [node, count] : held) {
    low = std::min(low, count);
    high = std::max(high, count);
  }
  EXPECT_LE(high - low, 1);  // 96 replicas over 5 nodes: 19 or 20 each
  EXPECT_TRUE(PlaceReplicas(map, {"a", "b", "c", "d", "e"}, 32, 3).empty());  // nothing left to do
}

TEST(PlaceReplicas, GrowsShardsAsNodesJoinWithoutMovingAny) {
  ShardMap map = PlaceReplicas({}, {"a"}, 8, 3);
  for (const auto& [shard, replicas] : map) EXPECT_EQ(replicas, std::vector<std::string>{"a"});
  map = Apply(map, PlaceReplicas(map, {"a", "b"}, 8, 3));
  map = Apply(map, PlaceReplicas(map, {"a", "b", "c"}, 8, 3));
  for (const auto& [shard, replicas] : map) {
    EXPECT_EQ(replicas, (std::vector<std::string>{"a", "b", "c"})) << shard;  // first stays first
  }
  // A fourth node gets nothing: every shard has its three.
  EXPECT_TRUE(PlaceReplicas(map, {"a", "b", "c", "d"}, 8, 3).empty());
}

TEST(PlaceReplicas, RandomJoinsKeepReplicasDistinctAndBounded) {
  std::mt19937 random(7);
  for (int trial = 0; trial < 200; ++trial) {
    const int shards = 1 + static_cast<int>(random() % 64);
    const int rf = 1 + static_cast<int>(random() % 5);
    ShardMap map;
    std::vector<std::string> alive;
    const int joins = 1 + static_cast<int>(random() % 8);
    for (int j = 0; j < joins; ++j) {
      alive.push_back("n" + std::to_string(random() % 20));
      std::sort(alive.begin(), alive.end());
      alive.erase(std::unique(alive.begin(), alive.end()), alive.end());
      map = Apply(map, PlaceReplicas(map, alive, shards, rf));
      ASSERT_EQ(static_cast<int>(map.size()), shards);
      for (const auto& [shard, replicas] : map) {
        ASSERT_EQ(replicas.size(), std::min<size_t>(rf, alive.size()));
        ASSERT_EQ(std::set<std::string>(replicas.begin(), replicas.end()).size(), replicas.size());
        for (const auto& node : replicas) {
          ASSERT_TRUE(std::binary_search(alive.begin(), alive.end(), node));
        }
      }
    }
  }
}

// Applies moves until none is left; how many it took.
int MoveAll(ShardMap& map, const std::vector<std::string>& alive, const std::set<std::string>& draining) {
  int moves = 0;
  while (auto move = MoveReplica(map, alive, draining)) {
    map[move->first] = move->second;
    if (++moves > 1000) break;  // a cycle
  }
  return moves;
}

TEST(MoveReplica, ANodeJoiningAFullClusterTakesItsShare) {
  ShardMap map = Apply({}, PlaceReplicas({}, {"a", "b", "c"}, 8, 3));
  EXPECT_FALSE(MoveReplica(map, {"a", "b", "c"}, {}).has_value()) << "balanced: nothing moves";
  const int moves = MoveAll(map, {"a", "b", "c", "d"}, {});
  EXPECT_EQ(moves, 6);  // 24 replicas over 4 nodes: d takes 6, one at a time
  for (const auto& [node, count] : Held(map)) EXPECT_EQ(count, 6) << node;
  for (const auto& [shard, replicas] : map) {
    EXPECT_EQ(replicas.size(), 3u);
    EXPECT_EQ(std::set<std::string>(replicas.begin(), replicas.end()).size(), 3u) << "shard " << shard;
  }
}

TEST(MoveReplica, ADrainedNodeGivesEveryReplicaAway) {
  ShardMap map = Apply({}, PlaceReplicas({}, {"a", "b", "c", "d"}, 8, 3));
  MoveAll(map, {"a", "b", "c", "d"}, {"b"});
  EXPECT_EQ(Held(map).count("b"), 0u);
  for (const auto& [shard, replicas] : map) {
    EXPECT_EQ(replicas.size(), 3u);
    EXPECT_EQ(std::set<std::string>(replicas.begin(), replicas.end()).size(), 3u) << "shard " << shard;
  }
  // With as many nodes as replicas, a draining node's replicas have nowhere to go.
  ShardMap three = Apply({}, PlaceReplicas({}, {"a", "b", "c"}, 4, 3));
  EXPECT_FALSE(MoveReplica(three, {"a", "b", "c"}, {"a"}).has_value());
  // Undrained, it takes its share back.
  MoveAll(map, {"a", "b", "c", "d"}, {});
  EXPECT_EQ(Held(map)["b"], 6);
}

TEST(MoveReplica, RandomClustersConvergeWithDistinctReplicas) {
  std::mt19937 random(3);
  for (int trial = 0; trial < 200; ++trial) {
    const int shards = 1 + static_cast<int>(random() % 40);
    const int rf = 1 + static_cast<int>(random() % 3);
    std::vector<std::string> alive;
    const int n = rf + static_cast<int>(random() % 5);
    for (int i = 0; i < n; ++i) alive.push_back("n" + std::to_string(i));
    ShardMap map = Apply({}, PlaceReplicas({}, std::vector<std::string>(alive.begin(), alive.begin() + rf), shards, rf));
    std::set<std::string> draining;
    if (n > rf && random() % 2 == 0) draining.insert(alive[random() % alive.size()]);
    MoveAll(map, alive, draining);
    ASSERT_FALSE(MoveReplica(map, alive, draining).has_value());
    std::map<std::string, int> held = Held(map);
    int most = 0;
    int fewest = INT32_MAX;
    for (const std::string& node : alive) {
      if (draining.contains(node)) {
        ASSERT_EQ(held[node], 0) << "trial " << trial;
        continue;
      }
      most = std::max(most, held[node]);
      fewest = std::min(fewest, held[node]);
    }
    ASSERT_LE(most - fewest, 1) << "trial " << trial;
    for (const auto& [shard, replicas] : map) {
      ASSERT_EQ(static_cast<int>(replicas.size()), rf);
      ASSERT_EQ(std::set<std::string>(replicas.begin(), replicas.end()).size(), replicas.size());
    }
  }
}

TEST(ShardValue, RoundTripsAndRefusesGarbage) {
  const std::vector<std::string> replicas = {"a", "b\"quoted\"", "c"};
  const ShardEntry entry{replicas, {replicas[0]}};
  EXPECT_EQ(ReadShardValue(ShardValue(entry)), entry);
  EXPECT_TRUE(ReadShardValue("not json").replicas.empty());
  EXPECT_TRUE(ReadShardValue("{\"replicas\": 5}").replicas.empty());
  EXPECT_EQ(ReadShardValue("{\"replicas\": [\"a\", 1]}").replicas, std::vector<std::string>{"a"});
  // Written before the founders were kept: the first replica founded the group.
  EXPECT_EQ(ReadShardValue("{\"replicas\": [\"b\", \"a\"]}").initial, std::vector<std::string>{"b"});
}

}  // namespace
}  // namespace kalam::cluster
