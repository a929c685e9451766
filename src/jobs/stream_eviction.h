// STREAM tables keep rows for TTL_SECONDS (SPEC §3.2). Scans hide expired rows at once;
// this periodic eviction removes them from the store, one range delete per user.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>

#include "common/status.h"

namespace kalam::catalog {
class Catalog;
}
namespace kalam::store {
class KvStore;
class Committer;
}

namespace kalam::jobs {

// Removes the expired rows of every STREAM table; returns how many scopes it trimmed.
Result<uint64_t> EvictExpiredStreamRows(catalog::Catalog& catalog, store::KvStore& store,
                                        store::Committer& committer, int64_t now_millis);

// Runs EvictExpiredStreamRows every interval until destroyed.
class StreamEvictor {
 public:
  StreamEvictor(catalog::Catalog& catalog, store::KvStore& store, store::Committer& committer,
                int64_t interval_secs);
  ~StreamEvictor();

 private:
  void Loop();

  catalog::Catalog& catalog_;
  store::KvStore& store_;
  store::Committer& committer_;
  const int64_t interval_secs_;
  std::mutex mutex_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace kalam::jobs
