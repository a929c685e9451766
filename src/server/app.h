// The server's parts, opened in dependency order and closed in reverse: the data
// directory lock, the store, the catalog, authentication, the query engine, the executor.
#pragma once

#include <memory>
#include <optional>
#include <set>
#include <shared_mutex>
#include <functional>
#include <string>
#include <vector>

#include "auth/authenticator.h"
#include "auth/rate_limiter.h"
#include "catalog/catalog.h"
#include "client/http_client.h"
#include "cluster/etcd_catalog.h"
#include "cluster/membership.h"
#include "cluster/shard_entry.h"
#include "cluster/shard_groups.h"
#include "cluster/shard_writes.h"
#include "cold/cold_store.h"
#include "common/config.h"
#include "common/periodic_task.h"
#include "common/status.h"
#include "jobs/flush_scheduler.h"
#include "jobs/job_manager.h"
#include "jobs/stream_eviction.h"
#include "live/hub.h"
#include "live/snapshot.h"
#include "live/subscribe.h"
#include "query/engine.h"
#include "server/metrics.h"
#include "server/relayed_sessions.h"
#include "sql/executor.h"
#include "store/committer.h"
#include "store/kv_store.h"
#include "topics/retention.h"
#include "topics/topics.h"

namespace kalam::pgwire {
class MovedTransaction;
}

namespace kalam::server {

class App {
 public:
  static Result<std::unique_ptr<App>> Open(const Config& config);
  ~App();

  const Config& config() const { return config_; }
  auth::Authenticator& authenticator() { return *authenticator_; }
  sql::Executor& executor() { return *executor_; }
  auth::RateLimiter& rate_limiter() { return rate_limiter_; }
  catalog::Catalog& catalog() { return *catalog_; }
  query::QueryEngine& engine() { return *engine_; }
  live::LiveHub& hub() { return hub_; }
  store::KvStore& store() { return *store_; }
  cold::ColdStore& cold() { return cold_; }
  live::LiveServices& live_services() { return *live_services_; }
  Metrics& metrics() { return metrics_; }
  topics::Topics& topics() { return *topics_; }

  // Cluster mode: where node_id serves HTTP (host:port), as etcd says; nullopt for a node
  // unknown, or on a single server.
  std::optional<std::string> NodeAddress(const std::string& node_id) const;
  // Cluster mode: Ok once this node's replica of shard has what its leader had applied
  // when asked (at once where this node leads it).
  Status CatchUp(int32_t shard);
  // Cluster mode: CatchUp of each of shards; those it succeeded for (failed, when given,
  // receives the first failure).
  std::set<int32_t> CatchUpAll(const std::set<int32_t>& shards, Status* failed = nullptr);
  // Cluster mode: sends outbox records to the topic's leader named in refusal.
  Status SendTopicRecordsOn(const Status& refusal, uint64_t topic_num, int32_t source_shard,
                            const std::vector<topics::OutboxRecord>& records);
  // Cluster mode: POSTs the JSON body to target on node_id, over a kept-alive connection
  // of the calling thread, with this node's cluster token — or, given authorization, with
  // that Authorization header ("": none), a client's request sent on. Connecting takes at
  // most a second; a node that stops answering is given up after three.
  Result<client::HttpResponse> SendToNode(const std::string& node_id, std::string_view target,
                                          const std::string& body, std::chrono::milliseconds timeout,
                                          const client::Headers& headers = {},
                                          const std::optional<std::string>& authorization = std::nullopt);
  // Cluster mode: a statement refused here because another node leads its shard (refusal
  // names it), run there for caller instead (the Postgres wire's autocommit statements);
  // nullopt when it can't be sent on (no leader named, or this node is not in a cluster).
  std::optional<Result<sql::StatementResult>> SendStatementOn(const Status& refusal, const auth::Caller& caller,
                                                              const std::string& sql, const std::string& namespace_id);
  // Cluster mode: a Postgres wire transaction with no writes yet, whose statement was
  // refused here because another node leads its shard (refusal names it), to be moved
  // there (POST /v1/cluster/session); null when no other leader is named.
  std::unique_ptr<pgwire::MovedTransaction> MoveTransaction(const Status& refusal, const auth::Caller& caller);
  // Cluster mode: the transactions other nodes moved here (null on a single server).
  RelayedSessions* relayed_sessions() { return relayed_sessions_.get(); }
  // Cluster mode: shard's read index on this node, its leader (ShardGroups::ReadIndex).
  Result<uint64_t> ShardReadIndex(int32_t shard);
  // Cluster mode: flushes the table's rows of the shards this node leads (among shards,
  // when given). JSON {"shards": [flushed], "result": {what the flush wrote}}.
  Result<std::string> FlushLedShards(const std::string& table_id, const std::optional<std::vector<int32_t>>& shards,
                                     const std::function<bool()>& cancelled);
  // Cluster mode: the table's live hot rows (not tombstones) of those of shards this
  // node holds, each counted once this replica has what the shard's leader had applied
  // when asked. JSON {"counts": {"<shard>": rows, ...}}: a shard not held, or not caught
  // up, is left out.
  Result<std::string> CountHeldHotRows(const std::string& table_id, const std::vector<int32_t>& shards);
  // Cluster mode: the table's rows of the users of those of shards this node holds, each
  // shard read once this replica has what its leader had applied when asked, for another
  // node's read of every user's rows. JSON {"shards": [read], "rows": "<base64 of
  // cluster::UserRows>"}: a shard not held, or not caught up, is left out.
  Result<std::string> HeldUserRows(const std::string& table_id, const std::vector<int32_t>& shards);

  // Closes the store cleanly. Safe to call twice.
  Status Close();

 private:
  // Cluster mode: joins the cluster in etcd (cluster/membership.h); a single node: lists
  // itself. Either way, the source of system.cluster_nodes and CLUSTER STATUS.
  Status JoinCluster();
  // Cluster mode: tells every other live node the shared catalog is at version now (this
  // node changed it), and waits until each has taken it or a second has passed, so a
  // statement through any node sees a change once it is acknowledged.
  void AnnounceCatalog(int64_t version);
  // Cluster mode: FLUSH TABLE: each shard's rows flushed by the shard's leader, this node
  // or another asked over /v1/cluster/flush; the JSON sums what they wrote.
  Result<std::string> FlushEveryShard(const std::string& table_id, const std::function<bool()>& cancelled);
  // Cluster mode: the shard of a table's scope (a user's, or a SHARED table's "").
  int32_t ShardOf(const catalog::TableDef& table, std::string_view scope) const;
  // Cluster mode: the shards holding a table's rows (a SHARED table's one, or all).
  std::set<int32_t> ShardsOf(const catalog::TableDef& table) const;
  // Cluster mode: the node leading shard as its group here says, or, for a shard not
  // held here, as the leaders' heartbeats say; "" when none is known.
  std::string LeaderOfShard(int32_t shard);
  // Cluster mode: SHOW STATS's hot rows of every shard of the table: those held here
  // counted here, the others by their leaders (/v1/cluster/hot-rows).
  Result<int64_t> CountHotRows(const catalog::TableDef& table);
  // Cluster mode: a dba's read of every user's rows of a USER or STREAM table: the shards
  // held here are read here (caught up, unless freshness is kReplica), the others' rows
  // come from their leaders (/v1/cluster/user-rows). A shard nobody answers for fails it.
  Result<std::shared_ptr<const query::GatheredRows>> GatherUserRows(const catalog::TableDef& table,
                                                                     query::ReadFreshness freshness);
  // Cluster mode: a read caught up of one scope's rows of a shard this node holds no
  // replica of: the rows of the shard's scopes of the table, from its leader; null when the
  // shard is held here.
  Result<std::shared_ptr<const query::GatheredRows>> GatherScopeRows(const catalog::TableDef& table,
                                                                      const std::string& scope);
  // One node's answer to /v1/cluster/user-rows: the shards it read leave remaining, their
  // rows and flushed users go into into.
  Status TakeUserRows(const std::string& node, const client::HttpResponse& answer, std::set<int32_t>& remaining,
                      query::GatheredRows& into);
  // Of shards, those this node holds, each once its replica has what the shard's leader
  // had applied when asked; with the catalog that holds table_id (NOT_FOUND without it).
  Result<std::pair<std::shared_ptr<const catalog::CatalogState>, std::set<int32_t>>> HeldAndCaughtUp(
      const std::string& table_id, const std::vector<int32_t>& shards);
  // The table's rows of the scopes of shards (users', or a SHARED table's), and which of
  // them have flushed rows, from this node's store (as it is).
  Status ReadUserRows(const catalog::TableDef& table, const std::set<int32_t>& shards, cluster::UserRows& out);

  explicit App(const Config& config)
      : config_(config), rate_limiter_(config.rate_limit.queries_per_sec_per_user) {}

  Config config_;
  auth::RateLimiter rate_limiter_;
  std::shared_mutex announcing_mutex_;  // AnnounceCatalog's (shared) until Close stops them
  bool announcing_ = true;
  int lock_fd_ = -1;
  Metrics metrics_;
  live::LiveHub hub_;  // outlives every part that publishes to it
  cold::ColdStore cold_;
  live::SnapshotCache snapshot_cache_{[this](const std::string& table_id) { return hub_.LastChange(table_id); }};
  std::unique_ptr<store::KvStore> store_;
  // Cluster mode: the catalog every node shares, in etcd (outlives the catalog writing to it).
  std::unique_ptr<cluster::EtcdCatalog> shared_catalog_;
  std::unique_ptr<catalog::Catalog> catalog_;
  std::unique_ptr<store::Committer> committer_;
  std::unique_ptr<topics::Topics> topics_;  // the committer's hook: outlives its use
  std::unique_ptr<auth::Authenticator> authenticator_;
  std::unique_ptr<query::QueryEngine> engine_;
  std::unique_ptr<sql::Executor> executor_;
  // Cluster mode: transactions moved here from other nodes (they end before the store).
  std::unique_ptr<RelayedSessions> relayed_sessions_;
  std::unique_ptr<live::LiveServices> live_services_;
  std::unique_ptr<jobs::JobManager> jobs_;
  std::unique_ptr<jobs::StreamEvictor> stream_evictor_;
  std::unique_ptr<jobs::FlushScheduler> flush_scheduler_;
  std::unique_ptr<topics::TopicRetention> topic_retention_;
  // Cluster mode only: the node's place in etcd, the Raft groups of the shards it holds
  // (with what their entries do), and the task that keeps the groups to the shard map.
  std::unique_ptr<cluster::Membership> membership_;
  // Held (shared) while another thread reads membership_ (the shard groups' leader hints,
  // NodeAddress); Close resets membership_ under it.
  mutable std::shared_mutex membership_mutex_;
  std::unique_ptr<cluster::ShardWrites> shard_writes_;
  std::unique_ptr<cluster::ShardGroups> shard_groups_;
  std::unique_ptr<PeriodicTask> shard_planner_;
  std::unique_ptr<PeriodicTask> catalog_refresher_;  // takes other nodes' catalog changes
};

}  // namespace kalam::server
