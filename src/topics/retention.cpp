#include "topics/retention.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>

#include "common/clock.h"
#include "jobs/job_manager.h"
#include "topics/topics.h"

namespace kalam::topics {

TopicRetention::TopicRetention(Topics& topics, jobs::JobManager& jobs, int64_t interval_secs)
    : topics_(topics),
      jobs_(jobs),
      task_(std::chrono::seconds(std::max<int64_t>(1, interval_secs)), [this] { Tick(); }) {}

void TopicRetention::Tick() {
  if (!topics_.RetentionDue(NowMicros() / 1000)) return;
  if (!last_job_.empty()) {  // still queued behind other work: that one will do
    auto last = jobs_.Find(last_job_);
    if (last && (last->status == "queued" || last->status == "running")) return;
  }
  // The job may run after this task is gone: it holds only what outlives the job manager.
  auto work = [topics = &topics_, jobs = &jobs_](const jobs::JobContext&) -> Result<std::string> {
    auto result = topics->EnforceRetention(NowMicros() / 1000);
    jobs->KeepLatest("topic_retention", kRecordsKept);
    return result;
  };
  auto job = jobs_.Submit("topic_retention", "", "", "{}", std::move(work));
  if (job.ok()) {
    last_job_ = *job;
  } else {
    spdlog::warn("topic retention could not start: {}", job.status().message());
  }
}

}  // namespace kalam::topics
