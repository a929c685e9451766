// Background jobs, listed in system.jobs: flush, compaction, cleanup... Each job is a record in the
// store's jobs family (queued → running → completed | failed | cancelled) and runs on one
// worker thread, so background work never takes more than one core from the foreground.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "common/status.h"

namespace kalam::store {
class KvStore;
}

namespace kalam::jobs {

struct JobRecord {
  std::string job_id;
  std::string job_type;  // flush | compact | cleanup | stream_eviction | job_cleanup
  std::string status;    // queued | running | completed | failed | cancelled
  std::string namespace_id;
  std::string table_name;
  std::string parameters = "{}";  // JSON text
  std::string result;             // JSON text, when completed
  std::string error_message;
  int64_t created_at = 0, started_at = 0, completed_at = 0;  // microseconds; 0: not yet
  std::string node_id = "node-1";
};

// What a running job sees: whether it was cancelled (KILL JOB), checked between steps.
class JobContext {
 public:
  bool cancelled() const { return cancelled_->load(); }

 private:
  friend class JobManager;
  std::shared_ptr<std::atomic<bool>> cancelled_;
};

class JobManager {
 public:
  // Loads the records; jobs a restart interrupted are marked failed.
  static Result<std::unique_ptr<JobManager>> Open(store::KvStore& store);
  ~JobManager();

  // Queues work; returns the job id. The function's result is JSON text.
  using Work = std::function<Result<std::string>(const JobContext&)>;
  Result<std::string> Submit(const std::string& type, const std::string& ns,
                             const std::string& table, const std::string& parameters, Work work);
  // Cooperative cancel of a queued or running job. NOT_FOUND, or INVALID_SQL when it ended.
  Status Cancel(const std::string& job_id);
  std::vector<JobRecord> List() const;
  std::optional<JobRecord> Find(const std::string& job_id) const;
  // Removes records of jobs that ended more than `retention` ago; returns how many.
  size_t RemoveOldRecords(std::chrono::seconds retention);
  // Removes records of ended jobs of the type but the newest keep; returns how many.
  size_t KeepLatest(const std::string& type, size_t keep);
  // Called on the worker thread after each job that ran has ended, with its record. Set
  // once, before jobs are submitted.
  using EndListener = std::function<void(const JobRecord&)>;
  void SetEndListener(EndListener listener) { end_listener_ = std::move(listener); }
  // The node recorded as running the jobs submitted from now on (default "node-1", a
  // single server's name). Set once, before jobs are submitted.
  void SetNodeId(std::string node_id) { node_id_ = std::move(node_id); }
  // Waits until the job has ended (tests and FLUSH ... WAIT use it); false on timeout.
  bool Wait(const std::string& job_id, std::chrono::milliseconds timeout);

 private:
  explicit JobManager(store::KvStore& store) : store_(store) {}
  void Loop();
  void Save(const JobRecord& record);  // REQUIRES: mutex_ held

  store::KvStore& store_;
  EndListener end_listener_;
  std::string node_id_ = "node-1";
  mutable std::mutex mutex_;
  std::condition_variable cv_;
  std::map<std::string, JobRecord> records_;
  struct Queued {
    std::string job_id;
    Work work;
    std::shared_ptr<std::atomic<bool>> cancelled;
  };
  std::deque<Queued> queue_;
  std::map<std::string, std::shared_ptr<std::atomic<bool>>> cancel_flags_;
  uint64_t next_ = 0;
  bool stopping_ = false;
  std::thread worker_;
};

}  // namespace kalam::jobs
