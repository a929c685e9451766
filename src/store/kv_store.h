// The RocksDB instance under <data_path>/rocksdb, seen through a small interface so that
// no other part includes RocksDB. Column families by role, not per table: a million
// tables must not mean a million column families.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace kalam::store {

// kTopics: topic messages and consumer groups' committed offsets (topics/).
enum class Family { kMeta, kHot, kStream, kJobs, kTopics };

// Changes applied together or not at all.
class WriteSet {
 public:
  void Put(Family family, std::string key, std::string value);
  void Delete(Family family, std::string key);
  // Deletes every key in [begin, end).
  void DeleteRange(Family family, std::string begin, std::string end);
  void Append(const WriteSet& other);
  bool empty() const { return ops_.empty(); }
  size_t size() const { return ops_.size(); }

  struct Op {
    Family family;
    std::string key;
    std::optional<std::string> value;  // nullopt: delete
    std::optional<std::string> range_end;  // set: delete [key, range_end)
  };
  const std::vector<Op>& ops() const { return ops_; }

 private:
  std::vector<Op> ops_;
};

class KvStore {
 public:
  // Opens (creating when missing) the store in dir. sync: fsync every write.
  // block_cache_bytes: RocksDB's block cache, shared by the families (0: RocksDB's default).
  static Result<std::unique_ptr<KvStore>> Open(const std::string& dir, bool sync,
                                               uint64_t block_cache_bytes = 0);
  virtual ~KvStore() = default;

  // A consistent view of the store as of when it was taken; reads given it see that view.
  // REQUIRES: the store outlives it.
  class Snapshot {
   public:
    virtual ~Snapshot() = default;
  };
  virtual std::shared_ptr<const Snapshot> TakeSnapshot() = 0;

  // Writes changes whole or not at all. A full disk fails it with RESOURCE_EXHAUSTED
  // (common/disk_full.h) until space is freed; reads go on meanwhile.
  virtual Status Write(const WriteSet& changes) = 0;
  // at: read as of that snapshot; null: the latest.
  virtual Result<std::optional<std::string>> Get(Family family, std::string_view key,
                                                 const Snapshot* at = nullptr) = 0;
  // Calls visit(key, value) for every key starting with prefix, in key order, until it
  // returns false.
  virtual Status Scan(Family family, std::string_view prefix,
                      const std::function<bool(std::string_view, std::string_view)>& visit) = 0;
  // An ordered cursor over the keys starting with prefix, on a consistent snapshot: at, or
  // one taken now. REQUIRES: the store outlives the cursor and is not closed meanwhile.
  class Cursor {
   public:
    virtual ~Cursor() = default;
    virtual bool Valid() const = 0;
    virtual void Next() = 0;
    // Moves to the first key at or after target (within the prefix).
    virtual void Seek(std::string_view target) = 0;
    virtual std::string_view key() const = 0;
    virtual std::string_view value() const = 0;
    virtual Status status() const = 0;
  };
  virtual std::unique_ptr<Cursor> NewCursor(Family family, std::string_view prefix,
                                            const Snapshot* at = nullptr) = 0;

  // Compacts the keys in [begin, end) now: deleted keys stop costing reads.
  virtual Status CompactRange(Family family, std::string_view begin, std::string_view end) = 0;

  // A consistent copy of the whole store in dir (which must not exist), as of now: hard
  // links to the immutable files where the file system allows, copies otherwise.
  virtual Status Checkpoint(const std::string& dir) = 0;

  // RocksDB's estimates, read when asked (cheap: no file is read).
  struct FamilyFigures {
    std::string family;        // meta, hot, stream, jobs
    uint64_t keys = 0;         // estimated live keys
    uint64_t live_bytes = 0;   // estimated live data
    uint64_t sst_bytes = 0;    // table files on disk
    uint64_t memtable_bytes = 0;
  };
  struct Figures {
    std::vector<FamilyFigures> families;
    uint64_t running_compactions = 0;
    uint64_t pending_compaction_bytes = 0;
    uint64_t delayed_write_rate = 0;  // bytes/s writes are slowed to; 0: not slowed
    bool write_stopped = false;
    uint64_t stall_micros = 0;        // time writes waited in stalls since the store opened
  };
  virtual Figures ReadFigures() = 0;

  // Flushes memtables and closes; further calls fail.
  virtual Status Close() = 0;
};

}  // namespace kalam::store
