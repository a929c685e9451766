// What the engine's scans need at bind time: the pooled connection a statement runs on
// tells who runs it. Internal to query/ (DuckDB types).
#pragma once

#include <duckdb.hpp>
#include <memory>
#include <string>
#include <unordered_map>

#include "auth/caller.h"
#include "catalog/catalog.h"
#include "query/engine.h"

namespace kalam::store {
class KvStore;
}

namespace kalam::query {

// REQUIRES: caller and state are set by the thread that runs a statement on connection,
// before it runs, and stay until it has finished (binding happens on that thread).
struct ConnectionSlot {
  std::unique_ptr<duckdb::Connection> connection;
  auth::Caller caller;
  std::shared_ptr<const catalog::CatalogState> state;
};

// Shared by the engine's table functions (their function_info).
struct ScanRegistry : duckdb::TableFunctionInfo {
  store::KvStore* store = nullptr;
  std::function<std::vector<LiveQueryRow>()> live_queries;  // may be empty
  std::function<std::vector<JobRow>()> jobs;                // may be empty
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
