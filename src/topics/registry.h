// Topics and their sources: which committed changes of which tables flow into which
// topic. Definitions live in the store's meta family (`topic/<ns.name>`, JSON, as the
// catalog keeps its entries) and are served from an immutable snapshot, so the commit
// path reads them without a lock; one writer at a time writes the store first, then
// publishes a new snapshot.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace kalam::store {
class KvStore;
}

namespace kalam::topics {

enum class Op { kInsert, kUpdate, kDelete };
// key: the primary key columns; full: the row (the new one, the old one for a delete);
// diff: the columns an update changed, with their old and new values.
enum class Payload { kKey, kFull, kDiff };

std::string_view OpName(Op op);  // insert | update | delete
std::string_view PayloadName(Payload payload);
std::optional<Op> OpFromName(std::string_view name);            // any case
std::optional<Payload> PayloadFromName(std::string_view name);  // any case
// A table id ("ns:name") as users write the table ("ns.name").
std::string TableName(std::string_view table_id);

struct TopicSource {
  std::string table_id;   // "ns:name" of the source table
  Op op = Op::kInsert;
  std::string where_sql;  // the filter as written; "" for none
  Payload payload = Payload::kFull;
};

struct TopicDef {
  uint64_t topic_num = 0;  // the key prefix of its messages and groups; never reused
  std::string ns;
  std::string name;
  int32_t partitions = 1;
  std::vector<TopicSource> sources;
  int64_t created_at = 0;  // microseconds

  std::string id() const { return ns + "." + name; }  // as SQL and HTTP name it
};

struct TopicState {
  std::map<std::string, TopicDef> topics;  // by id
  // Raised by every change, so the commit path knows when its compiled filters are stale.
  uint64_t generation = 0;

  const TopicDef* Find(std::string_view id) const;
};

class TopicRegistry {
 public:
  static constexpr int32_t kMaxPartitions = 256;

  static Result<std::unique_ptr<TopicRegistry>> Open(store::KvStore& store);

  std::shared_ptr<const TopicState> snapshot() const;

  // ALREADY_EXISTS when the id is taken (unless if_not_exists); INVALID_INPUT for a
  // partition count outside 1..kMaxPartitions.
  Result<TopicDef> Create(const std::string& ns, const std::string& name, int32_t partitions,
                          bool if_not_exists);
  // The dropped definition; NOT_FOUND when there is none.
  Result<TopicDef> Drop(const std::string& id);
  // ALREADY_EXISTS when the topic has a source on that table and operation.
  Status AddSource(const std::string& id, TopicSource source);
  // NOT_FOUND when the topic has no such source.
  Status DropSource(const std::string& id, const std::string& table_id, Op op);

 private:
  explicit TopicRegistry(store::KvStore& store) : store_(store) {}
  // REQUIRES: writer_ held. Writes the definition (nullopt: deletes it), then publishes.
  Status Save(const std::string& id, const std::optional<TopicDef>& def,
              std::shared_ptr<TopicState> next);

  store::KvStore& store_;
  std::mutex writer_;
  mutable std::mutex snapshot_mutex_;
  std::shared_ptr<const TopicState> state_;
  uint64_t next_topic_num_ = 1;  // guarded by writer_
};

}  // namespace kalam::topics
