// The messages of every topic, in the store's topics family, and the bounds of each
// partition. Messages are appended by the commit path (topics/router.h) inside the group
// write of the commit that produced them; offsets are dense per partition, from 0, and are
// never reused (CLEAR TOPIC and retention move the earliest offset, not the next one).
//
// Keys (topics family):
//   'm' | topic_num (8, BE) | partition (4, BE) | offset (8, BE)  -> a message
//   'n' | topic_num (8, BE) | partition (4, BE)                   -> the next offset (8, BE)
// Message value: op (1) | timestamp_ms (8, LE) | then key, user, payload, each a
// length (4, LE) and its bytes.
//
// Readers see a partition up to its durable end: offsets handed out for a group become
// readable once that group is written, and are taken back if its write fails.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "common/status.h"
#include "store/kv_store.h"
#include "topics/registry.h"

namespace kalam::topics {

struct Message {
  int32_t partition = 0;
  int64_t offset = 0;
  Op op = Op::kInsert;
  std::string key;      // the primary key as text
  std::string user;     // the USER/STREAM table's scope; "" for SHARED tables
  std::string payload;  // JSON text
  int64_t timestamp_ms = 0;
};

std::string MessageKey(uint64_t topic_num, int32_t partition, int64_t offset);
std::string EncodeMessage(const Message& message);
Result<Message> DecodeMessage(std::string_view key, std::string_view value);

class TopicLog {
 public:
  explicit TopicLog(store::KvStore& store) : store_(store) {}

  // Learns the bounds of every partition of the topics from the store.
  Status Open(const TopicState& state);

  struct Bounds {
    int64_t earliest = 0;  // the oldest offset retained
    int64_t next = 0;      // the offset the next message will have; readable: [earliest, next)
  };
  Bounds BoundsOf(uint64_t topic_num, int32_t partition) const;
  // The bounds as the store holds them (cluster mode: on a replica that does not write the
  // topic, or the leader taking over one).
  Result<Bounds> StoredBounds(uint64_t topic_num, int32_t partition) const;
  // Cluster mode: this node took over writing the topic; what its store holds (another
  // leader's appends and trims) is taken in. Bounds never move back.
  Status Reload(uint64_t topic_num, int32_t partitions);

  // Up to limit messages of the partition from offset from (at least earliest), below the
  // durable end, in offset order.
  Result<std::vector<Message>> Read(uint64_t topic_num, int32_t partition, int64_t from,
                                    size_t limit) const;

  // ---- the commit path (the committer's leader only) ----
  // The offset for the next message of the partition within the group being built; the
  // partition's next-offset record goes into the same group (through put).
  int64_t Assign(uint64_t topic_num, int32_t partition);
  // The group ended: its offsets become readable (written) or are handed out again —
  // except in cluster mode, where a group's outcome is not its topic's alone (a group
  // writes each shard's part on its own, and a part that timed out may still commit): its
  // offsets are never handed out again there (a failed part leaves a gap instead).
  void EndGroup(bool written);
  void NeverReuseOffsets() { never_reuse_ = true; }
  // The pending next offsets of the group, to write with it: (topic, partition) -> next.
  const std::map<std::pair<uint64_t, int32_t>, int64_t>& PendingNext() const { return pending_; }
  static std::string NextOffsetKey(uint64_t topic_num, int32_t partition);
  static std::string OffsetValue(int64_t offset);  // 8 bytes, big endian

  // ---- retention, CLEAR and DROP ----
  // Messages below offset were deleted (by a range delete already written).
  void Trimmed(uint64_t topic_num, int32_t partition, int64_t earliest);
  // A dropped topic: its bounds and waiters go.
  void Forget(uint64_t topic_num);
  // The range of every message of the topic, or of one partition below an offset.
  static std::pair<std::string, std::string> TopicRange(uint64_t topic_num);
  static std::string MessagePrefix(uint64_t topic_num, int32_t partition);
  static std::pair<std::string, std::string> PartitionRange(uint64_t topic_num, int32_t partition,
                                                            int64_t below);

  // ---- waiting for messages (long polls) ----
  // A count of the groups that appended to the topic; read it before reading messages.
  uint64_t Version(uint64_t topic_num) const;
  // Calls wake once, on the thread that writes the next group appending to the topic, or
  // at once when one was written since version. Returns an id for CancelWait. wake must not
  // block.
  uint64_t Wait(uint64_t topic_num, uint64_t version, std::function<void()> wake);
  void CancelWait(uint64_t topic_num, uint64_t id);

 private:
  struct PartitionState {
    int64_t earliest = 0;
    int64_t next = 0;  // durable
  };
  struct Waiters {
    uint64_t version = 0;
    std::map<uint64_t, std::function<void()>> wakes;  // by id
  };

  store::KvStore& store_;
  mutable std::mutex mutex_;
  std::map<std::pair<uint64_t, int32_t>, PartitionState> partitions_;
  std::unordered_map<uint64_t, Waiters> waiters_;  // by topic_num
  uint64_t next_wait_id_ = 1;
  // The leader's: offsets handed out in the group being built.
  std::map<std::pair<uint64_t, int32_t>, int64_t> pending_;
  bool never_reuse_ = false;  // set before the first group
};

}  // namespace kalam::topics
