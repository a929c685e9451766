// Topics and their sources: which committed changes of which tables flow into which
// topic. Definitions are records the catalog keeps for this part (`topic/<ns.name>`, JSON,
// and the counter `counter/next_topic_num`), so a cluster shares them as it shares the
// catalog; they are served from an immutable snapshot decoded once per change of them.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace kalam::catalog {
class Catalog;
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
  // The number the next new topic takes: every topic made so far has a smaller one.
  uint64_t next_topic_num = 1;

  const TopicDef* Find(std::string_view id) const;
  const TopicDef* FindNum(uint64_t topic_num) const;
};

class TopicRegistry {
 public:
  static constexpr int32_t kMaxPartitions = 256;

  explicit TopicRegistry(catalog::Catalog& catalog) : catalog_(catalog) {}

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
  // Changes one definition: edit gets the topics as they are, the number the next new
  // topic takes and the definition (nullopt: none); it edits the definition (nullopt:
  // removed) and says whether anything changed.
  Status Change(const std::string& id,
                const std::function<Result<bool>(const TopicState& state, uint64_t next_topic_num,
                                                 std::optional<TopicDef>& def)>& edit);

  catalog::Catalog& catalog_;
  mutable std::mutex snapshot_mutex_;
  // The catalog's records the snapshot was decoded from (held, so their address is not
  // another's later), and it.
  mutable std::shared_ptr<const std::map<std::string, std::string>> decoded_from_;
  mutable std::shared_ptr<const TopicState> state_;
  mutable uint64_t generation_ = 0;
};

}  // namespace kalam::topics
