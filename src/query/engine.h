// The query engine: DuckDB behind the one query path. Every SELECT is parsed
// by DuckDB, validated, has its table references replaced by scans bound to the caller,
// and runs on a pooled connection; results come back encoded as JSON.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "auth/caller.h"
#include "common/cancellation.h"
#include "common/status.h"

namespace kalam::catalog {
class Catalog;
struct TableDef;
}
namespace kalam::store {
class KvStore;
class Committer;
class Transaction;
}
namespace kalam::cold {
class ColdStore;
}

namespace kalam::query {

struct EngineOptions {
  std::string storage_dir;    // the directory DuckDB itself may read and write, and
  std::vector<std::string> storage_dirs;  // storages' directories elsewhere (fixed at start)
  int threads = 0;            // DuckDB worker threads; 0: one per core
  int connections = 4;        // pooled connections (statements running at once)
  uint64_t max_result_rows = 0;  // rows a result holds at most, the rest cut off; 0: no limit
  // One statement's memory (see [limits] max_statement_memory_mb); 0: no limit. The engine's
  // buffer-managed memory is capped at this times `connections`.
  uint64_t max_statement_memory_bytes = 0;
  std::string temp_dir;       // where the engine spills what passes its memory; empty: nowhere
  int64_t statement_timeout_ms = 0;  // 0: none; else STATEMENT_TIMEOUT past it
  uint64_t cold_cache_bytes = 0;     // cold::PointCache's budget; 0: no cache
  // Set: flushes are refused with UNSUPPORTED and this reason (cluster mode, until cold
  // storage is shared by the replicas).
  std::string flush_unsupported;
};

// A row-returning statement's result, already JSON: schema_json is the API's "schema" array
// and rows_json the "rows" array.
struct RowSet {
  std::string schema_json;
  std::string rows_json;
  uint64_t row_count = 0;
  bool truncated = false;  // rows past EngineOptions::max_result_rows were cut off
};

// What a statement produced: rows (SELECT, RETURNING) or a count of rows changed.
struct Outcome {
  std::optional<RowSet> rows;
  uint64_t row_count = 0;
  std::string message;
  bool wrote = false;  // an INSERT, UPDATE or DELETE (committed, outside a transaction)
  std::string written_table;  // its table ("ns:name"), when known (cluster mode)
};

// Where a statement's reads of table rows may be made (cluster mode).
enum class ReadFreshness {
  kReplica,   // this node's replicas as they are (a single node; the Postgres wire)
  kLeader,    // at the leader of the rows' shard: refused elsewhere, the refusal naming it
  kCaughtUp,  // here, once this node's replica has applied what the leader had when asked
  // A batch another node sent on (never sent on again), or a write at its shard's leader:
  // as kCaughtUp, and the rows of a shard this node holds no replica of are read from that
  // shard's leader.
  kSentOn,
};

struct QueryContext {
  auth::Caller caller;
  std::string default_namespace = "default";
  // The caller's open transaction: statements read its snapshot under its own writes and
  // write into it. Null: each statement commits on its own.
  store::Transaction* transaction = nullptr;
  // Set when the statement is to stop (KILL QUERY, its client went away): its engine
  // queries are interrupted, and it commits nothing. Null: only its deadline stops it.
  const Cancellation* cancellation = nullptr;
  // Cluster mode: how fresh the rows it reads must be (the engine's read gate sees to it).
  ReadFreshness freshness = ReadFreshness::kReplica;
  // Cluster mode: the committer's fence read before a statement that writes read anything
  // (its write is refused if the shard's leadership changed since); nullopt: none.
  std::optional<uint64_t> write_fence = std::nullopt;
  // A query of a dba or system caller (in its own name, not under EXECUTE AS): what it
  // reads of USER and STREAM tables is every user's rows, not its own. Statements that
  // write, and subscriptions, stay in the caller's own rows.
  bool every_user = false;
};

// Cluster mode: Ok when this node may answer a read of the table's partition scope with
// the freshness asked (waiting, for kCaughtUp, until its replica has caught up); otherwise
// the refusal, naming the shard's leader when known.
using ReadGate =
    std::function<Status(const catalog::TableDef& table, const std::string& scope, ReadFreshness freshness)>;
// A read gate bound to one statement's freshness.
using TableReadGate = std::function<Status(const catalog::TableDef& table, const std::string& scope)>;

// Cluster mode: the rows a read of every user's rows of a table takes from other nodes.
// A node reads the users of the shards it holds from its own store (once caught up); the
// other shards' leaders send theirs.
struct GatheredRows {
  // Whether a user's rows are read from this node's store (its shard is held here).
  std::function<bool(std::string_view scope)> here;
  // The rows of the other users, as the hot (or stream) store holds them: (key, value),
  // tombstones included.
  std::vector<std::pair<std::string, std::string>> rows;
  // The other users with flushed rows (markers in their leader's store).
  std::vector<std::string> cold_scopes;
};
using EveryScopeGate = std::function<Result<std::shared_ptr<const GatheredRows>>(const catalog::TableDef& table,
                                                                                ReadFreshness freshness)>;
// Cluster mode: for a read of a batch sent on (kSentOn) of one scope's rows (a user's, or a SHARED
// table's "") of a shard this node holds no replica of, those rows from the shard's
// leader; null when the shard is held here (the read gate's refusal then stands).
using ScopeGather =
    std::function<Result<std::shared_ptr<const GatheredRows>>(const catalog::TableDef& table, const std::string& scope)>;

// A row of system.live_queries.
struct LiveQueryRow {
  std::string live_id, connection_id, subscription_id, namespace_id, table_name, user_id;
  std::string query, options_json, node;
  int64_t created_at = 0, last_update = 0;  // microseconds
  int64_t changes = 0;
};

// A row of system.running_queries.
struct RunningQueryRow {
  std::string query_id, query, user_id, username;
  int64_t started_at = 0;  // microseconds
  int64_t elapsed_ms = 0;
};

// A row of system.jobs.
struct JobRow {
  std::string job_id, job_type, status, namespace_id, table_name, parameters, result;
  std::string error_message, node_id;
  int64_t created_at = 0, started_at = 0, completed_at = 0;  // microseconds; 0: not yet
};

// A row of system.topics.
struct TopicRow {
  std::string topic_id, sources_json;
  int32_t partitions = 1;
  int64_t message_count = 0;
  int64_t created_at = 0;  // microseconds
};

// A row of system.topic_offsets.
struct TopicOffsetRow {
  std::string topic_id, group_id;
  int32_t partition_id = 0;
  int64_t committed_offset = -1;
  int64_t reserved_until_ms = 0;  // 0: nothing reserved
  int64_t updated_at = 0;         // microseconds
};

// A row of system.cluster_nodes.
struct ClusterNodeRow {
  std::string node_id, address, state;
  int64_t shards_led = 0, shards_held = 0;
  int64_t last_heartbeat = 0;  // microseconds; 0: never seen
};

// A row of system.shards.
struct ShardRow {
  int32_t shard_id = 0;
  std::string leader;         // "": none known
  std::string replicas_json;  // a JSON array of node ids
  int64_t applied_index = 0, lag = 0;
};

class QueryEngine {
 public:
  static Result<std::unique_ptr<QueryEngine>> Open(catalog::Catalog& catalog,
                                                   store::KvStore& store,
                                                   store::Committer& committer,
                                                   cold::ColdStore& cold,
                                                   const EngineOptions& options);
  virtual ~QueryEngine() = default;

  // Runs one statement that is not one of KalamDB's own: SELECT (with VALUES, set
  // operations, CTEs), INSERT, UPDATE and DELETE. Anything that reads files, attaches
  // databases, changes settings or calls table functions is refused with INVALID_SQL or
  // PERMISSION_DENIED before it runs.
  virtual Result<Outcome> Execute(const QueryContext& context, std::string_view sql) = 0;

  // COMMIT: writes the transaction's rows as one atomic group (their live events follow
  // it), or nothing: TRANSACTION_CONFLICT when a transaction that committed after it began
  // changed one of its rows, or when a table it wrote was dropped meanwhile.
  virtual Status Commit(store::Transaction& transaction) = 0;

  // Where system.live_queries gets its rows. Set once, before statements run.
  virtual void SetLiveQuerySource(std::function<std::vector<LiveQueryRow>()> source) = 0;
  // Where system.jobs gets its rows. Set once, before statements run.
  virtual void SetJobSource(std::function<std::vector<JobRow>()> source) = 0;
  // Where system.running_queries gets its rows. Set once, before statements run.
  virtual void SetRunningQuerySource(std::function<std::vector<RunningQueryRow>()> source) = 0;
  // Where system.topics and system.topic_offsets get their rows. Set once, before
  // statements run.
  virtual void SetTopicSources(std::function<std::vector<TopicRow>()> topics,
                               std::function<std::vector<TopicOffsetRow>()> offsets) = 0;

  // Where system.cluster_nodes and system.shards get their rows. Set once, before
  // statements run.
  // Cluster mode: the gate of reads made with a freshness other than kReplica. Set before the
  // first statement.
  virtual void SetReadGate(ReadGate gate) = 0;
  // Cluster mode: what reads take from other nodes: every user's rows
  // (QueryContext::every_user) of the shards this node does not hold, and, for reads caught
  // up, one scope's rows of a shard it does not hold.
  virtual void SetGatherers(EveryScopeGate every_scope, ScopeGather one_scope) = 0;
  virtual void SetClusterSources(std::function<std::vector<ClusterNodeRow>()> nodes,
                                 std::function<std::vector<ShardRow>()> shards) = 0;

  // Flushes the table's hot rows to Parquet segments (the work of a flush job); the JSON
  // result says what was written. One flush per table at a time. With a router set, the
  // router does it (cluster mode: each shard's leader flushes that shard's rows).
  virtual Result<std::string> Flush(const std::string& table_id,
                                    const std::function<bool()>& cancelled) = 0;
  // Which scopes of a table a flush here takes ("" is a SHARED table's); null: all.
  using ScopeFilter = std::function<bool(std::string_view scope)>;
  // Flushes, on this node, the table's scopes include takes (what a router asks of a node).
  virtual Result<std::string> FlushHere(const std::string& table_id, const ScopeFilter& include,
                                        const std::function<bool()>& cancelled) = 0;
  using FlushRouter =
      std::function<Result<std::string>(const std::string& table_id, const std::function<bool()>& cancelled)>;
  // Set before the first flush.
  virtual void SetFlushRouter(FlushRouter router) = 0;

  // Ok when the table's storage lies where the engine may write (directories are fixed at
  // start-up); otherwise why not, as INVALID_SQL.
  virtual Status CanFlush(const std::string& table_id) = 0;

  // Compacts the table's cold segments (the work of a compact job).
  virtual Result<std::string> Compact(const std::string& table_id,
                                      const std::function<bool()>& cancelled) = 0;

  // Runs work while no flush or compaction runs (they wait): the store and the manifests
  // then describe one moment (BACKUP DATABASE).
  virtual Result<std::string> WithoutBackgroundWork(const std::function<Result<std::string>()>& work) = 0;

  // Interrupts every running statement and refuses new ones (SERVICE_UNAVAILABLE): the
  // server is shutting down and must not wait for them past its deadline.
  virtual void CancelAll() = 0;

  // The decoded cold row groups kept for point reads (EngineOptions::cold_cache_bytes).
  struct PointCacheFigures {
    uint64_t hits = 0, misses = 0, decoded = 0, bytes = 0;
  };
  virtual PointCacheFigures point_cache_figures() const = 0;

  // A SELECT's rows (used for SHOW/DESCRIBE statements rewritten as queries).
  Result<RowSet> Query(const QueryContext& context, std::string_view sql);
};

}  // namespace kalam::query
