#include "live/snapshot.h"

#include <chrono>
#include <deque>
#include <future>
#include <map>
#include <mutex>
#include <tuple>
#include <unordered_map>

#include <duckdb.hpp>

#include "cold/cold_store.h"
#include "common/clock.h"
#include "common/json_text.h"
#include "query/cells.h"
#include "query/table_scan.h"
#include "store/committer.h"
#include "store/kv_store.h"

namespace kalam::live {

using query::DecodeCurrentRow;

struct SnapshotCache::Entry {
  uint64_t table_num = 0;
  uint32_t schema_version = 0;
  int64_t as_of = 0;                              // the rows are those with _seq <= as_of
  bool too_large = false;                         // no rows kept: read the store directly
  std::vector<int64_t> seqs;                      // in _seq order
  std::vector<std::vector<store::Cell>> cells;    // current column order

  // The rows (indices, in _seq order) whose column holds the value of key.
  const std::vector<uint32_t>& Lookup(int column, ColumnType type, const std::string& key) {
    std::lock_guard lock(index_mutex);
    auto [it, fresh] = index.try_emplace(column);
    if (fresh) {
      for (uint32_t i = 0; i < cells.size(); ++i) {
        it->second[EqualityKey(column, type, cells[i][column])].push_back(i);
      }
    }
    static const std::vector<uint32_t> kNone;
    auto found = it->second.find(key);
    return found == it->second.end() ? kNone : found->second;
  }

 private:
  std::mutex index_mutex;
  std::map<int, std::unordered_map<std::string, std::vector<uint32_t>>> index;
};

struct SnapshotCache::State {
  std::function<int64_t(const std::string&)> last_change;
  size_t max_rows;
  std::mutex mutex;
  // By table id and scope; a future while the first reader builds it.
  std::map<std::string, std::shared_future<std::shared_ptr<Entry>>> entries;
  // (key, entry, its charge), oldest first; an entry is charged max(1, rows).
  std::deque<std::tuple<std::string, const Entry*, size_t>> order;
  static constexpr size_t kMaxEntries = 4096;
  size_t rows = 0;

  bool Valid(const Entry& e, const catalog::TableDef& table, int64_t max_seq) const {
    return e.table_num == table.table_num && e.schema_version == table.current().version &&
           last_change(table.id()) <= std::min(e.as_of, max_seq);
  }
};

SnapshotCache::SnapshotCache(std::function<int64_t(const std::string& table_id)> last_change,
                             size_t max_rows)
    : state_(std::make_unique<State>()) {
  state_->last_change = std::move(last_change);
  state_->max_rows = max_rows;
}

SnapshotCache::~SnapshotCache() = default;

namespace {

// Every live row of a scope with _seq <= max_seq, in _seq order (marked too_large, without
// rows, past max_rows); null when the scope cannot be read.
std::shared_ptr<SnapshotCache::Entry> ReadEntry(const catalog::TableDef& table, const std::string& scope,
                                                store::KvStore& store, int64_t max_seq,
                                                size_t max_rows, const store::KvStore::Snapshot* at) {
  auto entry = std::make_shared<SnapshotCache::Entry>();
  entry->table_num = table.table_num;
  entry->schema_version = table.current().version;
  entry->as_of = max_seq;
  std::vector<std::pair<int64_t, std::vector<store::Cell>>> rows;
  auto cursor = store.NewCursor(store::Family::kHot, store::ScopePrefix(table.table_num, scope), at);
  for (; cursor->Valid(); cursor->Next()) {
    store::RowVersion header;
    if (!store::DecodeRowHeader(cursor->value(), header).ok()) return nullptr;
    if (header.deleted || header.seq > max_seq) continue;
    if (rows.size() >= max_rows) {
      entry->too_large = true;  // remembered, so the next subscribers skip this read
      return entry;
    }
    auto row = DecodeCurrentRow(table, cursor->value());
    if (!row.ok()) return nullptr;
    if (!row->has_value()) continue;
    rows.emplace_back((*row)->seq, std::move((*row)->cells));
  }
  if (!cursor->status().ok()) return nullptr;
  std::sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  entry->seqs.reserve(rows.size());
  entry->cells.reserve(rows.size());
  for (auto& [seq, cells] : rows) {
    entry->seqs.push_back(seq);
    entry->cells.push_back(std::move(cells));
  }
  return entry;
}

// The last_rows newest of rows (all when unset).
std::vector<std::string> Newest(std::vector<std::string> rows, std::optional<int64_t> last_rows) {
  if (!last_rows || rows.size() <= static_cast<size_t>(std::max<int64_t>(0, *last_rows))) return rows;
  const size_t start = rows.size() - static_cast<size_t>(std::max<int64_t>(0, *last_rows));
  return std::vector<std::string>(std::make_move_iterator(rows.begin() + start),
                                  std::make_move_iterator(rows.end()));
}

}  // namespace

std::shared_ptr<SnapshotCache::Entry> SnapshotCache::Find(const SubscriptionQuery& q,
                                                          store::KvStore& store, int64_t max_seq,
                                                          const store::KvStore::Snapshot* at) {
  State& c = *state_;
  const catalog::TableDef& table = *q.table;
  const std::string key = table.id() + std::string(1, '\0') + q.scope;
  std::promise<std::shared_ptr<Entry>> building;
  {
    std::unique_lock lock(c.mutex);
    if (auto it = c.entries.find(key); it != c.entries.end()) {
      auto future = it->second;
      lock.unlock();
      auto entry = future.get();  // waits while another reader builds it
      if (entry && c.Valid(*entry, table, max_seq)) return entry;
      lock.lock();
      it = c.entries.find(key);
      if (it == c.entries.end() ||
          it->second.wait_for(std::chrono::seconds(0)) != std::future_status::ready) {
        return nullptr;  // being built again by another reader
      }
      c.entries.erase(it);  // stale: built again below
    }
    c.entries.emplace(key, building.get_future().share());
  }
  std::shared_ptr<Entry> entry;
  try {
    entry = ReadEntry(table, q.scope, store, max_seq, c.max_rows / 2, at);
  } catch (const std::exception&) {
    entry = nullptr;
  }
  building.set_value(entry);
  std::lock_guard lock(c.mutex);
  if (!entry) {
    c.entries.erase(key);
    return nullptr;
  }
  const size_t charge = std::max<size_t>(1, entry->seqs.size());
  c.order.emplace_back(key, entry.get(), charge);
  c.rows += charge;
  while ((c.rows > c.max_rows || c.order.size() > State::kMaxEntries) && c.order.size() > 1) {
    auto [old, old_entry, n] = std::move(c.order.front());
    c.order.pop_front();
    c.rows -= n;
    // Only the entry this record stands for: a rebuilt key has a newer one.
    auto it = c.entries.find(old);
    if (it != c.entries.end() && old_entry != entry.get() &&
        it->second.wait_for(std::chrono::seconds(0)) == std::future_status::ready &&
        it->second.get().get() == old_entry) {
      c.entries.erase(it);
    }
  }
  return entry;
}

std::optional<std::vector<std::string>> SnapshotCache::Read(const SubscriptionQuery& q,
                                                           store::KvStore& store, int64_t max_seq,
                                                           int64_t min_seq,
                                                           std::optional<int64_t> last_rows,
                                                           const store::KvStore::Snapshot* at) {
  auto entry = Find(q, store, max_seq, at);
  if (!entry || entry->too_large) return std::nullopt;
  std::vector<std::string> out;
  auto emit = [&](uint32_t i) {
    const int64_t seq = entry->seqs[i];
    if (seq <= min_seq || seq > max_seq) return;
    if (!RowMatches(q, entry->cells[i], seq)) return;
    std::string object;
    AppendRowObject(object, q, entry->cells[i], seq);
    out.push_back(std::move(object));
  };
  if (q.equality) {
    const auto& [column, value] = *q.equality;
    const ColumnType type = q.table->current().columns[column].type;
    for (uint32_t i : entry->Lookup(column, type, EqualityKey(column, type, value))) emit(i);
  } else {
    for (uint32_t i = 0; i < entry->seqs.size(); ++i) emit(i);
  }
  return Newest(std::move(out), last_rows);
}

Result<std::optional<std::vector<std::string>>> ReadSnapshot(
    const SubscriptionQuery& q, const catalog::CatalogState& state, store::KvStore& store,
    cold::ColdStore& cold, int64_t max_seq, std::optional<int64_t> from_seq,
    std::optional<int64_t> last_rows, SnapshotCache* cache) {
  using Out = std::optional<std::vector<std::string>>;
  const catalog::TableDef& table = *q.table;
  const bool stream = table.type == catalog::TableType::kStream;
  // On shared cold storage (cluster mode) the hot rows are read as of a moment before the
  // manifest is: a flush applied here meanwhile (no flush of this node's to wait for
  // this reader) leaves markers only once the manifest lists their segment.
  std::shared_ptr<const store::KvStore::Snapshot> at;
  if (!stream && cold.shared()) at = store.TakeSnapshot();
  // Held while the hot rows are read: a first flush of the scope waits for it before its
  // rows leave the hot store.
  const auto manifest = stream ? nullptr : cold.Get(cold::ColdStore::ScopeDir(state, table, q.scope));
  if (manifest) KALAM_RETURN_IF_ERROR(manifest->CheckReadable(cold::ColdStore::ScopeDir(state, table, q.scope)));
  if (manifest && !manifest->segments.empty()) return Out();
  int64_t min_seq = from_seq.value_or(-1);

  if (cache != nullptr && !stream) {
    if (auto rows = cache->Read(q, store, max_seq, min_seq, last_rows, at.get())) return Out(std::move(*rows));
  }

  if (stream && table.ttl_seconds) {
    min_seq = std::max(min_seq, store::SeqFloorAt(NowMicros() / 1000 - *table.ttl_seconds * 1000) - 1);
  }
  std::vector<std::pair<int64_t, std::string>> rows;
  auto cursor = store.NewCursor(stream ? store::Family::kStream : store::Family::kHot,
                                store::ScopePrefix(table.table_num, q.scope), at.get());
  for (; cursor->Valid(); cursor->Next()) {
    store::RowVersion header;
    KALAM_RETURN_IF_ERROR(store::DecodeRowHeader(cursor->value(), header));
    if (header.deleted || header.seq > max_seq || header.seq <= min_seq) continue;
    auto row = DecodeCurrentRow(table, cursor->value());
    if (!row.ok()) return row.status();
    if (!row->has_value()) continue;
    if (!RowMatches(q, (*row)->cells, (*row)->seq)) continue;
    std::string object;
    AppendRowObject(object, q, (*row)->cells, (*row)->seq);
    rows.emplace_back((*row)->seq, std::move(object));
  }
  KALAM_RETURN_IF_ERROR(cursor->status());
  std::sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<std::string> out;
  out.reserve(rows.size());
  for (auto& row : rows) out.push_back(std::move(row.second));
  return Out(Newest(std::move(out), last_rows));
}

}  // namespace kalam::live
