#include "cluster/shard_writes.h"

#include <cstring>
#include <set>

#include "cluster/shard_entry.h"
#include "store/row_codec.h"

namespace kalam::cluster {
namespace {

std::string AppliedKey(int32_t shard) { return "raft/applied/" + std::to_string(shard); }

constexpr store::Family kShardFamilies[] = {store::Family::kHot, store::Family::kStream, store::Family::kTopics};

}  // namespace

std::optional<int32_t> ShardWrites::ShardOf(store::Family family, std::string_view key) {
  if (family == store::Family::kTopics) return topics_shard_of_ ? topics_shard_of_(key) : std::nullopt;
  if (family != store::Family::kHot && family != store::Family::kStream) return std::nullopt;
  return ShardOfRowKey(key, shards_);
}

uint64_t ShardWrites::LeadershipEpoch() {
  ShardGroups* groups = groups_.load();
  return groups != nullptr ? groups->LeadershipEpoch() : kNoFence;
}

std::vector<Status> ShardWrites::Replicate(std::vector<Part>& parts) {
  std::vector<std::pair<int32_t, std::string>> entries;
  entries.reserve(parts.size());
  std::vector<uint64_t> fences;
  for (Part& part : parts) {
    fences.push_back(part.fence);
    ShardLogEntry entry;
    entry.last_seq = part.last_seq;
    entry.changes = std::move(part.changes);
    entry.events = std::move(part.events);
    entries.emplace_back(part.shard, EncodeShardLogEntry(entry));
  }
  ShardGroups* groups = groups_.load();
  if (groups == nullptr) {
    return std::vector<Status>(parts.size(), Status(Code::kServiceUnavailable, "the shards' groups are not running"));
  }
  std::vector<Status> outcomes = groups->ProposeAll(std::move(entries), propose_timeout_, std::move(fences));
  for (size_t i = 0; i < outcomes.size(); ++i) {
    // The refusal names the shard's leader when the cluster has said who it is: the request
    // is sent on there (else the client is told to go there).
    if (outcomes[i].code() == Code::kNotFound) {
      outcomes[i] = {Code::kServiceUnavailable, outcomes[i].message() + ": send the write to the shard's leader (system.shards)"};
    }
  }
  return outcomes;
}

Result<uint64_t> ShardWrites::AppliedIndex(int32_t shard) {
  {
    std::lock_guard lock(applied_mutex_);
    auto cached = applied_.find(shard);
    if (cached != applied_.end()) return cached->second;
  }
  auto stored = store_.Get(store::Family::kMeta, AppliedKey(shard));
  if (!stored.ok()) return stored.status();
  const uint64_t index = stored->has_value() ? std::stoull(**stored) : 0;
  NoteApplied(shard, index);
  return index;
}

void ShardWrites::NoteApplied(int32_t shard, uint64_t index) {
  std::lock_guard lock(applied_mutex_);
  applied_[shard] = index;
}

Status ShardWrites::Apply(int32_t shard, uint64_t index, std::string_view bytes) {
  auto applied = AppliedIndex(shard);
  if (!applied.ok()) return applied.status();
  if (index <= *applied) return Status::Ok();  // in the store already (a replay after a restart)
  auto entry = DecodeShardLogEntry(bytes);
  if (!entry.ok()) return entry.status();
  if (on_flush_applied_) {
    // The scopes of a flush's markers.
    std::set<std::pair<uint64_t, std::string_view>> flushed;
    for (const store::WriteSet::Op& op : entry->changes.ops()) {
      if (op.family != store::Family::kHot || op.range_end) continue;
      const std::optional<store::KeyTable> table = store::TableOfKey(op.key);
      if (table && table->marker) flushed.emplace(table->table_num, store::ScopeOfKey(op.key));
    }
    for (const auto& [table_num, scope] : flushed) on_flush_applied_(table_num, scope);
  }
  entry->changes.Put(store::Family::kMeta, AppliedKey(shard), std::to_string(index));
  KALAM_RETURN_IF_ERROR(committer_.ApplyReplicated(std::move(entry->changes), entry->events, entry->last_seq));
  NoteApplied(shard, index);
  return Status::Ok();
}

Status ShardWrites::VisitRows(int32_t shard,
                              const std::function<void(store::Family, std::string_view, std::string_view)>& visit) {
  for (store::Family family : kShardFamilies) {
    KALAM_RETURN_IF_ERROR(store_.Scan(family, "", [&](std::string_view key, std::string_view value) {
      if (ShardOf(family, key) == shard) visit(family, key, value);
      return true;
    }));
  }
  return Status::Ok();
}

Result<std::string> ShardWrites::Snapshot(int32_t shard) {
  auto applied = AppliedIndex(shard);
  if (!applied.ok()) return applied.status();
  ShardLogEntry rows;
  rows.last_seq = committer_.last_seq();
  KALAM_RETURN_IF_ERROR(VisitRows(shard, [&](store::Family family, std::string_view key, std::string_view value) {
    rows.changes.Put(family, std::string(key), std::string(value));
  }));
  std::string out(sizeof(uint64_t), '\0');
  const uint64_t index = *applied;
  std::memcpy(out.data(), &index, sizeof index);
  return out + EncodeShardLogEntry(rows);
}

Status ShardWrites::Restore(int32_t shard, std::string_view snapshot) {
  if (snapshot.size() < sizeof(uint64_t)) return {Code::kInternalError, "a malformed shard snapshot"};
  uint64_t index = 0;
  std::memcpy(&index, snapshot.data(), sizeof index);
  auto applied = AppliedIndex(shard);
  if (!applied.ok()) return applied.status();
  // At start-up the group restores its last snapshot: the store holds that much already.
  if (index <= *applied) return Status::Ok();
  auto rows = DecodeShardLogEntry(snapshot.substr(sizeof index));
  if (!rows.ok()) return rows.status();
  if (on_flush_applied_) on_flush_applied_(0, {});
  // The shard's rows become the snapshot's: the rows it lacks go.
  store::WriteSet changes;
  std::map<std::pair<store::Family, std::string>, bool> kept;
  for (const store::WriteSet::Op& op : rows->changes.ops()) kept[{op.family, op.key}] = true;
  KALAM_RETURN_IF_ERROR(VisitRows(shard, [&](store::Family family, std::string_view key, std::string_view) {
    if (!kept.contains({family, std::string(key)})) changes.Delete(family, std::string(key));
  }));
  changes.Append(rows->changes);
  changes.Put(store::Family::kMeta, AppliedKey(shard), std::to_string(index));
  std::vector<store::ChangeEvent> no_events;
  KALAM_RETURN_IF_ERROR(committer_.ApplyReplicated(std::move(changes), no_events, rows->last_seq));
  NoteApplied(shard, index);
  return Status::Ok();
}

Status ShardWrites::Forget(int32_t shard) {
  store::WriteSet changes;
  KALAM_RETURN_IF_ERROR(VisitRows(shard, [&](store::Family family, std::string_view key, std::string_view) {
    changes.Delete(family, std::string(key));
  }));
  changes.Delete(store::Family::kMeta, AppliedKey(shard));
  KALAM_RETURN_IF_ERROR(store_.Write(changes));
  {
    std::lock_guard lock(applied_mutex_);
    applied_.erase(shard);
  }
  if (on_flush_applied_) on_flush_applied_(0, {});  // cached manifests of its scopes
  return Status::Ok();
}

}  // namespace kalam::cluster
