// Topics: durable, ordered streams of table changes that workers consume in groups and
// acknowledge. This is the part's front: the statements and routes call it; the commit
// path reaches it through hook(). Its pieces: registry (definitions), log (messages and
// partition bounds), router (changes to messages, inside the commit), consumer_groups.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/config.h"
#include "common/status.h"
#include "query/engine.h"
#include "topics/consumer_groups.h"
#include "topics/log.h"
#include "topics/outbox.h"
#include "topics/registry.h"
#include "topics/router.h"

namespace kalam::catalog {
class Catalog;
}

namespace kalam::topics {

struct ConsumeRequest {
  std::string topic_id;              // "ns.name"
  std::optional<std::string> group;  // none: a read that reserves and records nothing
  std::optional<int32_t> partition;  // none: every partition, in order
  StartAt start;
  size_t limit = 100;
};

struct Batch {
  std::vector<Message> messages;
  int64_t next_offset = 0;  // one past the last message returned (of the last partition read)
  bool has_more = false;    // more messages were ready than the limit allowed
  // For waiting when the batch is empty: the topic and the log version read before it, and
  // when a reservation of the group's lapses (wall-clock ms; nullopt: none is held).
  uint64_t topic_num = 0;
  uint64_t version = 0;
  std::optional<int64_t> lapse_ms;
};

// Cluster mode: how topics reach the shards. A topic's messages, offsets and groups are
// its shard's (ShardOfTopic), read and written at that shard's leader; changes reach it
// through the outbox of their rows' shard (topics/outbox.h).
struct ClusterHooks {
  int32_t shards = 0;
  // Ok once this node leads the shard, caught up; else SERVICE_UNAVAILABLE naming the
  // leader when known (a statement is then sent on there).
  std::function<Status(int32_t shard)> lead;
  // ShardGroups::LedSince: changes whenever leadership of the shard here is lost and won.
  std::function<uint64_t(int32_t shard)> led_since;
  // This node's replica of the shard has what its leader had applied when asked.
  std::function<Status(int32_t shard)> catch_up;
  // Sends records to the topic's leader that refusal (from lead) names.
  std::function<Status(const Status& refusal, uint64_t topic_num, int32_t source_shard,
                       const std::vector<OutboxRecord>& records)>
      send_on;
  // The shard of a table's rows of a scope (a user; "" for a SHARED table).
  std::function<int32_t(const catalog::TableDef& table, const std::string& scope)> shard_of_rows;
};

class Topics {
 public:
  static Result<std::unique_ptr<Topics>> Open(store::KvStore& store, store::Committer& committer,
                                              catalog::Catalog& catalog, const Config::Topics& config);
  ~Topics();

  // Cluster mode, before statements run: from now on topics live in shards.
  void JoinCluster(ClusterHooks hooks);
  // Stops delivering outbox records (before the shards' groups close).
  void LeaveCluster();
  // Cluster mode, the topic's leader: appends a source shard's outbox records, in order,
  // skipping those appended before (the topic's delivery mark for that shard).
  // NOT_FOUND, its message starting with kTopicGone, when the topic is gone.
  static constexpr std::string_view kTopicGone = "Topic #";
  Status Append(uint64_t topic_num, int32_t source_shard, const std::vector<OutboxRecord>& records);
  // Cluster mode: after a statement that wrote rows, waits (a few seconds at most) until
  // the outbox records committed here reached their topics, so a read of the topic right
  // after sees them. A no-op on a single server.
  void AwaitDelivered();
  // Whether a topic has a source on the table ("ns:name").
  bool Sourced(const std::string& table_id) const;

  // Set as the committer's hook before statements run.
  store::CommitHook& hook() { return router_; }
  TopicLog& log() { return log_; }
  std::shared_ptr<const TopicState> snapshot() const { return registry_->snapshot(); }

  Result<TopicDef> Create(const std::string& ns, const std::string& name, int32_t partitions,
                          bool if_not_exists);
  // Its messages and groups are removed with it.
  Status Drop(const std::string& topic_id);
  // Removes every message; offsets go on from where they were. Returns how many went.
  Result<int64_t> Clear(const std::string& topic_id);
  // table: the source table (the caller resolved it and checked it exists). The filter must
  // compile against the table's current columns.
  Status AddSource(const std::string& topic_id, const catalog::TableDef& table, TopicSource source);
  Status DropSource(const std::string& topic_id, const std::string& table_id, Op op);

  Result<Batch> Consume(const ConsumeRequest& request);
  // The committed offset after the acknowledgement.
  Result<int64_t> Ack(const std::string& topic_id, const std::string& group, int32_t partition,
                      int64_t upto);
  // partition: none for every partition. to: where the group reads next.
  Status Reset(const std::string& topic_id, const std::string& group, std::optional<int32_t> partition,
               StartAt to);

  // The rows of system.topics and system.topic_offsets.
  std::vector<query::TopicRow> TopicRows() const;
  std::vector<query::TopicOffsetRow> OffsetRows() const;

  // Retention: messages older than retention_hours that every group has acknowledged, and
  // past max_retention_bytes per partition the oldest, acknowledged or not. Whether there
  // is something to remove (a dry run), and the removal (the work of a topic_retention
  // job; its JSON result).
  bool RetentionDue(int64_t now_ms);
  Result<std::string> EnforceRetention(int64_t now_ms, bool dry_run = false);

  const Config::Topics& config() const { return config_; }

 private:
  Topics(store::KvStore& store, store::Committer& committer, catalog::Catalog& catalog,
         std::unique_ptr<TopicRegistry> registry, const Config::Topics& config)
      : store_(store),
        committer_(committer),
        catalog_(catalog),
        registry_(std::move(registry)),
        log_(store),
        router_(*registry_, log_, catalog),
        groups_(store, committer, log_, config.visibility_timeout_secs * 1000),
        config_(config) {}

  Result<const TopicDef*> Find(const TopicState& state, const std::string& topic_id) const;
  // Cluster mode: Ok when this node leads the topic's shard, with what the store holds of
  // it taken in once per leadership; the refusal names the leader otherwise. Ok on a
  // single server.
  Status Lead(const TopicDef& topic);
  // Cluster mode: what a replica of the topic's shard holds of it, once caught up.
  Result<std::vector<TopicLog::Bounds>> ReplicaBounds(const TopicDef& topic) const;
  // Cluster mode: removes the keys of dropped topics from the shards this node leads.
  Result<int64_t> SweepDropped(bool dry_run);
  Status CheckPartition(const TopicDef& topic, int32_t partition) const;
  // Removes the partition's messages below offset (a range delete through the committer).
  Status Trim(uint64_t topic_num, int32_t partition, int64_t below);

  store::KvStore& store_;
  store::Committer& committer_;
  catalog::Catalog& catalog_;
  std::unique_ptr<TopicRegistry> registry_;
  TopicLog log_;
  TopicRouter router_;
  ConsumerGroups groups_;
  const Config::Topics config_;
  std::optional<ClusterHooks> cluster_;
  std::unique_ptr<TopicOutbox> outbox_;
  mutable std::mutex sync_mutex_;
  std::map<uint64_t, uint64_t> synced_;  // topic_num -> the led_since its state was taken at
};

}  // namespace kalam::topics
