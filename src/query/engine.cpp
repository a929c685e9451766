#include "query/engine.h"

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <map>
#include <thread>

#include "auth/table_access.h"
#include "catalog/catalog.h"
#include "common/allocation_limit.h"
#include "common/periodic_task.h"
#include "duckdb/main/extension/extension_loader.hpp"
#include "duckdb/parallel/task_scheduler.hpp"
#include "duckdb/parser/keyword_helper.hpp"
#include "duckdb/parser/parser.hpp"
#include "duckdb/parser/statement/delete_statement.hpp"
#include "duckdb/parser/statement/insert_statement.hpp"
#include "duckdb/parser/statement/update_statement.hpp"
#include "query/cells.h"
#include "query/dml.h"
#include "query/fast_path.h"
#include "cold/flush.h"
#include "cold/merged_scan.h"
#include "cold/cold_store.h"
#include "cold/point_cache.h"
#include "common/text.h"
#include <set>
#include "query/pg_functions.h"
#include "query/result_encoder.h"
#include "query/row_mapping.h"
#include "query/slots.h"
#include "query/sql_guard.h"
#include "query/system_tables.h"
#include "query/live_query_rows.h"
#include "query/table_scan.h"
#include "store/committer.h"
#include "store/row_codec.h"
#include "store/transaction.h"

namespace kalam::query {
namespace {

struct SystemScanData : duckdb::TableFunctionData {
  std::vector<Row> rows;
};

struct SystemScanState : duckdb::GlobalTableFunctionState {
  size_t next = 0;
};

duckdb::unique_ptr<duckdb::FunctionData> SystemScanBind(
    duckdb::ClientContext& context, duckdb::TableFunctionBindInput& input,
    duckdb::vector<duckdb::LogicalType>& return_types, duckdb::vector<std::string>& names) {
  const ConnectionSlot& slot = input.info->Cast<ScanRegistry>().SlotFor(context);
  const std::string full_name = input.inputs[0].GetValue<std::string>();
  const auto dot = full_name.find('.');
  const SystemTable* table = FindSystemTable(full_name.substr(0, dot), full_name.substr(dot + 1));
  // The guard let this scan in for this caller; check again rather than trust it.
  if (table == nullptr || slot.caller.role < table->min_role) {
    throw duckdb::PermissionException("Permission denied");
  }
  auto data = duckdb::make_uniq<SystemScanData>();
  data->rows = table->rows(*slot.state, slot.caller);
  const auto& registry = input.info->Cast<ScanRegistry>();
  if (table->name == "live_queries" && registry.live_queries) {
    data->rows = LiveQueryRows(registry.live_queries(), slot.caller);
  }
  if (table->name == "jobs" && registry.jobs) data->rows = JobRows(registry.jobs());
  if (table->name == "topics" && registry.topics) data->rows = TopicRows(registry.topics());
  if (table->name == "topic_offsets" && registry.topic_offsets) {
    data->rows = TopicOffsetRows(registry.topic_offsets());
  }
  if (table->name == "running_queries" && registry.running_queries) {
    data->rows = RunningQueryRows(registry.running_queries(), slot.caller);
  }
  if (table->name == "cluster_nodes" && registry.cluster_nodes) {
    data->rows = ClusterNodeRows(registry.cluster_nodes());
  }
  if (table->name == "shards" && registry.shards) data->rows = ShardRows(registry.shards());
  return_types.assign(table->column_types.begin(), table->column_types.end());
  names.assign(table->column_names.begin(), table->column_names.end());
  return data;
}

duckdb::unique_ptr<duckdb::GlobalTableFunctionState> SystemScanInit(
    duckdb::ClientContext&, duckdb::TableFunctionInitInput&) {
  return duckdb::make_uniq<SystemScanState>();
}

void SystemScan(duckdb::ClientContext&, duckdb::TableFunctionInput& input,
                duckdb::DataChunk& output) {
  const auto& data = input.bind_data->Cast<SystemScanData>();
  auto& state = input.global_state->Cast<SystemScanState>();
  idx_t count = 0;
  while (state.next < data.rows.size() && count < STANDARD_VECTOR_SIZE) {
    const Row& row = data.rows[state.next++];
    for (idx_t c = 0; c < row.size(); ++c) output.SetValue(c, count, row[c]);
    ++count;
  }
  output.SetCardinality(count);
}

// The engine's default allocator, which its vectors come from, with the statement memory
// cap of common/allocation_limit.h: a block past the limit of the thread's statement (its
// own thread, or an engine worker working for it) is refused, and the engine fails the
// statement with its out-of-memory error. Installed once, before the first database
// starts; the memory itself stays the engine's.
duckdb::data_ptr_t CappedAllocate(duckdb::PrivateAllocatorData* data, duckdb::idx_t size) {
  if (!BlockAllowed(size)) return nullptr;
  return duckdb::Allocator::DefaultAllocate(data, size);
}

duckdb::data_ptr_t CappedReallocate(duckdb::PrivateAllocatorData* data, duckdb::data_ptr_t pointer,
                                    duckdb::idx_t old_size, duckdb::idx_t size) {
  if (size > old_size && !BlockAllowed(size)) return nullptr;
  return duckdb::Allocator::DefaultReallocate(data, pointer, old_size, size);
}

duckdb::unique_ptr<duckdb::Allocator> CappedAllocator() {
  return duckdb::make_uniq<duckdb::Allocator>(CappedAllocate, duckdb::Allocator::DefaultFree,
                                             CappedReallocate, duckdb::make_uniq<duckdb::PrivateAllocatorData>());
}

void InstallCappedAllocator() {
  // Blocks the first default allocator gave out (to static objects) keep pointing to it,
  // so it stays alive; both free into the same heap.
  static const duckdb::shared_ptr<duckdb::Allocator> first = duckdb::Allocator::DefaultAllocatorReference();
  static const bool installed = [] {
    duckdb::Allocator::DefaultAllocatorReference() = duckdb::make_shared_ptr<duckdb::Allocator>(
        CappedAllocate, duckdb::Allocator::DefaultFree, CappedReallocate,
        duckdb::make_uniq<duckdb::PrivateAllocatorData>());
    return true;
  }();
  (void)installed;
}

// The engine's worker threads. DuckDB's own would run parts of statements with no
// allocation cap; these are DuckDB's "external threads" (it starts none of its own), each
// running the engine's tasks under a cap of max_statement_memory_mb for its whole life.
class EngineWorkers {
 public:
  EngineWorkers(duckdb::DatabaseInstance& db, int count, size_t block_limit)
      : scheduler_(duckdb::TaskScheduler::GetScheduler(db)) {
    for (int i = 0; i < count; ++i) {
      threads_.emplace_back([this, block_limit] {
        ScopedAllocationLimit cap(block_limit);
        scheduler_.ExecuteForever(&running_);
      });
    }
  }
  ~EngineWorkers() {
    running_ = false;
    scheduler_.Signal(threads_.size());
    for (auto& t : threads_) t.join();
  }

 private:
  duckdb::TaskScheduler& scheduler_;
  std::atomic<bool> running_ = true;
  std::vector<std::thread> threads_;
};

using Clock = std::chrono::steady_clock;

// The deadline of the statement the thread runs: set by Execute, read by every query it
// runs on a pooled connection (a DML statement runs several).
thread_local Clock::time_point statement_deadline = Clock::time_point::max();
// Set while the thread answers for a statement that has committed: it is never cut short.
thread_local bool answering_committed = false;

// Sets the thread's statement deadline for the scope of one statement (nested scopes keep
// the outer one).
class StatementDeadline {
 public:
  explicit StatementDeadline(int64_t timeout_ms) : outer_(statement_deadline) {
    // At most a year: a larger timeout would overflow the clock.
    constexpr int64_t kLongest = 365LL * 24 * 3600 * 1000;
    if (outer_ == Clock::time_point::max() && timeout_ms > 0) {
      statement_deadline = Clock::now() + std::chrono::milliseconds(std::min(timeout_ms, kLongest));
    }
  }
  ~StatementDeadline() { statement_deadline = outer_; }

 private:
  const Clock::time_point outer_;
};

class Engine final : public QueryEngine, public DmlHost {
 public:
  Engine(catalog::Catalog& catalog, store::KvStore& store, store::Committer& committer,
         cold::ColdStore& cold, const EngineOptions& options)
      : catalog_(catalog),
        store_(store),
        committer_(committer),
        cold_(cold),
        options_(options),
        point_cache_(options.cold_cache_bytes > 0 ? std::make_unique<cold::PointCache>(options.cold_cache_bytes)
                                                  : nullptr),
        ids_(/*node_id=*/1, 0) {}

  Status Start() {
    InstallCappedAllocator();
    duckdb::DBConfig config;
    try {
      const int threads = options_.threads > 0
                              ? options_.threads
                              : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
      config.SetOptionByName("threads", duckdb::Value::BIGINT(threads));
      config.allocator = CappedAllocator();  // the database's own blocks (its buffers)
      // Every thread is ours: the statement's own and EngineWorkers.
      config.SetOptionByName("external_threads", duckdb::Value::BIGINT(threads));
      config.SetOptionByName("autoinstall_known_extensions", duckdb::Value::BOOLEAN(false));
      config.SetOptionByName("autoload_known_extensions", duckdb::Value::BOOLEAN(false));
      config.SetOptionByName("allow_community_extensions", duckdb::Value::BOOLEAN(false));
      if (options_.max_statement_memory_bytes > 0) {
        const uint64_t engine_bytes =
            options_.max_statement_memory_bytes * static_cast<uint64_t>(std::max(1, options_.connections));
        config.SetOptionByName("memory_limit", duckdb::Value(std::to_string(engine_bytes / 1024) + "KiB"));
      }
      if (!options_.temp_dir.empty()) {
        config.SetOptionByName("temp_directory", duckdb::Value(options_.temp_dir));
      }
      db_ = std::make_unique<duckdb::DuckDB>(nullptr, &config);
      KALAM_RETURN_IF_ERROR(LockDown(*db_));
      workers_ = std::make_unique<EngineWorkers>(*db_->instance, threads - 1,
                                                 options_.max_statement_memory_bytes);
      // Flushes and compactions run on a database of their own with one thread (the job
      // worker's, which runs niced): background work never takes the cores from queries.
      duckdb::DBConfig background;
      background.SetOptionByName("threads", duckdb::Value::BIGINT(1));
      background.SetOptionByName("autoinstall_known_extensions", duckdb::Value::BOOLEAN(false));
      background.SetOptionByName("autoload_known_extensions", duckdb::Value::BOOLEAN(false));
      background.SetOptionByName("allow_community_extensions", duckdb::Value::BOOLEAN(false));
      background_db_ = std::make_unique<duckdb::DuckDB>(nullptr, &background);
      KALAM_RETURN_IF_ERROR(LockDown(*background_db_));
      duckdb::ExtensionLoader background_loader(*background_db_->instance, "kalam");
      background_loader.RegisterFunction(cold::MakeFlushRowsFunction());
      background_connection_ = std::make_unique<duckdb::Connection>(*background_db_);

      registry_ = duckdb::make_shared_ptr<ScanRegistry>();
      registry_->store = &store_;
      const int connections = std::max(1, options_.connections);
      for (int i = 0; i < connections; ++i) {
        auto slot = std::make_unique<ConnectionSlot>();
        slot->connection = std::make_unique<duckdb::Connection>(*db_);
        registry_->slots[slot->connection->context.get()] = slot.get();
        free_.push_back(slot.get());
        slots_.push_back(std::move(slot));
      }
      // Always running: statements are cancelled (KILL QUERY, clients gone) with or without a
      // statement timeout.
      watchdog_ = std::make_unique<PeriodicTask>(std::chrono::milliseconds(20), [this] { Watch(); });
      duckdb::TableFunction system_scan(kSystemScanFunction, {duckdb::LogicalType::VARCHAR},
                                        SystemScan, SystemScanBind, SystemScanInit);
      system_scan.function_info = registry_;
      duckdb::ExtensionLoader loader(*db_->instance, "kalam");
      loader.RegisterFunction(system_scan);
      loader.RegisterFunction(MakeTableScan(registry_));
      RegisterPgFunctions(loader, registry_);
    } catch (const std::exception& e) {
      return {Code::kInternalError, std::string("Cannot start the query engine: ") + e.what()};
    }
    return Status::Ok();
  }

  Result<Outcome> Execute(const QueryContext& context, std::string_view sql) override {
    StatementDeadline deadline(options_.statement_timeout_ms);
    auto statement = Parse(sql);
    if (!statement.ok()) return statement.status();
    auto state = catalog_.snapshot();
    const duckdb::StatementType type = (*statement)->type;
    if (type == duckdb::StatementType::INSERT_STATEMENT || type == duckdb::StatementType::UPDATE_STATEMENT ||
        type == duckdb::StatementType::DELETE_STATEMENT) {
      // A statement that writes is made at the leader of the shard it writes: refused at
      // once elsewhere (and sent on there; the first write of a Postgres wire transaction
      // too, so that the transaction can move there). Its reads of other shards are made
      // here, caught up; where it is at its shard's leader (or was sent on), those of a
      // shard this node holds no replica of come from that shard's leader (kSentOn): it is
      // where it must run.
      QueryContext writing = context;
      writing.every_user = false;  // what a statement that writes reads is the caller's own rows
      std::string written_id;  // cluster mode: the table written ("" when not known)
      if (context.freshness != ReadFreshness::kReplica && read_gate_) {
        // Where this node leads the written shard, it first applies what earlier leaders
        // committed; elsewhere the write is refused, here at once (kLeader: the batch is
        // sent on) or when it is proposed.
        bool leads_written = false;
        if (const catalog::TableDef* written = WrittenTable(*state, context, **statement)) {
          written_id = written->id();
          const Status here = read_gate_(*written, auth::ScopeFor(*written, context.caller), ReadFreshness::kLeader);
          // (Not where the statement was sent on: there the transaction can't move again,
          // and a second shard it writes is UNSUPPORTED at COMMIT.)
          const bool first_write_of_transaction = context.freshness == ReadFreshness::kCaughtUp &&
                                                  context.transaction != nullptr && context.transaction->empty();
          if (context.freshness == ReadFreshness::kLeader || first_write_of_transaction) KALAM_RETURN_IF_ERROR(here);
          leads_written = here.ok();
        }
        writing.freshness = context.freshness == ReadFreshness::kSentOn || leads_written ? ReadFreshness::kSentOn
                                                                                         : ReadFreshness::kCaughtUp;
      }
      // Before anything is read: what the statement reads is the shard's latest if this
      // node leads it, caught up, from now until its write is proposed (else it is refused).
      if (context.transaction == nullptr) writing.write_fence = committer_.Fence();
      try {
        Result<Outcome> out = Status(Code::kInternalError, "not run");
        switch (type) {
          case duckdb::StatementType::INSERT_STATEMENT:
            out = RunInsert(*this, writing, *state, (*statement)->Cast<duckdb::InsertStatement>());
            break;
          case duckdb::StatementType::UPDATE_STATEMENT:
            out = RunUpdate(*this, writing, *state, (*statement)->Cast<duckdb::UpdateStatement>());
            break;
          default:
            out = RunDelete(*this, writing, *state, (*statement)->Cast<duckdb::DeleteStatement>());
        }
        if (out.ok()) {
          out->wrote = context.transaction == nullptr;
          out->written_table = std::move(written_id);
        }
        return out;
      } catch (const std::exception& e) {
        return FromError(duckdb::ErrorData(e));
      }
    }
    std::optional<ColdPointRead> cold_read;
    const TableReadGate gate = ReadGateFor(context);
    if (auto fast = TryFastSelect(**statement, *state, context, store_, cold_, gate ? &gate : nullptr)) {
      if (fast->rows) {
        if (!fast->rows->ok()) return fast->rows->status();
        Outcome out;
        out.row_count = (*fast->rows)->row_count;
        out.rows = std::move(*fast->rows).value();
        return out;
      }
      cold_read = std::move(fast->cold_read);
      auto cached = FromPointCache(context, state, *cold_read);
      if (!cached.ok()) return cached.status();
      if (*cached) {
        Outcome out;
        out.row_count = (**cached).row_count;
        out.rows = std::move(**cached);
        return out;
      }
      auto rewritten = Parse(cold_read->sql);
      if (!rewritten.ok()) return rewritten.status();
      statement = std::move(rewritten);
    }
    Result<RowSet> rows = Status(Code::kInternalError, "not run");
    const ResultLimits limits{options_.max_result_rows, options_.max_statement_memory_bytes};
    KALAM_RETURN_IF_ERROR(Run(context, state, std::move(statement).value(), /*stream=*/true,
                              [&](duckdb::unique_ptr<duckdb::QueryResult> result) {
                                rows = EncodeResult(*result, limits);
                                return rows.status();
                              },
                              cold_read ? &cold_read->manifest : nullptr));
    Outcome out;
    out.row_count = rows->row_count;
    out.rows = std::move(rows).value();
    return out;
  }

  Status Commit(store::Transaction& transaction) override {
    if (transaction.empty()) return Status::Ok();
    auto state = catalog_.snapshot();
    for (const uint64_t table_num : transaction.tables()) {
      const bool exists = std::any_of(state->tables.begin(), state->tables.end(),
                                      [&](const auto& t) { return t.second.table_num == table_num; });
      if (!exists) {
        return Status(Code::kTransactionConflict,
                      "A table the transaction wrote was dropped before it committed; nothing was applied");
      }
    }
    // Held like an UPDATE holds its table (tables() is ordered: no two commits deadlock): a
    // single statement that read a row before writing it commits wholly before or after.
    std::vector<std::unique_lock<std::shared_mutex>> locks;
    for (const uint64_t table_num : transaction.tables()) locks.emplace_back(TableLock(table_num));
    return committer_.Commit([&](store::CommitContext& commit) { return transaction.Apply(commit); });
  }

  void SetLiveQuerySource(std::function<std::vector<LiveQueryRow>()> source) override {
    registry_->live_queries = std::move(source);
  }
  void SetTopicSources(std::function<std::vector<TopicRow>()> topics,
                       std::function<std::vector<TopicOffsetRow>()> offsets) override {
    registry_->topics = std::move(topics);
    registry_->topic_offsets = std::move(offsets);
  }
  void SetJobSource(std::function<std::vector<JobRow>()> source) override {
    registry_->jobs = std::move(source);
  }
  void SetRunningQuerySource(std::function<std::vector<RunningQueryRow>()> source) override {
    registry_->running_queries = std::move(source);
  }
  void SetReadGate(ReadGate gate) override { read_gate_ = std::move(gate); }
  void SetGatherers(EveryScopeGate every_scope, ScopeGather one_scope) override {
    every_scope_gate_ = std::move(every_scope);
    scope_gather_ = std::move(one_scope);
  }
  // For a read of every user's rows of a table: the users whose flushed rows it merges in.
  // In cluster mode the rows of the users whose shards this node does not hold are
  // gathered from their leaders first (into gathered, for the scans), and those it holds
  // are read once caught up. The statement's snapshot is taken then, if not yet: it holds
  // what the leaders had, and the flushed users are those with markers in it; manifests
  // read after it list at least the segments its markers stand for.
  Result<std::vector<ScopeToMerge>> EveryScope(const QueryContext& context, const catalog::TableDef& table,
                                               std::shared_ptr<const store::KvStore::Snapshot>& snapshot,
                                               std::map<uint64_t, std::shared_ptr<const GatheredRows>>& gathered) {
    std::shared_ptr<const GatheredRows> others;
    if (every_scope_gate_) {
      if (context.transaction != nullptr) {
        return Status(Code::kUnsupported,
                      "A transaction stays within one shard: reading every user's rows of '" + table.ns + "." +
                          table.name + "' spans them all; read them outside the transaction, or one user's with "
                          "EXECUTE AS");
      }
      auto it = gathered.find(table.table_num);
      if (it == gathered.end()) {
        auto rows = every_scope_gate_(table, context.freshness);
        if (!rows.ok()) return rows.status();
        it = gathered.emplace(table.table_num, std::move(rows).value()).first;
      }
      others = it->second;
    }
    if (snapshot == nullptr) {
      snapshot = context.transaction != nullptr ? context.transaction->snapshot() : store_.TakeSnapshot();
    }
    std::vector<ScopeToMerge> scopes;
    if (table.type != catalog::TableType::kUser) return scopes;  // STREAM rows are never flushed
    // Each user with markers, a seek per user.
    const std::string prefix = store::MarkerTablePrefix(table.table_num);
    auto cursor = store_.NewCursor(store::Family::kHot, prefix, snapshot.get());
    while (cursor->Valid()) {
      const std::string user(store::ScopeOfKey(cursor->key()));
      if (others == nullptr || others->here(user)) scopes.push_back({user, false});
      cursor->Seek(prefix + user + '\x01');
    }
    KALAM_RETURN_IF_ERROR(cursor->status());
    if (others != nullptr) {
      for (const std::string& user : others->cold_scopes) scopes.push_back({user, true});
    }
    return scopes;
  }

  // The gate of the statement's table reads; empty when it reads this node's replicas as
  // they are.
  TableReadGate ReadGateFor(const QueryContext& context) const {
    if (context.freshness == ReadFreshness::kReplica || !read_gate_) return {};
    return [this, freshness = context.freshness](const catalog::TableDef& table, const std::string& scope) {
      return read_gate_(table, scope, freshness);
    };
  }
  void SetClusterSources(std::function<std::vector<ClusterNodeRow>()> nodes,
                         std::function<std::vector<ShardRow>()> shards) override {
    registry_->cluster_nodes = std::move(nodes);
    registry_->shards = std::move(shards);
  }

  Result<std::string> Flush(const std::string& table_id,
                            const std::function<bool()>& cancelled) override {
    if (flush_router_) return flush_router_(table_id, cancelled);
    return FlushOrCompact(table_id, cancelled, false, nullptr);
  }
  Result<std::string> FlushHere(const std::string& table_id, const ScopeFilter& include,
                                const std::function<bool()>& cancelled) override {
    return FlushOrCompact(table_id, cancelled, false, include);
  }
  void SetFlushRouter(FlushRouter router) override { flush_router_ = std::move(router); }
  Result<std::string> Compact(const std::string& table_id,
                              const std::function<bool()>& cancelled) override {
    return FlushOrCompact(table_id, cancelled, true, nullptr);
  }

  Status CanFlush(const std::string& table_id) override {
    auto state = catalog_.snapshot();
    auto it = state->tables.find(table_id);
    if (it == state->tables.end()) {
      return Status(Code::kNotFound, "Table '" + table_id + "' does not exist");
    }
    return CanFlush(*state, it->second);
  }
  Status CanFlush(const catalog::CatalogState& state, const catalog::TableDef& table) const {
    if (!options_.flush_unsupported.empty()) return Status(Code::kUnsupported, options_.flush_unsupported);
    auto storage = state.storages.find(table.storage_id);
    if (storage == state.storages.end() || IsAllowed(storage->second.base_directory)) {
      return Status::Ok();
    }
    return Status(Code::kInvalidSql,
                  "Storage '" + storage->first + "' (" + storage->second.base_directory +
                      ") was created outside the directories the server opened at start-up: "
                      "its tables can be flushed after a restart");
  }

  Result<std::string> WithoutBackgroundWork(const std::function<Result<std::string>()>& work) override {
    std::lock_guard background(background_mutex_);
    return work();
  }

  // Flushes and compactions of a table take turns: one at a time per table.
  Result<std::string> FlushOrCompact(const std::string& table_id,
                                     const std::function<bool()>& cancelled, bool compact,
                                     const ScopeFilter& include) {
    auto state = catalog_.snapshot();
    auto it = state->tables.find(table_id);
    if (it == state->tables.end()) {
      return Status(Code::kNotFound, "Table '" + table_id + "' does not exist");
    }
    const uint64_t table_num = it->second.table_num;
    KALAM_RETURN_IF_ERROR(CanFlush(*state, it->second));
    {
      std::lock_guard lock(flushing_mutex_);
      if (!flushing_.insert(table_num).second) {
        return Status(Code::kInvalidSql, "Table '" + table_id + "' is being flushed already");
      }
    }
    Result<std::string> result = Status(Code::kInternalError, "not run");
    {
      std::lock_guard background(background_mutex_);
      try {
        result = compact ? cold::CompactTable(*background_connection_, committer_, cold_, *state, it->second, cancelled)
                         : cold::FlushTable(*background_connection_, store_, committer_, cold_, *state,
                                      it->second, cancelled, include);
      } catch (const std::exception& e) {
        result = Status(Code::kInternalError, std::string("Flush failed: ") + e.what());
      }
    }
    std::lock_guard lock(flushing_mutex_);
    flushing_.erase(table_num);
    return result;
  }

  // DmlHost
  Result<duckdb::unique_ptr<duckdb::MaterializedQueryResult>> Select(
      const QueryContext& context, const std::string& sql) override {
    auto statement = Parse(sql);
    if (!statement.ok()) return statement.status();
    if ((*statement)->type != duckdb::StatementType::SELECT_STATEMENT) {
      return Status(Code::kInvalidSql, "Expected a query");
    }
    duckdb::unique_ptr<duckdb::MaterializedQueryResult> rows;
    KALAM_RETURN_IF_ERROR(Run(context, catalog_.snapshot(), std::move(statement).value(), /*stream=*/false,
                              [&](duckdb::unique_ptr<duckdb::QueryResult> result) {
                                rows = duckdb::unique_ptr_cast<duckdb::QueryResult,
                                                               duckdb::MaterializedQueryResult>(std::move(result));
                                return Status::Ok();
                              }));
    return rows;
  }
  Result<duckdb::unique_ptr<duckdb::MaterializedQueryResult>> SelectCommitted(
      const QueryContext& context, const std::string& sql) override {
    const Clock::time_point outer = std::exchange(statement_deadline, Clock::time_point::max());
    answering_committed = true;
    auto result = Select(context, sql);
    answering_committed = false;
    statement_deadline = outer;
    return result;
  }
  Status Write(const QueryContext& context,
               const std::function<Status(store::Writer&)>& apply) override {
    // Cancelled after its rows were computed: it commits nothing.
    if (context.cancellation != nullptr && context.cancellation->cancelled()) {
      return CancelledStatus(context.cancellation->reason());
    }
    if (context.transaction != nullptr) {
      if (context.transaction->read_only) {
        return Status(Code::kInvalidSql, "The transaction is READ ONLY: it can't change rows");
      }
      return apply(context.transaction->writer());
    }
    return committer_.Commit([&](store::CommitContext& commit) { return apply(commit); }, context.write_fence);
  }
  Result<std::optional<std::string>> Read(const QueryContext& context, store::Family family,
                                          const std::string& key) override {
    if (context.transaction != nullptr) return context.transaction->Get(family, key);
    return store_.Get(family, key);
  }
  std::shared_mutex& TableLock(uint64_t table_num) override {
    std::lock_guard lock(table_locks_mutex_);
    auto& slot = table_locks_[table_num];
    if (!slot) slot = std::make_unique<std::shared_mutex>();
    return *slot;
  }
  int64_t NextSnowflakeId() override {
    std::lock_guard lock(ids_mutex_);
    return ids_.Next();
  }

 private:
  Result<duckdb::unique_ptr<duckdb::SQLStatement>> Parse(std::string_view sql) {
    try {
      duckdb::Parser parser;
      parser.ParseQuery(std::string(sql));
      if (parser.statements.size() != 1) {
        return Status(Code::kInvalidSql, "Expected exactly one statement");
      }
      return std::move(parser.statements[0]);
    } catch (const std::exception& e) {
      return Status(Code::kInvalidSql, duckdb::ErrorData(e).RawMessage());
    }
  }

  // Guards and runs a statement for the caller on a pooled connection, and hands its result
  // to `read` while the connection is still the statement's: a streamed result (`stream`)
  // is computed as `read` fetches it, under the statement's deadline and memory limit.
  // own_read: the statement is a cold point read of our own making (fast_path.h), not the
  // client's: it is not guarded, and the manifest it reads stays pinned while it runs.
  Status Run(const QueryContext& context, std::shared_ptr<const catalog::CatalogState> state,
             duckdb::unique_ptr<duckdb::SQLStatement> statement, bool stream,
             const std::function<Status(duckdb::unique_ptr<duckdb::QueryResult>)>& read,
             const std::shared_ptr<const cold::Manifest>* own_read = nullptr) {
    std::vector<std::shared_ptr<const cold::Manifest>> pinned;
    std::shared_ptr<const store::KvStore::Snapshot> snapshot;
    std::map<uint64_t, std::shared_ptr<const GatheredRows>> gathered;
    if (own_read != nullptr) {
      pinned.push_back(*own_read);
    } else {
      std::function<std::optional<int64_t>()> visible_seq;
      if (context.transaction != nullptr) {
        visible_seq = [transaction = context.transaction]() -> std::optional<int64_t> {
          return transaction->begin_seq();
        };
      }
      const TableReadGate gate = ReadGateFor(context);
      // On shared cold storage (cluster mode) a manifest may change between its pinning
      // and the snapshot below with no flush here to wait for this statement: another
      // node's flush applied by this replica. The statement is then guarded again.
      duckdb::unique_ptr<duckdb::SQLStatement> original;
      for (int attempt = 0;; ++attempt) {
        const uint64_t generation = cold_.Generation();
        if (cold_.shared() && context.transaction == nullptr) {
          try {
            original = statement->Copy();
          } catch (const std::exception&) {
            original = nullptr;  // a statement the engine can't copy: guarded once, as on one node
          }
        }
        GuardContext guard{*state, context.caller, context.default_namespace, &cold_, &pinned, visible_seq,
                           gate ? &gate : nullptr};
        const std::function<Result<std::vector<ScopeToMerge>>(const catalog::TableDef&)> every_scope =
            [&](const catalog::TableDef& table) { return EveryScope(context, table, snapshot, gathered); };
        if (context.every_user) guard.every_scope = &every_scope;
        // In a batch sent on (which is not sent on again), a read of a shard this node
        // holds no replica of: its rows from its leader (not in a transaction, which stays
        // in its shard). A second reference to the table reads the same rows.
        const std::function<Result<bool>(const catalog::TableDef&, const std::string&)> gather =
            [&](const catalog::TableDef& table, const std::string& scope) -> Result<bool> {
          if (gathered.contains(table.table_num)) return true;
          auto rows = scope_gather_(table, scope);
          if (!rows.ok()) return rows.status();
          if (*rows == nullptr) return false;
          gathered[table.table_num] = std::move(rows).value();
          return true;
        };
        if (scope_gather_ && context.freshness == ReadFreshness::kSentOn && context.transaction == nullptr) {
          guard.gather = &gather;
        }
        KALAM_RETURN_IF_ERROR(GuardStatement(*statement, guard));
        // Taken now, while the manifests are pinned: waiting for a connection below cannot
        // let a flush turn rows this statement must read hot into markers. A transaction
        // reads the snapshot it began with (its cold rows are those up to its begin _seq).
        // (A read of every user's rows took it already: see EveryScope.)
        if (snapshot == nullptr) {
          snapshot = context.transaction != nullptr ? context.transaction->snapshot() : store_.TakeSnapshot();
        }
        if (original == nullptr || cold_.Generation() == generation) break;
        if (attempt == 8) {
          return Status(Code::kServiceUnavailable, "cold storage kept changing while the statement was planned: retry");
        }
        statement = std::move(original);
        pinned.clear();
        gathered.clear();
        snapshot.reset();
      }
    }
    if (snapshot == nullptr) {
      snapshot = context.transaction != nullptr ? context.transaction->snapshot() : store_.TakeSnapshot();
    }
    auto acquired = Acquire(context.cancellation);
    if (!acquired.ok()) return acquired.status();
    ConnectionSlot* slot = *acquired;
    {
      std::lock_guard lock(slot->run_mutex);
      slot->running = !answering_committed;  // the watchdog leaves a committed statement's answer be
      slot->interrupted = false;
      slot->deadline = statement_deadline;
      slot->cancellation = context.cancellation;
    }
    if (!answering_committed && ShouldStop(*slot, Clock::now())) {
      // Past its deadline or cancelled already: an interrupt now would be erased as the
      // query starts.
      {
        std::lock_guard lock(slot->run_mutex);
        slot->running = false;
        slot->cancellation = nullptr;
      }
      slot->EndStatement();
      Release(slot);
      return Interrupted(context);
    }
    slot->caller = context.caller;
    slot->default_namespace = context.default_namespace;
    slot->transaction = context.transaction;
    slot->state = std::move(state);
    slot->pinned = std::move(pinned);
    slot->gathered = std::move(gathered);
    slot->SetStatementSnapshot(std::move(snapshot));
    Status result;
    ScopedAllocationLimit memory(answering_committed ? 0 : options_.max_statement_memory_bytes);
    const uint64_t refusals_before = RefusalsSoFar();
    try {
      auto pending = slot->connection->PendingQuery(std::move(statement), stream);
      duckdb::unique_ptr<duckdb::QueryResult> r;
      if (!pending->HasError()) {
        // DuckDB's own Execute() waits for a query by asking for work over and over: while
        // another of its threads runs the only task there is (a scan of the hot store is
        // one), this thread would spin a core (a quarter of the server's time in mutexes,
        // profiled). WaitForTask() sleeps only while a task is blocked, so idle turns back
        // off: a few yields, then sleeps growing to 0.8 ms.
        int idle = 0;
        while (true) {
          const duckdb::PendingExecutionResult state = pending->ExecuteTask();
          if (duckdb::PendingQueryResult::IsResultReady(state)) break;
          if (state != duckdb::PendingExecutionResult::NO_TASKS_AVAILABLE &&
              state != duckdb::PendingExecutionResult::BLOCKED) {
            idle = 0;
            continue;
          }
          pending->WaitForTask();
          if (++idle <= 8) {
            std::this_thread::yield();
          } else {
            std::this_thread::sleep_for(std::chrono::microseconds(25 << std::min(idle - 9, 5)));
          }
        }
        r = pending->Execute();
      }
      if (r == nullptr) {
        result = FromError(pending->GetErrorObject());
      } else if (r->HasError()) {
        result = FromError(r->GetErrorObject());
      } else {
        result = read(std::move(r));
      }
    } catch (const std::exception& e) {
      result = FromError(duckdb::ErrorData(e));
    }
    // A refusal on a worker shows here as the engine's out-of-memory error, or as a failed
    // execution (a bad_alloc); the count of refusals says one happened meanwhile.
    const bool worker_refused = RefusalsSoFar() != refusals_before &&
                                (result.code() == Code::kResourceExhausted ||
                                 result.code() == Code::kSqlExecutionError ||
                                 result.code() == Code::kInternalError);
    if (!result.ok() && (memory.refused() || worker_refused)) result = MemoryExhausted();
    bool interrupted = false;
    {
      std::lock_guard lock(slot->run_mutex);
      slot->running = false;
      slot->cancellation = nullptr;
      interrupted = slot->interrupted;
    }
    slot->EndStatement();
    Release(slot);
    if (!result.ok() && interrupted) return Interrupted(context);
    return result;
  }

  // ---- cold point reads through cold::PointCache

  PointCacheFigures point_cache_figures() const override {
    if (point_cache_ == nullptr) return {};
    const auto stats = point_cache_->stats();
    return {stats.hits, stats.misses, stats.decoded, stats.bytes};
  }

  // The answer of a cold point read from decoded row groups (decoding those that missed
  // often enough); nullopt when a row group it needs is not decoded: the engine reads the
  // key (read.sql). Keys of integer types only: their row groups' ranges in the Parquet
  // footers are exact, so a group is passed over only when it can't hold the key.
  Result<std::optional<RowSet>> FromPointCache(const QueryContext& context,
                                               const std::shared_ptr<const catalog::CatalogState>& state,
                                               const ColdPointRead& read) {
    if (point_cache_ == nullptr) return std::optional<RowSet>();
    const catalog::TableDef& table = *read.outputs.table;
    const catalog::ColumnDef& pk = table.current().columns[table.current().PrimaryKeyIndex()];
    if (pk.type != ColumnType::kSmallInt && pk.type != ColumnType::kInt && pk.type != ColumnType::kBigInt) {
      return std::optional<RowSet>();
    }
    // Newest segment first: the first that holds the key has its newest version.
    for (const size_t index : read.segments) {
      const cold::Segment& segment = read.manifest->segments[index];
      const std::string file = (std::filesystem::path(read.dir) / segment.file).string();
      auto layout = SegmentLayoutOf(context, state, read, segment, file);
      if (!layout.ok()) return layout.status();
      const auto& ranges = (*layout)->key_ranges;
      for (size_t group = 0; group < ranges.size(); ++group) {
        if (!ranges[group]) return std::optional<RowSet>();  // no range: may hold any key
        if (read.key < ranges[group]->first || ranges[group]->second < read.key) continue;
        const std::string name = cold::PointCache::Name(file, group, table.current().version);
        auto rows = point_cache_->Find(name);
        if (rows == nullptr) {
          if (!point_cache_->Admit(name)) return std::optional<RowSet>();
          auto decoded = DecodeRowGroup(context, state, read, segment, *ranges[group]);
          if (!decoded.ok()) return decoded.status();
          rows = std::move(decoded).value();
          point_cache_->Put(name, rows);
        }
        auto found = rows->Find(read.key_bytes);
        if (!found) continue;
        auto row = DecodeCurrentRow(table, *found);  // nullopt: a tombstone
        if (!row.ok()) return row.status();
        if (!*row) return std::optional<RowSet>(PointAnswer(read.outputs, nullptr, 0));
        return std::optional<RowSet>(PointAnswer(read.outputs, &(*row)->cells, (*row)->seq));
      }
    }
    return std::optional<RowSet>(PointAnswer(read.outputs, nullptr, 0));  // in none of them
  }

  // The key column's range in each row group of a segment, from its Parquet footer.
  Result<std::shared_ptr<const cold::SegmentLayout>> SegmentLayoutOf(
      const QueryContext& context, const std::shared_ptr<const catalog::CatalogState>& state,
      const ColdPointRead& read, const cold::Segment& segment, const std::string& file) {
    if (auto known = point_cache_->FindLayout(file)) return known;
    const catalog::TableDef& table = *read.outputs.table;
    const catalog::ColumnDef& pk = table.current().columns[table.current().PrimaryKeyIndex()];
    auto layout = std::make_shared<cold::SegmentLayout>();
    const std::string sql = "SELECT row_group_id, stats_min_value, stats_max_value FROM parquet_metadata(" +
                            SqlString(file) + ") WHERE path_in_schema = " +
                            SqlString(segment.ColumnName(pk.id).value_or("")) + " ORDER BY row_group_id";
    const duckdb::LogicalType type = EngineType(pk);
    KALAM_RETURN_IF_ERROR(RunOwn(context, state, sql, read.manifest, [&](duckdb::DataChunk& chunk) {
      for (idx_t r = 0; r < chunk.size(); ++r) {
        const duckdb::Value min = chunk.GetValue(1, r), max = chunk.GetValue(2, r);
        std::optional<std::pair<duckdb::Value, duckdb::Value>> range;
        if (!min.IsNull() && !max.IsNull()) {
          try {
            range.emplace(min.DefaultCastAs(type), max.DefaultCastAs(type));
          } catch (const std::exception&) {
            range.reset();
          }
        }
        layout->key_ranges.push_back(std::move(range));
      }
      return Status::Ok();
    }));
    point_cache_->PutLayout(file, layout);
    return std::shared_ptr<const cold::SegmentLayout>(std::move(layout));
  }

  // The rows of a segment whose keys are in range (those of one row group), under the
  // table's current schema.
  Result<std::shared_ptr<const cold::DecodedRowGroup>> DecodeRowGroup(
      const QueryContext& context, const std::shared_ptr<const catalog::CatalogState>& state,
      const ColdPointRead& read, const cold::Segment& segment,
      const std::pair<duckdb::Value, duckdb::Value>& range) {
    const catalog::TableDef& table = *read.outputs.table;
    const auto& columns = table.current().columns;
    const int pk = table.current().PrimaryKeyIndex();
    const std::string sql = cold::SegmentSelect(table, read.dir, segment) + " WHERE " +
                            QuotedIdentifier(segment.ColumnName(columns[pk].id).value_or("")) + " BETWEEN " +
                            range.first.ToSQLString() + " AND " + range.second.ToSQLString();
    auto group = std::make_shared<cold::DecodedRowGroup>();
    const std::vector<ColumnType> types = CurrentTypes(table);
    std::string key;
    KALAM_RETURN_IF_ERROR(RunOwn(context, state, sql, read.manifest, [&](duckdb::DataChunk& chunk) {
      for (idx_t r = 0; r < chunk.size(); ++r) {
        store::RowVersion row;
        row.schema_version = table.current().version;
        row.seq = chunk.GetValue(columns.size(), r).GetValue<int64_t>();
        row.deleted = chunk.GetValue(columns.size() + 1, r).GetValue<bool>();
        auto key_cell = CellFromValue(columns[pk], chunk.GetValue(pk, r));
        if (!key_cell.ok()) return key_cell.status();
        if (!row.deleted) {
          row.cells.reserve(columns.size());
          for (size_t c = 0; c < columns.size(); ++c) {
            auto cell = CellFromValue(columns[c], chunk.GetValue(c, r));
            if (!cell.ok()) return cell.status();
            row.cells.push_back(std::move(cell).value());
          }
        }
        key.clear();
        store::AppendKeyCell(key, columns[pk].type, *key_cell);
        group->Add(key, store::EncodeRow(row, types));
      }
      return Status::Ok();
    }));
    group->Seal();
    return std::shared_ptr<const cold::DecodedRowGroup>(std::move(group));
  }

  // Runs SQL of our own over cold segments (manifest pinned meanwhile; not guarded) and
  // hands every chunk of its result to take.
  Status RunOwn(const QueryContext& context, const std::shared_ptr<const catalog::CatalogState>& state,
                const std::string& sql, const std::shared_ptr<const cold::Manifest>& manifest,
                const std::function<Status(duckdb::DataChunk&)>& take) {
    auto statement = Parse(sql);
    if (!statement.ok()) return statement.status();
    return Run(context, state, std::move(statement).value(), /*stream=*/true,
               [&](duckdb::unique_ptr<duckdb::QueryResult> result) -> Status {
                 while (auto chunk = result->Fetch()) {
                   if (chunk->size() == 0) break;
                   KALAM_RETURN_IF_ERROR(take(*chunk));
                 }
                 if (result->HasError()) return FromError(result->GetErrorObject());
                 return Status::Ok();
               },
               &manifest);
  }

  Status MemoryExhausted() const {
    return {Code::kResourceExhausted,
            "The statement needed more memory than [limits] max_statement_memory_mb (" +
                std::to_string(options_.max_statement_memory_bytes >> 20) + " MB) allows"};
  }

  // Why a statement the watchdog interrupted failed.
  Status Interrupted(const QueryContext& context) const {
    if (cancelled_all_) return {Code::kServiceUnavailable, "The server is shutting down"};
    if (context.cancellation != nullptr && context.cancellation->cancelled()) {
      return CancelledStatus(context.cancellation->reason());
    }
    return {Code::kStatementTimeout, "The statement ran longer than the statement timeout of " +
                                         std::to_string(options_.statement_timeout_ms) +
                                         " ms and was cancelled"};
  }

  // Whether the statement on the slot is to be interrupted. The thread that runs it sets
  // the fields it reads, under run_mutex; the watchdog only reads them.
  bool ShouldStop(const ConnectionSlot& slot, Clock::time_point now) const {
    return cancelled_all_ || now >= slot.deadline ||
           (slot.cancellation != nullptr && slot.cancellation->cancelled());
  }

  // Interrupts the statements past their deadline or cancelled (all of them once
  // cancelled_all_), on every tick while they run: an interrupt that lands before DuckDB
  // starts the query is cleared by it, so one is not enough.
  void Watch() {
    const auto now = Clock::now();
    for (const auto& slot : slots_) {
      std::lock_guard lock(slot->run_mutex);
      if (slot->running && ShouldStop(*slot, now)) {
        slot->interrupted = true;
        slot->connection->Interrupt();
      }
    }
  }

  void CancelAll() override {
    {
      std::lock_guard lock(pool_mutex_);
      cancelled_all_ = true;
    }
    pool_cv_.notify_all();
    Watch();
  }

  // The second wall (the first is sql_guard): DuckDB itself reaches no file outside the
  // storage directory, installs and loads no extension, and its settings are frozen.
  // allowed_directories can only be set once the database runs.
  Status LockDown(duckdb::DuckDB& db) {
    duckdb::Connection connection(db);
    std::string list;
    for (const std::string& dir : AllowedDirectories()) {
      if (!list.empty()) list += ", ";
      list += duckdb::KeywordHelper::WriteQuoted(dir, '\'');
    }
    for (const std::string& sql :
         {"SET allowed_directories = [" + list + "]",
          std::string("SET enable_external_access = false"),
          std::string("SET lock_configuration = true")}) {
      auto result = connection.Query(sql);
      if (result->HasError()) {
        return {Code::kInternalError, "Cannot lock the query engine down: " + result->GetError()};
      }
    }
    return Status::Ok();
  }

  std::vector<std::string> AllowedDirectories() const {
    std::vector<std::string> dirs{options_.storage_dir};
    for (const auto& dir : options_.storage_dirs) {
      if (!IsUnder(dir, options_.storage_dir)) dirs.push_back(dir);
    }
    return dirs;
  }
  bool IsAllowed(const std::string& dir) const {
    for (const auto& allowed : AllowedDirectories()) {
      if (IsUnder(dir, allowed)) return true;
    }
    return false;
  }
  static bool IsUnder(const std::string& dir, const std::string& base) {
    const auto d = std::filesystem::path(dir).lexically_normal();
    const auto b = std::filesystem::path(base).lexically_normal();
    auto rel = d.lexically_relative(b);
    return !rel.empty() && *rel.begin() != "..";
  }

  // A free connection, waiting for one until the statement's deadline at most. A statement
  // cancelled while it waits (KILL QUERY, its client gone) stops waiting within
  // kCancelCheck.
  Result<ConnectionSlot*> Acquire(const Cancellation* cancellation) {
    constexpr auto kCancelCheck = std::chrono::milliseconds(20);
    std::unique_lock lock(pool_mutex_);
    auto ready = [&] { return !free_.empty() || (cancelled_all_ && !answering_committed); };
    while (!ready()) {
      if (cancellation != nullptr && cancellation->cancelled()) return CancelledStatus(cancellation->reason());
      const auto now = Clock::now();
      if (now >= statement_deadline) {
        return Status(Code::kStatementTimeout,
                      "No query connection came free within the statement timeout of " +
                          std::to_string(options_.statement_timeout_ms) + " ms");
      }
      const auto wake = cancellation != nullptr && statement_deadline - now > kCancelCheck ? now + kCancelCheck
                                                                                            : statement_deadline;
      if (wake == Clock::time_point::max()) {
        pool_cv_.wait(lock);
      } else {
        pool_cv_.wait_until(lock, wake);
      }
    }
    if (free_.empty()) return Status(Code::kServiceUnavailable, "The server is shutting down");
    ConnectionSlot* slot = free_.back();
    free_.pop_back();
    return slot;
  }

  void Release(ConnectionSlot* slot) {
    {
      std::lock_guard lock(pool_mutex_);
      free_.push_back(slot);
    }
    pool_cv_.notify_one();
  }

  catalog::Catalog& catalog_;
  store::KvStore& store_;
  store::Committer& committer_;
  cold::ColdStore& cold_;
  EngineOptions options_;
  std::unique_ptr<cold::PointCache> point_cache_;  // null: none
  std::unique_ptr<duckdb::DuckDB> db_;
  std::unique_ptr<EngineWorkers> workers_;  // stopped before db_ goes
  std::unique_ptr<duckdb::DuckDB> background_db_;
  std::mutex background_mutex_;  // one flush or compaction at a time
  std::unique_ptr<duckdb::Connection> background_connection_;
  duckdb::shared_ptr<ScanRegistry> registry_;
  ReadGate read_gate_;  // cluster mode; set before the first statement
  EveryScopeGate every_scope_gate_;  // cluster mode; set before the first statement
  ScopeGather scope_gather_;         // cluster mode; set before the first statement
  std::vector<std::unique_ptr<ConnectionSlot>> slots_;
  std::mutex pool_mutex_;
  std::condition_variable pool_cv_;
  std::vector<ConnectionSlot*> free_;
  std::mutex table_locks_mutex_;
  std::map<uint64_t, std::unique_ptr<std::shared_mutex>> table_locks_;
  std::mutex ids_mutex_;
  store::SeqGenerator ids_;  // SNOWFLAKE_ID() values
  std::mutex flushing_mutex_;
  std::set<uint64_t> flushing_;  // tables with a flush running
  FlushRouter flush_router_;     // cluster mode; set before the first flush
  std::atomic<bool> cancelled_all_ = false;
  // Last: started once the connections exist, stopped before they go.
  std::unique_ptr<PeriodicTask> watchdog_;
};

}  // namespace

Result<RowSet> QueryEngine::Query(const QueryContext& context, std::string_view sql) {
  auto outcome = Execute(context, sql);
  if (!outcome.ok()) return outcome.status();
  if (!outcome->rows) return Status(Code::kInternalError, "Expected rows");
  return std::move(*outcome->rows);
}

Result<std::unique_ptr<QueryEngine>> QueryEngine::Open(catalog::Catalog& catalog,
                                                       store::KvStore& store,
                                                       store::Committer& committer,
                                                       cold::ColdStore& cold,
                                                       const EngineOptions& options) {
  auto engine = std::make_unique<Engine>(catalog, store, committer, cold, options);
  KALAM_RETURN_IF_ERROR(engine->Start());
  return std::unique_ptr<QueryEngine>(std::move(engine));
}

}  // namespace kalam::query
