// Consumer groups: each group's committed offset per partition (durable, in the topics
// family) and the ranges it has handed out and not yet had acknowledged (in memory, each
// reserved until a visibility timeout). Consumers of one group share its partitions: a
// range handed out is not handed out again until its reservation lapses, and then the
// next consumer gets it again (at-least-once). After a restart every unacknowledged range
// is delivered again.
//
// Key: 'g' | topic_num (8, BE) | group | 0x00 | partition (4, BE)
// Value: committed offset (8, BE; -1: nothing acknowledged) | updated_at µs (8, BE)
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <string_view>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "common/status.h"
#include "topics/log.h"

namespace kalam::store {
class Committer;
}

namespace kalam::topics {

// Where a group without a committed offset (or a read without a group) begins.
struct StartAt {
  enum class Kind { kLatest, kEarliest, kOffset };
  Kind kind = Kind::kLatest;
  int64_t offset = 0;  // kOffset
};

struct GroupOffsetRow {
  uint64_t topic_num = 0;
  std::string group;
  int32_t partition = 0;
  int64_t committed = -1;
  int64_t reserved_until_ms = 0;  // 0: nothing reserved
  int64_t updated_at = 0;         // microseconds
};

class ConsumerGroups {
 public:
  ConsumerGroups(store::KvStore& store, store::Committer& committer, TopicLog& log,
                 int64_t visibility_timeout_ms)
      : store_(store), committer_(committer), log_(log), visibility_timeout_ms_(visibility_timeout_ms) {}

  Status Open();
  // Cluster mode: this node took over the topic's groups: their committed offsets are the
  // store's (another leader's acknowledgements), and reservations made before are gone
  // (their ranges are delivered again).
  Status Reload(uint64_t topic_num);
  // The topic's groups as the store holds them (no reservations): a replica's view.
  Result<std::vector<GroupOffsetRow>> StoredRows(uint64_t topic_num) const;

  // A group begins on every partition of its topic at once, where start says: its first
  // read of one partition must not move where it begins on the others.
  Status Begin(uint64_t topic_num, const std::string& group, int32_t partitions, StartAt start);
  // The next messages of the partition for the group: a lapsed reservation first, else
  // the messages after everything handed out. They are reserved for the timeout.
  Result<std::vector<Message>> Consume(uint64_t topic_num, const std::string& group, int32_t partition,
                                       StartAt start, size_t limit, int64_t now_ms);
  // The consumer that holds upto is done with its range up to upto (inclusive). The
  // committed offset moves over what is done and what no one holds, but not over a range
  // another consumer still holds or that lapsed unacknowledged: it stays below until that
  // range is acknowledged too. Returns the committed offset, which never goes back.
  // INVALID_INPUT past the partition's last message.
  Result<int64_t> Ack(uint64_t topic_num, const std::string& group, int32_t partition, int64_t upto);
  // The group reads the partition from offset next: committed = next - 1, reservations dropped.
  Status Reset(uint64_t topic_num, const std::string& group, int32_t partition, int64_t next);

  // The offset the group reads next in the partition, after what it has been handed.
  int64_t NextOf(uint64_t topic_num, const std::string& group, int32_t partition) const;
  // When the group's earliest unacknowledged reservation in the partition lapses (ms);
  // nullopt: none. A waiting consume wakes then, to deliver it again.
  std::optional<int64_t> NextLapse(uint64_t topic_num, const std::string& group, int32_t partition) const;
  // The lowest committed offset over the topic's groups for the partition; nullopt: no group.
  std::optional<int64_t> LowestCommitted(uint64_t topic_num, int32_t partition) const;
  std::vector<GroupOffsetRow> Rows() const;
  bool HasGroup(uint64_t topic_num, const std::string& group) const;
  // The topic was dropped: its groups go (their records by the range given to the caller).
  void Forget(uint64_t topic_num);
  static std::pair<std::string, std::string> TopicRange(uint64_t topic_num);

  // A group name: 1 to 128 bytes, no NUL or control characters.
  static Status CheckName(const std::string& group);

 private:
  struct Reservation {
    int64_t from, to;  // inclusive
    int64_t until_ms;
    bool acked;  // done, above a range still held: not delivered again
  };
  struct State {
    int64_t committed = -1;
    int64_t updated_at = 0;
    std::deque<Reservation> reserved;  // in offset order, all above committed
  };
  using Key = std::tuple<uint64_t, std::string, int32_t>;

  // REQUIRES: mutex_ held. The group's state, made (and written) at start when new.
  Result<State*> StateOf(const Key& key, std::optional<StartAt> start);
  // REQUIRES: mutex_ held.
  Status Save(const Key& key, const State& state);
  // Every group record under prefix, as read from the store.
  Status Scan(std::string_view prefix, const std::function<void(Key key, State state)>& take) const;

  store::KvStore& store_;
  store::Committer& committer_;
  TopicLog& log_;
  const int64_t visibility_timeout_ms_;
  mutable std::mutex mutex_;
  std::map<Key, State> groups_;
};

}  // namespace kalam::topics
