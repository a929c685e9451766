#include "server/metrics.h"

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <cctype>
#include <mutex>

namespace kalam::server {

namespace prom = prometheus;

namespace {

// Seconds: from a point read (~100 µs) to a statement at the default timeout (30 s).
prom::Histogram::BucketBoundaries LatencyBuckets() {
  return {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30};
}

}  // namespace

struct Metrics::Families {
  prom::Registry registry;
  prom::Family<prom::Counter>& requests =
      prom::BuildCounter()
          .Name("kalamdb_http_requests_total")
          .Help("HTTP requests answered, by route and status")
          .Register(registry);
  prom::Family<prom::Histogram>& request_seconds =
      prom::BuildHistogram()
          .Name("kalamdb_http_request_duration_seconds")
          .Help("Time to answer an HTTP request, by route")
          .Register(registry);
  prom::Family<prom::Counter>& statements =
      prom::BuildCounter()
          .Name("kalamdb_statements_total")
          .Help("SQL statements run, by kind and outcome (ok or the error code)")
          .Register(registry);
  prom::Family<prom::Histogram>& statement_seconds =
      prom::BuildHistogram()
          .Name("kalamdb_statement_duration_seconds")
          .Help("Time to run a SQL statement, by kind")
          .Register(registry);
  prom::Family<prom::Counter>& errors =
      prom::BuildCounter()
          .Name("kalamdb_statement_errors_total")
          .Help("SQL statements that failed, by error code")
          .Register(registry);
  prom::Family<prom::Counter>& jobs =
      prom::BuildCounter()
          .Name("kalamdb_jobs_total")
          .Help("Background jobs ended (flush, compact, ...), by type and status")
          .Register(registry);
  prom::Family<prom::Histogram>& job_seconds =
      prom::BuildHistogram()
          .Name("kalamdb_job_duration_seconds")
          .Help("Time a background job ran, by type")
          .Register(registry);
  prom::Counter& commits = prom::BuildCounter()
                               .Name("kalamdb_commit_groups_total")
                               .Help("Group commits written to the store")
                               .Register(registry)
                               .Add({});
  prom::Counter& rows = prom::BuildCounter()
                            .Name("kalamdb_rows_written_total")
                            .Help("Row versions committed (inserts, updates, deletes)")
                            .Register(registry)
                            .Add({});
  prom::Family<prom::Gauge>& connections =
      prom::BuildGauge()
          .Name("kalamdb_open_connections")
          .Help("Connections open now, by kind")
          .Register(registry);
  prom::Gauge& subscriptions = prom::BuildGauge()
                                   .Name("kalamdb_live_subscriptions")
                                   .Help("Live query subscriptions active now")
                                   .Register(registry)
                                   .Add({});
  prom::Gauge& running = prom::BuildGauge()
                             .Name("kalamdb_running_statements")
                             .Help("SQL statements running now")
                             .Register(registry)
                             .Add({});
  prom::Gauge& gauge(const char* name, const char* help) {
    return prom::BuildGauge().Name(name).Help(help).Register(registry).Add({});
  }
  prom::Counter& counter(const char* name, const char* help) {
    return prom::BuildCounter().Name(name).Help(help).Register(registry).Add({});
  }
  prom::Family<prom::Gauge>& hot_rows =
      prom::BuildGauge()
          .Name("kalamdb_hot_rows")
          .Help("Keys in the hot store by column family (RocksDB's estimate)")
          .Register(registry);
  prom::Family<prom::Gauge>& hot_bytes =
      prom::BuildGauge()
          .Name("kalamdb_hot_bytes")
          .Help("Bytes in the hot store by column family and kind: live data (estimate), "
                "sst files, memtables")
          .Register(registry);
  prom::Gauge& cold_rows = gauge("kalamdb_cold_rows",
                                 "Rows in cold segments of the scopes read or written since start-up");
  prom::Gauge& cold_bytes = gauge("kalamdb_cold_bytes",
                                  "Bytes of cold segments of the scopes read or written since start-up");
  prom::Gauge& cold_segments = gauge("kalamdb_cold_segments",
                                     "Cold segments of the scopes read or written since start-up");
  prom::Counter& point_cache_hits = counter(
      "kalamdb_cold_point_cache_hits_total",
      "Point reads of flushed keys answered from decoded row groups ([storage] cold_cache_mb)");
  prom::Counter& point_cache_misses = counter(
      "kalamdb_cold_point_cache_misses_total", "Row groups point reads looked for and did not find decoded");
  prom::Counter& point_cache_decoded =
      counter("kalamdb_cold_point_cache_decoded_total", "Row groups decoded for point reads");
  prom::Gauge& point_cache_bytes =
      gauge("kalamdb_cold_point_cache_bytes", "Memory of the decoded row groups kept for point reads");
  prom::Counter& change_messages =
      counter("kalamdb_live_change_messages_total", "Change messages sent to live queries");
  prom::Counter& slow_consumers = counter(
      "kalamdb_live_slow_consumers_dropped_total",
      "Live-query connections dropped for letting too many messages pend (MESSAGE_TOO_LARGE)");
  prom::Gauge& running_compactions =
      gauge("kalamdb_store_running_compactions", "RocksDB compactions running now");
  prom::Gauge& pending_compaction_bytes = gauge(
      "kalamdb_store_pending_compaction_bytes", "Bytes RocksDB estimates compaction has to rewrite");
  prom::Gauge& delayed_write_rate = gauge(
      "kalamdb_store_delayed_write_rate_bytes", "Bytes/s writes are slowed to now (0: not slowed)");
  prom::Gauge& write_stopped = gauge("kalamdb_store_write_stopped", "1 while RocksDB stops writes");
  prom::Counter& stall_seconds =
      counter("kalamdb_store_write_stall_seconds_total", "Time writes waited in RocksDB stalls");
  std::mutex render_mutex;  // levels are set, then collected, by one scrape at a time
};

Metrics::Metrics() : families_(std::make_unique<Families>()) {}
Metrics::~Metrics() = default;

void Metrics::CountRequest(std::string_view route, int status, double seconds) {
  const std::string r(route);
  families_->requests.Add({{"route", r}, {"status", std::to_string(status)}}).Increment();
  families_->request_seconds.Add({{"route", r}}, LatencyBuckets()).Observe(seconds);
}

void Metrics::CountStatement(std::string_view kind, Code outcome, double seconds) {
  const std::string k(kind);
  const std::string code = outcome == Code::kOk ? "ok" : std::string(CodeName(outcome));
  families_->statements.Add({{"kind", k}, {"outcome", code}}).Increment();
  families_->statement_seconds.Add({{"kind", k}}, LatencyBuckets()).Observe(seconds);
  if (outcome != Code::kOk) families_->errors.Add({{"code", code}}).Increment();
}

void Metrics::CountJob(std::string_view type, std::string_view status, double seconds) {
  families_->jobs.Add({{"type", std::string(type)}, {"status", std::string(status)}}).Increment();
  families_->job_seconds
      .Add({{"type", std::string(type)}},
           prom::Histogram::BucketBoundaries{0.01, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 1800})
      .Observe(seconds);
}

void Metrics::CountCommit(uint64_t rows) {
  families_->commits.Increment();
  families_->rows.Increment(static_cast<double>(rows));
}

void Metrics::CountSlowConsumerDropped() { families_->slow_consumers.Increment(); }

namespace {

// Sets a counter kept elsewhere (read at scrape) to its value; counters only go up.
void CatchUp(prom::Counter& counter, double value) {
  if (value > counter.Value()) counter.Increment(value - counter.Value());
}

}  // namespace

std::string Metrics::Render(const Levels& levels) const {
  std::lock_guard lock(families_->render_mutex);
  families_->connections.Add({{"kind", "http"}}).Set(static_cast<double>(http_connections.load()));
  families_->connections.Add({{"kind", "websocket"}})
      .Set(static_cast<double>(websocket_connections.load()));
  families_->connections.Add({{"kind", "postgres"}})
      .Set(static_cast<double>(postgres_connections.load()));
  families_->subscriptions.Set(static_cast<double>(levels.subscriptions));
  families_->running.Set(static_cast<double>(levels.running_statements));
  Families& f = *families_;
  for (const auto& family : levels.store.families) {
    f.hot_rows.Add({{"family", family.family}}).Set(static_cast<double>(family.keys));
    f.hot_bytes.Add({{"family", family.family}, {"kind", "live"}}).Set(static_cast<double>(family.live_bytes));
    f.hot_bytes.Add({{"family", family.family}, {"kind", "sst"}}).Set(static_cast<double>(family.sst_bytes));
    f.hot_bytes.Add({{"family", family.family}, {"kind", "memtable"}})
        .Set(static_cast<double>(family.memtable_bytes));
  }
  f.cold_rows.Set(static_cast<double>(levels.cold.rows));
  f.cold_bytes.Set(static_cast<double>(levels.cold.bytes));
  f.cold_segments.Set(static_cast<double>(levels.cold.segments));
  CatchUp(f.point_cache_hits, static_cast<double>(levels.point_cache.hits));
  CatchUp(f.point_cache_misses, static_cast<double>(levels.point_cache.misses));
  CatchUp(f.point_cache_decoded, static_cast<double>(levels.point_cache.decoded));
  f.point_cache_bytes.Set(static_cast<double>(levels.point_cache.bytes));
  CatchUp(f.change_messages, static_cast<double>(levels.change_messages));
  f.running_compactions.Set(static_cast<double>(levels.store.running_compactions));
  f.pending_compaction_bytes.Set(static_cast<double>(levels.store.pending_compaction_bytes));
  f.delayed_write_rate.Set(static_cast<double>(levels.store.delayed_write_rate));
  f.write_stopped.Set(levels.store.write_stopped ? 1 : 0);
  CatchUp(f.stall_seconds, static_cast<double>(levels.store.stall_micros) / 1e6);
  return prom::TextSerializer().Serialize(families_->registry.Collect());
}

std::string_view StatementKind(std::string_view sql) {
  size_t i = 0;
  while (i < sql.size() && (std::isspace(static_cast<unsigned char>(sql[i])) || sql[i] == '(')) ++i;
  size_t end = i;
  while (end < sql.size() && std::isalpha(static_cast<unsigned char>(sql[end]))) ++end;
  std::string word(sql.substr(i, end - i));
  for (char& c : word) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (word == "SELECT" || word == "WITH" || word == "VALUES" || word == "FROM" ||
      word == "SHOW" || word == "DESCRIBE" || word == "DESC") {
    return "select";
  }
  if (word == "INSERT") return "insert";
  if (word == "UPDATE") return "update";
  if (word == "DELETE") return "delete";
  if (word == "CREATE" || word == "DROP" || word == "ALTER") return "ddl";
  if (word == "BEGIN" || word == "START" || word == "COMMIT" || word == "END" ||
      word == "ROLLBACK" || word == "ABORT") {
    return "transaction";
  }
  return "other";
}

}  // namespace kalam::server
