#include "cluster/membership.h"

#include <algorithm>

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <thread>

#include "common/clock.h"

namespace kalam::cluster {

namespace json = boost::json;
using std::chrono::milliseconds;
using std::chrono::steady_clock;

namespace {

// A request to etcd may take this long before the next endpoint is tried.
constexpr milliseconds kRequestTimeout{2000};
// Start-up retries an unreachable etcd, or a node_id still held, this often.
constexpr milliseconds kRetryEvery{500};

std::string ClusterValue(const Config::Cluster& c) {
  return json::serialize(json::object{{"shards", c.shards},
                                      {"replication_factor", c.replication_factor},
                                      {"created_at", NowMicros()}});
}

int64_t Field(const json::object& o, std::string_view name) {
  const json::value* v = o.if_contains(name);
  return v != nullptr && v->is_int64() ? v->as_int64() : 0;
}

std::string TextField(const json::object& o, std::string_view name) {
  const json::value* v = o.if_contains(name);
  return v != nullptr && v->is_string() ? std::string(v->as_string()) : std::string();
}

json::object ParseObject(const std::string& text) {
  json::error_code ec;
  json::value v = json::parse(text, ec);
  return !ec && v.is_object() ? std::move(v.as_object()) : json::object();
}

// The cluster's fixed settings: written by the first node, compared by every other.
Status AgreeOnSettings(EtcdClient& etcd, const Config::Cluster& config) {
  const std::string key = config.etcd_prefix + "cluster";
  auto created = etcd.Txn({{key, EtcdCompare::Target::kCreateRevision, 0, {}}},
                          {{EtcdOp::Kind::kPut, key, ClusterValue(config), 0}});
  if (!created.ok()) return created.status();
  if (created->succeeded) {
    spdlog::info("cluster: created in etcd with {} shards, {} replicas each", config.shards,
                 config.replication_factor);
    return Status::Ok();
  }
  auto existing = etcd.Get(key);
  if (!existing.ok()) return existing.status();
  if (!existing->has_value()) return Status(Code::kServiceUnavailable, "etcd lost the cluster's settings");
  const json::object settings = ParseObject((*existing)->value);
  const int64_t shards = Field(settings, "shards");
  const int64_t replicas = Field(settings, "replication_factor");
  if (shards != config.shards || replicas != config.replication_factor) {
    return Status(Code::kInvalidInput,
                  "this cluster was created with shards = " + std::to_string(shards) +
                      " and replication_factor = " + std::to_string(replicas) +
                      "; [cluster] says " + std::to_string(config.shards) + " and " +
                      std::to_string(config.replication_factor) +
                      " (they are fixed when a cluster is created)");
  }
  return Status::Ok();
}

}  // namespace

Membership::Membership(const Config::Cluster& config, std::string address)
    : config_(config),
      address_(std::move(address)),
      raft_address_(address_.substr(0, address_.rfind(':')) + ":" + std::to_string(config.raft_port)),
      started_at_(NowMicros()),
      etcd_(config.etcd_endpoints, kRequestTimeout) {}

Result<std::unique_ptr<Membership>> Membership::Join(const Config::Cluster& config,
                                                     const std::string& address) {
  const auto colon = address.rfind(':');
  if (colon == std::string::npos || address.substr(colon + 1) == "0") {
    return Status(Code::kInvalidInput,
                  "cluster mode needs the address other nodes reach this one at: set "
                  "[cluster] advertise (the HTTP port is 0)");
  }
  std::unique_ptr<Membership> m(new Membership(config, address));
  const auto deadline = steady_clock::now() + std::chrono::seconds(config.join_timeout_secs);
  Status last;
  bool settings_agreed = false;
  bool waiting_logged = false;
  while (true) {
    if (!settings_agreed) {
      last = AgreeOnSettings(m->etcd_, config);
      if (last.code() == Code::kInvalidInput) return last;
      settings_agreed = last.ok();
    }
    if (settings_agreed) {
      auto registered = m->TryRegister(m->etcd_);
      if (registered.ok() && *registered) break;
      last = registered.ok()
                 ? Status(Code::kServiceUnavailable,
                          "node_id '" + config.node_id + "' is in use by a node that is alive")
                 : registered.status();
    }
    if (steady_clock::now() >= deadline) {
      return Status(last.code(), "cannot join the cluster: " + last.message());
    }
    if (!waiting_logged) {
      spdlog::warn("cluster: waiting to join ({}), for up to {} s", last.message(),
                   config.join_timeout_secs);
      waiting_logged = true;
    }
    std::this_thread::sleep_for(kRetryEvery);
  }
  m->Refresh(m->etcd_);
  spdlog::info("cluster: node '{}' joined at {} (etcd {})", config.node_id, address,
               m->etcd_.endpoint());
  const milliseconds every(config.heartbeat_ttl_secs * 1000 / 3);
  m->heartbeat_ = std::make_unique<PeriodicTask>(every, [raw = m.get()] { raw->Heartbeat(); });
  return m;
}

Membership::~Membership() {
  heartbeat_.reset();
  if (lease_ != 0) {
    Status revoked = etcd_.RevokeLease(lease_);
    if (!revoked.ok()) spdlog::warn("cluster: leaving: {}", revoked.message());
  }
}

std::string Membership::AliveValue() const {
  json::array led;
  json::object settled;
  json::array watched;
  {
    std::lock_guard lock(led_mutex_);
    if (led_) {
      const LeaderReport report = led_();
      for (int32_t shard : report.led) led.push_back(shard);
      for (const auto& [shard, replicas] : report.settled) settled[std::to_string(shard)] = replicas;
      for (int32_t shard : report.watched) watched.push_back(shard);
    }
  }
  return json::serialize(json::object{{"address", address_},
                                      {"raft", raft_address_},
                                      {"pid", static_cast<int64_t>(::getpid())},
                                      {"started_at", started_at_},
                                      {"heartbeat_at", NowMicros()},
                                      {"led", std::move(led)},
                                      {"settled", std::move(settled)},
                                      {"watched", std::move(watched)}});
}

void Membership::SetLedShards(std::function<LeaderReport()> led) {
  std::lock_guard lock(led_mutex_);
  led_ = std::move(led);
}

Status Membership::SetDraining(const std::string& node_id, bool draining) {
  {
    std::lock_guard lock(mutex_);
    if (std::none_of(nodes_.begin(), nodes_.end(), [&](const NodeView& v) { return v.node_id == node_id; })) {
      return {Code::kNotFound, "No node '" + node_id + "' has joined the cluster (CLUSTER LIST)"};
    }
  }
  EtcdClient etcd(config_.etcd_endpoints, std::chrono::milliseconds(5000));
  const std::string key = config_.etcd_prefix + "draining/" + node_id;
  const Status written = draining ? etcd.Put(key, std::to_string(NowMicros()), 0).status() : etcd.Delete(key).status();
  if (!written.ok()) return {Code::kServiceUnavailable, "etcd: " + written.message()};
  return Status::Ok();
}

std::optional<std::string> Membership::LeaderOf(int32_t shard) const {
  std::lock_guard lock(mutex_);
  const NodeView* best = nullptr;
  for (const NodeView& v : nodes_) {
    if ((v.state != "alive" && v.state != "draining") || std::find(v.led.begin(), v.led.end(), shard) == v.led.end()) continue;
    if (best == nullptr || v.last_heartbeat > best->last_heartbeat) best = &v;
  }
  if (best == nullptr) return std::nullopt;
  return best->node_id;
}

bool Membership::WatchedElsewhere(int32_t shard) const {
  std::lock_guard lock(mutex_);
  return watched_elsewhere_.contains(shard);
}

Result<bool> Membership::TryRegister(EtcdClient& etcd) {
  if (lease_ == 0) {
    auto lease = etcd.GrantLease(config_.heartbeat_ttl_secs);
    if (!lease.ok()) return lease.status();
    lease_ = lease->id;
  }
  const std::string alive = config_.etcd_prefix + "alive/" + config_.node_id;
  const std::string node = config_.etcd_prefix + "nodes/" + config_.node_id;
  const std::string record = json::serialize(json::object{
      {"node_id", config_.node_id}, {"address", address_}, {"raft", raft_address_}, {"joined_at", started_at_}});
  auto txn = etcd.Txn({{alive, EtcdCompare::Target::kCreateRevision, 0, {}}},
                      {{EtcdOp::Kind::kPut, alive, AliveValue(), lease_},
                       {EtcdOp::Kind::kPut, node, record, 0}});
  if (!txn.ok()) return txn.status();
  return txn->succeeded;
}

void Membership::Heartbeat() {
  const std::string alive = config_.etcd_prefix + "alive/" + config_.node_id;
  Status failed;
  auto ttl = etcd_.KeepAlive(lease_);
  if (ttl.ok() && *ttl == 0) {
    // The lease lapsed (etcd was out of reach longer than the TTL): register again.
    spdlog::warn("cluster: node '{}' lost its lease; registering again", config_.node_id);
    lease_ = 0;
    leader_since_ = 0;  // the placement key lapsed with the lease
    auto registered = TryRegister(etcd_);
    if (!registered.ok()) {
      failed = registered.status();
    } else if (!*registered) {
      failed = Status(Code::kServiceUnavailable,
                      "node_id '" + config_.node_id + "' was taken by another node");
    }
  } else if (ttl.ok()) {
    auto put = etcd_.Put(alive, AliveValue(), lease_);
    if (!put.ok()) failed = put.status();
  } else {
    failed = ttl.status();
  }
  if (!failed.ok()) {
    // Once a minute while etcd stays out of reach (CLUSTER STATUS says why meanwhile).
    if (auto held_back = failures_logged_.Allow()) {
      spdlog::warn("cluster: heartbeat failed: {} ({} more since the last line)", failed.message(), *held_back);
    }
    std::lock_guard lock(mutex_);
    etcd_state_ = failed.message();
    return;
  }
  Refresh(etcd_);
}

void Membership::Refresh(EtcdClient& etcd) {
  auto nodes = etcd.List(config_.etcd_prefix + "nodes/");
  auto alive = nodes.ok() ? etcd.List(config_.etcd_prefix + "alive/") : nodes;
  if (!nodes.ok() || !alive.ok()) {
    std::lock_guard lock(mutex_);
    etcd_state_ = (nodes.ok() ? alive : nodes).status().message();
    return;
  }
  // Each alive node's heartbeat, read once: the placement and the views use it.
  const std::string alive_prefix = config_.etcd_prefix + "alive/";
  std::vector<std::string> alive_ids;
  std::vector<json::object> beats;
  for (const EtcdKv& kv : *alive) {
    alive_ids.push_back(kv.key.substr(alive_prefix.size()));
    beats.push_back(ParseObject(kv.value));
  }
  const std::string draining_prefix = config_.etcd_prefix + "draining/";
  auto draining_keys = etcd.List(draining_prefix);
  if (!draining_keys.ok()) {
    std::lock_guard lock(mutex_);
    etcd_state_ = draining_keys.status().message();
    return;
  }
  std::set<std::string> draining;
  for (const EtcdKv& kv : *draining_keys) draining.insert(kv.key.substr(draining_prefix.size()));
  std::map<int32_t, std::set<std::string>> settled;
  for (const json::object& o : beats) {
    if (const json::value* done = o.if_contains("settled"); done != nullptr && done->is_object()) {
      for (const auto& [shard, replicas] : done->as_object()) {
        if (replicas.is_string()) settled[std::atoi(std::string(shard).c_str())].insert(std::string(replicas.as_string()));
      }
    }
  }
  std::set<std::string> down;
  const std::string nodes_prefix = config_.etcd_prefix + "nodes/";
  for (const EtcdKv& kv : *nodes) down.insert(kv.key.substr(nodes_prefix.size()));
  for (const std::string& id : alive_ids) down.erase(id);
  Place(etcd, alive_ids, draining, settled, down);
  std::lock_guard lock(mutex_);
  etcd_state_ = "ok (" + etcd.endpoint() + ")";
  std::map<std::string, NodeView> views;
  for (const EtcdKv& kv : *nodes) {
    const json::object o = ParseObject(kv.value);
    NodeView v;
    v.node_id = TextField(o, "node_id");
    if (v.node_id.empty()) continue;
    v.address = TextField(o, "address");
    v.raft_address = TextField(o, "raft");
    v.state = "down";
    views[v.node_id] = std::move(v);
  }
  watched_elsewhere_.clear();
  for (size_t i = 0; i < beats.size(); ++i) {
    const std::string& id = alive_ids[i];
    const json::object& o = beats[i];
    if (const json::value* watched = o.if_contains("watched"); watched != nullptr && watched->is_array() &&
                                                               id != config_.node_id) {
      for (const json::value& shard : watched->as_array()) {
        if (shard.is_int64()) watched_elsewhere_.insert(static_cast<int32_t>(shard.as_int64()));
      }
    }
    NodeView& v = views[id];
    v.node_id = id;
    v.state = draining.contains(id) ? "draining" : "alive";
    v.address = TextField(o, "address");
    v.raft_address = TextField(o, "raft");
    v.last_heartbeat = Field(o, "heartbeat_at");
    v.led.clear();
    if (const json::value* led = o.if_contains("led"); led != nullptr && led->is_array()) {
      for (const json::value& shard : led->as_array()) {
        if (shard.is_int64()) v.led.push_back(static_cast<int32_t>(shard.as_int64()));
      }
    }
  }
  for (const auto& [shard, entry] : shards_) {
    for (const std::string& node : entry.replicas) {
      if (auto it = views.find(node); it != views.end()) ++it->second.shards_held;
    }
  }
  nodes_.clear();
  for (auto& [id, v] : views) nodes_.push_back(std::move(v));
  refreshed_at_ = std::chrono::steady_clock::now();
}

namespace {

std::string ShardKey(const std::string& prefix, int32_t shard) {
  char digits[16];
  std::snprintf(digits, sizeof(digits), "%04d", shard);
  return prefix + "shards/" + digits;
}

}  // namespace

std::set<std::string> Membership::LostNodes(const std::set<std::string>& down) {
  if (leader_since_ == 0) {
    down_since_.clear();
    lost_.clear();
    return {};
  }
  const auto now = steady_clock::now();
  std::map<std::string, steady_clock::time_point> since;
  for (const std::string& id : down) {
    auto seen = down_since_.find(id);
    since[id] = seen != down_since_.end() ? seen->second : now;
  }
  down_since_ = std::move(since);
  std::set<std::string> lost;
  for (const auto& [id, at] : down_since_) {
    if (config_.down_node_timeout_secs > 0 && now - at >= std::chrono::seconds(config_.down_node_timeout_secs)) {
      lost.insert(id);
      if (!lost_.contains(id)) {
        spdlog::warn("cluster: node '{}' has been down for {} s: its replicas move to the alive nodes", id,
                     config_.down_node_timeout_secs);
      }
    }
  }
  lost_ = lost;
  return lost;
}

void Membership::Place(EtcdClient& etcd, const std::vector<std::string>& alive, const std::set<std::string>& draining,
                       const std::map<int32_t, std::set<std::string>>& settled, const std::set<std::string>& down) {
  const std::string leader_key = config_.etcd_prefix + "placement/leader";
  if (leader_since_ == 0) {
    auto taken = etcd.Txn({{leader_key, EtcdCompare::Target::kCreateRevision, 0, {}}},
                          {{EtcdOp::Kind::kPut, leader_key, config_.node_id, lease_}});
    if (taken.ok() && taken->succeeded) {
      leader_since_ = taken->revision;
      spdlog::info("cluster: node '{}' places the shards", config_.node_id);
    }
  }
  auto listed = etcd.List(config_.etcd_prefix + "shards/");
  if (!listed.ok()) return;
  std::map<int32_t, ShardEntry> entries;
  ShardMap current;
  const size_t digits_at = config_.etcd_prefix.size() + 7;  // past "shards/"
  for (const EtcdKv& kv : *listed) {
    if (kv.key.size() <= digits_at) continue;
    const auto shard = static_cast<int32_t>(std::atoi(kv.key.c_str() + digits_at));
    entries[shard] = ReadShardValue(kv.value);
    current[shard] = entries[shard].replicas;
  }
  const std::set<std::string> lost = LostNodes(down);
  if (leader_since_ != 0) {
    ShardMap changes = PlaceReplicas(current, alive, static_cast<int32_t>(config_.shards),
                                     static_cast<int32_t>(config_.replication_factor));
    // Once every shard has its replicas: one replica moves at a time, off a draining node
    // or onto the node holding the fewest (each move's Raft leader adds the new replica
    // before it removes the old one).
    // A move waits until every shard's leader reports the members the map lists (the move
    // before is done: no group ever loses two voters to moves at once).
    // A shard listing a lost node is excused: a move onto a node that died mid-way never
    // settles, and its replica there is the next to move.
    auto all_settled = [&] {
      for (const auto& [shard, replicas] : current) {
        if (std::any_of(replicas.begin(), replicas.end(), [&](const std::string& node) { return lost.contains(node); })) {
          continue;
        }
        std::vector<std::string> sorted = replicas;
        std::sort(sorted.begin(), sorted.end());
        std::string listed;
        for (const std::string& node : sorted) listed += (listed.empty() ? "" : ",") + node;
        auto reported = settled.find(shard);
        if (reported == settled.end() || !reported->second.contains(listed)) return false;
      }
      return true;
    };
    // A node down too long (lost) gives its replicas away as a drained one does.
    std::set<std::string> moving_off = draining;
    moving_off.insert(lost.begin(), lost.end());
    if (changes.empty() && static_cast<int64_t>(current.size()) == config_.shards && all_settled()) {
      if (auto move = MoveReplica(current, alive, moving_off)) {
        spdlog::info("cluster: shard {} moves to replicas {}", move->first, ShardValue({move->second, {}}));
        changes[move->first] = std::move(move->second);
      }
    }
    // Written only while this node still holds the key it took (fencing), in batches
    // within etcd's limit of operations per transaction.
    std::vector<EtcdOp> ops;
    auto write = [&] {
      auto written = etcd.Txn({{leader_key, EtcdCompare::Target::kCreateRevision, leader_since_, {}}}, ops);
      ops.clear();
      if (!written.ok() || !written->succeeded) {
        spdlog::warn("cluster: node '{}' no longer places the shards", config_.node_id);
        leader_since_ = 0;
        return false;
      }
      return true;
    };
    std::map<int32_t, ShardEntry> changed;
    for (const auto& [shard, replicas] : changes) {
      auto known = entries.find(shard);
      // A new shard's replicas found its Raft group; later ones join it.
      changed[shard] = {replicas, known != entries.end() ? known->second.initial : replicas};
      ops.push_back({EtcdOp::Kind::kPut, ShardKey(config_.etcd_prefix, shard), ShardValue(changed[shard]), 0});
      if (ops.size() == 100 && !write()) return;
    }
    if (!ops.empty() && !write()) return;
    for (auto& [shard, entry] : changed) entries[shard] = std::move(entry);
  }
  std::lock_guard lock(mutex_);
  shards_ = std::move(entries);
}

std::vector<ShardView> Membership::Shards() const {
  std::lock_guard lock(mutex_);
  std::vector<ShardView> out;
  for (const auto& [shard, entry] : shards_) out.push_back({shard, entry.replicas, entry.initial});
  return out;
}

std::vector<NodeView> Membership::Nodes() const {
  std::lock_guard lock(mutex_);
  std::vector<NodeView> nodes = nodes_;
  // Not read from etcd for longer than a lease lasts: what others do now is not known.
  // This node answers, so it is alive.
  if (steady_clock::now() - refreshed_at_ > std::chrono::seconds(config_.heartbeat_ttl_secs)) {
    for (NodeView& n : nodes) n.state = n.node_id == config_.node_id ? "alive" : "unknown";
  }
  return nodes;
}

StatusView Membership::Summary() const {
  std::lock_guard lock(mutex_);
  return {config_.node_id, etcd_state_, config_.shards, config_.replication_factor};
}

}  // namespace kalam::cluster
