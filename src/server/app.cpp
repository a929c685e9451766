#include "server/app.h"

#include "jobs/backup.h"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/json.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <future>
#include <map>
#include <set>
#include <thread>

#include "auth/jwt.h"
#include "client/http_client.h"
#include "cluster/shard_entry.h"
#include "common/clock.h"
#include "common/encoding.h"
#include "common/json_text.h"
#include "store/committer.h"
#include "store/row_codec.h"
#include "pgwire/listener.h"
#include "server/live_relay.h"

namespace kalam::server {
namespace fs = std::filesystem;
namespace json = boost::json;
namespace {

// How soon a node sees the catalog changes other nodes made.
constexpr std::chrono::milliseconds kCatalogRefreshEvery{200};
// How long one etcd request may take at each endpoint (the catalog's, the JWT secret's).
constexpr std::chrono::milliseconds kEtcdTimeout{2000};
// How long a write waits for its shard's log to commit it.
constexpr std::chrono::milliseconds kProposeTimeout{10000};
// How long connecting to another node may take (it is on this node's network: a node that
// does not answer at once is cut off or gone).
constexpr std::chrono::milliseconds kNodeConnectTimeout{1000};
// How long a node waits for each other node to take a catalog change it made.
constexpr std::chrono::milliseconds kAnnounceTimeout{1000};
// Transactions other nodes' Postgres wire sessions may have moved here at once.
constexpr size_t kMaxRelayedSessions = 10000;
// How long a statement sent on to its shard's leader may take (the Postgres wire's).
constexpr std::chrono::milliseconds kTopicSendOnTimeout{30000};
// How long a read waits for its shard's leader to have applied its predecessors' entries.
constexpr std::chrono::milliseconds kReadLeaderWait{5000};
// How long a node's flush of the shards it leads may take when another node asks for it.
constexpr std::chrono::milliseconds kFlushOnNodeTimeout{600000};
// How long a cluster-wide flush goes on trying shards that have no leader, or whose
// leader refuses (busy flushing the table itself), since the last shard it flushed.
constexpr std::chrono::seconds kFlushStallLimit{60};
// In cluster mode files outside every manifest are removed at start-up only once this
// old: another node may be writing a newer one to the shared storage.
constexpr std::chrono::seconds kSharedOrphanAge{3600};
// Cluster mode: what one node sends another for a read of every user's rows at most; past
// it the read fails (RESOURCE_EXHAUSTED) rather than hold the table in memory twice over.
constexpr size_t kGatherLimitBytes = size_t{256} << 20;
// Cluster mode: how long a node waits for another's rows (up to kGatherLimitBytes of them).
constexpr std::chrono::milliseconds kGatherTimeout{60000};

// One server per data directory: an exclusive lock on <data_path>/LOCK, held until exit.
Result<int> LockDataDirectory(const fs::path& dir) {
  const std::string path = (dir / "LOCK").string();
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return Status(Code::kInternalError, "Cannot open " + path + ": " + strerror(errno));
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    ::close(fd);
    return Status(Code::kInternalError, "The data directory " + dir.string() +
                                            " is in use by another running kalamdb-server");
  }
  const std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd, 0) != 0 || ::write(fd, pid.data(), pid.size()) < 0) {
    spdlog::warn("could not record the pid in {}", path);
  }
  return fd;
}

// The configured secret, else the one kept in the data directory, else a new one.
Result<std::string> LoadJwtSecret(const Config& config, const fs::path& dir) {
  if (!config.auth.jwt_secret.empty()) return config.auth.jwt_secret;
  const fs::path path = dir / "jwt_secret";
  std::ifstream in(path);
  std::string secret;
  if (in && std::getline(in, secret) && !secret.empty()) return secret;
  secret = auth::GenerateSecret();
  const fs::path tmp = dir / "jwt_secret.tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << secret << "\n";
    if (!out.flush()) return Status(Code::kInternalError, "Cannot write " + tmp.string());
  }
  fs::permissions(tmp, fs::perms::owner_read | fs::perms::owner_write);
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) return Status(Code::kInternalError, "Cannot write " + path.string());
  spdlog::info("generated a JWT secret in {}", path.string());
  return secret;
}

// A node's 507 answer to a read of its rows: RESOURCE_EXHAUSTED with its message
// (retrying would not help).
Status TooManyRows(const client::HttpResponse& answer) {
  boost::system::error_code ec;
  const json::value error = json::parse(answer.body, ec);
  const json::value* message = nullptr;
  if (!ec && error.is_object() && error.as_object().contains("error") && error.at("error").is_object()) {
    message = error.at("error").as_object().if_contains("message");
  }
  return {Code::kResourceExhausted,
          message != nullptr && message->is_string() ? std::string(message->as_string()) : answer.body};
}

// SERVICE_UNAVAILABLE for the shards whose rows no node could be asked for (refusal: the
// first reason, when known).
Status Unanswered(const std::set<int32_t>& shards, const std::string& done, const Status& refusal) {
  std::string list;
  for (int32_t shard : shards) list += (list.empty() ? "" : ", ") + std::to_string(shard);
  return {Code::kServiceUnavailable, "the rows of shard(s) " + list + " could not be " + done +
                                         ": no node holding them answered" +
                                         (refusal.ok() ? std::string() : " (" + refusal.message() + ")") + "; retry"};
}

// How long a node waits for another to run statements sent on to it: their statement
// timeouts and 5 s more (an hour with no statement timeout), so that a statement is not
// given up here while it may still succeed there.
std::chrono::milliseconds SentOnTimeout(const Config& config, size_t statements) {
  const int64_t each = config.limits.statement_timeout_ms;
  if (each <= 0) return std::chrono::hours(1);
  return std::chrono::milliseconds(each * static_cast<int64_t>(std::max<size_t>(1, statements)) + 5000);
}

// One statement's result as /v1/api/sql answers it (rows and schema, or a row count and
// message), back in the form the executor gives.
sql::StatementResult StatementResultOf(const json::object& result) {
  sql::StatementResult out;
  if (const json::value* rows = result.if_contains("rows"); rows != nullptr && rows->is_array()) {
    query::RowSet set;
    set.schema_json = result.contains("schema") ? json::serialize(result.at("schema")) : "[]";
    set.rows_json = json::serialize(*rows);
    set.row_count = rows->as_array().size();
    set.truncated = result.contains("truncated");
    out.row_count = set.row_count;
    out.rows = std::move(set);
  } else if (const json::value* count = result.if_contains("row_count"); count != nullptr && count->is_int64()) {
    out.row_count = static_cast<uint64_t>(count->as_int64());
  }
  if (const json::value* message = result.if_contains("message"); message != nullptr && message->is_string()) {
    out.message = std::string(message->as_string());
  }
  return out;
}

// An error as another node's JSON answer gives it ({"code", "message"}).
Status ErrorOf(const json::value& error) {
  const json::object* o = error.if_object();
  const json::value* code = o != nullptr ? o->if_contains("code") : nullptr;
  const json::value* message = o != nullptr ? o->if_contains("message") : nullptr;
  const std::optional<Code> known = code != nullptr && code->is_string() ? CodeNamed(code->as_string()) : std::nullopt;
  return Status(known.value_or(Code::kInternalError),
                message != nullptr && message->is_string() ? std::string(message->as_string()) : "");
}

}  // namespace

Result<std::unique_ptr<App>> App::Open(const Config& config) {
  std::unique_ptr<App> app(new App(config));
  const fs::path dir = fs::absolute(config.storage.data_path);
  std::error_code ec;
  fs::create_directories(dir / "storage", ec);
  if (ec) {
    return Status(Code::kInternalError, "Cannot create the data directory " + dir.string() + ": " +
                                            ec.message());
  }
  auto lock = LockDataDirectory(dir);
  if (!lock.ok()) return lock.status();
  app->lock_fd_ = *lock;
  // RESTORE DATABASE staged a backup: it takes the place of the data now, before anything
  // opens it.
  auto restored = jobs::ApplyStagedRestore(dir.string());
  if (!restored.ok()) return restored.status();
  if (*restored) spdlog::info("restored the staged backup into {}", dir.string());

  auto store = store::KvStore::Open((dir / "rocksdb").string(), config.storage.sync_writes,
                                    static_cast<uint64_t>(std::max<int64_t>(0, config.storage.block_cache_mb)) << 20);
  if (!store.ok()) return store.status();
  app->store_ = std::move(store).value();

  // The storage 'local' is this node's own directory, or in a cluster the shared one
  // every node reaches (the replicas of a shard read the segments its leader flushed).
  const bool shared_cold = config.cluster.enabled() && !config.cluster.shared_storage_path.empty();
  const std::string local_storage = shared_cold ? config.cluster.shared_storage_path : (dir / "storage").string();
  if (shared_cold) {
    fs::create_directories(local_storage, ec);
    if (ec) return Status(Code::kInternalError, "Cannot create cluster.shared_storage_path " + local_storage + ": " + ec.message());
    app->cold_.SetShared(true);
  }
  auto catalog = catalog::Catalog::Open(*app->store_, local_storage);
  if (!catalog.ok()) return catalog.status();
  app->catalog_ = std::move(catalog).value();

  auto secret = LoadJwtSecret(config, dir);
  if (!secret.ok()) return secret.status();
  app->authenticator_ =
      std::make_unique<auth::Authenticator>(*app->catalog_, config.auth, std::move(secret).value());
  KALAM_RETURN_IF_ERROR(app->authenticator_->ApplyRootPassword(config.auth.root_password));
  if (config.auth.root_password.empty()) {
    auto root = app->catalog_->snapshot()->FindUser("root");
    if (root != nullptr && root->password_hash.empty()) {
      spdlog::warn(
          "root has no password: it may log in only from a loopback address with an empty "
          "password. Set KALAMDB_ROOT_PASSWORD or auth.root_password.");
    }
  }

  query::EngineOptions engine_options;
  engine_options.storage_dir = local_storage;
  for (const auto& [id, storage] : app->catalog_->snapshot()->storages) {
    engine_options.storage_dirs.push_back(storage.base_directory);
  }
  engine_options.max_result_rows = config.limits.max_result_rows;
  engine_options.statement_timeout_ms = config.limits.statement_timeout_ms;
  engine_options.connections =
      std::max(2, static_cast<int>(std::thread::hardware_concurrency()) * 2);
  engine_options.max_statement_memory_bytes = config.StatementMemoryBytes(engine_options.connections);
  engine_options.temp_dir = (dir / "tmp").string();
  engine_options.cold_cache_bytes = static_cast<uint64_t>(config.storage.cold_cache_mb) << 20;
  if (config.cluster.enabled() && !shared_cold) {
    // A flush turns hot rows into one node's Parquet files: replicas would diverge.
    engine_options.flush_unsupported =
        "This cluster has no shared storage for cold segments: rows stay in the replicated hot store. Set "
        "cluster.shared_storage_path on every node to a directory they all reach to flush";
  }
  // What the engine spilled before a crash is of no use to anyone (the directory is ours:
  // the data directory's lock is held).
  fs::remove_all(engine_options.temp_dir, ec);
  // The _seq values of a cluster's nodes differ in their node bits.
  const int seq_node = config.cluster.enabled()
                           ? 1 + static_cast<int>(cluster::ShardGroups::RaftId(config.cluster.node_id) % 1023)
                           : 1;
  auto committer = store::Committer::Open(*app->store_, seq_node);
  if (!committer.ok()) return committer.status();
  app->committer_ = std::move(committer).value();
  auto topics = topics::Topics::Open(*app->store_, *app->committer_, *app->catalog_, config.topics);
  if (!topics.ok()) return topics.status();
  app->topics_ = std::move(topics).value();
  app->committer_->SetHook(&app->topics_->hook());
  live::LiveHub* hub = &app->hub_;
  hub->StartAt(app->committer_->last_seq());
  if (config.cluster.enabled()) {
    hub->SetNodeId(config.cluster.node_id);
    hub->SetShardOf([catalog = app->catalog_.get(), shards = config.cluster.shards](const std::string& table_id,
                                                                                   const std::string& scope) {
      if (!scope.empty()) return cluster::ShardOfUser(scope, shards);
      auto state = catalog->snapshot();
      auto table = state->tables.find(table_id);
      return table == state->tables.end() ? -1 : cluster::ShardOfTable(table->second.table_num, shards);
    });
  }
  App* self = app.get();
  app->committer_->SetListener([self](std::vector<store::ChangeEvent>& events, int64_t last_seq) {
    if (self->flush_scheduler_) self->flush_scheduler_->Count(events);
    uint64_t rows = 0;
    for (const auto& e : events) rows += e.rows.size();
    self->metrics_.CountCommit(rows);
    self->hub_.Publish(events, last_seq);
  });
  auto engine =
      query::QueryEngine::Open(*app->catalog_, *app->store_, *app->committer_, app->cold_, engine_options);
  if (!engine.ok()) return engine.status();
  app->engine_ = std::move(engine).value();
  app->live_services_ = std::make_unique<live::LiveServices>(live::LiveServices{
      app->hub_, *app->catalog_, *app->store_, app->cold_, *app->engine_, app->snapshot_cache_,
      config.websocket.max_subscriptions_per_connection, config.websocket.max_subscriptions_per_user});

  app->engine_->SetLiveQuerySource([hub] { return hub->List(); });
  // Segments a crash left outside every manifest are not data: remove them.
  for (const auto& [id, storage] : app->catalog_->snapshot()->storages) {
    Status cleaned = app->cold_.RemoveOrphans(storage.base_directory,
                                              config.cluster.enabled() ? kSharedOrphanAge : std::chrono::seconds(0));
    if (!cleaned.ok()) spdlog::warn("cleaning {} failed: {}", storage.base_directory, cleaned.message());
  }
  auto jobs = jobs::JobManager::Open(*app->store_);
  if (!jobs.ok()) return jobs.status();
  app->jobs_ = std::move(jobs).value();
  jobs::JobManager* manager = app->jobs_.get();
  if (config.cluster.enabled()) manager->SetNodeId(config.cluster.node_id);
  manager->SetEndListener([self](const jobs::JobRecord& job) {
    const double seconds = job.started_at > 0 ? static_cast<double>(job.completed_at - job.started_at) / 1e6 : 0;
    self->metrics_.CountJob(job.job_type, job.status, seconds);
  });
  app->engine_->SetJobSource([manager] {
    std::vector<query::JobRow> rows;
    for (const auto& j : manager->List()) {
      rows.push_back({j.job_id, j.job_type, j.status, j.namespace_id, j.table_name, j.parameters,
                      j.result, j.error_message, j.node_id, j.created_at, j.started_at,
                      j.completed_at});
    }
    return rows;
  });
  app->executor_ = std::make_unique<sql::Executor>(*app->catalog_, *app->engine_, *app->store_,
                                                   *app->committer_, *hub, *app->jobs_,
                                                   *app->topics_, app->config_);
  topics::Topics* topic_service = app->topics_.get();
  app->engine_->SetTopicSources([topic_service] { return topic_service->TopicRows(); },
                                [topic_service] { return topic_service->OffsetRows(); });
  sql::RunningStatements* running = &app->executor_->running();
  app->engine_->SetRunningQuerySource([running] { return running->Rows(); });
  app->executor_->SetStatementObserver([self](std::string_view sql, Code outcome, double seconds) {
    self->metrics_.CountStatement(StatementKind(sql), outcome, seconds);
  });
  if (app->config_.cluster.enabled()) {
    app->relayed_sessions_ = std::make_unique<RelayedSessions>(app->executor_->session_limits(), kMaxRelayedSessions);
  }
  KALAM_RETURN_IF_ERROR(app->JoinCluster());
  query::QueryEngine* flush_engine = app->engine_.get();
  app->flush_scheduler_ = std::make_unique<jobs::FlushScheduler>(
      *app->catalog_, *app->jobs_,
      [self, manager, flush_engine](const std::string& table_id) {
        if (!flush_engine->CanFlush(table_id).ok()) return std::string();
        const auto colon = table_id.find(':');
        auto job = manager->Submit("flush", table_id.substr(0, colon), table_id.substr(colon + 1),
                                   "{\"table_id\":\"" + table_id + "\",\"automatic\":true}",
                                   [self, flush_engine, table_id](const jobs::JobContext& context) {
                                     auto cancelled = [&] { return context.cancelled(); };
                                     // In a cluster each node flushes the shards it leads.
                                     if (self->shard_groups_) return self->FlushLedShards(table_id, std::nullopt, cancelled);
                                     return flush_engine->Flush(table_id, cancelled);
                                   });
        return job.ok() ? *job : std::string();
      },
      config.flush.check_interval_secs);
  app->topic_retention_ = std::make_unique<topics::TopicRetention>(*app->topics_, *app->jobs_,
                                                                   config.topics.retention_check_secs);
  app->stream_evictor_ = std::make_unique<jobs::StreamEvictor>(
      *app->catalog_, *app->store_, *app->committer_, *app->jobs_,
      config.stream.eviction_interval_secs);
  return app;
}

Status App::JoinCluster() {
  // A single node lists itself, under the name its jobs and live queries carry.
  const std::string address = config_.ClusterAddress();
  if (!config_.cluster.enabled()) {
    engine_->SetClusterSources(
        [address] {
          return std::vector<query::ClusterNodeRow>{{"node-1", address, "alive", 0, 0, NowMicros()}};
        },
        [] { return std::vector<query::ShardRow>(); });
    executor_->SetClusterSummarySource([] { return sql::ClusterSummary{"standalone", "node-1", "", 0, 0}; });
    return Status::Ok();
  }
  auto membership = cluster::Membership::Join(config_.cluster, address);
  if (!membership.ok()) return membership.status();
  membership_ = std::move(membership).value();
  cluster::Membership* m = membership_.get();

  // The catalog becomes the cluster's: DDL and users made on any node are every node's.
  shared_catalog_ = std::make_unique<cluster::EtcdCatalog>(
      config_.cluster.etcd_endpoints, config_.cluster.etcd_prefix, kEtcdTimeout);
  catalog_->SetOnTablesGone([executor = executor_.get()](const std::vector<catalog::TableDef>& gone) {
    for (const catalog::TableDef& table : gone) {
      if (Status forgotten = executor->ForgetTable(table); !forgotten.ok()) {
        spdlog::warn("cluster: the rows of dropped table {} stay here for now: {}", table.id(), forgotten.message());
      }
    }
  });
  KALAM_RETURN_IF_ERROR(catalog_->Share(shared_catalog_.get()));
  // Tokens one node signs are good on every node: the cluster's JWT secret is its first
  // node's.
  {
    cluster::EtcdClient etcd(config_.cluster.etcd_endpoints, kEtcdTimeout);
    auto mine = LoadJwtSecret(config_, config_.storage.data_path);
    if (!mine.ok()) return mine.status();
    auto shared = etcd.CreateOrRead(config_.cluster.etcd_prefix + "jwt_secret", *mine);
    if (!shared.ok()) return Status(shared.status().code(), "cannot agree on the JWT secret: " + shared.status().message());
    if (*shared != *mine && !config_.auth.jwt_secret.empty()) {
      spdlog::warn("cluster: auth.jwt_secret differs from the cluster's: tokens are signed with the cluster's");
    }
    authenticator_->SetSecret(*shared);
  }
  // This node's root password, if it has one, is the cluster's root password from now on.
  KALAM_RETURN_IF_ERROR(authenticator_->ApplyRootPassword(config_.auth.root_password));
  catalog_->SetAnnouncer([this](int64_t version) { AnnounceCatalog(version); });
  catalog_refresher_ = std::make_unique<PeriodicTask>(
      kCatalogRefreshEvery, [catalog = catalog_.get(), failing = false]() mutable {
        const Status refreshed = catalog->Refresh();
        if (!refreshed.ok() && !failing) {
          spdlog::warn("cluster: the shared catalog can't be read: {}", refreshed.message());
        } else if (refreshed.ok() && failing) {
          spdlog::info("cluster: the shared catalog can be read again");
        }
        failing = !refreshed.ok();
      });

  // The shards' Raft groups, on [cluster] raft_port.
  const std::string host = address.substr(0, address.rfind(':'));
  cluster::ShardGroupsOptions options;
  options.node_id = config_.cluster.node_id;
  options.dir = config_.storage.data_path + "/raft";
  options.bind_host = config_.server.host;
  options.port = config_.cluster.raft_port;
  options.address = host + ":" + std::to_string(config_.cluster.raft_port);
  // A shard this node holds no replica of (more nodes than replicas): the leader its
  // heartbeat names takes the request.
  options.leader_hint = [this](int32_t shard) -> std::optional<std::string> {
    std::shared_lock lock(membership_mutex_);
    return membership_ ? membership_->LeaderOf(shard) : std::nullopt;
  };
  // Subscribers at followers hear of changes sooner when their node says it has them.
  options.followers_watch = [this](int32_t shard) {
    std::shared_lock lock(membership_mutex_);
    return membership_ && membership_->WatchedElsewhere(shard);
  };
  // Rows go through the shards' logs: proposed by their leader, applied by every replica.
  shard_writes_ = std::make_unique<cluster::ShardWrites>(*store_, *committer_, config_.cluster.shards,
                                                         kProposeTimeout);
  shard_writes_->SetTopicsShardOf(
      [shards = config_.cluster.shards](std::string_view key) { return topics::ShardOfTopicsKey(key, shards); });
  auto groups = cluster::ShardGroups::Start(options, shard_writes_.get());
  if (!groups.ok()) return groups.status();
  shard_groups_ = std::move(groups).value();
  cluster::ShardGroups* g = shard_groups_.get();
  shard_writes_->SetGroups(g);
  m->SetLedShards([this, g, self = config_.cluster.node_id] {
    cluster::LeaderReport report;
    for (const cluster::GroupView& v : g->Groups()) {
      if (v.leader != self) continue;
      report.led.push_back(v.shard);
      if (!v.settled_on.empty()) report.settled[v.shard] = v.settled_on;
    }
    for (int32_t shard : hub_.WatchedShards()) report.watched.push_back(shard);
    return report;
  });
  shard_writes_->SetOnFlushApplied([this](uint64_t table_num, std::string_view scope) {
    if (table_num == 0) {
      cold_.Invalidate("");
      return;
    }
    auto state = catalog_->snapshot();
    for (const auto& [id, table] : state->tables) {
      if (table.table_num == table_num) cold_.Invalidate(cold::ColdStore::ScopeDir(*state, table, std::string(scope)));
    }
  });
  committer_->SetReplicator(shard_writes_.get());
  engine_->SetFlushRouter([this](const std::string& table_id, const std::function<bool()>& cancelled) {
    return FlushEveryShard(table_id, cancelled);
  });
  // HTTP reads are made at the leader of their rows' shard, or, in a batch another node
  // sent on, here once this replica has what the leader had applied when asked.
  engine_->SetReadGate([this, g, shards = config_.cluster.shards](const catalog::TableDef& table, const std::string& scope,
                                                                  query::ReadFreshness freshness) -> Status {
    const int32_t shard =
        scope.empty() ? cluster::ShardOfTable(table.table_num, shards) : cluster::ShardOfUser(scope, shards);
    if (freshness == query::ReadFreshness::kCaughtUp || freshness == query::ReadFreshness::kSentOn) {
      return CatchUp(shard);
    }
    return g->ReadAtLeader(shard, kReadLeaderWait);
  });
  // Topics live in shards: a topic's messages and groups at its shard's leader, changes
  // reaching it through their own shard's outbox.
  topics::ClusterHooks topic_hooks;
  topic_hooks.shards = config_.cluster.shards;
  topic_hooks.lead = [g](int32_t shard) { return g->ReadAtLeader(shard, kReadLeaderWait); };
  topic_hooks.led_since = [g](int32_t shard) { return g->LedSince(shard); };
  topic_hooks.catch_up = [this](int32_t shard) { return CatchUp(shard); };
  topic_hooks.send_on = [this](const Status& refusal, uint64_t topic_num, int32_t source_shard,
                               const std::vector<topics::OutboxRecord>& records) {
    return SendTopicRecordsOn(refusal, topic_num, source_shard, records);
  };
  topic_hooks.shard_of_rows = [shards = config_.cluster.shards](const catalog::TableDef& table, const std::string& scope) {
    return scope.empty() ? cluster::ShardOfTable(table.table_num, shards) : cluster::ShardOfUser(scope, shards);
  };
  topics_->JoinCluster(std::move(topic_hooks));
  // A subscription hears of the changes this node's replicas apply: one to rows of a shard
  // it does not hold is refused, naming a node that does.
  live_services_->held_here = [this, g, shards = config_.cluster.shards](const catalog::TableDef& table,
                                                                         const std::string& scope) -> Status {
    const int32_t shard =
        scope.empty() ? cluster::ShardOfTable(table.table_num, shards) : cluster::ShardOfUser(scope, shards);
    for (const cluster::GroupView& v : g->Groups()) {
      if (v.shard == shard) return Status::Ok();
    }
    std::optional<std::string> leader;
    {
      std::shared_lock lock(membership_mutex_);
      if (membership_) leader = membership_->LeaderOf(shard);
    }
    if (!leader) return live::NotHeldHere(shard, "", std::nullopt);
    return live::NotHeldHere(shard, *leader, NodeAddress(*leader));
  };
  auto plan = [m, g] {
    cluster::ClusterPlan p;
    for (const cluster::ShardView& s : m->Shards()) p.shards[s.shard_id] = {s.replicas, s.initial};
    for (const cluster::NodeView& n : m->Nodes()) {
      if (!n.raft_address.empty()) p.raft_addresses[n.node_id] = n.raft_address;
    }
    g->Update(std::move(p));
  };
  plan();
  shard_planner_ = std::make_unique<PeriodicTask>(std::chrono::seconds(1), plan);

  engine_->SetClusterSources(
      [m, g] {
        std::map<std::string, int64_t> led;
        for (const cluster::GroupView& v : g->Groups()) {
          if (!v.leader.empty()) ++led[v.leader];
        }
        std::vector<query::ClusterNodeRow> rows;
        for (const cluster::NodeView& n : m->Nodes()) {
          rows.push_back({n.node_id, n.address, n.state, led[n.node_id], n.shards_held, n.last_heartbeat});
        }
        return rows;
      },
      [m, g] {
        std::map<int32_t, cluster::GroupView> groups;
        for (cluster::GroupView& v : g->Groups()) groups[v.shard] = std::move(v);
        std::vector<query::ShardRow> rows;
        for (const cluster::ShardView& s : m->Shards()) {
          std::string replicas = "[";
          for (size_t i = 0; i < s.replicas.size(); ++i) {
            replicas += (i > 0 ? "," : "") + JsonString(s.replicas[i]);
          }
          query::ShardRow row{s.shard_id, "", replicas + "]", 0, 0};
          if (auto it = groups.find(s.shard_id); it != groups.end()) {
            row.leader = it->second.leader;
            row.applied_index = static_cast<int64_t>(it->second.applied_index);
            row.lag = static_cast<int64_t>(it->second.lag);
          }
          rows.push_back(std::move(row));
        }
        return rows;
      });
  executor_->SetDrainer([m](const std::string& node_id, bool draining) { return m->SetDraining(node_id, draining); });
  executor_->SetHotRowCounter([this](const catalog::TableDef& table) { return CountHotRows(table); });
  engine_->SetGatherers(
      [this](const catalog::TableDef& table, query::ReadFreshness freshness) { return GatherUserRows(table, freshness); },
      [this](const catalog::TableDef& table, const std::string& scope) { return GatherScopeRows(table, scope); });
  executor_->SetClusterSummarySource([m] {
    const cluster::StatusView s = m->Summary();
    return sql::ClusterSummary{"cluster", s.node_id, s.etcd, s.shards, s.replication_factor};
  });
  return Status::Ok();
}

Status App::CatchUp(int32_t shard) {
  cluster::ShardGroups* g = shard_groups_.get();
  Status here = g->ReadAtLeader(shard, kReadLeaderWait);
  if (here.ok()) return here;
  const std::optional<std::string> leader = cluster::ShardGroups::LeaderNamedIn(here);
  if (!leader) return here;
  auto answer = SendToNode(*leader, "/v1/cluster/read-index", "{\"shard\":" + std::to_string(shard) + "}", kReadLeaderWait);
  const json::value* index = nullptr;
  json::value reply;
  if (answer.ok() && answer->status == 200) {
    boost::system::error_code ec;
    reply = json::parse(answer->body, ec);
    if (!ec && reply.is_object()) index = reply.as_object().if_contains("index");
  }
  if (index == nullptr || !index->is_int64()) {
    return {Code::kServiceUnavailable, "cannot learn how far shard " + std::to_string(shard) + "'s leader '" + *leader +
                                           "' has applied (" + (answer.ok() ? answer->body : answer.status().message()) +
                                           "): retry"};
  }
  return g->WaitApplied(shard, static_cast<uint64_t>(index->as_int64()), kReadLeaderWait);
}

std::set<int32_t> App::CatchUpAll(const std::set<int32_t>& shards, Status* failed) {
  // One after another (a thread per shard was no faster, and left reads refused for
  // seconds in a cluster of two replicas per shard).
  std::set<int32_t> ready;
  for (int32_t shard : shards) {
    const Status status = CatchUp(shard);
    if (status.ok()) {
      ready.insert(shard);
    } else if (failed != nullptr && failed->ok()) {
      *failed = {status.code(), "shard " + std::to_string(shard) + ": " + status.message()};
    }
  }
  return ready;
}

Status App::SendTopicRecordsOn(const Status& refusal, uint64_t topic_num, int32_t source_shard,
                               const std::vector<topics::OutboxRecord>& records) {
  const std::optional<std::string> leader = cluster::ShardGroups::LeaderNamedIn(refusal);
  if (!leader || *leader == config_.cluster.node_id) return refusal;
  json::object body;
  body["topic_num"] = topic_num;
  body["source_shard"] = source_shard;
  body["records"] = Base64Encode(topics::EncodeDelivery(records));
  auto answer = SendToNode(*leader, "/v1/cluster/topic-append", json::serialize(body), kTopicSendOnTimeout);
  if (!answer.ok()) return answer.status();
  if (answer->status == 200) return Status::Ok();
  // The leader's refusal, as it gave it ({"error": {"code", "message"}}).
  boost::system::error_code ec;
  const json::value reply = json::parse(answer->body, ec);
  const json::object* error = nullptr;
  if (!ec && reply.is_object()) {
    if (const json::value* e = reply.as_object().if_contains("error"); e != nullptr) error = e->if_object();
  }
  if (error != nullptr && error->contains("code") && error->at("code").is_string() && error->contains("message") &&
      error->at("message").is_string()) {
    const std::optional<Code> code = CodeNamed(error->at("code").as_string());
    const std::string message(error->at("message").as_string());
    // NOT_FOUND drops the records: only for the topic gone (Append's words), not for a
    // node that has no such route (another version, cluster mode off).
    const bool topic_gone = code == Code::kNotFound && message.starts_with(topics::Topics::kTopicGone);
    return {topic_gone ? Code::kNotFound : code == Code::kNotFound ? Code::kServiceUnavailable
                                                                   : code.value_or(Code::kServiceUnavailable),
            "node '" + *leader + "': " + message};
  }
  return {Code::kServiceUnavailable, "node '" + *leader + "' answered " + std::to_string(answer->status)};
}

Result<client::HttpResponse> App::SendToNode(const std::string& node_id, std::string_view target,
                                            const std::string& body, std::chrono::milliseconds timeout,
                                            const client::Headers& headers,
                                            const std::optional<std::string>& authorization) {
  const std::optional<std::string> address = NodeAddress(node_id);
  const size_t colon = address ? address->rfind(':') : std::string::npos;
  if (colon == std::string::npos) return Status(Code::kServiceUnavailable, "node '" + node_id + "' is not reachable");
  thread_local std::map<std::string, client::HttpClient> clients;  // one kept-alive connection per thread and node
  auto it = clients.find(*address);
  if (it == clients.end()) {
    const auto port = static_cast<uint16_t>(std::atoi(address->c_str() + colon + 1));
    it = clients.emplace(*address, client::HttpClient(address->substr(0, colon), port)).first;
  }
  it->second.SetTimeout(timeout);
  it->second.SetConnectTimeout(std::min(timeout, kNodeConnectTimeout));
  it->second.SetDeadPeerTimeout(kNodeConnectTimeout * 3);
  client::Headers all = {{"Content-Type", "application/json"}};
  if (!authorization) {
    all.emplace_back("Authorization", "Bearer " + authenticator_->ClusterToken(config_.cluster.node_id));
  } else if (!authorization->empty()) {
    all.emplace_back("Authorization", *authorization);
  }
  all.insert(all.end(), headers.begin(), headers.end());
  auto answer = it->second.Send("POST", target, body, all);
  if (!answer.ok()) clients.erase(it);
  return answer;
}

std::optional<Result<sql::StatementResult>> App::SendStatementOn(const Status& refusal, const auth::Caller& caller,
                                                                 const std::string& sql,
                                                                 const std::string& namespace_id) {
  if (!config_.cluster.enabled()) return std::nullopt;
  const std::optional<std::string> leader = cluster::ShardGroups::LeaderNamedIn(refusal);
  if (!leader || *leader == config_.cluster.node_id) return std::nullopt;
  json::object request;
  request["sql"] = sql;
  request["namespace_id"] = namespace_id;
  auto answer = SendToNode(*leader, "/v1/api/sql", json::serialize(request), SentOnTimeout(config_, 1),
                           {{std::string(kActAsHeader), caller.user_id}, {std::string(kForwardedHeader), config_.cluster.node_id}});
  if (!answer.ok()) {
    spdlog::warn("cluster: sending a statement on to '{}' failed: {}", *leader, answer.status().message());
    return std::nullopt;  // the refusal stands: the client retries
  }
  json::value reply;
  boost::system::error_code ec;
  reply = json::parse(answer->body, ec);
  if (ec || !reply.is_object()) return Result<sql::StatementResult>(Status(Code::kInternalError, "the leader's answer is unreadable"));
  const json::object& o = reply.as_object();
  if (const json::value* error = o.if_contains("error"); error != nullptr && error->is_object()) {
    return Result<sql::StatementResult>(ErrorOf(*error));
  }
  const json::value* results = o.if_contains("results");
  if (results == nullptr || !results->is_array() || results->as_array().empty()) {
    return Result<sql::StatementResult>(Status(Code::kInternalError, "the leader answered no result"));
  }
  const json::value& last = results->as_array().back();
  if (!last.is_object()) return Result<sql::StatementResult>(Status(Code::kInternalError, "the leader's answer is unreadable"));
  return Result<sql::StatementResult>(StatementResultOf(last.as_object()));
}

namespace {

// A Postgres wire session's transaction moved to the leader of the shard it writes: a
// session there (/v1/cluster/session) that runs its statements for the caller.
class TransactionAtLeader final : public pgwire::MovedTransaction {
 public:
  TransactionAtLeader(App& app, std::string node, std::string user_id)
      : app_(app), node_(std::move(node)), user_id_(std::move(user_id)) {}

  ~TransactionAtLeader() override {
    if (session_.empty()) return;
    json::object body;
    body["session"] = session_;
    body["end"] = true;
    auto answer = Send(json::serialize(body), kAnnounceTimeout);
    if (!answer.ok()) {
      spdlog::info("cluster: a transaction moved to '{}' could not be given up there ({}); it ends there once idle",
                   node_, answer.status().message());
    }
  }

  Result<Answer> Run(const std::vector<Statement>& statements) override {
    json::object body;
    if (!session_.empty()) body["session"] = session_;
    json::array list;
    for (const Statement& statement : statements) {
      list.push_back(json::object{{"sql", statement.sql}, {"namespace_id", statement.namespace_id}});
    }
    body["statements"] = std::move(list);
    auto answer = Send(json::serialize(body), SentOnTimeout(app_.config(), statements.size()));
    if (!answer.ok()) {
      return Status(Code::kServiceUnavailable,
                    "node '" + node_ + "', where this transaction runs, did not answer: " + answer.status().message());
    }
    boost::system::error_code ec;
    const json::value reply = json::parse(answer->body, ec);
    const json::object* o = !ec ? reply.if_object() : nullptr;
    if (o == nullptr) {
      return Status(Code::kServiceUnavailable, "node '" + node_ + "', where this transaction runs, answered " +
                                                   std::to_string(answer->status));
    }
    if (answer->status != 200) {  // the session is gone there (or was never opened)
      session_.clear();
      const std::string why = o->contains("error") ? ErrorOf(o->at("error")).message()
                                                   : "it answered " + std::to_string(answer->status);
      return Status(Code::kServiceUnavailable, "node '" + node_ + "', where this transaction runs, holds it no more: " + why);
    }
    Answer out;
    if (const json::value* results = o->if_contains("results"); results != nullptr && results->is_array()) {
      for (const json::value& result : results->as_array()) {
        if (result.is_object()) out.results.push_back(StatementResultOf(result.as_object()));
      }
    }
    if (const json::value* error = o->if_contains("error"); error != nullptr && error->is_object()) {
      out.error = ErrorOf(*error);
    }
    const json::value* state = o->if_contains("state");
    const std::string_view named = state != nullptr && state->is_string() ? std::string_view(state->as_string()) : "";
    out.state = named == "in_transaction" ? sql::Session::State::kInTransaction
                : named == "failed"       ? sql::Session::State::kFailed
                                          : sql::Session::State::kIdle;
    if (out.state == sql::Session::State::kIdle) {
      session_.clear();  // ended there
    } else if (const json::value* id = o->if_contains("session"); id != nullptr && id->is_string()) {
      session_ = std::string(id->as_string());
    }
    return out;
  }

  const std::string& node() const override { return node_; }

 private:
  Result<client::HttpResponse> Send(const std::string& body, std::chrono::milliseconds timeout) {
    return app_.SendToNode(node_, kClusterSessionRoute, body, timeout,
                           {{std::string(kActAsHeader), user_id_},
                            {std::string(kForwardedHeader), app_.config().cluster.node_id}});
  }

  App& app_;
  const std::string node_;
  const std::string user_id_;
  std::string session_;  // its id there; "" before the first request and once it ended
};

}  // namespace

std::unique_ptr<pgwire::MovedTransaction> App::MoveTransaction(const Status& refusal, const auth::Caller& caller) {
  if (!config_.cluster.enabled()) return nullptr;
  const std::optional<std::string> leader = cluster::ShardGroups::LeaderNamedIn(refusal);
  if (!leader || *leader == config_.cluster.node_id) return nullptr;
  return std::make_unique<TransactionAtLeader>(*this, *leader, caller.user_id);
}

Result<uint64_t> App::ShardReadIndex(int32_t shard) {
  if (!shard_groups_) return Status(Code::kServiceUnavailable, "this node runs no shard groups");
  return shard_groups_->ReadIndex(shard, kReadLeaderWait);
}

int32_t App::ShardOf(const catalog::TableDef& table, std::string_view scope) const {
  return scope.empty() ? cluster::ShardOfTable(table.table_num, config_.cluster.shards)
                       : cluster::ShardOfUser(scope, config_.cluster.shards);
}

Result<std::string> App::FlushLedShards(const std::string& table_id, const std::optional<std::vector<int32_t>>& shards,
                                        const std::function<bool()>& cancelled) {
  if (!shard_groups_) return Status(Code::kServiceUnavailable, "this node runs no shard groups");
  auto state = catalog_->snapshot();
  auto table = state->tables.find(table_id);
  if (table == state->tables.end()) return Status(Code::kNotFound, "Table '" + table_id + "' does not exist");
  std::set<int32_t> led;
  for (int32_t shard = 0; shard < config_.cluster.shards; ++shard) {
    if (shards && std::find(shards->begin(), shards->end(), shard) == shards->end()) continue;
    // Led here, with every entry of earlier terms applied: the hot rows here are all of them.
    if (shard_groups_->ReadAtLeader(shard, std::chrono::milliseconds(0)).ok()) led.insert(shard);
  }
  std::string list;
  for (int32_t shard : led) list += (list.empty() ? "" : ",") + std::to_string(shard);
  if (led.empty()) return std::string(R"({"shards":[],"result":{}})");
  const catalog::TableDef def = table->second;
  // A scope is taken when its shard is led here still as the flush reaches it (should the
  // leadership move on later, the flush's markers are refused by the shard's log, and the
  // flush fails: its segments hold rows that are hot still, read once).
  auto result = engine_->FlushHere(
      table_id,
      [this, &led, &def](std::string_view scope) {
        const int32_t shard = ShardOf(def, scope);
        return led.contains(shard) && shard_groups_->ReadAtLeader(shard, std::chrono::milliseconds(0)).ok();
      },
      cancelled);
  if (!result.ok()) return result.status();
  return "{\"shards\":[" + list + "],\"result\":" + *result + "}";
}

std::set<int32_t> App::ShardsOf(const catalog::TableDef& table) const {
  if (table.type == catalog::TableType::kShared) return {ShardOf(table, "")};
  std::set<int32_t> all;
  for (int32_t shard = 0; shard < config_.cluster.shards; ++shard) all.insert(shard);
  return all;
}

std::string App::LeaderOfShard(int32_t shard) {
  for (const cluster::GroupView& group : shard_groups_->Groups()) {
    if (group.shard == shard) return group.leader;
  }
  std::shared_lock lock(membership_mutex_);
  if (!membership_) return "";
  return membership_->LeaderOf(shard).value_or("");
}

Result<std::pair<std::shared_ptr<const catalog::CatalogState>, std::set<int32_t>>> App::HeldAndCaughtUp(
    const std::string& table_id, const std::vector<int32_t>& shards) {
  if (!shard_groups_) return Status(Code::kServiceUnavailable, "this node runs no shard groups");
  auto state = catalog_->snapshot();
  if (!state->tables.contains(table_id)) return Status(Code::kNotFound, "Table '" + table_id + "' does not exist");
  std::set<int32_t> held_asked;
  for (const cluster::GroupView& group : shard_groups_->Groups()) {
    if (std::find(shards.begin(), shards.end(), group.shard) != shards.end()) held_asked.insert(group.shard);
  }
  // What each shard's leader had applied when asked is here: a read of it misses no write
  // acknowledged before the statement.
  return std::make_pair(std::move(state), CatchUpAll(held_asked));
}

Result<std::string> App::CountHeldHotRows(const std::string& table_id, const std::vector<int32_t>& shards) {
  auto held = HeldAndCaughtUp(table_id, shards);
  if (!held.ok()) return held.status();
  const auto table = held->first->tables.find(table_id);
  std::map<int32_t, int64_t> counts;
  for (int32_t shard : held->second) counts[shard] = 0;
  if (!counts.empty()) {
    const auto family = table->second.type == catalog::TableType::kStream ? store::Family::kStream : store::Family::kHot;
    auto cursor = store_->NewCursor(family, store::TablePrefix(table->second.table_num));
    for (; cursor->Valid(); cursor->Next()) {
      const std::optional<int32_t> shard = cluster::ShardOfRowKey(cursor->key(), config_.cluster.shards);
      auto counted = shard ? counts.find(*shard) : counts.end();
      if (counted == counts.end()) continue;
      store::RowVersion header;
      KALAM_RETURN_IF_ERROR(store::DecodeRowHeader(cursor->value(), header));
      if (!header.deleted) ++counted->second;
    }
    KALAM_RETURN_IF_ERROR(cursor->status());
  }
  json::object answer;
  for (const auto& [shard, rows] : counts) answer[std::to_string(shard)] = rows;
  return json::serialize(json::object{{"counts", std::move(answer)}});
}

Result<int64_t> App::CountHotRows(const catalog::TableDef& table) {
  std::set<int32_t> remaining = ShardsOf(table);
  const std::string table_id = table.id();
  int64_t total = 0;
  // One answer of CountHeldHotRows (here or another node's): its shards are counted.
  auto take = [&](const std::string& node, const std::string& answer) -> Status {
    boost::system::error_code ec;
    const json::value reply = json::parse(answer, ec);
    const json::value* counts = !ec && reply.is_object() ? reply.as_object().if_contains("counts") : nullptr;
    if (counts == nullptr || !counts->is_object()) {
      return {Code::kInternalError, "node '" + node + "' answered the count with " + answer.substr(0, 300)};
    }
    for (const auto& [shard, rows] : counts->as_object()) {
      if (rows.is_int64() && remaining.erase(std::atoi(std::string(shard).c_str())) > 0) total += rows.as_int64();
    }
    return Status::Ok();
  };
  auto mine = CountHeldHotRows(table_id, std::vector<int32_t>(remaining.begin(), remaining.end()));
  if (!mine.ok()) return mine.status();
  KALAM_RETURN_IF_ERROR(take(config_.cluster.node_id, *mine));
  std::map<std::string, std::vector<int32_t>> elsewhere;  // by leader
  for (int32_t shard : remaining) {
    const std::string leader = LeaderOfShard(shard);
    if (!leader.empty() && leader != config_.cluster.node_id) elsewhere[leader].push_back(shard);
  }
  Status refusal = Status::Ok();
  for (const auto& [node, shards] : elsewhere) {
    json::array list;
    for (int32_t shard : shards) list.push_back(shard);
    auto answer = SendToNode(node, "/v1/cluster/hot-rows",
                             json::serialize(json::object{{"table_id", table_id}, {"shards", std::move(list)}}),
                             kReadLeaderWait);
    if (answer.ok() && answer->status == 200) {
      KALAM_RETURN_IF_ERROR(take(node, answer->body));
    } else {
      refusal = answer.ok() ? Status(Code::kServiceUnavailable, "node '" + node + "': " + answer->body) : answer.status();
    }
  }
  if (!remaining.empty()) return Unanswered(remaining, "counted", refusal);
  return total;
}

Status App::ReadUserRows(const catalog::TableDef& table, const std::set<int32_t>& shards, cluster::UserRows& out) {
  auto wanted = [&](std::string_view user) { return shards.contains(ShardOf(table, user)); };
  // A user at a time: one seek past each user of another shard. Rows first, then markers:
  // a flush in between leaves its rows read hot and the user counted flushed, and the
  // reader's merge keeps the hot version of each key.
  const std::string prefix = store::TablePrefix(table.table_num);
  const auto family = table.type == catalog::TableType::kStream ? store::Family::kStream : store::Family::kHot;
  size_t bytes = 0;
  auto rows = store_->NewCursor(family, prefix);
  std::string user;
  bool first = true, in = false;
  while (rows->Valid()) {
    const std::string_view key_user = store::ScopeOfKey(rows->key());
    if (first || key_user != user) {
      user = key_user;
      in = wanted(user);
      first = false;
    }
    if (!in) {
      rows->Seek(prefix + user + '\x01');
      continue;
    }
    bytes += rows->key().size() + rows->value().size();
    if (bytes > kGatherLimitBytes) {
      return {Code::kResourceExhausted, "reading every user's rows of '" + table.ns + "." + table.name + "' takes more than " +
                                            std::to_string(kGatherLimitBytes >> 20) +
                                            " MiB of hot rows from one node: flush the table, or read fewer users' rows "
                                            "(EXECUTE AS)"};
    }
    out.rows.emplace_back(rows->key(), rows->value());
    rows->Next();
  }
  KALAM_RETURN_IF_ERROR(rows->status());
  if (table.type == catalog::TableType::kStream) return Status::Ok();
  const std::string markers = store::MarkerTablePrefix(table.table_num);
  auto marked = store_->NewCursor(store::Family::kHot, markers);
  while (marked->Valid()) {
    const std::string marked_user(store::ScopeOfKey(marked->key()));
    if (wanted(marked_user)) out.cold_users.push_back(marked_user);
    marked->Seek(markers + marked_user + '\x01');
  }
  return marked->status();
}

Result<std::string> App::HeldUserRows(const std::string& table_id, const std::vector<int32_t>& shards) {
  auto held = HeldAndCaughtUp(table_id, shards);
  if (!held.ok()) return held.status();
  const auto table = held->first->tables.find(table_id);
  const std::set<int32_t>& read = held->second;
  cluster::UserRows rows;
  if (!read.empty()) KALAM_RETURN_IF_ERROR(ReadUserRows(table->second, read, rows));
  json::array list;
  for (int32_t shard : read) list.push_back(shard);
  return json::serialize(json::object{{"shards", std::move(list)}, {"rows", Base64Encode(cluster::EncodeUserRows(rows))}});
}

Result<std::shared_ptr<const query::GatheredRows>> App::GatherUserRows(const catalog::TableDef& table,
                                                                          query::ReadFreshness freshness) {
  const int32_t count = config_.cluster.shards;
  std::set<int32_t> remaining = ShardsOf(table);
  std::set<int32_t> held;
  for (const cluster::GroupView& group : shard_groups_->Groups()) {
    if (remaining.contains(group.shard)) held.insert(group.shard);
  }
  Status refusal = Status::Ok();  // the first reason a shard could not be read
  const std::set<int32_t> here = freshness == query::ReadFreshness::kReplica ? held : CatchUpAll(held, &refusal);
  for (int32_t shard : here) remaining.erase(shard);
  auto gathered = std::make_shared<query::GatheredRows>();
  gathered->here = [here, count](std::string_view user) { return here.contains(cluster::ShardOfUser(user, count)); };
  // The other shards from their leaders, all asked at once.
  std::map<std::string, std::vector<int32_t>> elsewhere;
  for (int32_t shard : remaining) {
    const std::string leader = LeaderOfShard(shard);
    if (!leader.empty() && leader != config_.cluster.node_id) {
      elsewhere[leader].push_back(shard);
    } else if (refusal.ok()) {
      refusal = {Code::kServiceUnavailable, "shard " + std::to_string(shard) + " has no leader known here"};
    }
  }
  std::vector<std::pair<std::string, std::future<Result<client::HttpResponse>>>> asked;
  for (const auto& [node, shards] : elsewhere) {
    json::array list;
    for (int32_t shard : shards) list.push_back(shard);
    asked.emplace_back(node, std::async(std::launch::async, [this, node, body = json::serialize(json::object{
                                                                             {"table_id", table.id()},
                                                                             {"shards", std::move(list)}})] {
                         return SendToNode(node, "/v1/cluster/user-rows", body, kGatherTimeout);
                       }));
  }
  for (auto& [node, answer_future] : asked) {
    Result<client::HttpResponse> answer = answer_future.get();
    if (answer.ok() && answer->status == 200) {
      KALAM_RETURN_IF_ERROR(TakeUserRows(node, *answer, remaining, *gathered));
    } else {
      if (answer.ok() && answer->status == 507) return TooManyRows(*answer);
      if (refusal.ok()) {
        refusal = answer.ok() ? Status(Code::kServiceUnavailable, "node '" + node + "': " + answer->body) : answer.status();
      }
    }
  }
  if (!remaining.empty()) return Unanswered(remaining, "read", refusal);
  return std::shared_ptr<const query::GatheredRows>(std::move(gathered));
}

Status App::TakeUserRows(const std::string& node, const client::HttpResponse& answer, std::set<int32_t>& remaining,
                         query::GatheredRows& into) {
  boost::system::error_code ec;
  const json::value reply = json::parse(answer.body, ec);
  const json::object* o = !ec && reply.is_object() ? &reply.as_object() : nullptr;
  const json::value* shards = o ? o->if_contains("shards") : nullptr;
  const json::value* rows = o ? o->if_contains("rows") : nullptr;
  std::optional<std::string> bytes;
  if (rows != nullptr && rows->is_string()) bytes = Base64Decode(rows->as_string());
  auto decoded = bytes ? cluster::DecodeUserRows(*bytes) : Result<cluster::UserRows>(Status(Code::kInternalError, ""));
  if (shards == nullptr || !shards->is_array() || !decoded.ok()) {
    return {Code::kInternalError, "node '" + node + "' answered a read of its rows with " + answer.body.substr(0, 300)};
  }
  for (const json::value& shard : shards->as_array()) {
    if (shard.is_int64()) remaining.erase(static_cast<int32_t>(shard.as_int64()));
  }
  for (auto& row : decoded->rows) into.rows.push_back(std::move(row));
  for (auto& user : decoded->cold_users) into.cold_scopes.push_back(std::move(user));
  return Status::Ok();
}

Result<std::shared_ptr<const query::GatheredRows>> App::GatherScopeRows(const catalog::TableDef& table,
                                                                           const std::string& scope) {
  const int32_t shard = ShardOf(table, scope);
  for (const cluster::GroupView& group : shard_groups_->Groups()) {
    if (group.shard == shard) return std::shared_ptr<const query::GatheredRows>();  // held: not caught up
  }
  const std::string leader = LeaderOfShard(shard);
  if (leader.empty() || leader == config_.cluster.node_id) return std::shared_ptr<const query::GatheredRows>();
  auto answer = SendToNode(leader, "/v1/cluster/user-rows",
                           json::serialize(json::object{{"table_id", table.id()}, {"shards", json::array{shard}}}),
                           kGatherTimeout);
  if (answer.ok() && answer->status == 507) return TooManyRows(*answer);
  std::set<int32_t> remaining = {shard};
  auto gathered = std::make_shared<query::GatheredRows>();
  gathered->here = [](std::string_view) { return false; };
  if (answer.ok() && answer->status == 200) KALAM_RETURN_IF_ERROR(TakeUserRows(leader, *answer, remaining, *gathered));
  if (!remaining.empty()) {
    return Status(Code::kServiceUnavailable,
                  "the rows of shard " + std::to_string(shard) + " could not be read from its leader '" + leader + "' (" +
                      (answer.ok() ? answer->body.substr(0, 300) : answer.status().message()) + "); retry");
  }
  return std::shared_ptr<const query::GatheredRows>(std::move(gathered));
}

Result<std::string> App::FlushEveryShard(const std::string& table_id, const std::function<bool()>& cancelled) {
  auto state = catalog_->snapshot();
  auto table = state->tables.find(table_id);
  if (table == state->tables.end()) return Status(Code::kNotFound, "Table '" + table_id + "' does not exist");
  KALAM_RETURN_IF_ERROR(engine_->CanFlush(table_id));
  std::set<int32_t> remaining = ShardsOf(table->second);
  std::map<std::string, int64_t> totals;  // the flushes' figures, summed
  std::set<std::string> nodes;
  Status last_refusal = Status::Ok();
  std::string logged_refusal;
  auto stalled_at = std::chrono::steady_clock::now() + kFlushStallLimit;
  // One answer of FlushLedShards (here or another node's): its shards are done.
  auto take = [&](const std::string& node, const std::string& answer) -> Status {
    boost::system::error_code ec;
    const json::value reply = json::parse(answer, ec);
    const json::object* o = !ec && reply.is_object() ? &reply.as_object() : nullptr;
    const json::value* done = o ? o->if_contains("shards") : nullptr;
    const json::value* result = o ? o->if_contains("result") : nullptr;
    if (done == nullptr || !done->is_array() || result == nullptr || !result->is_object()) {
      return {Code::kInternalError, "node '" + node + "' answered the flush with " + answer};
    }
    for (const json::value& shard : done->as_array()) {
      if (shard.is_int64() && remaining.erase(static_cast<int32_t>(shard.as_int64())) > 0) nodes.insert(node);
    }
    for (const auto& [name, figure] : result->as_object()) {
      if (figure.is_int64()) totals[std::string(name)] += figure.as_int64();
    }
    return Status::Ok();
  };
  while (!remaining.empty()) {
    if (cancelled()) return Status(Code::kInternalError, "Cancelled");
    const size_t before = remaining.size();
    // The shards led elsewhere, by leader (as the refusal of a read here names it).
    std::map<std::string, std::vector<int32_t>> elsewhere;
    bool any_here = false;
    for (int32_t shard : remaining) {
      const std::string leader = LeaderOfShard(shard);
      if (shard_groups_->ReadAtLeader(shard, std::chrono::milliseconds(0)).ok()) {
        any_here = true;
      } else if (!leader.empty() && leader != config_.cluster.node_id) {
        elsewhere[leader].push_back(shard);
      } else {
        last_refusal = {Code::kServiceUnavailable, "shard " + std::to_string(shard) + " has no leader at the moment"};
      }
    }
    std::vector<std::pair<std::string, std::future<Result<client::HttpResponse>>>> asked;
    for (const auto& [node, shards] : elsewhere) {
      json::object body;
      body["table_id"] = table_id;
      json::array list;
      for (int32_t shard : shards) list.push_back(shard);
      body["shards"] = std::move(list);
      asked.emplace_back(node, std::async(std::launch::async, [this, node, text = json::serialize(body)] {
                           return SendToNode(node, "/v1/cluster/flush", text, kFlushOnNodeTimeout);
                         }));
    }
    if (any_here) {
      auto mine = FlushLedShards(table_id, std::vector<int32_t>(remaining.begin(), remaining.end()), cancelled);
      if (mine.ok()) {
        KALAM_RETURN_IF_ERROR(take(config_.cluster.node_id, *mine));
      } else {
        last_refusal = mine.status();
      }
    }
    for (auto& [node, answer] : asked) {
      auto reply = answer.get();
      if (reply.ok() && reply->status == 200) {
        KALAM_RETURN_IF_ERROR(take(node, reply->body));
      } else {
        last_refusal = reply.ok() ? Status(Code::kServiceUnavailable, "node '" + node + "': " + reply->body)
                                  : reply.status();
      }
    }
    if (!last_refusal.ok() && last_refusal.message() != logged_refusal) {
      logged_refusal = last_refusal.message();
      spdlog::info("cluster: flush of {}: {} shard(s) wait: {}", table_id, remaining.size(), logged_refusal);
    }
    if (remaining.size() < before) {
      stalled_at = std::chrono::steady_clock::now() + kFlushStallLimit;
    } else if (std::chrono::steady_clock::now() > stalled_at) {
      return Status(last_refusal.ok() ? Code::kServiceUnavailable : last_refusal.code(),
                    std::to_string(remaining.size()) + " shard(s) of '" + table_id + "' could not be flushed within " +
                        std::to_string(kFlushStallLimit.count()) + " s: " + last_refusal.message());
    } else {
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
  }
  std::string out = "{";
  for (const auto& [name, figure] : totals) out += JsonString(name) + ":" + std::to_string(figure) + ",";
  std::string by;
  for (const std::string& node : nodes) by += (by.empty() ? "" : ",") + JsonString(node);
  return out + "\"nodes\":[" + by + "]}";
}

void App::AnnounceCatalog(int64_t version) {
  std::shared_lock lock(announcing_mutex_);
  if (!announcing_ || !membership_) return;
  const std::string body = "{\"version\":" + std::to_string(version) + "}";
  std::vector<std::future<void>> sent;
  for (const cluster::NodeView& n : membership_->Nodes()) {
    if (n.node_id == config_.cluster.node_id || n.state == "down") continue;
    sent.push_back(std::async(std::launch::async, [this, &body, node = n.node_id] {
      auto answer = SendToNode(node, "/v1/cluster/catalog", body, kAnnounceTimeout);
      if (!answer.ok() || answer->status != 200) {
        spdlog::warn("cluster: node '{}' did not take catalog version in time ({}); it takes it within {} ms",
                     node, answer.ok() ? answer->body : answer.status().message(), kCatalogRefreshEvery.count());
      }
    }));
  }
  for (std::future<void>& f : sent) f.wait();
}

std::optional<std::string> App::NodeAddress(const std::string& node_id) const {
  std::shared_lock lock(membership_mutex_);
  if (!membership_) return std::nullopt;
  for (const cluster::NodeView& n : membership_->Nodes()) {
    if (n.node_id == node_id && n.state != "down") return n.address;
  }
  return std::nullopt;
}

Status App::Close() {
  Status s;
  {
    std::unique_lock lock(announcing_mutex_);  // waits for announcements under way
    announcing_ = false;
  }
  catalog_refresher_.reset();
  shard_planner_.reset();
  if (topics_) topics_->LeaveCluster();  // no more deliveries to other nodes
  {
    // Taken out under the lock, left outside it: leaving waits for the heartbeat, which
    // may be in an etcd call, and readers of the hints must not wait that long.
    std::unique_ptr<cluster::Membership> leaving;
    {
      std::unique_lock lock(membership_mutex_);
      leaving = std::move(membership_);
    }
  }  // leaves the cluster first: other nodes stop sending work here
  // Work that reaches the shards' groups ends before they do.
  flush_scheduler_.reset();
  stream_evictor_.reset();
  topic_retention_.reset();
  jobs_.reset();  // cancels running jobs, waits for the worker
  if (shard_writes_) shard_writes_->SetGroups(nullptr);
  shard_groups_.reset();  // then its shards' groups: their other replicas elect leaders
  if (relayed_sessions_) relayed_sessions_->Clear();  // their transactions end before the store
  executor_.reset();
  engine_.reset();
  committer_.reset();
  topics_.reset();
  if (store_) s = store_->Close();
  if (lock_fd_ >= 0) {
    ::close(lock_fd_);
    lock_fd_ = -1;
  }
  return s;
}

App::~App() { Close(); }

}  // namespace kalam::server
