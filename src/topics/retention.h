// Topic retention in the background: every interval, when some messages are due to go
// (topics.h: older than the retention and acknowledged by every group, or past the size
// bound), a topic_retention job removes them with range deletes (the latest records of
// that type are kept, so system.jobs is not flooded).
#pragma once

#include <cstdint>
#include <string>

#include "common/periodic_task.h"

namespace kalam::jobs {
class JobManager;
}

namespace kalam::topics {

class Topics;

class TopicRetention {
 public:
  static constexpr size_t kRecordsKept = 100;  // topic_retention job records

  TopicRetention(Topics& topics, jobs::JobManager& jobs, int64_t interval_secs);

 private:
  void Tick();

  Topics& topics_;
  jobs::JobManager& jobs_;
  std::string last_job_;  // the job last submitted (touched by the task's thread only)
  PeriodicTask task_;     // last: stops first
};

}  // namespace kalam::topics
