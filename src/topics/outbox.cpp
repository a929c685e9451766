#include "topics/outbox.h"

#include <map>

#include <spdlog/spdlog.h>

#include "store/committer.h"
#include "store/kv_store.h"
#include "topics/keys.h"

namespace kalam::topics {
namespace {

// Records delivered per shard and round at most, and their bytes (at least one record goes,
// whatever its size; a delivery between nodes stays well inside a request's size limit).
// The rest go in the next round, at once.
constexpr size_t kBatch = 2000;
constexpr size_t kBatchBytes = 1 << 20;
// How often the outbox is looked at without being told (records left by a leader that
// lost its shard, or a topic leader out of reach).
constexpr auto kRoundEvery = std::chrono::milliseconds(500);
// How soon a round that left records is followed by another while statements wait.
constexpr auto kRetryAfter = std::chrono::milliseconds(50);

std::string TopicPrefixed(char kind, uint64_t topic_num) {
  std::string key(1, kind);
  AppendBigEndian(key, topic_num, 8);
  return key;
}

}  // namespace

int32_t ShardOfTopic(uint64_t topic_num, int32_t shards) {
  uint64_t h = 1469598103934665603ULL;  // FNV-1a of the topic's number
  for (char c : "topic/" + std::to_string(topic_num)) {
    h ^= static_cast<unsigned char>(c);
    h *= 1099511628211ULL;
  }
  return static_cast<int32_t>(h % static_cast<uint64_t>(std::max(1, shards)));
}

std::optional<int32_t> ShardOfTopicsKey(std::string_view key, int32_t shards) {
  if (key.empty()) return std::nullopt;
  switch (key[0]) {
    case 'o':
      if (key.size() < 5) return std::nullopt;
      return static_cast<int32_t>(ReadBigEndian(key, 1, 4));
    case 'm':  // messages, next offsets, groups, delivery marks: the topic's number follows
    case 'n':
    case 'g':
    case 'f':
      if (key.size() < 9) return std::nullopt;
      return ShardOfTopic(ReadBigEndian(key, 1, 8), shards);
    default:
      return std::nullopt;
  }
}

std::string OutboxPrefix(int32_t shard) {
  std::string key(1, 'o');
  AppendBigEndian(key, static_cast<uint32_t>(shard), 4);
  return key;
}

std::string OutboxKey(int32_t shard, int64_t seq) {
  std::string key = OutboxPrefix(shard);
  AppendBigEndian(key, static_cast<uint64_t>(seq), 8);
  return key;
}

std::string EncodeOutboxValue(const OutboxRecord& record) {
  std::string out;
  AppendBigEndian(out, record.topic_num, 8);
  AppendBigEndian(out, static_cast<uint32_t>(record.message.partition), 4);
  out += EncodeMessage(record.message);
  return out;
}

namespace {

Result<OutboxRecord> DecodeValue(int64_t seq, std::string_view value) {
  if (value.size() < 12) return Status(Code::kInternalError, "An outbox record is damaged");
  OutboxRecord record;
  record.seq = seq;
  record.topic_num = ReadBigEndian(value, 0, 8);
  const auto partition = static_cast<int32_t>(ReadBigEndian(value, 8, 4));
  // The message codec reads its partition and offset from a message key.
  auto message = DecodeMessage(MessageKey(record.topic_num, partition, 0), value.substr(12));
  if (!message.ok()) return message.status();
  record.message = std::move(message).value();
  return record;
}

}  // namespace

Result<OutboxRecord> DecodeOutboxRecord(std::string_view key, std::string_view value) {
  if (key.size() != 1 + 4 + 8 || key[0] != 'o') return Status(Code::kInternalError, "An outbox key is damaged");
  return DecodeValue(static_cast<int64_t>(ReadBigEndian(key, 5, 8)), value);
}

std::string DeliveryMarkKey(uint64_t topic_num, int32_t source_shard) {
  std::string key = TopicPrefixed('f', topic_num);
  AppendBigEndian(key, static_cast<uint32_t>(source_shard), 4);
  return key;
}

std::pair<std::string, std::string> DeliveryMarkRange(uint64_t topic_num) {
  return {TopicPrefixed('f', topic_num), TopicPrefixed('f', topic_num + 1)};
}

std::string EncodeDelivery(const std::vector<OutboxRecord>& records) {
  std::string out;
  for (const OutboxRecord& r : records) {
    const std::string value = EncodeOutboxValue(r);
    AppendBigEndian(out, static_cast<uint64_t>(r.seq), 8);
    AppendBigEndian(out, static_cast<uint32_t>(value.size()), 4);
    out += value;
  }
  return out;
}

Result<std::vector<OutboxRecord>> DecodeDelivery(std::string_view bytes) {
  std::vector<OutboxRecord> records;
  while (!bytes.empty()) {
    if (bytes.size() < 12) return Status(Code::kInvalidInput, "A topic delivery is malformed");
    const auto seq = static_cast<int64_t>(ReadBigEndian(bytes, 0, 8));
    const size_t n = ReadBigEndian(bytes, 8, 4);
    if (bytes.size() - 12 < n) return Status(Code::kInvalidInput, "A topic delivery is malformed");
    auto record = DecodeValue(seq, bytes.substr(12, n));
    if (!record.ok()) return Status(Code::kInvalidInput, "A topic delivery is malformed: " + record.status().message());
    records.push_back(std::move(record).value());
    bytes.remove_prefix(12 + n);
  }
  return records;
}

TopicOutbox::TopicOutbox(store::KvStore& store, store::Committer& committer, Hooks hooks)
    : store_(store), committer_(committer), hooks_(std::move(hooks)), thread_([this] { Run(); }) {}

TopicOutbox::~TopicOutbox() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  rounds_.notify_all();
  thread_.join();
}

void TopicOutbox::Committed(uint64_t count) {
  if (count == 0) return;
  committed_.fetch_add(count);
  {
    std::lock_guard lock(mutex_);
    kicked_ = true;
  }
  wake_.notify_one();
}

void TopicOutbox::AwaitDelivered(std::chrono::milliseconds max_wait) {
  const uint64_t target = committed_.load();
  if (delivered_.load() >= target) return;
  std::unique_lock lock(mutex_);
  ++waiting_;
  kicked_ = true;
  wake_.notify_one();
  rounds_.wait_for(lock, max_wait, [&] { return stopping_ || delivered_.load() >= target; });
  --waiting_;
}

void TopicOutbox::Run() {
  while (true) {
    uint64_t target = 0;
    {
      std::unique_lock lock(mutex_);
      wake_.wait_for(lock, kRoundEvery, [&] { return kicked_ || stopping_; });
      if (stopping_) return;
      kicked_ = false;
      target = committed_.load();
    }
    const bool all = Round();
    {
      std::lock_guard lock(mutex_);
      if (all) {
        uint64_t seen = delivered_.load();
        while (seen < target && !delivered_.compare_exchange_weak(seen, target)) {
        }
      }
      if (more_.exchange(false)) kicked_ = true;
    }
    rounds_.notify_all();
    if (!all) {
      // Statements wait for their records: tried again soon (a leader moving, a node
      // restarting) rather than at the next regular round.
      std::unique_lock lock(mutex_);
      if (waiting_ > 0) {
        wake_.wait_for(lock, kRetryAfter, [&] { return stopping_; });
        kicked_ = true;
      }
    }
  }
}

bool TopicOutbox::Round() {
  bool all = true;
  for (int32_t shard = 0; shard < hooks_.shards; ++shard) {
    if (!hooks_.leads(shard)) continue;  // its leader delivers them
    all = DeliverShard(shard) && all;
  }
  return all;
}

bool TopicOutbox::DeliverShard(int32_t shard) {
  // Deletes are refused if this node stopped leading the shard meanwhile (the records
  // stay for the next leader, who delivers them again: the marks skip them).
  const uint64_t fence = committer_.Fence();
  std::map<uint64_t, std::vector<OutboxRecord>> by_topic;  // each in seq order
  std::map<uint64_t, std::vector<std::string>> keys;
  std::vector<std::string> damaged;
  size_t found = 0;
  size_t bytes = 0;
  bool complete = true;
  auto cursor = store_.NewCursor(store::Family::kTopics, OutboxPrefix(shard));
  for (; cursor->Valid(); cursor->Next()) {
    if (found == kBatch || (found > 0 && bytes + cursor->value().size() > kBatchBytes)) {
      complete = false;
      more_ = true;  // the next round at once
      break;
    }
    ++found;
    bytes += cursor->value().size();
    auto record = DecodeOutboxRecord(cursor->key(), cursor->value());
    if (!record.ok()) {
      spdlog::error("topics: shard {}: {}: dropped", shard, record.status().message());
      damaged.emplace_back(cursor->key());
      continue;
    }
    keys[record->topic_num].emplace_back(cursor->key());
    by_topic[record->topic_num].push_back(std::move(record).value());
  }
  if (Status s = cursor->status(); !s.ok()) {
    spdlog::warn("topics: reading shard {}'s outbox failed: {}", shard, s.message());
    return false;
  }
  cursor.reset();
  if (found == 0) return true;
  std::vector<std::string> done = std::move(damaged);
  for (const auto& [topic_num, records] : by_topic) {
    const Status delivered = hooks_.deliver(topic_num, shard, records);
    if (delivered.ok() || delivered.code() == Code::kNotFound) {
      for (std::string& key : keys[topic_num]) done.push_back(std::move(key));
    } else {
      complete = false;
      spdlog::warn("topics: delivering shard {}'s records to topic #{} failed: {}", shard, topic_num,
                    delivered.message());
    }
  }
  if (done.empty()) return complete;
  const Status deleted = committer_.Commit(
      [&](store::CommitContext& commit) {
        for (std::string& key : done) commit.DeleteUnread(store::Family::kTopics, std::move(key));
        return Status::Ok();
      },
      fence);
  if (!deleted.ok()) spdlog::debug("topics: clearing shard {}'s delivered records failed: {}", shard, deleted.message());
  return complete;
}

}  // namespace kalam::topics
