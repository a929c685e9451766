#include "topics/consumer_groups.h"
#include "topics/keys.h"

#include "common/clock.h"
#include "store/committer.h"

namespace kalam::topics {
namespace {

using store::Family;

std::string TopicGroupsPrefix(uint64_t topic_num) {
  std::string key(1, 'g');
  AppendBigEndian(key, topic_num, 8);
  return key;
}

std::string GroupKey(uint64_t topic_num, const std::string& group, int32_t partition) {
  std::string key = TopicGroupsPrefix(topic_num);
  key += group;
  key.push_back('\0');
  AppendBigEndian(key, static_cast<uint32_t>(partition), 4);
  return key;
}

}  // namespace

Status ConsumerGroups::CheckName(const std::string& group) {
  if (group.empty() || group.size() > 128) {
    return Status(Code::kInvalidInput, "A consumer group's name has 1 to 128 bytes");
  }
  for (unsigned char c : group) {
    if (c < 0x20 || c == 0x7f) {
      return Status(Code::kInvalidInput, "A consumer group's name may not hold control characters");
    }
  }
  return Status::Ok();
}

std::pair<std::string, std::string> ConsumerGroups::TopicRange(uint64_t topic_num) {
  return {TopicGroupsPrefix(topic_num), TopicGroupsPrefix(topic_num + 1)};
}

Status ConsumerGroups::Scan(std::string_view prefix, const std::function<void(Key key, State state)>& take) const {
  Status damaged = Status::Ok();
  Status scanned = store_.Scan(Family::kTopics, prefix, [&](std::string_view key, std::string_view value) {
    // 'g' + 8 + group + 0 + 4
    if (key.size() < 1 + 8 + 1 + 4 || key[key.size() - 5] != '\0' || value.size() != 16) {
      damaged = Status(Code::kInternalError, "A consumer group record is damaged");
      return false;
    }
    const uint64_t topic_num = ReadBigEndian(key, 1, 8);
    std::string group(key.substr(9, key.size() - 9 - 5));
    const auto partition = static_cast<int32_t>(ReadBigEndian(key, key.size() - 4, 4));
    State state;
    state.committed = static_cast<int64_t>(ReadBigEndian(value, 0, 8));
    state.updated_at = static_cast<int64_t>(ReadBigEndian(value, 8, 8));
    take({topic_num, std::move(group), partition}, std::move(state));
    return true;
  });
  KALAM_RETURN_IF_ERROR(scanned);
  return damaged;
}

Status ConsumerGroups::Open() {
  std::lock_guard lock(mutex_);
  return Scan("g", [&](Key key, State state) { groups_[std::move(key)] = std::move(state); });
}

Status ConsumerGroups::Reload(uint64_t topic_num) {
  std::lock_guard lock(mutex_);
  std::map<Key, State> stored;
  KALAM_RETURN_IF_ERROR(
      Scan(TopicGroupsPrefix(topic_num), [&](Key key, State state) { stored[std::move(key)] = std::move(state); }));
  std::erase_if(groups_, [&](const auto& entry) { return std::get<0>(entry.first) == topic_num; });
  groups_.merge(stored);
  return Status::Ok();
}

Result<std::vector<GroupOffsetRow>> ConsumerGroups::StoredRows(uint64_t topic_num) const {
  std::vector<GroupOffsetRow> rows;
  KALAM_RETURN_IF_ERROR(Scan(TopicGroupsPrefix(topic_num), [&](Key key, State state) {
    rows.push_back({std::get<0>(key), std::get<1>(key), std::get<2>(key), state.committed, 0, state.updated_at});
  }));
  return rows;
}

Status ConsumerGroups::Save(const Key& key, const State& state) {
  std::string value;
  AppendBigEndian(value, static_cast<uint64_t>(state.committed), 8);
  AppendBigEndian(value, static_cast<uint64_t>(state.updated_at), 8);
  const std::string k = GroupKey(std::get<0>(key), std::get<1>(key), std::get<2>(key));
  return committer_.Commit([&](store::CommitContext& commit) {
    commit.PutUnread(Family::kTopics, k, value);
    return Status::Ok();
  });
}

Result<ConsumerGroups::State*> ConsumerGroups::StateOf(const Key& key, std::optional<StartAt> start) {
  auto it = groups_.find(key);
  if (it != groups_.end()) return &it->second;
  if (!start) return static_cast<State*>(nullptr);
  const TopicLog::Bounds bounds = log_.BoundsOf(std::get<0>(key), std::get<2>(key));
  int64_t first = bounds.next;
  if (start->kind == StartAt::Kind::kEarliest) first = bounds.earliest;
  if (start->kind == StartAt::Kind::kOffset) first = std::clamp(start->offset, bounds.earliest, bounds.next);
  State state;
  state.committed = first - 1;
  state.updated_at = NowMicros();
  // The group's place is durable from its first read: FROM LATEST means the messages after
  // this moment, also for the next read and after a restart.
  KALAM_RETURN_IF_ERROR(Save(key, state));
  return &groups_.emplace(key, std::move(state)).first->second;
}

Status ConsumerGroups::Begin(uint64_t topic_num, const std::string& group, int32_t partitions,
                             StartAt start) {
  std::lock_guard lock(mutex_);
  for (int32_t p = 0; p < partitions; ++p) {
    auto state = StateOf({topic_num, group, p}, start);
    if (!state.ok()) return state.status();
  }
  return Status::Ok();
}

Result<std::vector<Message>> ConsumerGroups::Consume(uint64_t topic_num, const std::string& group,
                                                     int32_t partition, StartAt start, size_t limit,
                                                     int64_t now_ms) {
  std::lock_guard lock(mutex_);
  auto state_or = StateOf({topic_num, group, partition}, start);
  if (!state_or.ok()) return state_or.status();
  State& state = **state_or;
  while (!state.reserved.empty() && state.reserved.front().to <= state.committed) state.reserved.pop_front();
  const int64_t until = now_ms + visibility_timeout_ms_;
  // A lapsed reservation is delivered again, up to limit of it; the rest stays lapsed for
  // the next read.
  for (size_t i = 0; i < state.reserved.size(); ++i) {
    Reservation& r = state.reserved[i];
    if (r.acked || r.until_ms > now_ms) continue;
    const int64_t from = std::max(r.from, state.committed + 1);
    auto messages = log_.Read(topic_num, partition, from, limit);
    if (!messages.ok()) return messages.status();
    std::erase_if(*messages, [&](const Message& m) { return m.offset > r.to; });
    if (messages->empty()) {  // gone by retention or CLEAR TOPIC
      state.reserved.erase(state.reserved.begin() + static_cast<std::ptrdiff_t>(i));
      --i;
      continue;
    }
    const int64_t last = messages->back().offset;
    if (last < r.to) {
      state.reserved.insert(state.reserved.begin() + static_cast<std::ptrdiff_t>(i) + 1,
                            Reservation{last + 1, r.to, r.until_ms, false});
    }
    state.reserved[i] = Reservation{from, last, until, false};
    return messages;
  }
  const int64_t after = state.reserved.empty() ? state.committed + 1 : state.reserved.back().to + 1;
  auto messages = log_.Read(topic_num, partition, after, limit);
  if (!messages.ok()) return messages.status();
  if (!messages->empty()) {
    state.reserved.push_back({messages->front().offset, messages->back().offset, until, false});
  }
  return messages;
}

Result<int64_t> ConsumerGroups::Ack(uint64_t topic_num, const std::string& group, int32_t partition,
                                    int64_t upto) {
  const TopicLog::Bounds bounds = log_.BoundsOf(topic_num, partition);
  if (upto < 0) return Status(Code::kInvalidInput, "The offset to acknowledge must not be negative");
  if (upto >= bounds.next) {
    return Status(Code::kInvalidInput,
                  "Offset " + std::to_string(upto) + " is beyond the end of partition " +
                      std::to_string(partition) + (bounds.next == 0 ? " (it holds no message yet)"
                                                                    : " (its last offset is " + std::to_string(bounds.next - 1) + ")"));
  }
  std::lock_guard lock(mutex_);
  auto state_or = StateOf({topic_num, group, partition}, StartAt{StartAt::Kind::kOffset, upto + 1});
  if (!state_or.ok()) return state_or.status();
  State& state = **state_or;
  auto& reserved = state.reserved;
  // The acknowledging consumer's own range (the one holding upto) is done up to upto.
  for (size_t i = 0; i < reserved.size(); ++i) {
    Reservation& r = reserved[i];
    if (r.from > upto || r.to < upto) continue;
    if (r.to > upto) {
      reserved.insert(reserved.begin() + static_cast<std::ptrdiff_t>(i) + 1,
                      Reservation{upto + 1, r.to, r.until_ms, r.acked});
    }
    reserved[i].to = upto;
    reserved[i].acked = true;
    break;
  }
  // The committed offset moves over acknowledged ranges and over offsets up to upto that no
  // one holds; it stops before a range another consumer still holds (or that lapsed and is
  // due again), so one consumer's ACK never covers what another has not finished.
  int64_t committed = state.committed;
  size_t i = 0;
  while (i < reserved.size() && reserved[i].to <= committed) ++i;
  while (true) {
    const int64_t next = committed + 1;
    if (i < reserved.size() && reserved[i].from <= next) {
      if (!reserved[i].acked) break;
      committed = reserved[i].to;
      ++i;
      continue;
    }
    if (next > upto) break;
    committed = i < reserved.size() ? std::min(upto, reserved[i].from - 1) : upto;
  }
  if (committed > state.committed) {
    State next = state;
    next.committed = committed;
    next.updated_at = NowMicros();
    KALAM_RETURN_IF_ERROR(Save({topic_num, group, partition}, next));
    state.committed = next.committed;
    state.updated_at = next.updated_at;
  }
  while (!reserved.empty() && reserved.front().to <= state.committed) reserved.pop_front();
  return state.committed;
}

std::optional<int64_t> ConsumerGroups::NextLapse(uint64_t topic_num, const std::string& group,
                                                 int32_t partition) const {
  std::lock_guard lock(mutex_);
  auto it = groups_.find({topic_num, group, partition});
  if (it == groups_.end()) return std::nullopt;
  std::optional<int64_t> earliest;
  for (const auto& r : it->second.reserved) {
    if (r.acked || r.to <= it->second.committed) continue;
    earliest = earliest ? std::min(*earliest, r.until_ms) : r.until_ms;
  }
  return earliest;
}

Status ConsumerGroups::Reset(uint64_t topic_num, const std::string& group, int32_t partition, int64_t next) {
  std::lock_guard lock(mutex_);
  const Key key{topic_num, group, partition};
  State state;
  state.committed = next - 1;
  state.updated_at = NowMicros();
  KALAM_RETURN_IF_ERROR(Save(key, state));
  groups_[key] = std::move(state);
  return Status::Ok();
}

int64_t ConsumerGroups::NextOf(uint64_t topic_num, const std::string& group, int32_t partition) const {
  std::lock_guard lock(mutex_);
  auto it = groups_.find({topic_num, group, partition});
  if (it == groups_.end()) return 0;
  const State& state = it->second;
  return state.reserved.empty() ? state.committed + 1 : std::max(state.committed, state.reserved.back().to) + 1;
}

std::optional<int64_t> ConsumerGroups::LowestCommitted(uint64_t topic_num, int32_t partition) const {
  std::lock_guard lock(mutex_);
  std::optional<int64_t> lowest;
  for (auto it = groups_.lower_bound({topic_num, std::string(), 0});
       it != groups_.end() && std::get<0>(it->first) == topic_num; ++it) {
    if (std::get<2>(it->first) != partition) continue;
    lowest = lowest ? std::min(*lowest, it->second.committed) : it->second.committed;
  }
  return lowest;
}

std::vector<GroupOffsetRow> ConsumerGroups::Rows() const {
  std::lock_guard lock(mutex_);
  std::vector<GroupOffsetRow> rows;
  for (const auto& [key, state] : groups_) {
    int64_t reserved_until = 0;
    for (const auto& r : state.reserved) {
      if (r.to > state.committed && !r.acked) reserved_until = std::max(reserved_until, r.until_ms);
    }
    rows.push_back({std::get<0>(key), std::get<1>(key), std::get<2>(key), state.committed, reserved_until,
                    state.updated_at});
  }
  return rows;
}

bool ConsumerGroups::HasGroup(uint64_t topic_num, const std::string& group) const {
  std::lock_guard lock(mutex_);
  auto it = groups_.lower_bound({topic_num, group, 0});
  return it != groups_.end() && std::get<0>(it->first) == topic_num && std::get<1>(it->first) == group;
}

void ConsumerGroups::Forget(uint64_t topic_num) {
  std::lock_guard lock(mutex_);
  std::erase_if(groups_, [&](const auto& entry) { return std::get<0>(entry.first) == topic_num; });
}

}  // namespace kalam::topics
