// The RocksDB instance under <data_path>/rocksdb, seen through a small interface so that
// no other part includes RocksDB. Column families by role (DESIGN §3), not per table.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace kalam::store {

enum class Family { kMeta, kHot, kStream, kJobs };

// Changes applied together or not at all.
class WriteSet {
 public:
  void Put(Family family, std::string key, std::string value);
  void Delete(Family family, std::string key);
  bool empty() const { return ops_.empty(); }

  struct Op {
    Family family;
    std::string key;
    std::optional<std::string> value;  // nullopt: delete
  };
  const std::vector<Op>& ops() const { return ops_; }

 private:
  std::vector<Op> ops_;
};

class KvStore {
 public:
  // Opens (creating when missing) the store in dir. sync: fsync every write.
  static Result<std::unique_ptr<KvStore>> Open(const std::string& dir, bool sync);
  virtual ~KvStore() = default;

  virtual Status Write(const WriteSet& changes) = 0;
  virtual Result<std::optional<std::string>> Get(Family family, std::string_view key) = 0;
  // Calls visit(key, value) for every key starting with prefix, in key order, until it
  // returns false.
  virtual Status Scan(Family family, std::string_view prefix,
                      const std::function<bool(std::string_view, std::string_view)>& visit) = 0;
  // Flushes memtables and closes; further calls fail.
  virtual Status Close() = 0;
};

}  // namespace kalam::store
