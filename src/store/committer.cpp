#include "store/committer.h"

#include <algorithm>
#include <chrono>
#include <limits>

namespace kalam::store {
namespace {

// 2024-01-01T00:00:00Z in Unix milliseconds.
constexpr int64_t kEpochMillis = 1704067200000;
constexpr char kSeqKey[] = "counter/last_seq";
constexpr size_t kMaxGroup = 256;

int64_t NowMillis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

int64_t SeqFloorAt(int64_t unix_millis) {
  return std::max<int64_t>(0, unix_millis - kEpochMillis) << 22;
}

int64_t SeqGenerator::Next() {
  const int64_t millis = NowMillis() - kEpochMillis;
  int64_t candidate = (millis << 22) | (static_cast<int64_t>(node_id_) << 12);
  // Same millisecond (or a clock that stepped back): count on from the last value.
  if (candidate <= last_) candidate = last_ + 1;
  last_ = candidate;
  return candidate;
}

Result<std::optional<std::string>> CommitContext::Get(Family family, const std::string& key) {
  auto it = overlay_.find({family, key});
  if (it != overlay_.end()) return it->second;
  return store_.Get(family, key);
}

void CommitContext::Remember(const std::pair<Family, std::string>& key) {
  auto it = overlay_.find(key);
  undo_.emplace_back(key, it == overlay_.end() ? std::optional<std::optional<std::string>>()
                                               : std::optional<std::optional<std::string>>(it->second));
}

void CommitContext::Undo() {
  for (auto it = undo_.rbegin(); it != undo_.rend(); ++it) {
    if (it->second) {
      overlay_[it->first] = std::move(*it->second);
    } else {
      overlay_.erase(it->first);
    }
  }
  undo_.clear();
}

void CommitContext::Put(Family family, std::string key, std::string value) {
  current_.Put(family, key, value);
  std::pair<Family, std::string> k{family, std::move(key)};
  Remember(k);
  overlay_[std::move(k)] = std::move(value);
}

void CommitContext::Delete(Family family, std::string key) {
  current_.Delete(family, key);
  std::pair<Family, std::string> k{family, std::move(key)};
  Remember(k);
  overlay_[std::move(k)] = std::nullopt;
}

void CommitContext::DeleteRange(Family family, std::string begin, std::string end) {
  // Range deletes are for dropped tables, whose keys no later statement reads.
  current_.DeleteRange(family, std::move(begin), std::move(end));
}

std::shared_ptr<const KeyWatch> Committer::Watch(uint64_t table_num) {
  auto watch = std::make_shared<KeyWatch>(table_num);
  {
    std::lock_guard lock(watch_mutex_);
    watches_.push_back(watch);
    watching_ = true;
  }
  // A commit of nothing: the groups applied before the watch began are written by now.
  (void)Commit([](CommitContext&) { return Status::Ok(); });
  return watch;
}

void Committer::Record(const WriteSet& changes) {
  std::lock_guard lock(watch_mutex_);
  std::erase_if(watches_, [](const std::weak_ptr<KeyWatch>& w) { return w.expired(); });
  if (watches_.empty()) {
    watching_ = false;
    return;
  }
  for (const auto& weak : watches_) {
    auto watch = weak.lock();
    if (!watch) continue;
    const std::string prefix = TablePrefix(watch->table_num_);
    const std::string prefix_end = TablePrefix(watch->table_num_ + 1);
    std::lock_guard keys(watch->mutex_);
    for (const auto& op : changes.ops()) {
      if (op.family != Family::kHot) continue;
      if (op.range_end) {
        // A dropped table: when it is the watched one, nothing of the flush stays valid.
        if (op.key < prefix_end && prefix < *op.range_end) watch->all_ = true;
      } else if (op.value && op.key.starts_with(prefix)) {
        watch->keys_.insert(op.key);
      }
    }
  }
}

Result<std::unique_ptr<Committer>> Committer::Open(KvStore& store, int node_id) {
  auto last = store.Get(Family::kMeta, kSeqKey);
  if (!last.ok()) return last.status();
  const int64_t floor = last->has_value() ? std::stoll(**last) : 0;
  return std::unique_ptr<Committer>(new Committer(store, node_id, floor));
}

Committer::Begun Committer::BeginTransaction() {
  Begun begun;
  std::shared_lock write(write_mutex_);
  begun.snapshot = store_.TakeSnapshot();
  begun.seq = durable_seq_;
  // Counted open before a later group can be written: whoever reads last_seq() after this
  // and waits for older transactions (compaction) finds it.
  std::lock_guard lock(open_mutex_);
  open_.insert(begun.seq);
  return begun;
}

void Committer::EndTransaction(int64_t begin_seq) {
  std::lock_guard lock(open_mutex_);
  auto it = open_.find(begin_seq);
  if (it != open_.end()) open_.erase(it);
}

int64_t Committer::OldestOpenTransaction() {
  std::lock_guard lock(open_mutex_);
  return open_.empty() ? std::numeric_limits<int64_t>::max() : *open_.begin();
}

Status Committer::Commit(const std::function<Status(CommitContext&)>& apply, std::optional<uint64_t> fence) {
  Pending self{&apply, Status::Ok(), false, false, fence};
  return Enqueue(self);
}

Status Committer::CommitLocal(const std::function<Status(CommitContext&)>& apply) {
  Pending self{&apply, Status::Ok(), false, true, std::nullopt};
  return Enqueue(self);
}

int32_t Committer::ShardOf(const WriteSet& changes) {
  int32_t shard = -1;
  for (const WriteSet::Op& op : changes.ops()) {
    // Rows and their markers; and keys of the topics family (a topic's, or an outbox's),
    // range deletes of them too (trimmed messages).
    const bool topics = op.family == Family::kTopics;
    if (!topics && (op.range_end || (op.family != Family::kHot && op.family != Family::kStream))) continue;
    const std::optional<int32_t> of = replicator_->ShardOf(op.family, op.key);
    if (!of) continue;
    if (shard >= 0 && *of != shard) return kSeveralShards;
    shard = *of;
  }
  return shard;
}

Status Committer::Enqueue(Pending& self) {
  std::unique_lock lock(mutex_);
  queue_.push_back(&self);
  // Wait until a leader has committed us, or until we may lead.
  cv_.wait(lock, [&] { return self.done || !leader_active_; });
  if (self.done) return self.status;

  leader_active_ = true;
  std::vector<Pending*> group;
  while (!queue_.empty() && group.size() < kMaxGroup) {
    group.push_back(queue_.front());
    queue_.pop_front();
  }
  lock.unlock();

  CommitContext context(store_, seq_, removed_from_hot_);
  // Cluster mode: the statements' shard parts, and which part each statement is in.
  std::vector<Replicator::Part> parts;
  std::vector<int> part_of(group.size(), -1);
  // What the group's statements read through the context is read from now on.
  const uint64_t group_fence = replicator_ != nullptr ? replicator_->LeadershipEpoch() : Replicator::kNoFence;
  if (replicator_ != nullptr) seq_.Raise(replicated_seq_.load());
  const int64_t seq_before = seq_.last();
  for (size_t k = 0; k < group.size(); ++k) {
    Pending* p = group[k];
    context.current_ = WriteSet();
    context.current_events_.clear();
    context.undo_.clear();
    p->status = (*p->apply)(context);
    if (p->status.ok() && hook_ != nullptr && !context.current_events_.empty()) {
      p->status = hook_->OnStatement(context, context.current_events_);
    }
    const int32_t shard = p->status.ok() && replicator_ != nullptr && !p->local ? ShardOf(context.current_) : -1;
    if (shard == kSeveralShards) {
      p->status = {Code::kUnsupported,
                   "In cluster mode a statement or transaction may change the rows of one shard only: "
                   "one user's rows of USER and STREAM tables, or one SHARED table's"};
    }
    if (p->status.ok()) {
      if (watching_) Record(context.current_);
      if (shard >= 0) {
        auto it = std::find_if(parts.begin(), parts.end(), [&](const Replicator::Part& x) { return x.shard == shard; });
        if (it == parts.end()) it = parts.insert(parts.end(), Replicator::Part{shard, {}, {}, 0, group_fence});
        it->fence = std::min(it->fence, p->fence.value_or(group_fence));
        it->changes.Append(context.current_);
        for (auto& e : context.current_events_) it->events.push_back(std::move(e));
        part_of[k] = static_cast<int>(it - parts.begin());
      } else {
        context.group_.Append(context.current_);
        for (auto& e : context.current_events_) context.group_events_.push_back(std::move(e));
      }
    } else {
      context.Undo();  // its changes never happened
    }
  }
  // Each shard's part is written by its replicas (here too) once its log has it.
  std::vector<Status> replicated;
  if (!parts.empty()) {
    for (Replicator::Part& part : parts) part.last_seq = seq_.last();
    replicated = replicator_->Replicate(parts);
  }
  Status written = Status::Ok();
  if (!context.group_.empty() || (parts.empty() && seq_.last() != seq_before)) {
    std::unique_lock write(write_mutex_);
    const int64_t last = std::max(durable_seq_, seq_.last());
    context.group_.Put(Family::kMeta, kSeqKey, std::to_string(last));
    written = store_.Write(context.group_);
    if (written.ok()) durable_seq_ = last;
  }
  bool all_written = written.ok();
  for (const Status& s : replicated) all_written = all_written && s.ok();
  if (hook_ != nullptr) hook_->OnGroupEnd(all_written);
  if (written.ok() && listener_ && !context.group_events_.empty()) {
    std::lock_guard publishing(listener_mutex_);
    listener_(context.group_events_, seq_.last());
  }

  lock.lock();
  for (size_t k = 0; k < group.size(); ++k) {
    Pending* p = group[k];
    const Status& outcome = part_of[k] >= 0 ? replicated[static_cast<size_t>(part_of[k])] : written;
    if (!outcome.ok() && p->status.ok()) p->status = outcome;
    p->done = true;
  }
  leader_active_ = false;
  ++groups_done_;
  lock.unlock();
  cv_.notify_all();
  return self.status;
}

Status Committer::ApplyReplicated(WriteSet changes, std::vector<ChangeEvent>& events, int64_t last_seq) {
  int64_t seen = replicated_seq_.load();
  while (seen < last_seq && !replicated_seq_.compare_exchange_weak(seen, last_seq)) {
  }
  {
    std::unique_lock write(write_mutex_);
    const int64_t last = std::max(durable_seq_, last_seq);
    changes.Put(Family::kMeta, kSeqKey, std::to_string(last));
    if (watching_) Record(changes);
    KALAM_RETURN_IF_ERROR(store_.Write(changes));
    durable_seq_ = last;
  }
  if (listener_ && !events.empty()) {
    std::lock_guard publishing(listener_mutex_);
    listener_(events, last_seq);
  }
  return Status::Ok();
}

bool Committer::StepAside(std::chrono::microseconds max_wait) {
  std::unique_lock lock(mutex_);
  if (queue_.empty()) return false;
  // The statements queued now go in the next group to start: the one after the running
  // group, if any. Only they are waited for, so a steady stream of writers does not keep
  // the caller waiting; each group's end notifies.
  const uint64_t served = groups_done_ + (leader_active_ ? 2 : 1);
  cv_.wait_for(lock, max_wait, [&] { return groups_done_ >= served; });
  return true;
}

}  // namespace kalam::store
