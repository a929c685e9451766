// STREAM tables keep rows for their TTL_SECONDS. Scans hide expired rows at once;
// this periodic eviction removes them from the store, one range delete per user, as a
// stream_eviction job whenever there is something to remove (the latest records of that
// type are kept, so a busy stream does not flood system.jobs).
#pragma once

#include <cstdint>
#include <string>

#include "common/periodic_task.h"
#include "common/status.h"

namespace kalam::catalog {
class Catalog;
}
namespace kalam::store {
class KvStore;
class Committer;
}

namespace kalam::jobs {

class JobManager;

// Removes the expired rows of every STREAM table (dry_run: only counts them); returns how
// many scopes (users) had some.
Result<uint64_t> EvictExpiredStreamRows(catalog::Catalog& catalog, store::KvStore& store,
                                        store::Committer& committer, int64_t now_millis,
                                        bool dry_run = false);

// Every interval until destroyed: when some STREAM rows have expired, a stream_eviction
// job that removes them.
class StreamEvictor {
 public:
  static constexpr size_t kRecordsKept = 100;  // stream_eviction job records

  StreamEvictor(catalog::Catalog& catalog, store::KvStore& store, store::Committer& committer,
                JobManager& jobs, int64_t interval_secs);
  ~StreamEvictor();

 private:
  void Tick();
  void Submit();

  catalog::Catalog& catalog_;
  store::KvStore& store_;
  store::Committer& committer_;
  JobManager& jobs_;
  const int64_t interval_secs_;
  std::string last_job_;  // the job last submitted (touched by the task's thread only)
  PeriodicTask task_;     // last: stops first
};

}  // namespace kalam::jobs
