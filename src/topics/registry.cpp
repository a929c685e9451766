#include "topics/registry.h"

#include <boost/json.hpp>

#include "common/clock.h"
#include "common/text.h"
#include "store/kv_store.h"

namespace kalam::topics {
namespace json = boost::json;
namespace {

using store::Family;

constexpr std::string_view kTopicPrefix = "topic/";
constexpr std::string_view kNextTopicNumKey = "counter/next_topic_num";

std::string Encode(const TopicDef& t) {
  json::array sources;
  for (const auto& s : t.sources) {
    sources.push_back(json::object{{"table_id", s.table_id},
                                   {"op", std::string(OpName(s.op))},
                                   {"where", s.where_sql},
                                   {"payload", std::string(PayloadName(s.payload))}});
  }
  return json::serialize(json::object{{"topic_num", t.topic_num},
                                      {"ns", t.ns},
                                      {"name", t.name},
                                      {"partitions", t.partitions},
                                      {"sources", std::move(sources)},
                                      {"created_at", t.created_at}});
}

Result<TopicDef> Decode(std::string_view text) {
  try {
    const json::object o = json::parse(text).as_object();
    TopicDef t;
    t.topic_num = o.at("topic_num").to_number<uint64_t>();
    t.ns = json::value_to<std::string>(o.at("ns"));
    t.name = json::value_to<std::string>(o.at("name"));
    t.partitions = o.at("partitions").to_number<int32_t>();
    t.created_at = o.at("created_at").to_number<int64_t>();
    for (const auto& v : o.at("sources").as_array()) {
      const json::object& s = v.as_object();
      auto op = OpFromName(json::value_to<std::string>(s.at("op")));
      auto payload = PayloadFromName(json::value_to<std::string>(s.at("payload")));
      if (!op || !payload) return Status(Code::kInternalError, "A topic record is damaged");
      t.sources.push_back({json::value_to<std::string>(s.at("table_id")), *op,
                           json::value_to<std::string>(s.at("where")), *payload});
    }
    return t;
  } catch (const std::exception&) {
    return Status(Code::kInternalError, "A topic record is damaged");
  }
}

}  // namespace

std::string TableName(std::string_view table_id) {
  std::string name(table_id);
  if (auto colon = name.find(':'); colon != std::string::npos) name[colon] = '.';
  return name;
}

std::string_view OpName(Op op) {
  switch (op) {
    case Op::kInsert: return "insert";
    case Op::kUpdate: return "update";
    case Op::kDelete: return "delete";
  }
  return "insert";
}

std::string_view PayloadName(Payload payload) {
  switch (payload) {
    case Payload::kKey: return "key";
    case Payload::kFull: return "full";
    case Payload::kDiff: return "diff";
  }
  return "full";
}

std::optional<Op> OpFromName(std::string_view name) {
  const std::string lower = Lower(name);
  for (Op op : {Op::kInsert, Op::kUpdate, Op::kDelete}) {
    if (OpName(op) == lower) return op;
  }
  return std::nullopt;
}

std::optional<Payload> PayloadFromName(std::string_view name) {
  const std::string lower = Lower(name);
  for (Payload p : {Payload::kKey, Payload::kFull, Payload::kDiff}) {
    if (PayloadName(p) == lower) return p;
  }
  return std::nullopt;
}

const TopicDef* TopicState::Find(std::string_view id) const {
  auto it = topics.find(std::string(id));
  return it == topics.end() ? nullptr : &it->second;
}

Result<std::unique_ptr<TopicRegistry>> TopicRegistry::Open(store::KvStore& store) {
  std::unique_ptr<TopicRegistry> registry(new TopicRegistry(store));
  auto state = std::make_shared<TopicState>();
  Status damaged = Status::Ok();
  Status scanned = store.Scan(Family::kMeta, kTopicPrefix, [&](std::string_view, std::string_view value) {
    auto def = Decode(value);
    if (!def.ok()) {
      damaged = def.status();
      return false;
    }
    registry->next_topic_num_ = std::max(registry->next_topic_num_, def->topic_num + 1);
    state->topics.emplace(def->id(), std::move(def).value());
    return true;
  });
  KALAM_RETURN_IF_ERROR(scanned);
  KALAM_RETURN_IF_ERROR(damaged);
  auto counter = store.Get(Family::kMeta, kNextTopicNumKey);
  if (!counter.ok()) return counter.status();
  if (counter->has_value()) {
    registry->next_topic_num_ = std::max<uint64_t>(registry->next_topic_num_, std::stoull(**counter));
  }
  registry->state_ = std::move(state);
  return registry;
}

std::shared_ptr<const TopicState> TopicRegistry::snapshot() const {
  std::lock_guard lock(snapshot_mutex_);
  return state_;
}

Status TopicRegistry::Save(const std::string& id, const std::optional<TopicDef>& def,
                           std::shared_ptr<TopicState> next) {
  store::WriteSet changes;
  if (def) {
    changes.Put(Family::kMeta, std::string(kTopicPrefix) + id, Encode(*def));
  } else {
    changes.Delete(Family::kMeta, std::string(kTopicPrefix) + id);
  }
  changes.Put(Family::kMeta, std::string(kNextTopicNumKey), std::to_string(next_topic_num_));
  KALAM_RETURN_IF_ERROR(store_.Write(changes));
  ++next->generation;
  std::lock_guard lock(snapshot_mutex_);
  state_ = std::move(next);
  return Status::Ok();
}

Result<TopicDef> TopicRegistry::Create(const std::string& ns, const std::string& name,
                                       int32_t partitions, bool if_not_exists) {
  if (partitions < 1 || partitions > kMaxPartitions) {
    return Status(Code::kInvalidInput, "A topic has 1 to " + std::to_string(kMaxPartitions) +
                                           " partitions, not " + std::to_string(partitions));
  }
  std::lock_guard writer(writer_);
  auto next = std::make_shared<TopicState>(*snapshot());
  TopicDef def;
  def.ns = ns;
  def.name = name;
  if (const TopicDef* existing = next->Find(def.id())) {
    if (if_not_exists) return *existing;
    return Status(Code::kAlreadyExists, "Topic '" + def.id() + "' already exists");
  }
  def.topic_num = next_topic_num_++;
  def.partitions = partitions;
  def.created_at = NowMicros();
  next->topics.emplace(def.id(), def);
  KALAM_RETURN_IF_ERROR(Save(def.id(), def, std::move(next)));
  return def;
}

Result<TopicDef> TopicRegistry::Drop(const std::string& id) {
  std::lock_guard writer(writer_);
  auto next = std::make_shared<TopicState>(*snapshot());
  auto it = next->topics.find(id);
  if (it == next->topics.end()) return Status(Code::kNotFound, "Topic '" + id + "' does not exist");
  TopicDef dropped = std::move(it->second);
  next->topics.erase(it);
  KALAM_RETURN_IF_ERROR(Save(id, std::nullopt, std::move(next)));
  return dropped;
}

Status TopicRegistry::AddSource(const std::string& id, TopicSource source) {
  std::lock_guard writer(writer_);
  auto next = std::make_shared<TopicState>(*snapshot());
  auto it = next->topics.find(id);
  if (it == next->topics.end()) return Status(Code::kNotFound, "Topic '" + id + "' does not exist");
  for (const auto& s : it->second.sources) {
    if (s.table_id == source.table_id && s.op == source.op) {
      return Status(Code::kAlreadyExists, "Topic '" + id + "' already has a source on " +
                                              TableName(source.table_id) + " ON " +
                                              Upper(OpName(source.op)) + ": drop it first");
    }
  }
  it->second.sources.push_back(std::move(source));
  const TopicDef def = it->second;
  return Save(id, def, std::move(next));
}

Status TopicRegistry::DropSource(const std::string& id, const std::string& table_id, Op op) {
  std::lock_guard writer(writer_);
  auto next = std::make_shared<TopicState>(*snapshot());
  auto it = next->topics.find(id);
  if (it == next->topics.end()) return Status(Code::kNotFound, "Topic '" + id + "' does not exist");
  auto& sources = it->second.sources;
  const auto erased = std::erase_if(sources, [&](const TopicSource& s) {
    return s.table_id == table_id && s.op == op;
  });
  if (erased == 0) {
    return Status(Code::kNotFound, "Topic '" + id + "' has no source on " + TableName(table_id) + " ON " +
                                       Upper(OpName(op)));
  }
  const TopicDef def = it->second;
  return Save(id, def, std::move(next));
}

}  // namespace kalam::topics
