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
