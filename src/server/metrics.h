// The server's figures for GET /metrics, in the Prometheus text exposition format. Events
// are counted as they happen (requests, statements, jobs, commits); levels (connections,
// subscriptions) are read when scraped. Thread-safe. prometheus-cpp stays in metrics.cpp.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "cold/cold_store.h"
#include "common/status.h"
#include "query/engine.h"
#include "store/kv_store.h"

namespace kalam::server {

class Metrics {
 public:
  Metrics();
  ~Metrics();
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;

  // An HTTP request answered; route is one of the API's routes or "other".
  void CountRequest(std::string_view route, int status, double seconds);
  // A statement run; kind as StatementKind names it, outcome its error code (kOk: none).
  void CountStatement(std::string_view kind, Code outcome, double seconds);
  // A job ended ("completed", "failed", "cancelled").
  void CountJob(std::string_view type, std::string_view status, double seconds);
  // A group commit written, with the rows its statements changed.
  void CountCommit(uint64_t rows);
  // A live-query client dropped for not reading its messages (MESSAGE_TOO_LARGE).
  void CountSlowConsumerDropped();

  // Open connections by kind; the server keeps them up to date.
  std::atomic<int64_t> http_connections = 0;
  std::atomic<int64_t> websocket_connections = 0;
  std::atomic<int64_t> postgres_connections = 0;  // kept by the Postgres wire listener

  // Levels read at scrape time.
  struct Levels {
    int64_t subscriptions = 0;
    int64_t running_statements = 0;
    uint64_t change_messages = 0;  // since start-up
    store::KvStore::Figures store;
    cold::ColdStore::Totals cold;
    query::QueryEngine::PointCacheFigures point_cache;
  };
  std::string Render(const Levels& levels) const;

 private:
  struct Families;
  std::unique_ptr<Families> families_;
};

// A statement's kind for the metrics: select, insert, update, delete, ddl, transaction or
// other, by its first keyword.
std::string_view StatementKind(std::string_view sql);

}  // namespace kalam::server
