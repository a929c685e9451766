#include "jobs/flush_scheduler.h"

#include "catalog/catalog.h"
#include "jobs/job_manager.h"

namespace kalam::jobs {

FlushScheduler::FlushScheduler(catalog::Catalog& catalog, JobManager& jobs,
                               std::function<std::string(const std::string&)> submit,
                               int64_t check_interval_secs)
    : catalog_(catalog),
      jobs_(jobs),
      submit_(std::move(submit)),
      interval_(std::max<int64_t>(1, check_interval_secs)),
      task_(interval_, [this] { Check(); }) {}

FlushScheduler::~FlushScheduler() = default;

void FlushScheduler::Count(const std::vector<store::ChangeEvent>& events) {
  std::lock_guard lock(mutex_);
  for (const auto& e : events) {
    tables_[e.table_id].rows_since_flush += static_cast<int64_t>(e.rows.size());
  }
}

void FlushScheduler::Check() {
  auto state = catalog_.snapshot();
  const auto now = std::chrono::steady_clock::now();
  if (now >= next_job_cleanup_) {
    // Records of jobs that ended over a week ago go, by a job of their own.
    next_job_cleanup_ = now + std::chrono::hours(24);
    JobManager* jobs = &jobs_;
    (void)jobs_.Submit("job_cleanup", "", "", "{\"retention_days\":7}",
                       [jobs](const JobContext&) -> Result<std::string> {
                         const size_t removed = jobs->RemoveOldRecords(std::chrono::hours(24 * 7));
                         return "{\"records_removed\":" + std::to_string(removed) + "}";
                       });
  }
  std::vector<std::string> due;
  {
    std::lock_guard lock(mutex_);
    for (auto it = tables_.begin(); it != tables_.end();) {
      const catalog::TableDef* table = nullptr;
      if (auto t = state->tables.find(it->first); t != state->tables.end()) table = &t->second;
      if (table == nullptr) {  // dropped
        it = tables_.erase(it);
        continue;
      }
      TableState& s = it->second;
      ++it;
      if (table->type == catalog::TableType::kStream || s.rows_since_flush == 0) continue;
      if (!s.job_id.empty()) {
        auto job = jobs_.Find(s.job_id);
        if (job && (job->status == "queued" || job->status == "running")) continue;
        s.job_id.clear();
      }
      const bool rows_due = table->flush_rows && s.rows_since_flush >= *table->flush_rows;
      const bool time_due = table->flush_interval_secs &&
                            now - s.last_flush >= std::chrono::seconds(*table->flush_interval_secs);
      if (rows_due || time_due) due.push_back(table->id());
    }
  }
  for (const auto& id : due) {
    const std::string job = submit_(id);
    std::lock_guard lock(mutex_);
    TableState& s = tables_[id];
    s.job_id = job;
    s.rows_since_flush = 0;
    s.last_flush = now;
  }
}

}  // namespace kalam::jobs
