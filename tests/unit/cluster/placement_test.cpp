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
