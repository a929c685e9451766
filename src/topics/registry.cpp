#include "topics/registry.h"

#include <boost/json.hpp>

#include "common/clock.h"
#include "common/text.h"
#include <spdlog/spdlog.h>

#include "catalog/catalog.h"
#include "store/kv_store.h"

namespace kalam::topics {
namespace json = boost::json;
namespace {

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

const TopicDef* TopicState::FindNum(uint64_t topic_num) const {
  for (const auto& [id, topic] : topics) {
    if (topic.topic_num == topic_num) return &topic;
  }
  return nullptr;
}

namespace {

// The topics the records hold, and the number the next new one takes (never one used).
Result<std::pair<std::shared_ptr<TopicState>, uint64_t>> DecodeRecords(const catalog::Catalog::Records& records) {
  auto state = std::make_shared<TopicState>();
  uint64_t next = 1;
  for (auto it = records.lower_bound(std::string(kTopicPrefix));
       it != records.end() && it->first.starts_with(kTopicPrefix); ++it) {
    auto def = Decode(it->second);
    if (!def.ok()) return def.status();
    next = std::max(next, def->topic_num + 1);
    state->topics.emplace(def->id(), std::move(def).value());
  }
  if (auto counter = records.find(std::string(kNextTopicNumKey)); counter != records.end()) {
    try {
      next = std::max<uint64_t>(next, std::stoull(counter->second));
    } catch (const std::exception&) {
      return Status(Code::kInternalError, "The topic counter record is damaged");
    }
  }
  state->next_topic_num = next;
  return std::make_pair(std::move(state), next);
}

}  // namespace

std::shared_ptr<const TopicState> TopicRegistry::snapshot() const {
  const std::shared_ptr<const catalog::CatalogState> catalog = catalog_.snapshot();
  std::lock_guard lock(snapshot_mutex_);
  if (state_ != nullptr && decoded_from_ == catalog->records) return state_;
  auto decoded = DecodeRecords(*catalog->records);
  if (!decoded.ok()) {
    // Only this node's own damaged store could hold one: the last good view stays.
    spdlog::error("topics: {}", decoded.status().message());
    if (state_ == nullptr) state_ = std::make_shared<TopicState>();
    return state_;
  }
  decoded->first->generation = ++generation_;
  decoded_from_ = catalog->records;
  state_ = std::move(decoded->first);
  return state_;
}

Status TopicRegistry::Change(const std::string& id,
                             const std::function<Result<bool>(const TopicState& state, uint64_t next_topic_num,
                                                              std::optional<TopicDef>& def)>& edit) {
  return catalog_.ChangeRecords([&](const catalog::Catalog::Records& records, store::WriteSet& changes) -> Status {
    auto decoded = DecodeRecords(records);
    if (!decoded.ok()) return decoded.status();
    const TopicState& state = *decoded->first;
    std::optional<TopicDef> def;
    if (const TopicDef* existing = state.Find(id)) def = *existing;
    const bool existed = def.has_value();
    auto changed = edit(state, decoded->second, def);
    if (!changed.ok()) return changed.status();
    if (!*changed) return Status::Ok();
    const std::string key = std::string(kTopicPrefix) + id;
    if (def) {
      changes.Put(store::Family::kMeta, key, Encode(*def));
      if (!existed) {
        changes.Put(store::Family::kMeta, std::string(kNextTopicNumKey), std::to_string(def->topic_num + 1));
      }
    } else if (existed) {
      changes.Delete(store::Family::kMeta, key);
    }
    return Status::Ok();
  });
}

Result<TopicDef> TopicRegistry::Create(const std::string& ns, const std::string& name,
                                       int32_t partitions, bool if_not_exists) {
  if (partitions < 1 || partitions > kMaxPartitions) {
    return Status(Code::kInvalidInput, "A topic has 1 to " + std::to_string(kMaxPartitions) +
                                           " partitions, not " + std::to_string(partitions));
  }
  TopicDef made;
  const std::string id = ns + "." + name;
  KALAM_RETURN_IF_ERROR(Change(id, [&](const TopicState&, uint64_t next_topic_num,
                                        std::optional<TopicDef>& def) -> Result<bool> {
    if (def) {
      if (!if_not_exists) return Status(Code::kAlreadyExists, "Topic '" + id + "' already exists");
      made = *def;
      return false;
    }
    def.emplace();
    def->topic_num = next_topic_num;
    def->ns = ns;
    def->name = name;
    def->partitions = partitions;
    def->created_at = NowMicros();
    made = *def;
    return true;
  }));
  return made;
}

Result<TopicDef> TopicRegistry::Drop(const std::string& id) {
  TopicDef dropped;
  KALAM_RETURN_IF_ERROR(Change(id, [&](const TopicState&, uint64_t, std::optional<TopicDef>& def) -> Result<bool> {
    if (!def) return Status(Code::kNotFound, "Topic '" + id + "' does not exist");
    dropped = std::move(*def);
    def.reset();
    return true;
  }));
  return dropped;
}

Status TopicRegistry::AddSource(const std::string& id, TopicSource source) {
  return Change(id, [&](const TopicState&, uint64_t, std::optional<TopicDef>& def) -> Result<bool> {
    if (!def) return Status(Code::kNotFound, "Topic '" + id + "' does not exist");
    for (const auto& s : def->sources) {
      if (s.table_id == source.table_id && s.op == source.op) {
        return Status(Code::kAlreadyExists, "Topic '" + id + "' already has a source on " +
                                                TableName(source.table_id) + " ON " +
                                                Upper(OpName(source.op)) + ": drop it first");
      }
    }
    def->sources.push_back(source);
    return true;
  });
}

Status TopicRegistry::DropSource(const std::string& id, const std::string& table_id, Op op) {
  return Change(id, [&](const TopicState&, uint64_t, std::optional<TopicDef>& def) -> Result<bool> {
    if (!def) return Status(Code::kNotFound, "Topic '" + id + "' does not exist");
    const auto erased = std::erase_if(def->sources, [&](const TopicSource& s) {
      return s.table_id == table_id && s.op == op;
    });
    if (erased == 0) {
      return Status(Code::kNotFound, "Topic '" + id + "' has no source on " + TableName(table_id) + " ON " +
                                         Upper(OpName(op)));
    }
    return true;
  });
}

}  // namespace kalam::topics
