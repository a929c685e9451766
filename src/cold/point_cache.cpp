#include "cold/point_cache.h"

#include <algorithm>

namespace kalam::cold {
namespace {

// A hash node's and a list node's own memory, roughly.
constexpr size_t kNodeBytes = 64;
// The misses remembered for row groups not kept; past it they start again from zero.
constexpr size_t kMaxMissRecords = 65536;

}  // namespace

void DecodedRowGroup::Add(std::string_view key, std::string_view row) {
  index_.push_back({data_.size(), static_cast<uint32_t>(key.size()), static_cast<uint32_t>(row.size())});
  data_.append(key);
  data_.append(row);
}

void DecodedRowGroup::Seal() {
  std::sort(index_.begin(), index_.end(), [&](const Entry& a, const Entry& b) { return KeyOf(a) < KeyOf(b); });
  data_.shrink_to_fit();
  index_.shrink_to_fit();
}

std::optional<std::string_view> DecodedRowGroup::Find(std::string_view key) const {
  auto it = std::lower_bound(index_.begin(), index_.end(), key,
                             [&](const Entry& e, std::string_view k) { return KeyOf(e) < k; });
  if (it == index_.end() || KeyOf(*it) != key) return std::nullopt;
  return std::string_view(data_).substr(it->offset + it->key_size, it->row_size);
}

std::string PointCache::Name(const std::string& file, size_t row_group, uint32_t schema_version) {
  return file + '\n' + std::to_string(row_group) + '\n' + std::to_string(schema_version);
}

void PointCache::Touch(Entry& entry) { lru_.splice(lru_.begin(), lru_, entry.lru); }

std::shared_ptr<const DecodedRowGroup> PointCache::Find(const std::string& name) {
  std::lock_guard lock(mutex_);
  auto it = entries_.find(name);
  if (it == entries_.end() || it->second.group == nullptr) {
    ++stats_.misses;
    return nullptr;
  }
  ++stats_.hits;
  Touch(it->second);
  return it->second.group;
}

bool PointCache::Admit(const std::string& name) {
  std::lock_guard lock(mutex_);
  if (misses_.size() >= kMaxMissRecords) misses_.clear();
  return ++misses_[name] >= kAdmitAfterMisses;
}

void PointCache::Insert(const std::string& name, Entry entry) {
  if (entry.bytes > budget_) return;
  auto it = entries_.find(name);
  if (it != entries_.end()) {
    bytes_ -= it->second.bytes;
    lru_.erase(it->second.lru);
    entries_.erase(it);
  }
  lru_.push_front(name);
  entry.lru = lru_.begin();
  bytes_ += entry.bytes;
  entries_.emplace(name, std::move(entry));
  while (bytes_ > budget_ && !lru_.empty()) {
    auto last = entries_.find(lru_.back());
    bytes_ -= last->second.bytes;
    entries_.erase(last);
    lru_.pop_back();
  }
}

void PointCache::Put(const std::string& name, std::shared_ptr<const DecodedRowGroup> group) {
  std::lock_guard lock(mutex_);
  misses_.erase(name);
  ++stats_.decoded;
  Entry entry;
  entry.bytes = group->bytes() + kNodeBytes + name.size();
  entry.group = std::move(group);
  Insert(name, std::move(entry));
}

std::shared_ptr<const SegmentLayout> PointCache::FindLayout(const std::string& file) {
  std::lock_guard lock(mutex_);
  auto it = entries_.find(file);
  if (it == entries_.end() || it->second.layout == nullptr) return nullptr;
  Touch(it->second);
  return it->second.layout;
}

void PointCache::PutLayout(const std::string& file, std::shared_ptr<const SegmentLayout> layout) {
  std::lock_guard lock(mutex_);
  Entry entry;
  entry.bytes = kNodeBytes + file.size() + layout->key_ranges.size() * 2 * sizeof(duckdb::Value);
  entry.layout = std::move(layout);
  Insert(file, std::move(entry));
}

PointCache::Stats PointCache::stats() const {
  std::lock_guard lock(mutex_);
  Stats s = stats_;
  s.bytes = bytes_;
  for (const auto& [name, entry] : entries_) s.groups += entry.group != nullptr ? 1 : 0;
  return s;
}

}  // namespace kalam::cold
