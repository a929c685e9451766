#include "topics/topics.h"

#include <chrono>
#include <set>

#include "catalog/catalog.h"
#include "common/clock.h"
#include "common/json_text.h"
#include "common/text.h"
#include "live/predicate.h"
#include "store/committer.h"
#include "topics/keys.h"

namespace kalam::topics {
namespace {

int64_t NowMillis() { return NowMicros() / 1000; }

}  // namespace

Result<std::unique_ptr<Topics>> Topics::Open(store::KvStore& store, store::Committer& committer,
                                             catalog::Catalog& catalog, const Config::Topics& config) {
  std::unique_ptr<Topics> topics(
      new Topics(store, committer, catalog, std::make_unique<TopicRegistry>(catalog), config));
  KALAM_RETURN_IF_ERROR(topics->log_.Open(*topics->registry_->snapshot()));
  KALAM_RETURN_IF_ERROR(topics->groups_.Open());
  return topics;
}

Topics::~Topics() { LeaveCluster(); }

void Topics::JoinCluster(ClusterHooks hooks) {
  cluster_ = std::move(hooks);
  log_.NeverReuseOffsets();
  TopicOutbox::Hooks outbox;
  outbox.shards = cluster_->shards;
  // Without waiting (a lease being renewed would hold up every shard's round): a node
  // that no longer leads finds its deletes refused by their fence, and the topic skips
  // what the next leader delivers again.
  outbox.leads = [this](int32_t shard) { return cluster_->led_since(shard) != 0; };
  outbox.deliver = [this](uint64_t topic_num, int32_t source_shard, const std::vector<OutboxRecord>& records) {
    const Status here = Append(topic_num, source_shard, records);
    if (here.code() != Code::kServiceUnavailable) return here;
    return cluster_->send_on(here, topic_num, source_shard, records);
  };
  outbox_ = std::make_unique<TopicOutbox>(store_, committer_, std::move(outbox));
  router_.SetOutbox(cluster_->shard_of_rows, outbox_.get());
}

void Topics::LeaveCluster() {
  if (outbox_ == nullptr) return;
  router_.SetOutbox(cluster_->shard_of_rows, nullptr);
  outbox_.reset();
}

void Topics::AwaitDelivered() {
  if (outbox_ != nullptr) outbox_->AwaitDelivered(std::chrono::seconds(5));
}

bool Topics::Sourced(const std::string& table_id) const {
  auto state = registry_->snapshot();
  for (const auto& [id, topic] : state->topics) {
    for (const TopicSource& source : topic.sources) {
      if (source.table_id == table_id) return true;
    }
  }
  return false;
}

Status Topics::Lead(const TopicDef& topic) {
  if (!cluster_) return Status::Ok();
  const int32_t shard = ShardOfTopic(topic.topic_num, cluster_->shards);
  KALAM_RETURN_IF_ERROR(cluster_->lead(shard));
  const uint64_t since = cluster_->led_since(shard);
  std::lock_guard lock(sync_mutex_);
  auto it = synced_.find(topic.topic_num);
  if (it != synced_.end() && it->second == since && since != 0) return Status::Ok();
  // Led here since `since`: the store holds every earlier leader's writes of the topic.
  KALAM_RETURN_IF_ERROR(log_.Reload(topic.topic_num, topic.partitions));
  KALAM_RETURN_IF_ERROR(groups_.Reload(topic.topic_num));
  synced_[topic.topic_num] = since;
  return Status::Ok();
}

Result<std::vector<TopicLog::Bounds>> Topics::ReplicaBounds(const TopicDef& topic) const {
  std::vector<TopicLog::Bounds> bounds;
  KALAM_RETURN_IF_ERROR(cluster_->catch_up(ShardOfTopic(topic.topic_num, cluster_->shards)));
  for (int32_t p = 0; p < topic.partitions; ++p) {
    auto stored = log_.StoredBounds(topic.topic_num, p);
    if (!stored.ok()) return stored.status();
    bounds.push_back(*stored);
  }
  return bounds;
}

Status Topics::Append(uint64_t topic_num, int32_t source_shard, const std::vector<OutboxRecord>& records) {
  auto state = registry_->snapshot();
  const TopicDef* topic = state->FindNum(topic_num);
  if (topic == nullptr && topic_num >= state->next_topic_num) {
    // Made on another node a moment ago: this node's catalog may not have it yet.
    KALAM_RETURN_IF_ERROR(catalog_.Refresh());
    state = registry_->snapshot();
    topic = state->FindNum(topic_num);
  }
  if (topic == nullptr) return Status(Code::kNotFound, std::string(kTopicGone) + std::to_string(topic_num) + " does not exist");
  // Led here first (a new leader's barrier moves the epoch), then the fence, then what is
  // read: taken in again if leadership moved in between.
  KALAM_RETURN_IF_ERROR(Lead(*topic));
  const uint64_t fence = committer_.Fence();
  KALAM_RETURN_IF_ERROR(Lead(*topic));
  const std::string mark_key = DeliveryMarkKey(topic_num, source_shard);
  return committer_.Commit(
      [&](store::CommitContext& commit) -> Status {
        auto mark = commit.Get(store::Family::kTopics, mark_key);
        if (!mark.ok()) return mark.status();
        int64_t last = 0;
        if (mark->has_value() && (*mark)->size() == 8) last = static_cast<int64_t>(ReadBigEndian(**mark, 0, 8));
        const int64_t before = last;
        for (const OutboxRecord& r : records) {
          if (r.message.partition < 0 || r.message.partition >= topic->partitions) {
            return Status(Code::kInvalidInput, "A delivered record names partition " +
                                                   std::to_string(r.message.partition) + " of topic '" + topic->id() + "'");
          }
        }
        for (const OutboxRecord& r : records) {
          if (r.seq <= last) continue;  // appended before
          Message m = r.message;
          m.offset = log_.Assign(topic_num, m.partition);
          commit.PutUnread(store::Family::kTopics, MessageKey(topic_num, m.partition, m.offset), EncodeMessage(m));
          last = r.seq;
        }
        if (last == before) return Status::Ok();
        for (const auto& [key, next] : log_.PendingNext()) {
          commit.PutUnread(store::Family::kTopics, TopicLog::NextOffsetKey(key.first, key.second),
                           TopicLog::OffsetValue(next));
        }
        // Read back by a later delivery in the same group.
        commit.Put(store::Family::kTopics, mark_key, TopicLog::OffsetValue(last));
        return Status::Ok();
      },
      fence);
}

Result<const TopicDef*> Topics::Find(const TopicState& state, const std::string& topic_id) const {
  const TopicDef* topic = state.Find(topic_id);
  if (topic == nullptr) return Status(Code::kNotFound, "Topic '" + topic_id + "' does not exist");
  return topic;
}

Status Topics::CheckPartition(const TopicDef& topic, int32_t partition) const {
  if (partition < 0 || partition >= topic.partitions) {
    return Status(Code::kInvalidInput, "Topic '" + topic.id() + "' has partitions 0 to " +
                                           std::to_string(topic.partitions - 1) + ", not " +
                                           std::to_string(partition));
  }
  return Status::Ok();
}

Result<TopicDef> Topics::Create(const std::string& ns, const std::string& name, int32_t partitions,
                                bool if_not_exists) {
  return registry_->Create(ns, name, partitions, if_not_exists);
}

Status Topics::Drop(const std::string& topic_id) {
  auto dropped = registry_->Drop(topic_id);
  if (!dropped.ok()) return dropped.status();
  // Cluster mode: its keys go now if this node leads its shard, else when its leader next
  // enforces retention (SweepDropped).
  if (cluster_ && !cluster_->lead(ShardOfTopic(dropped->topic_num, cluster_->shards)).ok()) return Status::Ok();
  // Later groups route nothing to it; the range delete lands after any group that did.
  const auto messages = TopicLog::TopicRange(dropped->topic_num);
  const auto groups = ConsumerGroups::TopicRange(dropped->topic_num);
  const auto marks = DeliveryMarkRange(dropped->topic_num);
  Status removed = committer_.Commit([&](store::CommitContext& commit) {
    commit.DeleteRange(store::Family::kTopics, messages.first, messages.second);
    commit.DeleteRange(store::Family::kTopics, groups.first, groups.second);
    commit.DeleteRange(store::Family::kTopics, marks.first, marks.second);
    for (int32_t p = 0; p < dropped->partitions; ++p) {
      commit.DeleteUnread(store::Family::kTopics, TopicLog::NextOffsetKey(dropped->topic_num, p));
    }
    return Status::Ok();
  });
  log_.Forget(dropped->topic_num);
  groups_.Forget(dropped->topic_num);
  return removed;
}

Status Topics::Trim(uint64_t topic_num, int32_t partition, int64_t below) {
  const auto range = TopicLog::PartitionRange(topic_num, partition, below);
  KALAM_RETURN_IF_ERROR(committer_.Commit([&](store::CommitContext& commit) {
    commit.DeleteRange(store::Family::kTopics, range.first, range.second);
    return Status::Ok();
  }));
  log_.Trimmed(topic_num, partition, below);
  return Status::Ok();
}

Result<int64_t> Topics::Clear(const std::string& topic_id) {
  auto state = registry_->snapshot();
  auto topic = Find(*state, topic_id);
  if (!topic.ok()) return topic.status();
  KALAM_RETURN_IF_ERROR(Lead(**topic));
  int64_t removed = 0;
  for (int32_t p = 0; p < (*topic)->partitions; ++p) {
    const TopicLog::Bounds bounds = log_.BoundsOf((*topic)->topic_num, p);
    if (bounds.next <= bounds.earliest) continue;
    KALAM_RETURN_IF_ERROR(Trim((*topic)->topic_num, p, bounds.next));
    removed += bounds.next - bounds.earliest;
  }
  return removed;
}

Status Topics::AddSource(const std::string& topic_id, const catalog::TableDef& table, TopicSource source) {
  if (!source.where_sql.empty()) {
    auto compiled = live::CompileRowFilter(source.where_sql, table, table.current().version);
    if (!compiled.ok()) return compiled.status();
  }
  source.table_id = table.id();
  return registry_->AddSource(topic_id, std::move(source));
}

Status Topics::DropSource(const std::string& topic_id, const std::string& table_id, Op op) {
  return registry_->DropSource(topic_id, table_id, op);
}

Result<Batch> Topics::Consume(const ConsumeRequest& request) {
  auto state = registry_->snapshot();
  auto found = Find(*state, request.topic_id);
  if (!found.ok()) return found.status();
  const TopicDef& topic = **found;
  if (request.group) KALAM_RETURN_IF_ERROR(ConsumerGroups::CheckName(*request.group));
  if (request.start.kind == StartAt::Kind::kOffset && request.start.offset < 0) {
    return Status(Code::kInvalidInput, "The offset to start from must not be negative");
  }
  if (request.partition) KALAM_RETURN_IF_ERROR(CheckPartition(topic, *request.partition));
  KALAM_RETURN_IF_ERROR(Lead(topic));
  Batch batch;
  batch.topic_num = topic.topic_num;
  batch.version = log_.Version(topic.topic_num);  // before reading: an append after it wakes a waiter
  if (request.group && !groups_.HasGroup(topic.topic_num, *request.group)) {
    KALAM_RETURN_IF_ERROR(groups_.Begin(topic.topic_num, *request.group, topic.partitions, request.start));
  }
  const int32_t first = request.partition.value_or(0);
  const int32_t last = request.partition.value_or(topic.partitions - 1);
  const int64_t now_ms = NowMillis();
  for (int32_t p = first; p <= last; ++p) {
    const TopicLog::Bounds bounds = log_.BoundsOf(topic.topic_num, p);
    const size_t room = request.limit - batch.messages.size();
    if (room == 0) {
      batch.has_more = batch.has_more || bounds.next > bounds.earliest;
      break;
    }
    Result<std::vector<Message>> messages = std::vector<Message>();
    if (request.group) {
      messages = groups_.Consume(topic.topic_num, *request.group, p, request.start, room, now_ms);
    } else {
      int64_t from = bounds.next;
      if (request.start.kind == StartAt::Kind::kEarliest) from = bounds.earliest;
      if (request.start.kind == StartAt::Kind::kOffset) from = std::min(request.start.offset, bounds.next);
      batch.next_offset = std::max(from, bounds.earliest);
      messages = log_.Read(topic.topic_num, p, from, room);
    }
    if (!messages.ok()) return messages.status();
    if (request.group) {
      batch.next_offset = groups_.NextOf(topic.topic_num, *request.group, p);
      if (auto lapse = groups_.NextLapse(topic.topic_num, *request.group, p)) {
        batch.lapse_ms = batch.lapse_ms ? std::min(*batch.lapse_ms, *lapse) : *lapse;
      }
    }
    if (!messages->empty()) {
      batch.next_offset = messages->back().offset + 1;
      batch.has_more = batch.has_more || batch.next_offset < bounds.next;
    }
    for (auto& m : *messages) batch.messages.push_back(std::move(m));
  }
  return batch;
}

Result<int64_t> Topics::Ack(const std::string& topic_id, const std::string& group, int32_t partition,
                            int64_t upto) {
  auto state = registry_->snapshot();
  auto topic = Find(*state, topic_id);
  if (!topic.ok()) return topic.status();
  KALAM_RETURN_IF_ERROR(ConsumerGroups::CheckName(group));
  KALAM_RETURN_IF_ERROR(CheckPartition(**topic, partition));
  KALAM_RETURN_IF_ERROR(Lead(**topic));
  return groups_.Ack((*topic)->topic_num, group, partition, upto);
}

Status Topics::Reset(const std::string& topic_id, const std::string& group, std::optional<int32_t> partition,
                     StartAt to) {
  auto state = registry_->snapshot();
  auto topic = Find(*state, topic_id);
  if (!topic.ok()) return topic.status();
  KALAM_RETURN_IF_ERROR(ConsumerGroups::CheckName(group));
  if (partition) KALAM_RETURN_IF_ERROR(CheckPartition(**topic, *partition));
  if (to.kind == StartAt::Kind::kOffset && to.offset < 0) {
    return Status(Code::kInvalidInput, "The offset to reset to must not be negative");
  }
  KALAM_RETURN_IF_ERROR(Lead(**topic));
  // A group that does not exist yet begins on every partition, as at its first read.
  if (!groups_.HasGroup((*topic)->topic_num, group)) {
    KALAM_RETURN_IF_ERROR(groups_.Begin((*topic)->topic_num, group, (*topic)->partitions, to));
  }
  const int32_t first = partition.value_or(0);
  const int32_t last = partition.value_or((*topic)->partitions - 1);
  for (int32_t p = first; p <= last; ++p) {
    const TopicLog::Bounds bounds = log_.BoundsOf((*topic)->topic_num, p);
    int64_t next = bounds.next;
    if (to.kind == StartAt::Kind::kEarliest) next = bounds.earliest;
    if (to.kind == StartAt::Kind::kOffset) next = std::min(to.offset, bounds.next);
    KALAM_RETURN_IF_ERROR(groups_.Reset((*topic)->topic_num, group, p, next));
  }
  return Status::Ok();
}

std::vector<query::TopicRow> Topics::TopicRows() const {
  std::vector<query::TopicRow> rows;
  auto state = registry_->snapshot();
  for (const auto& [id, topic] : state->topics) {
    query::TopicRow row;
    row.topic_id = id;
    row.partitions = topic.partitions;
    row.created_at = topic.created_at;
    row.sources_json = "[";
    for (size_t i = 0; i < topic.sources.size(); ++i) {
      const auto& s = topic.sources[i];
      if (i > 0) row.sources_json += ",";
      row.sources_json += "{\"table\":" + JsonString(TableName(s.table_id)) + ",\"op\":" + JsonString(Upper(OpName(s.op))) +
                          ",\"where\":" + (s.where_sql.empty() ? std::string("null") : JsonString(s.where_sql)) +
                          ",\"payload\":" + JsonString(PayloadName(s.payload)) + "}";
    }
    row.sources_json += "]";
    std::vector<TopicLog::Bounds> bounds;
    if (cluster_) {
      // As this node's replica holds it, caught up (its count stays out when that fails).
      auto held = ReplicaBounds(topic);
      if (held.ok()) bounds = std::move(held).value();
    } else {
      for (int32_t p = 0; p < topic.partitions; ++p) bounds.push_back(log_.BoundsOf(topic.topic_num, p));
    }
    for (const TopicLog::Bounds& b : bounds) row.message_count += b.next - b.earliest;
    rows.push_back(std::move(row));
  }
  return rows;
}

std::vector<query::TopicOffsetRow> Topics::OffsetRows() const {
  auto state = registry_->snapshot();
  std::map<uint64_t, std::string> ids;
  for (const auto& [id, topic] : state->topics) ids[topic.topic_num] = id;
  std::vector<query::TopicOffsetRow> rows;
  std::vector<GroupOffsetRow> groups;
  if (cluster_) {
    // The leader's own view (with reservations) of the topics led here and taken in; a
    // caught-up replica's committed offsets of the others.
    const std::vector<GroupOffsetRow> held = groups_.Rows();
    for (const auto& [id, topic] : state->topics) {
      const int32_t shard = ShardOfTopic(topic.topic_num, cluster_->shards);
      const uint64_t since = cluster_->led_since(shard);
      bool taken_in = false;
      {
        std::lock_guard lock(sync_mutex_);
        auto it = synced_.find(topic.topic_num);
        taken_in = since != 0 && it != synced_.end() && it->second == since;
      }
      if (taken_in) {
        for (const auto& g : held) {
          if (g.topic_num == topic.topic_num) groups.push_back(g);
        }
        continue;
      }
      if (!cluster_->catch_up(shard).ok()) continue;
      auto stored = groups_.StoredRows(topic.topic_num);
      if (stored.ok()) groups.insert(groups.end(), stored->begin(), stored->end());
    }
  } else {
    groups = groups_.Rows();
  }
  for (const auto& g : groups) {
    auto it = ids.find(g.topic_num);
    if (it == ids.end()) continue;
    rows.push_back({it->second, g.group, g.partition, g.committed, g.reserved_until_ms, g.updated_at});
  }
  return rows;
}

bool Topics::RetentionDue(int64_t now_ms) {
  auto result = EnforceRetention(now_ms, /*dry_run=*/true);
  return result.ok() && *result != "{}";
}

Result<std::string> Topics::EnforceRetention(int64_t now_ms, bool dry_run) {
  const int64_t cutoff_ms = now_ms - config_.retention_hours * 3600 * 1000;
  auto state = registry_->snapshot();
  std::string result;
  int64_t removed_total = 0;
  for (const auto& [id, topic] : state->topics) {
    // Cluster mode: each topic's leader enforces it.
    if (cluster_ && (cluster_->led_since(ShardOfTopic(topic.topic_num, cluster_->shards)) == 0 || !Lead(topic).ok())) {
      continue;
    }
    for (int32_t p = 0; p < topic.partitions; ++p) {
      const TopicLog::Bounds bounds = log_.BoundsOf(topic.topic_num, p);
      if (bounds.next <= bounds.earliest) continue;
      // Kept while younger than the retention or not yet acknowledged by every group.
      const std::optional<int64_t> acked = groups_.LowestCommitted(topic.topic_num, p);
      const int64_t acked_below = acked ? *acked + 1 : bounds.next;
      int64_t below = bounds.earliest;
      uint64_t bytes = 0;
      std::vector<std::pair<int64_t, uint64_t>> sizes;  // offset, bytes (for the size bound)
      auto cursor = store_.NewCursor(store::Family::kTopics, TopicLog::MessagePrefix(topic.topic_num, p));
      cursor->Seek(MessageKey(topic.topic_num, p, bounds.earliest));
      bool by_age = true;
      for (; cursor->Valid(); cursor->Next()) {
        auto m = DecodeMessage(cursor->key(), cursor->value());
        if (!m.ok()) return m.status();
        if (m->offset >= bounds.next) break;
        if (by_age && m->timestamp_ms < cutoff_ms && m->offset < acked_below) {
          below = m->offset + 1;
        } else {
          by_age = false;
          if (config_.max_retention_bytes == 0) break;
        }
        if (config_.max_retention_bytes > 0) {
          bytes += cursor->key().size() + cursor->value().size();
          sizes.emplace_back(m->offset, cursor->key().size() + cursor->value().size());
        }
      }
      KALAM_RETURN_IF_ERROR(cursor->status());
      // Past the size bound the oldest go, acknowledged or not.
      for (size_t i = 0; i < sizes.size() && bytes > config_.max_retention_bytes; ++i) {
        bytes -= sizes[i].second;
        below = std::max(below, sizes[i].first + 1);
      }
      if (below <= bounds.earliest) continue;
      removed_total += below - bounds.earliest;
      if (!result.empty()) result += ",";
      result += "{\"topic_id\":" + JsonString(id) + ",\"partition_id\":" + std::to_string(p) +
                ",\"removed\":" + std::to_string(below - bounds.earliest) + "}";
      if (!dry_run) KALAM_RETURN_IF_ERROR(Trim(topic.topic_num, p, below));
    }
  }
  auto swept = SweepDropped(dry_run);
  if (!swept.ok()) return swept.status();
  if (result.empty() && *swept == 0) return std::string("{}");
  std::string out = "{\"messages_removed\":" + std::to_string(removed_total) + ",\"partitions\":[" + result + "]";
  if (*swept > 0) out += ",\"dropped_topics_cleared\":" + std::to_string(*swept);
  return out + "}";
}

Result<int64_t> Topics::SweepDropped(bool dry_run) {
  if (!cluster_) return 0;
  // Only topics dropped: one made on another node a moment ago has a number at or past
  // the counter as read now.
  KALAM_RETURN_IF_ERROR(catalog_.Refresh());
  auto state = registry_->snapshot();
  std::set<uint64_t> live;
  for (const auto& [id, topic] : state->topics) live.insert(topic.topic_num);
  std::set<uint64_t> dropped;
  std::map<int32_t, std::vector<std::pair<std::string, std::string>>> ranges;  // by shard
  for (const char kind : {'m', 'n', 'g', 'f'}) {
    auto cursor = store_.NewCursor(store::Family::kTopics, std::string(1, kind));
    while (cursor->Valid()) {
      if (cursor->key().size() < 9) {
        cursor->Next();
        continue;
      }
      const uint64_t topic_num = ReadBigEndian(cursor->key(), 1, 8);
      std::string begin(1, kind);
      AppendBigEndian(begin, topic_num, 8);
      std::string end(1, kind);
      AppendBigEndian(end, topic_num + 1, 8);
      const int32_t shard = ShardOfTopic(topic_num, cluster_->shards);
      if (!live.contains(topic_num) && topic_num < state->next_topic_num && cluster_->led_since(shard) != 0) {
        dropped.insert(topic_num);
        ranges[shard].emplace_back(begin, end);
      }
      cursor->Seek(end);
    }
    KALAM_RETURN_IF_ERROR(cursor->status());
  }
  if (dry_run || dropped.empty()) return static_cast<int64_t>(dropped.size());
  for (const auto& [shard, list] : ranges) {
    const uint64_t fence = committer_.Fence();
    if (!cluster_->lead(shard).ok()) continue;
    KALAM_RETURN_IF_ERROR(committer_.Commit(
        [&](store::CommitContext& commit) {
          for (const auto& [begin, end] : list) commit.DeleteRange(store::Family::kTopics, begin, end);
          return Status::Ok();
        },
        fence));
  }
  for (uint64_t topic_num : dropped) {
    log_.Forget(topic_num);
    groups_.Forget(topic_num);
  }
  return static_cast<int64_t>(dropped.size());
}

}  // namespace kalam::topics
