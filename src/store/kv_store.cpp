#include "store/kv_store.h"

#include <rocksdb/cache.h>
#include <rocksdb/db.h>
#include <rocksdb/env.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/listener.h>
#include <rocksdb/options.h>
#include <rocksdb/perf_level.h>
#include <rocksdb/slice_transform.h>
#include <rocksdb/table.h>
#include <rocksdb/utilities/checkpoint.h>
#include <rocksdb/utilities/options_util.h>
#include <rocksdb/write_batch.h>
#include <spdlog/spdlog.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdarg>
#include <cstdio>
#include <filesystem>
#include <map>
#include <mutex>
#include <shared_mutex>

#include "common/disk_full.h"

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

// Hot keys mostly arrive in order within a table (rising ids, a flush's markers): the
// hot family's memtable keeps an insert hint per table (a key's first 8 bytes, the table
// number, markers apart) and inserts next to that table's last key instead of searching
// the skip list from the top. RocksDB 7.8 shares these hints with its range-deletion list,
// which they would corrupt, so keys of 8 bytes or fewer are out of the domain: every range
// delete of the hot family starts at a table prefix (Write checks it).
constexpr size_t kTableNumberBytes = 8;
class TableNumberPrefix final : public rocksdb::SliceTransform {
 public:
  const char* Name() const override { return "kalam.TableNumberPrefix"; }
  rocksdb::Slice Transform(const rocksdb::Slice& key) const override {
    return rocksdb::Slice(key.data(), kTableNumberBytes);
  }
  bool InDomain(const rocksdb::Slice& key) const override { return key.size() > kTableNumberBytes; }
};

Status FromRocks(const rocksdb::Status& s) {
  if (s.ok()) return Status::Ok();
  if (s.IsNoSpace()) return DiskFull("the row store could not write");
  return {Code::kInternalError, "storage error: " + s.ToString()};
}

// RocksDB's own log goes to the server's log, not to a LOG file beside the data: on a
// full disk RocksDB's file logger fails, and Debian's librocksdb asserts (aborts) when it
// writes to it again after that failure. Its routine INFO lines (options, each memtable
// flush and compaction) are debug lines here.
class ServerLogger final : public rocksdb::Logger {
 public:
  ServerLogger() : rocksdb::Logger(rocksdb::InfoLogLevel::INFO_LEVEL) {}
  void Logv(const char* format, va_list ap) override {
    Logv(rocksdb::InfoLogLevel::INFO_LEVEL, format, ap);
  }
  void Logv(const rocksdb::InfoLogLevel level, const char* format, va_list ap) override {
    const spdlog::level::level_enum to =
        level >= rocksdb::InfoLogLevel::ERROR_LEVEL  ? spdlog::level::err
        : level == rocksdb::InfoLogLevel::WARN_LEVEL ? spdlog::level::warn
                                                     : spdlog::level::debug;
    if (!spdlog::default_logger_raw()->should_log(to)) return;
    char line[1024];
    std::vsnprintf(line, sizeof(line), format, ap);
    spdlog::log(to, "rocksdb: {}", line);
  }
};

bool StopsWrites(const rocksdb::Status& error) {
  return error.IsNoSpace() && error.severity() >= rocksdb::Status::Severity::kHardError;
}

// A full disk met by a WAL write or a memtable flush stops RocksDB's writes (a hard
// background error; reads go on). Recovery from that is ours (RocksStore::Write), not
// RocksDB's: its own waits for a whole write buffer (64 MB) of free space and polls every
// 5 s, so a small disk, or one freed by less, would stay stopped. A compaction that finds
// no room is a soft error, left to RocksDB: writes go on and the compaction waits for room.
class NoSpaceListener final : public rocksdb::EventListener {
 public:
  void OnBackgroundError(rocksdb::BackgroundErrorReason, rocksdb::Status* error) override {
    if (StopsWrites(*error)) stopped_.store(true);
  }
  void OnErrorRecoveryBegin(rocksdb::BackgroundErrorReason, rocksdb::Status error,
                            bool* auto_recovery) override {
    if (StopsWrites(error)) *auto_recovery = false;
  }
  // Whether a full disk stopped writes (set until a Resume succeeds).
  std::atomic<bool>& stopped() { return stopped_; }

 private:
  std::atomic<bool> stopped_{false};
};

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

// RocksDB counts every step of every read and write in thread-local perf counters unless
// the thread turns them off (its default level counts); reached through the shared
// library's thread-local storage, they were ~10% of a hot scan's samples. Each thread
// turns them off on its first store call.
void NoPerfCounters() {
  thread_local bool off = false;
  if (!off) {
    rocksdb::SetPerfLevel(rocksdb::PerfLevel::kDisable);
    off = true;
  }
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
    NoPerfCounters();
    it_.reset(db->NewIterator(options, cf));
    it_->Seek(prefix_);
  }
  bool Valid() const override { return it_->Valid(); }
  void Next() override {
    NoPerfCounters();  // a scan's chunks may be read on other threads than its first
    it_->Next();
  }
  void Seek(std::string_view target) override {
    NoPerfCounters();
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
             bool sync, std::shared_ptr<NoSpaceListener> no_space)
      : db_(std::move(db)), handles_(std::move(handles)), no_space_(std::move(no_space)) {
    write_options_.sync = sync;
  }
  ~RocksStore() override { Close(); }

  Status Write(const WriteSet& changes) override {
    NoPerfCounters();
    rocksdb::WriteBatch batch;
    for (const auto& op : changes.ops()) {
      auto* cf = handle(op.family);
      if (op.range_end) {
        if (op.family == Family::kHot && op.key.size() > kTableNumberBytes) {
          return {Code::kInternalError, "A range delete of hot rows must start at a table prefix"};
        }
        batch.DeleteRange(cf, op.key, *op.range_end);
      } else if (op.value) {
        batch.Put(cf, op.key, *op.value);
      } else {
        batch.Delete(cf, op.key);
      }
    }
    std::shared_lock lock(close_mutex_);
    if (!db_) return {Code::kInternalError, "storage is closed"};
    KALAM_RETURN_IF_ERROR(ResumeAfterFullDisk());
    rocksdb::Status s = db_->Write(write_options_, &batch);
    if (s.IsNoSpace()) no_space_->stopped().store(true);
    return FromRocks(s);
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
    NoPerfCounters();
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
    NoPerfCounters();
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
    KALAM_RETURN_IF_ERROR(ResumeAfterFullDisk());
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

  // When a full disk stopped writes, tries DB::Resume, which flushes the memtables and
  // clears the error once they fit; at most once per kResumeInterval, so a disk that stays
  // full costs a failed memtable flush now and then, not one per write. Ok when writes
  // may go on. REQUIRES: close_mutex_ held, db_ open.
  Status ResumeAfterFullDisk() {
    static constexpr auto kResumeInterval = std::chrono::milliseconds(500);
    if (!no_space_->stopped().load()) return Status::Ok();
    std::lock_guard lock(resume_mutex_);
    if (!no_space_->stopped().load()) return Status::Ok();  // another writer resumed
    const auto now = std::chrono::steady_clock::now();
    if (now - last_resume_ < kResumeInterval) return DiskFull("the row store could not write");
    last_resume_ = now;
    rocksdb::Status s = db_->Resume();
    if (s.IsNoSpace() || s.IsBusy()) return DiskFull("the row store could not write");
    KALAM_RETURN_IF_ERROR(FromRocks(s));
    no_space_->stopped().store(false);
    return Status::Ok();
  }

  std::shared_mutex close_mutex_;
  std::unique_ptr<rocksdb::DB> db_;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;
  rocksdb::WriteOptions write_options_;
  std::shared_ptr<NoSpaceListener> no_space_;
  std::mutex resume_mutex_;
  std::chrono::steady_clock::time_point last_resume_;  // GUARDED_BY(resume_mutex_)
};

}  // namespace

Result<std::unique_ptr<KvStore>> KvStore::Open(const std::string& dir, bool sync,
                                               uint64_t block_cache_bytes) {
  // Made here, so RocksDB does not log an error about the directory it is about to create.
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  rocksdb::Options options;
  options.create_if_missing = true;
  options.create_missing_column_families = true;
  options.IncreaseParallelism(2);
  options.enable_pipelined_write = true;  // writers overlap WAL and memtable work
  // Room for two full memtables while one is written out: a burst (a flush's markers, a
  // large INSERT) does not stop other writers.
  options.max_write_buffer_number = 4;
  // Memtable insert hints (the hot family's, below) need memtable writes in one thread,
  // which the group commit gives anyway.
  options.allow_concurrent_memtable_write = false;
  // Compactions are background work: they yield the CPU to statements.
  options.env->LowerThreadPoolCPUPriority(rocksdb::Env::Priority::LOW);
  options.info_log = std::make_shared<ServerLogger>();
  auto no_space = std::make_shared<NoSpaceListener>();
  options.listeners.push_back(no_space);
  // One block cache for every family, and a Bloom filter per file: a point read of a key a
  // file does not hold (a row that was never flushed, a flush marker that does not exist)
  // skips the file without reading a block.
  rocksdb::BlockBasedTableOptions table;
  if (block_cache_bytes > 0) table.block_cache = rocksdb::NewLRUCache(block_cache_bytes);
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));

  std::vector<rocksdb::ColumnFamilyDescriptor> families;
  families.emplace_back(rocksdb::kDefaultColumnFamilyName, rocksdb::ColumnFamilyOptions());
  for (const char* name : kFamilyNames) {
    rocksdb::ColumnFamilyOptions family(options);
    if (std::string_view(name) == kFamilyNames[static_cast<size_t>(Family::kHot)]) {
      family.memtable_insert_with_hint_prefix_extractor = std::make_shared<TableNumberPrefix>();
    }
    families.emplace_back(name, family);
  }
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(rocksdb::DBOptions(options), dir, families, &handles, &raw);
  if (!s.ok()) return FromRocks(s);
  std::unique_ptr<rocksdb::DB> db(raw);
  // handles[0] is the default family, which holds nothing of ours.
  db->DestroyColumnFamilyHandle(handles[0]);
  handles.erase(handles.begin());
  return std::unique_ptr<KvStore>(
      new RocksStore(std::move(db), std::move(handles), sync, std::move(no_space)));
}

}  // namespace kalam::store
