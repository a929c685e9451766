// What the engine's scans need at bind time: the pooled connection a statement runs on
// tells who runs it. Internal to query/ (DuckDB types).
#pragma once

#include <duckdb.hpp>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <vector>
#include <string>
#include <unordered_map>

#include "auth/caller.h"
#include "catalog/catalog.h"
#include "cold/cold_store.h"
#include "query/engine.h"
#include "store/kv_store.h"
#include "store/transaction.h"


namespace kalam::query {

// REQUIRES: caller and state are set by the thread that runs a statement on connection,
// before it runs, and stay until it has finished (binding happens on that thread).
struct ConnectionSlot {
  std::unique_ptr<duckdb::Connection> connection;
  auth::Caller caller;
  std::string default_namespace;  // where unqualified names resolve (pg_table_is_visible)
  std::shared_ptr<const catalog::CatalogState> state;
  // The caller's open transaction, if any: scans read its snapshot under its writes.
  const store::Transaction* transaction = nullptr;
  // The manifests the statement's merged reads were planned on (a flush waits for them).
  std::vector<std::shared_ptr<const cold::Manifest>> pinned;
  // Cluster mode: by table number, what the statement's reads of every user's rows took
  // from other nodes.
  std::map<uint64_t, std::shared_ptr<const GatheredRows>> gathered;

  // The one store snapshot every scan of the running statement reads (set before it runs,
  // or taken by its first scan): hot rows and the keys that hide cold ones agree. Taken
  // while the statement's manifests are pinned, it predates any flush's markers.
  void SetStatementSnapshot(std::shared_ptr<const store::KvStore::Snapshot> snapshot) {
    std::lock_guard lock(snapshot_mutex_);
    snapshot_ = std::move(snapshot);
  }
  const store::KvStore::Snapshot* StatementSnapshot(store::KvStore& store) const {
    std::lock_guard lock(snapshot_mutex_);
    if (!snapshot_) snapshot_ = store.TakeSnapshot();
    return snapshot_.get();
  }
  // The statement running on the connection, for the watchdog that interrupts it past its
  // deadline, when it is cancelled (and for shutdown). Guarded by run_mutex.
  std::mutex run_mutex;
  bool running = false;
  std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max();
  const Cancellation* cancellation = nullptr;  // outlives the statement's run
  bool interrupted = false;

  // After the statement: drops its snapshot and pins.
  void EndStatement() {
    std::lock_guard lock(snapshot_mutex_);
    snapshot_.reset();
    pinned.clear();
    gathered.clear();
    state.reset();
    transaction = nullptr;
  }

 private:
  mutable std::mutex snapshot_mutex_;
  mutable std::shared_ptr<const store::KvStore::Snapshot> snapshot_;
};

// Shared by the engine's table functions (their function_info).
struct ScanRegistry : duckdb::TableFunctionInfo {
  store::KvStore* store = nullptr;
  std::function<std::vector<LiveQueryRow>()> live_queries;  // may be empty
  std::function<std::vector<JobRow>()> jobs;                // may be empty
  std::function<std::vector<RunningQueryRow>()> running_queries;  // may be empty
  std::function<std::vector<TopicRow>()> topics;                  // may be empty
  std::function<std::vector<TopicOffsetRow>()> topic_offsets;     // may be empty
  std::function<std::vector<ClusterNodeRow>()> cluster_nodes;     // may be empty
  std::function<std::vector<ShardRow>()> shards;                  // may be empty
  std::unordered_map<const duckdb::ClientContext*, ConnectionSlot*> slots;  // fixed at start

  const ConnectionSlot& SlotFor(duckdb::ClientContext& context) const {
    auto it = slots.find(&context);
    if (it == slots.end() || !it->second->state) {
      throw duckdb::PermissionException("Permission denied");
    }
    return *it->second;
  }
};

}  // namespace kalam::query
