// Cluster mode: how a change committed in one shard reaches a topic kept in another.
//
// A topic's messages, next offsets, consumer groups and delivery marks live in the
// topic's shard (ShardOfTopic), written by that shard's leader. A change routed to a topic
// is committed with its source rows, in the source shard, as an outbox record — so it is
// there exactly when the change is. The source shard's leader then delivers its records to
// the topic's leader in the order they were committed (TopicOutbox below), which appends
// them with offsets and notes, per source shard, the last record it took (the delivery
// mark, written with the messages); the source leader then deletes what was delivered.
// A record delivered twice (the delete lost with a leadership change) is recognised by the
// mark and skipped: each change is in its topic once.
//
// Keys (topics family):
//   'o' | source shard (4, BE) | seq (8, BE)     -> an outbox record: topic_num (8, BE) |
//                                                   partition (4, BE) | message (log.h)
//   'f' | topic_num (8, BE) | source shard (4, BE) -> the delivery mark: seq (8, BE)
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "common/status.h"
#include "topics/log.h"

namespace kalam::store {
class Committer;
class KvStore;
}

namespace kalam::topics {

// The shard of a topic's messages, offsets, groups and marks.
int32_t ShardOfTopic(uint64_t topic_num, int32_t shards);
// The shard a key of the topics family lives in: its topic's, or for an outbox record its
// source shard. nullopt for a key of no known kind.
std::optional<int32_t> ShardOfTopicsKey(std::string_view key, int32_t shards);

struct OutboxRecord {
  int64_t seq = 0;  // orders a source shard's records
  uint64_t topic_num = 0;
  Message message;  // partition and everything but the offset
};
std::string OutboxKey(int32_t shard, int64_t seq);
std::string OutboxPrefix(int32_t shard);
std::string EncodeOutboxValue(const OutboxRecord& record);
Result<OutboxRecord> DecodeOutboxRecord(std::string_view key, std::string_view value);
std::string DeliveryMarkKey(uint64_t topic_num, int32_t source_shard);
// Every delivery mark of a topic.
std::pair<std::string, std::string> DeliveryMarkRange(uint64_t topic_num);

// A batch of one source shard's records for one topic, as sent between nodes: each record
// as seq (8, BE) | length (4, BE) | its outbox value.
std::string EncodeDelivery(const std::vector<OutboxRecord>& records);
Result<std::vector<OutboxRecord>> DecodeDelivery(std::string_view bytes);

// The source side: a thread that delivers the outbox records of the shards this node
// leads, when told new ones were committed and every so often.
class TopicOutbox {
 public:
  struct Hooks {
    int32_t shards = 0;
    // Whether this node leads the shard, caught up (no waiting).
    std::function<bool(int32_t shard)> leads;
    // Appends records of source_shard to the topic at its shard's leader, wherever it is.
    // NOT_FOUND: the topic is gone (its records are dropped).
    std::function<Status(uint64_t topic_num, int32_t source_shard, const std::vector<OutboxRecord>& records)> deliver;
  };
  TopicOutbox(store::KvStore& store, store::Committer& committer, Hooks hooks);
  ~TopicOutbox();
  TopicOutbox(const TopicOutbox&) = delete;
  TopicOutbox& operator=(const TopicOutbox&) = delete;

  // count records were committed here (the commit path, after the group is written).
  void Committed(uint64_t count);
  // Waits, up to max_wait, until the records committed here so far are delivered (a topic
  // leader out of reach longer: they stay in the outbox, delivered later) — all of them,
  // not only the caller's: callers are statements that wrote a table a topic sources. At
  // once when none are waiting.
  void AwaitDelivered(std::chrono::milliseconds max_wait);

 private:
  void Run();
  // One round over the shards this node leads; whether it delivered all it found.
  bool Round();
  // Delivers one shard's records (up to a batch); whether all it found went.
  bool DeliverShard(int32_t shard);

  store::KvStore& store_;
  store::Committer& committer_;
  const Hooks hooks_;
  std::atomic<uint64_t> committed_{0};
  std::atomic<uint64_t> delivered_{0};  // every record counted in committed_ up to this went
  std::atomic<bool> more_{false};       // a round left records for want of room
  mutable std::mutex mutex_;
  std::condition_variable wake_;      // the thread: records committed, or stopping
  std::condition_variable rounds_;    // waiters: a round ended
  bool kicked_ = false;
  bool stopping_ = false;
  int waiting_ = 0;  // statements in AwaitDelivered
  std::thread thread_;
};

}  // namespace kalam::topics
