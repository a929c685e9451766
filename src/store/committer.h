// Group commit with commit-ordered _seq.
//
// Statements hand the committer a function that turns their prepared rows into changes.
// One thread at a time — the leader — runs the functions of every statement waiting, in
// arrival order, hands out _seq values in that order, and writes all their changes with
// one store write (one fsync when sync_writes is on). So _seq order is commit order, and
// concurrent statements share a write.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string_view>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "store/row_codec.h"

#include "common/status.h"
#include "store/kv_store.h"

namespace kalam::store {

// Snowflake layout: 41-bit milliseconds since 2024-01-01T00:00:00Z, 10-bit node id,
// 12-bit counter. Strictly increasing; never behind `floor` (the last value handed out
// before a restart), even when the clock steps back.
class SeqGenerator {
 public:
  SeqGenerator(int node_id, int64_t floor) : node_id_(node_id & 0x3ff), last_(floor) {}
  int64_t Next();
  int64_t last() const { return last_; }
  // Never hands out floor or less from now on (a value another node handed out).
  void Raise(int64_t floor) { last_ = std::max(last_, floor); }

 private:
  int node_id_;
  int64_t last_;
};

// The smallest _seq a commit at unix_millis or later can have: rows of a STREAM table with
// a smaller _seq are older than that moment.
int64_t SeqFloorAt(int64_t unix_millis);

// What a committed statement changed, for live queries. Rows are in the table's current
// column order as of the statement.
struct RowImage {
  std::vector<Cell> cells;
  int64_t seq = 0;
};
struct ChangeEvent {
  enum class Kind { kInsert, kUpdate, kDelete };
  std::string table_id;  // "ns:name"
  std::string scope;     // user_id for USER/STREAM tables, "" for SHARED
  Kind kind = Kind::kInsert;
  uint32_t schema_version = 0;  // the column order of the rows
  std::vector<RowImage> rows;      // new versions; for a delete, the rows as they were
  std::vector<RowImage> old_rows;  // updates: the versions replaced, row for row
};

// The keys of one table that statements wrote (Put, in the hot family) since the watch
// began; all of them after a range delete. A flush turns the rows it wrote to Parquet into
// markers without reading each one back: those written meanwhile stay hot.
class KeyWatch {
 public:
  explicit KeyWatch(uint64_t table_num) : table_num_(table_num) {}
  bool Changed(const std::string& key) const {
    std::lock_guard lock(mutex_);
    return all_ || keys_.contains(key);
  }

 private:
  friend class Committer;
  const uint64_t table_num_;
  mutable std::mutex mutex_;
  bool all_ = false;
  std::unordered_set<std::string> keys_;
};

// Where a statement writes its rows: the group committer (below), or an open transaction
// that keeps them until COMMIT (store/transaction.h).
class Writer {
 public:
  virtual ~Writer() = default;
  virtual int64_t NextSeq() = 0;
  // The value the statement sees: committed data plus what it (and, in a transaction, the
  // statements before it) wrote.
  virtual Result<std::optional<std::string>> Get(Family family, const std::string& key) = 0;
  virtual void Put(Family family, std::string key, std::string value) = 0;
  // Published to live queries once committed, in commit order.
  virtual void Emit(ChangeEvent event) = 0;
};

// What a statement's function sees while it runs under the leader.
class CommitContext final : public Writer {
 public:
  CommitContext(KvStore& store, SeqGenerator& seq,
                std::unordered_map<uint64_t, int64_t>& removed_from_hot)
      : store_(store), seq_(seq), removed_from_hot_(removed_from_hot) {}

  int64_t NextSeq() override { return seq_.Next(); }
  // The value as of this commit: the store plus the changes of statements committed
  // earlier in the same group.
  Result<std::optional<std::string>> Get(Family family, const std::string& key) override;
  void Put(Family family, std::string key, std::string value) override;
  void Delete(Family family, std::string key);
  void DeleteRange(Family family, std::string begin, std::string end);
  // Changes that no statement reads back through Get within the group (a flush's markers):
  // cheaper, as Get does not see them.
  void PutUnread(Family family, std::string key, std::string value) {
    current_.Put(family, std::move(key), std::move(value));
  }
  void DeleteUnread(Family family, std::string key) { current_.Delete(family, std::move(key)); }
  // Published to live queries once the group is durable, in commit order.
  void Emit(ChangeEvent event) override { current_events_.push_back(std::move(event)); }

  // A flush took rows of the table out of the hot store, the newest with this _seq: a key
  // with no hot trace may have been written that late (transactions check it at commit).
  void NoteRemovedFromHot(uint64_t table_num, int64_t seq) {
    int64_t& newest = removed_from_hot_[table_num];
    newest = std::max(newest, seq);
  }
  // The newest _seq a flush took out of the table's hot rows (0: none since the start).
  int64_t RemovedFromHot(uint64_t table_num) const {
    auto it = removed_from_hot_.find(table_num);
    return it == removed_from_hot_.end() ? 0 : it->second;
  }

 private:
  friend class Committer;
  std::vector<ChangeEvent> current_events_;
  std::vector<ChangeEvent> group_events_;
  KvStore& store_;
  SeqGenerator& seq_;
  std::unordered_map<uint64_t, int64_t>& removed_from_hot_;
  WriteSet group_;    // every change of the group so far
  WriteSet current_;  // the changes of the running statement
  std::map<std::pair<Family, std::string>, std::optional<std::string>> overlay_;
  // What the running statement replaced in overlay_ (nullopt: the key was not there), so a
  // failed statement is undone without copying the overlay for every statement.
  std::vector<std::pair<std::pair<Family, std::string>, std::optional<std::optional<std::string>>>> undo_;
  void Remember(const std::pair<Family, std::string>& key);
  void Undo();
};

// Sees each statement's changes inside its group, before the group is written, and may add
// writes of its own to the group (topics append their messages so, atomically with the
// commit that produced them). Called by the leader only, one call at a time.
class CommitHook {
 public:
  virtual ~CommitHook() = default;
  // events: the changes of a statement that succeeded. Writes go to context (PutUnread).
  // An error fails the statement: none of its changes are written.
  virtual Status OnStatement(CommitContext& context, const std::vector<ChangeEvent>& events) = 0;
  // The group was written (written) or not: what OnStatement prepared for it is kept or
  // forgotten. Called after every group, before the listener.
  virtual void OnGroupEnd(bool written) = 0;
};

// Cluster mode: sends each shard's part of a commit group through the shard's Raft log;
// every replica, this node too, then writes the part with Committer::ApplyReplicated.
class Replicator {
 public:
  virtual ~Replicator() = default;
  // The shard of a key of the hot or stream family that is a row's (or its marker's), or
  // of the topics family (a topic's keys, an outbox record); nullopt for any other key,
  // which is this node's own.
  virtual std::optional<int32_t> ShardOf(Family family, std::string_view key) = 0;
  // A fence: the leadership epoch read before a statement read anything (see
  // LeadershipEpoch); kNoFence: none.
  static constexpr uint64_t kNoFence = UINT64_MAX;
  struct Part {
    int32_t shard = 0;
    WriteSet changes;
    std::vector<ChangeEvent> events;
    int64_t last_seq = 0;  // the group's
    // The earliest fence of the part's statements: the part is refused unless this node
    // has led the shard, caught up, since then (what they read here was the latest).
    uint64_t fence = kNoFence;
  };
  // A counter that moves whenever a shard here becomes readable at its leader or begins
  // handing leadership over.
  virtual uint64_t LeadershipEpoch() = 0;
  // Replicates every part, each on its own; once each is applied here or failed, their
  // outcomes in order.
  virtual std::vector<Status> Replicate(std::vector<Part>& parts) = 0;
};

class Committer {
 public:
  // Reads the last _seq handed out, so the generator never goes back after a restart.
  static Result<std::unique_ptr<Committer>> Open(KvStore& store, int node_id);

  // Runs apply under the leader and waits until its changes are durable. An error
  // returned by apply discards that statement's changes only. Cluster mode: fence is the
  // Fence() read before the statement read anything apply relies on (nullopt: apply reads
  // all it relies on itself, through its CommitContext).
  Status Commit(const std::function<Status(CommitContext&)>& apply, std::optional<uint64_t> fence = std::nullopt);
  // Cluster mode: the fence of a statement that starts reading now; Replicator::kNoFence
  // on a single server.
  uint64_t Fence() const { return replicator_ != nullptr ? replicator_->LeadershipEpoch() : Replicator::kNoFence; }
  // Like Commit, but the changes are this node's alone even in cluster mode (each replica
  // evicts expired stream rows on its own).
  Status CommitLocal(const std::function<Status(CommitContext&)>& apply);

  // Cluster mode: statements' row changes go through the shards' logs from now on (a
  // statement may change the rows of one shard only: UNSUPPORTED otherwise). Set once,
  // before statements run; replicator outlives the committer's use.
  void SetReplicator(Replicator* replicator) { replicator_ = replicator; }
  // Whether commits go through the shards' logs (cluster mode).
  bool replicated() const { return replicator_ != nullptr; }
  // Writes a replicated part (on every replica, in its shard's log order), raises the _seq
  // generator past last_seq and hands events to the listener. changes may carry the
  // replica's own bookkeeping (the shard's applied index) to write with it.
  Status ApplyReplicated(WriteSet changes, std::vector<ChangeEvent>& events, int64_t last_seq);

  // Called by the leader after each durable group write, with the group's events in
  // commit order and the last _seq of the group, before the next group starts. Set once,
  // before statements run.
  using Listener = std::function<void(std::vector<ChangeEvent>& events, int64_t last_seq)>;
  void SetListener(Listener listener) { listener_ = std::move(listener); }
  // Set once, before statements run; hook outlives the committer's use.
  void SetHook(CommitHook* hook) { hook_ = hook; }
  // Background work that commits in many small steps (a flush's markers) calls this
  // between steps: if statements are waiting, it returns once they have been committed
  // (or after max_wait), so they get a group of their own instead of sharing the next
  // step's; statements arriving meanwhile are not waited for. Returns whether any were
  // waiting.
  bool StepAside(std::chrono::microseconds max_wait);
  // Starts recording the keys written to the table; it ends when the watch is released.
  // Every commit that started before returns before this does, so a snapshot taken after
  // it holds them, and every later write is recorded.
  std::shared_ptr<const KeyWatch> Watch(uint64_t table_num);

  // The last _seq written (before any statement runs: the last one before the restart).
  int64_t last_seq() {
    std::shared_lock lock(write_mutex_);
    return durable_seq_;
  }

  // A transaction's start: a snapshot of the store between two group writes and the last
  // _seq it holds. The transaction counts as open until EndTransaction(seq).
  struct Begun {
    std::shared_ptr<const KvStore::Snapshot> snapshot;
    int64_t seq = 0;
  };
  Begun BeginTransaction();
  void EndTransaction(int64_t begin_seq);
  // The begin _seq of the oldest open transaction; INT64_MAX when none is open.
  int64_t OldestOpenTransaction();

 private:
  Committer(KvStore& store, int node_id, int64_t floor)
      : store_(store), seq_(node_id, floor), durable_seq_(floor) {}

  struct Pending {
    const std::function<Status(CommitContext&)>* apply;
    Status status;
    bool done = false;
    bool local = false;  // CommitLocal
    std::optional<uint64_t> fence;  // nullopt: the group's start
  };
  Status Enqueue(Pending& self);
  // Cluster mode: the one shard changes touches (-1: none; kSeveralShards: more than one).
  static constexpr int32_t kSeveralShards = -2;
  int32_t ShardOf(const WriteSet& changes);

  KvStore& store_;
  SeqGenerator seq_;  // used by the leader only
  std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<Pending*> queue_;
  bool leader_active_ = false;
  uint64_t groups_done_ = 0;  // groups committed (or failed) since the start
  Listener listener_;
  std::mutex listener_mutex_;  // the leader and replicated parts hand events over one at a time
  CommitHook* hook_ = nullptr;
  Replicator* replicator_ = nullptr;
  // The highest _seq of a replicated part written here: the generator stays past it.
  std::atomic<int64_t> replicated_seq_{0};
  // Held exclusively while a group is written, shared while a transaction takes its
  // snapshot: a snapshot holds every group up to durable_seq_ and none after.
  std::shared_mutex write_mutex_;
  int64_t durable_seq_;
  std::unordered_map<uint64_t, int64_t> removed_from_hot_;  // the leader's (CommitContext)
  std::mutex open_mutex_;
  std::multiset<int64_t> open_;  // begin _seq of each open transaction

  // REQUIRES: called by the leader for each statement that succeeded.
  void Record(const WriteSet& changes);
  std::mutex watch_mutex_;
  std::vector<std::weak_ptr<KeyWatch>> watches_;
  std::atomic<bool> watching_{false};
};

}  // namespace kalam::store
