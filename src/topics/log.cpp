#include "topics/log.h"

#include "topics/keys.h"

namespace kalam::topics {
namespace {

using store::Family;

void AppendLittle(std::string& out, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

uint64_t ReadLittle(std::string_view in, size_t at, int bytes) {
  uint64_t v = 0;
  for (int i = bytes - 1; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(in[at + i]);
  return v;
}

std::string PartitionPrefix(char kind, uint64_t topic_num, int32_t partition) {
  std::string key(1, kind);
  AppendBigEndian(key, topic_num, 8);
  AppendBigEndian(key, static_cast<uint32_t>(partition), 4);
  return key;
}

constexpr size_t kMessageKeySize = 1 + 8 + 4 + 8;

}  // namespace

std::string MessageKey(uint64_t topic_num, int32_t partition, int64_t offset) {
  std::string key = PartitionPrefix('m', topic_num, partition);
  AppendBigEndian(key, static_cast<uint64_t>(offset), 8);
  return key;
}

std::string TopicLog::NextOffsetKey(uint64_t topic_num, int32_t partition) {
  return PartitionPrefix('n', topic_num, partition);
}

std::string TopicLog::MessagePrefix(uint64_t topic_num, int32_t partition) {
  return PartitionPrefix('m', topic_num, partition);
}

std::string TopicLog::OffsetValue(int64_t offset) {
  std::string value;
  AppendBigEndian(value, static_cast<uint64_t>(offset), 8);
  return value;
}

std::pair<std::string, std::string> TopicLog::TopicRange(uint64_t topic_num) {
  std::string begin(1, 'm');
  AppendBigEndian(begin, topic_num, 8);
  std::string end(1, 'm');
  AppendBigEndian(end, topic_num + 1, 8);
  return {begin, end};
}

std::pair<std::string, std::string> TopicLog::PartitionRange(uint64_t topic_num, int32_t partition,
                                                             int64_t below) {
  return {MessageKey(topic_num, partition, 0), MessageKey(topic_num, partition, below)};
}

std::string EncodeMessage(const Message& m) {
  std::string out;
  out.reserve(1 + 8 + 12 + m.key.size() + m.user.size() + m.payload.size());
  out.push_back(static_cast<char>(m.op));
  AppendLittle(out, static_cast<uint64_t>(m.timestamp_ms), 8);
  for (const std::string* part : {&m.key, &m.user, &m.payload}) {
    AppendLittle(out, part->size(), 4);
    out += *part;
  }
  return out;
}

Result<Message> DecodeMessage(std::string_view key, std::string_view value) {
  const Status damaged(Code::kInternalError, "A topic message is damaged");
  if (key.size() != kMessageKeySize || value.size() < 9) return damaged;
  Message m;
  m.partition = static_cast<int32_t>(ReadBigEndian(key, 9, 4));
  m.offset = static_cast<int64_t>(ReadBigEndian(key, 13, 8));
  const auto op = static_cast<unsigned char>(value[0]);
  if (op > static_cast<unsigned char>(Op::kDelete)) return damaged;
  m.op = static_cast<Op>(op);
  m.timestamp_ms = static_cast<int64_t>(ReadLittle(value, 1, 8));
  size_t at = 9;
  for (std::string* part : {&m.key, &m.user, &m.payload}) {
    if (value.size() - at < 4) return damaged;
    const size_t n = ReadLittle(value, at, 4);
    at += 4;
    if (value.size() - at < n) return damaged;
    part->assign(value.substr(at, n));
    at += n;
  }
  return m;
}

Result<TopicLog::Bounds> TopicLog::StoredBounds(uint64_t topic_num, int32_t partition) const {
  Bounds bounds;
  auto next = store_.Get(Family::kTopics, NextOffsetKey(topic_num, partition));
  if (!next.ok()) return next.status();
  if (next->has_value() && (*next)->size() == 8) bounds.next = static_cast<int64_t>(ReadBigEndian(**next, 0, 8));
  bounds.earliest = bounds.next;
  auto cursor = store_.NewCursor(Family::kTopics, PartitionPrefix('m', topic_num, partition));
  if (cursor->Valid()) bounds.earliest = static_cast<int64_t>(ReadBigEndian(cursor->key(), 13, 8));
  KALAM_RETURN_IF_ERROR(cursor->status());
  return bounds;
}

Status TopicLog::Open(const TopicState& state) {
  for (const auto& [id, topic] : state.topics) KALAM_RETURN_IF_ERROR(Reload(topic.topic_num, topic.partitions));
  return Status::Ok();
}

Status TopicLog::Reload(uint64_t topic_num, int32_t partitions) {
  for (int32_t p = 0; p < partitions; ++p) {
    auto stored = StoredBounds(topic_num, p);
    if (!stored.ok()) return stored.status();
    std::lock_guard lock(mutex_);
    PartitionState& ps = partitions_[{topic_num, p}];
    ps.next = std::max(ps.next, stored->next);
    ps.earliest = std::max(ps.earliest, std::min(stored->earliest, ps.next));
  }
  return Status::Ok();
}

TopicLog::Bounds TopicLog::BoundsOf(uint64_t topic_num, int32_t partition) const {
  std::lock_guard lock(mutex_);
  auto it = partitions_.find({topic_num, partition});
  if (it == partitions_.end()) return {};
  return {it->second.earliest, it->second.next};
}

Result<std::vector<Message>> TopicLog::Read(uint64_t topic_num, int32_t partition, int64_t from,
                                            size_t limit) const {
  const Bounds bounds = BoundsOf(topic_num, partition);
  from = std::max(from, bounds.earliest);
  std::vector<Message> messages;
  if (from >= bounds.next || limit == 0) return messages;
  auto cursor = store_.NewCursor(Family::kTopics, PartitionPrefix('m', topic_num, partition));
  cursor->Seek(MessageKey(topic_num, partition, from));
  for (; cursor->Valid() && messages.size() < limit; cursor->Next()) {
    auto m = DecodeMessage(cursor->key(), cursor->value());
    if (!m.ok()) return m.status();
    if (m->offset >= bounds.next) break;
    messages.push_back(std::move(m).value());
  }
  KALAM_RETURN_IF_ERROR(cursor->status());
  return messages;
}

int64_t TopicLog::Assign(uint64_t topic_num, int32_t partition) {
  auto pending = pending_.find({topic_num, partition});
  if (pending == pending_.end()) {
    int64_t durable = 0;
    {
      std::lock_guard lock(mutex_);
      auto it = partitions_.find({topic_num, partition});
      if (it == partitions_.end()) {
        it = partitions_.emplace(std::make_pair(topic_num, partition), PartitionState()).first;
      }
      durable = it->second.next;
    }
    pending = pending_.emplace(std::make_pair(topic_num, partition), durable).first;
  }
  return pending->second++;
}

void TopicLog::EndGroup(bool written) {
  if (pending_.empty()) return;
  written = written || never_reuse_;
  std::vector<std::function<void()>> wakes;
  {
    std::lock_guard lock(mutex_);
    if (written) {
      uint64_t last_topic = 0;
      for (const auto& [key, next] : pending_) {
        auto it = partitions_.find(key);
        if (it != partitions_.end()) it->second.next = next;
        if (key.first == last_topic) continue;
        last_topic = key.first;
        Waiters& w = waiters_[key.first];
        ++w.version;
        for (auto& [id, wake] : w.wakes) wakes.push_back(std::move(wake));
        w.wakes.clear();
      }
    }
  }
  pending_.clear();
  for (auto& wake : wakes) wake();
}

void TopicLog::Trimmed(uint64_t topic_num, int32_t partition, int64_t earliest) {
  std::lock_guard lock(mutex_);
  auto it = partitions_.find({topic_num, partition});
  if (it != partitions_.end()) it->second.earliest = std::max(it->second.earliest, std::min(earliest, it->second.next));
}

void TopicLog::Forget(uint64_t topic_num) {
  std::vector<std::function<void()>> wakes;
  {
    std::lock_guard lock(mutex_);
    std::erase_if(partitions_, [&](const auto& entry) { return entry.first.first == topic_num; });
    auto it = waiters_.find(topic_num);
    if (it != waiters_.end()) {
      for (auto& [id, wake] : it->second.wakes) wakes.push_back(std::move(wake));
      waiters_.erase(it);
    }
  }
  for (auto& wake : wakes) wake();  // they find the topic gone
}

uint64_t TopicLog::Version(uint64_t topic_num) const {
  std::lock_guard lock(mutex_);
  auto it = waiters_.find(topic_num);
  return it == waiters_.end() ? 0 : it->second.version;
}

uint64_t TopicLog::Wait(uint64_t topic_num, uint64_t version, std::function<void()> wake) {
  {
    std::lock_guard lock(mutex_);
    Waiters& w = waiters_[topic_num];
    if (w.version == version) {
      const uint64_t id = next_wait_id_++;
      w.wakes.emplace(id, std::move(wake));
      return id;
    }
  }
  wake();
  return 0;
}

void TopicLog::CancelWait(uint64_t topic_num, uint64_t id) {
  std::lock_guard lock(mutex_);
  auto it = waiters_.find(topic_num);
  if (it != waiters_.end()) it->second.wakes.erase(id);
}

}  // namespace kalam::topics
