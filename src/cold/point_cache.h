// Decoded row groups of cold segments, for primary-key point reads.
//
// Reading one flushed key through the engine decompresses the whole Parquet row group that
// holds it (up to 122,880 rows of every column: ~5 ms, most of it in zstd), however few
// rows it wants. Keys read again are common (a chat's recent history, a profile), so the
// row groups point reads keep coming back to are kept decoded here, by key, within a byte
// budget ([storage] cold_cache_mb), least recently used first out. A row group is decoded
// only on its second miss (kAdmitAfterMisses): reads spread over a table far larger than
// the budget go on reading the one row each, without decoding whole row groups for
// nothing.
//
// Entries are named by the segment file, which is never rewritten (a flush or compaction
// writes a new one), and by the table's schema version, as rows are decoded under the
// current schema. Files that went away leave their entries to age out.
#pragma once

#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include <duckdb.hpp>

#include "store/row_codec.h"

namespace kalam::cold {

// The rows of one row group: each row encoded by the row codec under the table's current
// schema (store::EncodeRow), found by its key cell's encoding (store::AppendKeyCell). One
// buffer and a sorted index: ~12 bytes a row besides the key and the row themselves.
class DecodedRowGroup {
 public:
  // Any order; then Seal() once, before Find.
  void Add(std::string_view key, std::string_view row);
  void Seal();
  // The encoded row of key; nullopt when the row group has none.
  std::optional<std::string_view> Find(std::string_view key) const;
  size_t rows() const { return index_.size(); }
  size_t bytes() const { return sizeof(*this) + data_.capacity() + index_.capacity() * sizeof(Entry); }

 private:
  struct Entry {
    uint64_t offset;  // of the key in data_, the row right after it
    uint32_t key_size, row_size;
  };
  std::string_view KeyOf(const Entry& e) const { return std::string_view(data_).substr(e.offset, e.key_size); }
  std::string data_;
  std::vector<Entry> index_;  // by key, once sealed
};

// A segment's row groups: the key column's min and max in each, as the file's footer says
// (nullopt: not recorded, so any key may be in it).
struct SegmentLayout {
  std::vector<std::optional<std::pair<duckdb::Value, duckdb::Value>>> key_ranges;
};

class PointCache {
 public:
  static constexpr int kAdmitAfterMisses = 2;

  explicit PointCache(size_t budget_bytes) : budget_(budget_bytes) {}

  // The name of a row group's entry.
  static std::string Name(const std::string& file, size_t row_group, uint32_t schema_version);

  // The decoded row group, or null (a miss, counted: see Admit).
  std::shared_ptr<const DecodedRowGroup> Find(const std::string& name);
  // Whether a row group missed often enough to be decoded now; counts this miss.
  bool Admit(const std::string& name);
  // Keeps group (dropped at once when it alone is over the budget).
  void Put(const std::string& name, std::shared_ptr<const DecodedRowGroup> group);

  std::shared_ptr<const SegmentLayout> FindLayout(const std::string& file);
  void PutLayout(const std::string& file, std::shared_ptr<const SegmentLayout> layout);

  struct Stats {
    uint64_t hits = 0, misses = 0, decoded = 0;
    size_t bytes = 0, groups = 0;
  };
  Stats stats() const;

 private:
  struct Entry {
    std::shared_ptr<const DecodedRowGroup> group;
    std::shared_ptr<const SegmentLayout> layout;
    size_t bytes = 0;
    std::list<std::string>::iterator lru;  // its place in lru_
  };
  // REQUIRES: mutex_ held.
  void Insert(const std::string& name, Entry entry);
  void Touch(Entry& entry);

  const size_t budget_;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, Entry> entries_;
  std::list<std::string> lru_;  // most recently used first
  size_t bytes_ = 0;
  std::unordered_map<std::string, int> misses_;  // of row groups not kept
  Stats stats_;
};

}  // namespace kalam::cold
