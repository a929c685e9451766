// Automatic flush: each table's FLUSH_POLICY ('rows:N', 'interval:S' or both)
// is checked every flush.check_interval_secs; a table due gets a flush job, one at a time.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "common/periodic_task.h"
#include "store/committer.h"

namespace kalam::catalog {
class Catalog;
}

namespace kalam::jobs {

class JobManager;

class FlushScheduler {
 public:
  // submit(table_id) queues a flush job and returns its id (empty on failure).
  FlushScheduler(catalog::Catalog& catalog, JobManager& jobs,
                 std::function<std::string(const std::string&)> submit, int64_t check_interval_secs);
  ~FlushScheduler();

  // Counts the rows each table got (the committer's listener calls this).
  void Count(const std::vector<store::ChangeEvent>& events);

 private:
  void Check();

  struct TableState {
    int64_t rows_since_flush = 0;
    std::chrono::steady_clock::time_point last_flush = std::chrono::steady_clock::now();
    std::string job_id;  // the flush queued or running, if any
  };

  catalog::Catalog& catalog_;
  JobManager& jobs_;
  std::function<std::string(const std::string&)> submit_;
  const std::chrono::seconds interval_;
  std::mutex mutex_;  // guards tables_
  std::map<std::string, TableState> tables_;  // by table id
  std::chrono::steady_clock::time_point next_job_cleanup_ = std::chrono::steady_clock::now();
  PeriodicTask task_;  // last: stops first
};

}  // namespace kalam::jobs
