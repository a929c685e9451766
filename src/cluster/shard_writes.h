// Writes through the shards' Raft logs (cluster mode): both ends of one path.
//   - As the committer's Replicator, it encodes each shard's part of a commit group as one
//     entry of the shard's log and proposes it (this node must lead the shard).
//   - As the groups' ShardStateMachine, it applies each committed entry on every replica,
//     this node too, through Committer::ApplyReplicated: one store write holding the rows
//     and the shard's applied index, so an entry replayed after a restart is skipped.
// Snapshots hold the shard's rows (hot and stream families), its keys of the topics
// family and the applied index.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <optional>
#include <string_view>
#include <vector>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>

#include "cluster/shard_groups.h"
#include "store/committer.h"
#include "store/kv_store.h"

namespace kalam::cluster {

class ShardWrites final : public ShardStateMachine, public store::Replicator {
 public:
  // shards: the cluster's count. propose_timeout: how long a write waits for its shard's
  // log before STATEMENT_TIMEOUT.
  ShardWrites(store::KvStore& store, store::Committer& committer, int32_t shards,
              std::chrono::milliseconds propose_timeout)
      : store_(store), committer_(committer), shards_(shards), propose_timeout_(propose_timeout) {}
  // Set once the groups run, before any write; groups outlive this one's use.
  // Null again before the groups close: writes then fail with SERVICE_UNAVAILABLE.
  void SetGroups(ShardGroups* groups) { groups_ = groups; }
  // Called before an entry turning rows of (table_num, scope) into flushed markers is
  // applied here, once per scope, so the node drops what it cached of the scope's cold
  // manifest (the leader wrote the new one to shared storage before proposing). (0, "")
  // before a snapshot is restored: every scope may have changed. Set before the groups run.
  void SetOnFlushApplied(std::function<void(uint64_t table_num, std::string_view scope)> hook) {
    on_flush_applied_ = std::move(hook);
  }

  // The shard of a key of the topics family (topics/outbox.h); without it such keys are
  // each node's own. Set before the groups run.
  void SetTopicsShardOf(std::function<std::optional<int32_t>(std::string_view key)> shard_of) {
    topics_shard_of_ = std::move(shard_of);
  }

  // Replicator
  std::optional<int32_t> ShardOf(store::Family family, std::string_view key) override;
  std::vector<Status> Replicate(std::vector<Part>& parts) override;
  uint64_t LeadershipEpoch() override;

  // ShardStateMachine (the groups' loop thread)
  Status Apply(int32_t shard, uint64_t index, std::string_view entry) override;
  Result<std::string> Snapshot(int32_t shard) override;
  Status Restore(int32_t shard, std::string_view snapshot) override;
  Status Forget(int32_t shard) override;

 private:
  // The last entry of the shard applied to this store (0: none).
  Result<uint64_t> AppliedIndex(int32_t shard);
  // Every key and value of the shard: rows (and their markers) in both row families, and
  // its keys of the topics family.
  Status VisitRows(int32_t shard, const std::function<void(store::Family, std::string_view, std::string_view)>& visit);

  store::KvStore& store_;
  store::Committer& committer_;
  const int32_t shards_;
  const std::chrono::milliseconds propose_timeout_;
  std::atomic<ShardGroups*> groups_{nullptr};
  void NoteApplied(int32_t shard, uint64_t index);
  std::mutex applied_mutex_;
  std::map<int32_t, uint64_t> applied_;  // a cache of AppliedIndex (Forget runs off the loop thread)
  std::function<void(uint64_t, std::string_view)> on_flush_applied_;
  std::function<std::optional<int32_t>(std::string_view)> topics_shard_of_;
};

}  // namespace kalam::cluster
