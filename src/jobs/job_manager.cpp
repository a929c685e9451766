#include "jobs/job_manager.h"

#include <algorithm>

#include <sys/resource.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <spdlog/spdlog.h>

#include "common/clock.h"
#include "store/kv_store.h"

namespace kalam::jobs {
namespace json = boost::json;
namespace {

constexpr std::string_view kPrefix = "job/";

std::string Encode(const JobRecord& r) {
  return json::serialize(json::object{{"job_id", r.job_id},
                                      {"job_type", r.job_type},
                                      {"status", r.status},
                                      {"namespace_id", r.namespace_id},
                                      {"table_name", r.table_name},
                                      {"parameters", r.parameters},
                                      {"result", r.result},
                                      {"error_message", r.error_message},
                                      {"created_at", r.created_at},
                                      {"started_at", r.started_at},
                                      {"completed_at", r.completed_at},
                                      {"node_id", r.node_id}});
}

JobRecord Decode(const json::object& o) {
  auto text = [&](const char* k) { return std::string(o.at(k).as_string()); };
  JobRecord r;
  r.job_id = text("job_id");
  r.job_type = text("job_type");
  r.status = text("status");
  r.namespace_id = text("namespace_id");
  r.table_name = text("table_name");
  r.parameters = text("parameters");
  r.result = text("result");
  r.error_message = text("error_message");
  r.created_at = o.at("created_at").to_number<int64_t>();
  r.started_at = o.at("started_at").to_number<int64_t>();
  r.completed_at = o.at("completed_at").to_number<int64_t>();
  r.node_id = text("node_id");
  return r;
}

}  // namespace

Result<std::unique_ptr<JobManager>> JobManager::Open(store::KvStore& store) {
  std::unique_ptr<JobManager> manager(new JobManager(store));
  std::vector<JobRecord> interrupted;
  Status s = store.Scan(store::Family::kJobs, kPrefix, [&](std::string_view, std::string_view v) {
    try {
      JobRecord r = Decode(json::parse(v).as_object());
      if (r.status == "queued" || r.status == "running") interrupted.push_back(r);
      manager->records_[r.job_id] = std::move(r);
    } catch (const std::exception&) {
    }
    return true;
  });
  KALAM_RETURN_IF_ERROR(s);
  {
    std::lock_guard lock(manager->mutex_);
    manager->next_ = manager->records_.size();
    for (auto& r : interrupted) {
      JobRecord& record = manager->records_[r.job_id];
      record.status = "failed";
      record.error_message = "Interrupted by a restart of the server";
      record.completed_at = NowMicros();
      manager->Save(record);
    }
  }
  manager->worker_ = std::thread([m = manager.get()] { m->Loop(); });
  return manager;
}

JobManager::~JobManager() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    for (auto& [id, flag] : cancel_flags_) flag->store(true);
  }
  cv_.notify_all();
  if (worker_.joinable()) worker_.join();
}

void JobManager::Save(const JobRecord& record) {
  store::WriteSet changes;
  changes.Put(store::Family::kJobs, std::string(kPrefix) + record.job_id, Encode(record));
  Status s = store_.Write(changes);
  if (!s.ok()) spdlog::warn("could not record job {}: {}", record.job_id, s.message());
}

Result<std::string> JobManager::Submit(const std::string& type, const std::string& ns,
                                       const std::string& table, const std::string& parameters,
                                       Work work) {
  std::lock_guard lock(mutex_);
  if (stopping_) return Status(Code::kInternalError, "The server is stopping");
  JobRecord record;
  record.job_id = "job-" + std::to_string(NowMicros()) + "-" + std::to_string(++next_);
  record.job_type = type;
  record.status = "queued";
  record.namespace_id = ns;
  record.table_name = table;
  record.parameters = parameters;
  record.created_at = NowMicros();
  record.node_id = node_id_;
  Save(record);
  auto flag = std::make_shared<std::atomic<bool>>(false);
  cancel_flags_[record.job_id] = flag;
  queue_.push_back({record.job_id, std::move(work), flag});
  const std::string id = record.job_id;
  records_[id] = std::move(record);
  cv_.notify_all();
  return id;
}

Status JobManager::Cancel(const std::string& job_id) {
  std::lock_guard lock(mutex_);
  auto it = records_.find(job_id);
  if (it == records_.end()) return {Code::kNotFound, "Job '" + job_id + "' does not exist"};
  if (it->second.status != "queued" && it->second.status != "running") {
    return {Code::kInvalidSql, "Job '" + job_id + "' has already ended (" + it->second.status + ")"};
  }
  cancel_flags_[job_id]->store(true);
  return Status::Ok();
}

std::vector<JobRecord> JobManager::List() const {
  std::lock_guard lock(mutex_);
  std::vector<JobRecord> out;
  for (const auto& [id, r] : records_) out.push_back(r);
  return out;
}

std::optional<JobRecord> JobManager::Find(const std::string& job_id) const {
  std::lock_guard lock(mutex_);
  auto it = records_.find(job_id);
  if (it == records_.end()) return std::nullopt;
  return it->second;
}

size_t JobManager::RemoveOldRecords(std::chrono::seconds retention) {
  std::lock_guard lock(mutex_);
  const int64_t cutoff = NowMicros() - retention.count() * 1000000;
  store::WriteSet changes;
  size_t removed = 0;
  for (auto it = records_.begin(); it != records_.end();) {
    const JobRecord& r = it->second;
    const bool ended = r.status != "queued" && r.status != "running";
    if (ended && r.completed_at != 0 && r.completed_at < cutoff) {
      changes.Delete(store::Family::kJobs, std::string(kPrefix) + r.job_id);
      it = records_.erase(it);
      ++removed;
    } else {
      ++it;
    }
  }
  if (!changes.empty()) {
    Status s = store_.Write(changes);
    if (!s.ok()) spdlog::warn("could not remove old job records: {}", s.message());
  }
  return removed;
}

size_t JobManager::KeepLatest(const std::string& type, size_t keep) {
  std::lock_guard lock(mutex_);
  std::vector<std::pair<int64_t, std::string>> ended;  // (created_at, id)
  for (const auto& [id, r] : records_) {
    if (r.job_type == type && r.status != "queued" && r.status != "running") {
      ended.emplace_back(r.created_at, id);
    }
  }
  if (ended.size() <= keep) return 0;
  std::sort(ended.begin(), ended.end());
  store::WriteSet changes;
  const size_t removed = ended.size() - keep;
  for (size_t i = 0; i < removed; ++i) {
    changes.Delete(store::Family::kJobs, std::string(kPrefix) + ended[i].second);
    records_.erase(ended[i].second);
  }
  Status s = store_.Write(changes);
  if (!s.ok()) spdlog::warn("could not remove old job records: {}", s.message());
  return removed;
}

bool JobManager::Wait(const std::string& job_id, std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  return cv_.wait_for(lock, timeout, [&] {
    auto it = records_.find(job_id);
    return it == records_.end() ||
           (it->second.status != "queued" && it->second.status != "running");
  });
}

void JobManager::Loop() {
  // Background work yields the CPU to statements: the worker runs at a lower priority.
  if (::setpriority(PRIO_PROCESS, static_cast<id_t>(::gettid()), 10) != 0) {
    spdlog::debug("could not lower the job worker's priority");
  }
  std::unique_lock lock(mutex_);
  while (true) {
    cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
    if (stopping_) return;
    Queued job = std::move(queue_.front());
    queue_.pop_front();
    JobRecord& record = records_[job.job_id];
    if (job.cancelled->load()) {
      record.status = "cancelled";
      record.completed_at = NowMicros();
      Save(record);
      cancel_flags_.erase(job.job_id);
      cv_.notify_all();
      continue;
    }
    record.status = "running";
    record.started_at = NowMicros();
    Save(record);
    cv_.notify_all();
    lock.unlock();
    JobContext context;
    context.cancelled_ = job.cancelled;
    Result<std::string> result = Status(Code::kInternalError, "not run");
    try {
      result = job.work(context);
    } catch (const std::exception& e) {
      result = Status(Code::kInternalError, e.what());
    }
    lock.lock();
    JobRecord& done = records_[job.job_id];
    done.completed_at = NowMicros();
    if (result.ok()) {
      done.status = "completed";
      done.result = *result;
    } else if (job.cancelled->load()) {
      done.status = "cancelled";
      done.error_message = result.status().message();
    } else {
      done.status = "failed";
      done.error_message = result.status().message();
    }
    Save(done);
    cancel_flags_.erase(job.job_id);
    cv_.notify_all();
    if (end_listener_) {
      const JobRecord ended = done;
      lock.unlock();
      end_listener_(ended);
      lock.lock();
    }
  }
}

}  // namespace kalam::jobs
