#include "cluster_nodes.h"

#include <algorithm>

#include "common/json_text.h"

namespace kalam::testing {

namespace json = boost::json;

ServerOptions ClusterNodeOptions(const std::string& node_id, const std::string& endpoints,
                                 const std::map<std::string, std::string>& keys) {
  std::map<std::string, std::string> all = {{"node_id", "\"" + node_id + "\""},
                                            {"etcd_endpoints", endpoints},
                                            {"shards", "8"},
                                            {"raft_port", std::to_string(FreePort())},
                                            {"heartbeat_ttl_secs", "2"},
                                            {"join_timeout_secs", "10"}};
  for (const auto& [key, value] : keys) all[key] = value;
  ServerOptions options;
  options.extra_config = "[cluster]\n";
  for (const auto& [key, value] : all) options.extra_config += key + " = " + value + "\n";
  return options;
}

std::string ReplicaRows(const ServerProcess& server, const std::string& auth, const std::string& sql) {
  auto http = server.Client();
  auto sent = http.Send("POST", "/v1/api/sql", "{\"sql\":" + JsonString(sql) + "}",
                        {{"Authorization", auth}, {"X-Kalam-Forwarded-By", "test"}});
  if (!sent.ok() || sent->status != 200) return "";
  return json::serialize(json::parse(sent->body).at("results").at(0).at("rows"));
}

std::map<int64_t, std::string> Leaders(const ServerProcess& server, bool caught_up) {
  auto http = server.Client();
  std::map<int64_t, std::string> out;
  SqlResponse r;
  try {
    r = Sql(http, RootAuth(), "SELECT shard_id, leader, lag FROM system.shards");
  } catch (const std::exception&) {
    return out;  // not answering (yet)
  }
  if (r.status != 200) return out;
  for (const json::value& row : r.rows()) {
    const json::array& cells = row.as_array();
    if (!cells.at(1).is_string() || cells.at(1).as_string().empty()) continue;
    if (caught_up && cells.at(2).as_int64() != 0) continue;
    out[cells.at(0).as_int64()] = std::string(cells.at(1).as_string());
  }
  return out;
}

std::map<int64_t, std::string> AgreedLeaders(const std::vector<ServerProcess*>& nodes, size_t shards,
                                             bool caught_up) {
  std::map<int64_t, std::string> agreed;
  for (size_t i = 0; i < nodes.size(); ++i) {
    const auto seen = Leaders(*nodes[i], caught_up);
    if (seen.size() != shards || (i > 0 && seen != agreed)) return {};
    agreed = seen;
  }
  return agreed;
}

bool Balanced(const std::vector<ServerProcess*>& nodes, size_t shards) {
  const auto leaders = AgreedLeaders(nodes, shards);
  if (leaders.empty()) return false;
  std::map<std::string, size_t> led;
  for (const auto& [shard, leader] : leaders) ++led[leader];
  const size_t share = (shards + nodes.size() - 1) / nodes.size();
  if (led.size() != nodes.size()) return false;
  for (const auto& [node, count] : led) {
    if (count > share) return false;
  }
  return true;
}

std::vector<TopicMessage> TopicMessages(const SqlResponse& r) {
  std::vector<TopicMessage> out;
  for (const json::value& row : r.rows()) {
    const json::array& a = row.as_array();
    auto text = [](const json::value& v) { return v.is_string() ? std::string(v.as_string()) : std::string(); };
    out.push_back({a.at(1).as_int64(), a.at(2).as_int64(), text(a.at(3)), text(a.at(4))});
  }
  return out;
}

std::optional<std::vector<TopicMessage>> WholeTopic(const ServerProcess& node, const std::string& auth,
                                                    const std::string& topic, int partitions) {
  std::vector<TopicMessage> all;
  auto http = node.Client();
  try {
    for (int p = 0; p < partitions; ++p) {
      for (int64_t from = 0;;) {
        auto r = Sql(http, auth, "CONSUME FROM " + topic + " PARTITION " + std::to_string(p) + " FROM " +
                                     std::to_string(from) + " LIMIT 1000");
        if (r.status != 200) return std::nullopt;
        const std::vector<TopicMessage> page = TopicMessages(r);
        if (page.empty()) break;
        all.insert(all.end(), page.begin(), page.end());
        from = page.back().offset + 1;
      }
    }
  } catch (const std::exception&) {
    return std::nullopt;  // the node went away
  }
  return all;
}

std::string OffsetGaps(const std::vector<TopicMessage>& messages) {
  std::map<int64_t, std::vector<int64_t>> by_partition;
  for (const TopicMessage& m : messages) by_partition[m.partition].push_back(m.offset);
  std::string gaps;
  for (auto& [p, offsets] : by_partition) {
    std::sort(offsets.begin(), offsets.end());
    for (size_t i = 0; i < offsets.size(); ++i) {
      if (offsets[i] != static_cast<int64_t>(i)) {
        gaps += "partition " + std::to_string(p) + " has offset " + std::to_string(offsets[i]) + " at " +
                std::to_string(i) + "; ";
        break;
      }
    }
  }
  return gaps;
}

}  // namespace kalam::testing
