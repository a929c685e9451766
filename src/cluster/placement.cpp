#include "cluster/placement.h"

#include <algorithm>
#include <boost/json.hpp>

namespace kalam::cluster {

namespace json = boost::json;

ShardMap PlaceReplicas(const ShardMap& current, const std::vector<std::string>& alive_nodes,
                       int32_t shards, int32_t replication_factor) {
  std::map<std::string, int64_t> held;  // alive node -> replicas it holds
  for (const std::string& node : alive_nodes) held[node] = 0;
  for (const auto& [shard, replicas] : current) {
    for (const std::string& node : replicas) {
      if (auto it = held.find(node); it != held.end()) ++it->second;
    }
  }
  ShardMap changes;
  for (int32_t shard = 0; shard < shards; ++shard) {
    auto found = current.find(shard);
    std::vector<std::string> replicas = found != current.end() ? found->second : std::vector<std::string>();
    bool changed = false;
    while (static_cast<int32_t>(replicas.size()) < replication_factor) {
      const std::string* best = nullptr;
      int64_t best_count = 0;
      for (const auto& [node, count] : held) {
        if (std::find(replicas.begin(), replicas.end(), node) != replicas.end()) continue;
        if (best == nullptr || count < best_count) {
          best = &node;
          best_count = count;
        }
      }
      if (best == nullptr) break;  // every alive node holds it already
      replicas.push_back(*best);
      ++held[*best];
      changed = true;
    }
    if (changed) changes[shard] = std::move(replicas);
  }
  return changes;
}

std::optional<std::pair<int32_t, std::vector<std::string>>> MoveReplica(const ShardMap& current,
                                                                          const std::vector<std::string>& alive_nodes,
                                                                          const std::set<std::string>& draining) {
  std::map<std::string, int64_t> held;  // alive nodes not draining -> replicas they hold
  for (const std::string& node : alive_nodes) {
    if (!draining.contains(node)) held[node] = 0;
  }
  if (held.empty()) return std::nullopt;
  for (const auto& [shard, replicas] : current) {
    for (const std::string& node : replicas) {
      if (auto it = held.find(node); it != held.end()) ++it->second;
    }
  }
  // The node holding the fewest replicas of those that lack the shard's (ties: lower id).
  auto fewest_lacking = [&](const std::vector<std::string>& replicas) -> const std::string* {
    const std::string* best = nullptr;
    for (const auto& [node, count] : held) {
      if (std::find(replicas.begin(), replicas.end(), node) != replicas.end()) continue;
      if (best == nullptr || count < held.at(*best)) best = &node;
    }
    return best;
  };
  for (const auto& [shard, replicas] : current) {
    for (size_t i = 0; i < replicas.size(); ++i) {
      if (!draining.contains(replicas[i])) continue;
      const std::string* to = fewest_lacking(replicas);
      if (to == nullptr) break;  // every other node holds it already: it stays
      std::vector<std::string> moved = replicas;
      moved[i] = *to;
      return std::make_pair(shard, std::move(moved));
    }
  }
  auto most = std::max_element(held.begin(), held.end(), [](const auto& a, const auto& b) { return a.second < b.second; });
  auto fewest = std::min_element(held.begin(), held.end(), [](const auto& a, const auto& b) { return a.second < b.second; });
  if (most->second - fewest->second <= 1) return std::nullopt;
  for (const auto& [shard, replicas] : current) {
    auto from = std::find(replicas.begin(), replicas.end(), most->first);
    if (from == replicas.end() || std::find(replicas.begin(), replicas.end(), fewest->first) != replicas.end()) continue;
    std::vector<std::string> moved = replicas;
    moved[static_cast<size_t>(from - replicas.begin())] = fewest->first;
    return std::make_pair(shard, std::move(moved));
  }
  return std::nullopt;
}

namespace {

json::array NodeList(const std::vector<std::string>& nodes) {
  json::array list;
  for (const std::string& node : nodes) list.emplace_back(node);
  return list;
}

std::vector<std::string> ReadNodeList(const json::object& o, const char* name) {
  std::vector<std::string> out;
  const json::value* list = o.if_contains(name);
  if (list == nullptr || !list->is_array()) return out;
  for (const json::value& node : list->as_array()) {
    if (node.is_string()) out.emplace_back(node.as_string());
  }
  return out;
}

}  // namespace

std::string ShardValue(const ShardEntry& entry) {
  return json::serialize(json::object{{"replicas", NodeList(entry.replicas)}, {"initial", NodeList(entry.initial)}});
}

ShardEntry ReadShardValue(const std::string& value) {
  json::error_code ec;
  json::value v = json::parse(value, ec);
  ShardEntry out;
  if (ec || !v.is_object()) return out;
  out.replicas = ReadNodeList(v.as_object(), "replicas");
  if (v.as_object().contains("initial")) {
    out.initial = ReadNodeList(v.as_object(), "initial");
  } else if (!out.replicas.empty()) {
    out.initial = {out.replicas.front()};
  }
  return out;
}

}  // namespace kalam::cluster
