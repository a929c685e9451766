#include "store/kv_store.h"

#include <rocksdb/utilities/checkpoint.h>
#include <rocksdb/db.h>
#include <rocksdb/env.h>
#include <rocksdb/options.h>
#include <rocksdb/table.h>
#include <rocksdb/utilities/options_util.h>
#include <rocksdb/write_batch.h>

#include <array>
#include <map>
#include <mutex>
#include <shared_mutex>

namespace kalam::store {

void WriteSet::Put(Family family, std::string key, std::string value) {
  ops_.push_back({family, std::move(key), std::move(value), std::nullopt});
}
void WriteSet::Delete(Family family, std::string key) {
  ops_.push_back({family, std::move(key), std::nullopt, std::nullopt});
}
void WriteSet::DeleteRange(Family family, std::string begin, std::string end) {
  ops_.push_back({family, std::move(begin), std::nullopt, std::move(end)});
}
void WriteSet::Append(const WriteSet& other) {
  ops_.insert(ops_.end(), other.ops_.begin(), other.ops_.end());
}

namespace {

constexpr std::array<const char*, 5> kFamilyNames = {"meta", "hot", "stream", "jobs", "topics"};

Status FromRocks(const rocksdb::Status& s) {
  if (s.ok()) return Status::Ok();
  return {Code::kInternalError, "storage error: " + s.ToString()};
}

class RocksSnapshot final : public KvStore::Snapshot {
 public:
  explicit RocksSnapshot(rocksdb::DB* db) : db_(db), snapshot_(db->GetSnapshot()) {}
  ~RocksSnapshot() override { db_->ReleaseSnapshot(snapshot_); }
  const rocksdb::Snapshot* get() const { return snapshot_; }

 private:
  rocksdb::DB* db_;
  const rocksdb::Snapshot* snapshot_;
};

const rocksdb::Snapshot* RocksSnapshotOf(const KvStore::Snapshot* at) {
  return at == nullptr ? nullptr : static_cast<const RocksSnapshot*>(at)->get();
}

class RocksCursor final : public KvStore::Cursor {
 public:
  RocksCursor(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* cf, std::string_view prefix,
              const rocksdb::Snapshot* snapshot)
      : prefix_(prefix) {
    rocksdb::ReadOptions options;
    options.snapshot = snapshot;
    // The iterator pins its own snapshot; bounding it lets RocksDB skip other tables' data.
    upper_ = PrefixEnd(prefix_);
    if (!upper_.empty()) {
      upper_slice_ = rocksdb::Slice(upper_);
      options.iterate_upper_bound = &upper_slice_;
    }
    it_.reset(db->NewIterator(options, cf));
    it_->Seek(prefix_);
  }
  bool Valid() const override { return it_->Valid(); }
  void Next() override { it_->Next(); }
  void Seek(std::string_view target) override {
    // The upper bound keeps the iterator inside the prefix.
    it_->Seek(rocksdb::Slice(target.data(), target.size()));
  }
  std::string_view key() const override { return {it_->key().data(), it_->key().size()}; }
  std::string_view value() const override { return {it_->value().data(), it_->value().size()}; }
  Status status() const override { return FromRocks(it_->status()); }

 private:
  // The smallest key greater than every key with the prefix ("" when there is none).
  static std::string PrefixEnd(const std::string& prefix) {
    std::string end = prefix;
    while (!end.empty()) {
      auto& last = reinterpret_cast<unsigned char&>(end.back());
      if (last != 0xff) {
        ++last;
        return end;
      }
      end.pop_back();
    }
    return end;
  }

  std::string prefix_;
  std::string upper_;
  rocksdb::Slice upper_slice_;
  std::unique_ptr<rocksdb::Iterator> it_;
};

class RocksStore final : public KvStore {
 public:
  RocksStore(std::unique_ptr<rocksdb::DB> db, std::vector<rocksdb::ColumnFamilyHandle*> handles,
             bool sync)
      : db_(std::move(db)), handles_(std::move(handles)) {
    write_options_.sync = sync;
  }
  ~RocksStore() override { Close(); }

  Status Write(const WriteSet& changes) override {
    rocksdb::WriteBatch batch;
    for (const auto& op : changes.ops()) {
      auto* cf = handle(op.family);
      if (op.range_end) {
        batch.DeleteRange(cf, op.key, *op.range_end);
      } else if (op.value) {
        batch.Put(cf, op.key, *op.value);
      } else {
        batch.Delete(cf, op.key);
      }
    }
    std::shared_lock lock(close_mutex_);
    if (!db_) return {Code::kInternalError, "storage is closed"};
    return FromRocks(db_->Write(write_options_, &batch));
  }

  std::shared_ptr<const Snapshot> TakeSnapshot() override {
    return std::make_shared<RocksSnapshot>(db_.get());
  }

  Figures ReadFigures() override {
    Figures figures;
    std::shared_lock lock(close_mutex_);
    if (!db_) return figures;
    auto number = [&](rocksdb::ColumnFamilyHandle* cf, const std::string& property) {
      uint64_t value = 0;
      return db_->GetIntProperty(cf, property, &value) ? value : 0;
    };
    for (size_t i = 0; i < handles_.size(); ++i) {
      FamilyFigures f;
      f.family = kFamilyNames[i];
      f.keys = number(handles_[i], rocksdb::DB::Properties::kEstimateNumKeys);
      f.live_bytes = number(handles_[i], rocksdb::DB::Properties::kEstimateLiveDataSize);
      f.sst_bytes = number(handles_[i], rocksdb::DB::Properties::kTotalSstFilesSize);
      f.memtable_bytes = number(handles_[i], rocksdb::DB::Properties::kCurSizeAllMemTables);
      figures.pending_compaction_bytes +=
          number(handles_[i], rocksdb::DB::Properties::kEstimatePendingCompactionBytes);
      figures.families.push_back(std::move(f));
    }
    uint64_t value = 0;
    if (db_->GetIntProperty(rocksdb::DB::Properties::kNumRunningCompactions, &value)) {
      figures.running_compactions = value;
    }
    if (db_->GetIntProperty(rocksdb::DB::Properties::kActualDelayedWriteRate, &value)) {
      figures.delayed_write_rate = value;
    }
    if (db_->GetIntProperty(rocksdb::DB::Properties::kIsWriteStopped, &value)) {
      figures.write_stopped = value != 0;
    }
    std::map<std::string, std::string> stats;
    if (db_->GetMapProperty(rocksdb::DB::Properties::kDBStats, &stats)) {
      if (auto it = stats.find("db.write_stall_micros"); it != stats.end()) {
        figures.stall_micros = std::strtoull(it->second.c_str(), nullptr, 10);
      }
    }
    return figures;
  }

  Result<std::optional<std::string>> Get(Family family, std::string_view key,
                                         const Snapshot* at) override {
    std::shared_lock lock(close_mutex_);
    if (!db_) return Status(Code::kInternalError, "storage is closed");
    std::string value;
    rocksdb::ReadOptions options;
    options.snapshot = RocksSnapshotOf(at);
    rocksdb::Status s = db_->Get(options, handle(family), key, &value);
    if (s.IsNotFound()) return std::optional<std::string>();
    if (!s.ok()) return FromRocks(s);
    return std::optional<std::string>(std::move(value));
  }

  Status Scan(Family family, std::string_view prefix,
              const std::function<bool(std::string_view, std::string_view)>& visit) override {
    std::shared_lock lock(close_mutex_);
    if (!db_) return {Code::kInternalError, "storage is closed"};
    rocksdb::ReadOptions options;
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(options, handle(family)));
    for (it->Seek(prefix); it->Valid(); it->Next()) {
      rocksdb::Slice k = it->key();
      if (!k.starts_with(rocksdb::Slice(prefix.data(), prefix.size()))) break;
      rocksdb::Slice v = it->value();
      if (!visit({k.data(), k.size()}, {v.data(), v.size()})) break;
    }
    return FromRocks(it->status());
  }

  std::unique_ptr<Cursor> NewCursor(Family family, std::string_view prefix,
                                    const Snapshot* at) override {
    return std::make_unique<RocksCursor>(db_.get(), handle(family), prefix, RocksSnapshotOf(at));
  }

  Status CompactRange(Family family, std::string_view begin, std::string_view end) override {
    std::shared_lock lock(close_mutex_);
    if (!db_) return {Code::kInternalError, "storage is closed"};
    const rocksdb::Slice from(begin.data(), begin.size()), to(end.data(), end.size());
    rocksdb::CompactRangeOptions options;
    options.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForceOptimized;
    // Background compactions and memtable flushes go on meanwhile: writers never stall on it.
    options.exclusive_manual_compaction = false;
    return FromRocks(db_->CompactRange(options, handle(family), &from, &to));
  }

  Status Checkpoint(const std::string& dir) override {
    std::shared_lock lock(close_mutex_);
    if (!db_) return {Code::kInternalError, "storage is closed"};
    rocksdb::Checkpoint* checkpoint = nullptr;
    KALAM_RETURN_IF_ERROR(FromRocks(rocksdb::Checkpoint::Create(db_.get(), &checkpoint)));
    std::unique_ptr<rocksdb::Checkpoint> owned(checkpoint);
    return FromRocks(owned->CreateCheckpoint(dir));
  }

  Status Close() override {
    std::unique_lock lock(close_mutex_);
    if (!db_) return Status::Ok();
    rocksdb::FlushOptions flush;
    Status result = FromRocks(db_->Flush(flush, handles_));
    for (auto* h : handles_) db_->DestroyColumnFamilyHandle(h);
    handles_.clear();
    rocksdb::Status s = db_->Close();
    if (result.ok()) result = FromRocks(s);
    db_.reset();
    return result;
  }

 private:
  rocksdb::ColumnFamilyHandle* handle(Family f) { return handles_[static_cast<size_t>(f)]; }

  std::shared_mutex close_mutex_;
  std::unique_ptr<rocksdb::DB> db_;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;
  rocksdb::WriteOptions write_options_;
};

}  // namespace

Result<std::unique_ptr<KvStore>> KvStore::Open(const std::string& dir, bool sync) {
  rocksdb::Options options;
  options.create_if_missing = true;
  options.create_missing_column_families = true;
  options.IncreaseParallelism(2);
  options.enable_pipelined_write = true;  // writers overlap WAL and memtable work
  // Room for two full memtables while one is written out: a burst (a flush's markers, a
  // large INSERT) does not stop other writers.
  options.max_write_buffer_number = 4;
  // Compactions are background work: they yield the CPU to statements.
  options.env->LowerThreadPoolCPUPriority(rocksdb::Env::Priority::LOW);

  std::vector<rocksdb::ColumnFamilyDescriptor> families;
  families.emplace_back(rocksdb::kDefaultColumnFamilyName, rocksdb::ColumnFamilyOptions());
  for (const char* name : kFamilyNames) {
    families.emplace_back(name, rocksdb::ColumnFamilyOptions(options));
  }
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(rocksdb::DBOptions(options), dir, families, &handles, &raw);
  if (!s.ok()) return FromRocks(s);
  std::unique_ptr<rocksdb::DB> db(raw);
  // handles[0] is the default family, which holds nothing of ours.
  db->DestroyColumnFamilyHandle(handles[0]);
  handles.erase(handles.begin());
  return std::unique_ptr<KvStore>(new RocksStore(std::move(db), std::move(handles), sync));
}

}  // namespace kalam::store
