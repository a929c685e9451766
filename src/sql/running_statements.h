// The statements running now, each from its start to its answer: the rows of
// system.running_queries, and what KILL QUERY cancels. Every statement of a batch is
// registered (KalamDB's own statements too), under the caller who sent it.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "auth/caller.h"
#include "common/cancellation.h"
#include "common/status.h"
#include "query/engine.h"

namespace kalam::sql {

class RunningStatements {
 private:
  struct Entry;

 public:
  // A statement's place in the list, for as long as it runs; leaving it removes the row.
  class Registration {
   public:
    Registration(RunningStatements& owner, std::shared_ptr<Entry> entry)
        : owner_(owner), entry_(std::move(entry)) {}
    Registration(const Registration&) = delete;
    Registration& operator=(const Registration&) = delete;
    ~Registration() { owner_.Remove(*entry_); }

    // Set by KILL QUERY, or through the request's when its client goes away.
    const Cancellation& cancellation() const;

   private:
    RunningStatements& owner_;
    std::shared_ptr<Entry> entry_;
  };

  // request: the cancellation of the request the statement belongs to (may be null).
  Registration Start(const auth::Caller& caller, std::string_view sql, const Cancellation* request);

  // KILL QUERY: dba and system may cancel any statement, others their own
  // (PERMISSION_DENIED); an id that is not running is NOT_FOUND.
  Status Kill(const std::string& query_id, const auth::Caller& by);

  // Every statement running, oldest first (who may see which is system.running_queries').
  std::vector<query::RunningQueryRow> Rows() const;

 private:
  void Remove(const Entry& entry);

  mutable std::mutex mutex_;
  std::map<uint64_t, std::shared_ptr<Entry>> entries_;  // by number: oldest first
  std::atomic<uint64_t> next_ = 0;
};

}  // namespace kalam::sql
