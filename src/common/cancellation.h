// Why a running statement should stop before its deadline: KILL QUERY, or its client went
// away. Set from any thread; the query engine's watchdog reads it and interrupts the
// statement's engine queries, and a data change checks it before it commits, so a
// cancelled statement applies nothing.
#pragma once

#include <atomic>

#include "common/status.h"

namespace kalam {

// kClientRequest: the client asked to cancel it (a Postgres CancelRequest).
enum class CancelReason { kNone, kKilled, kClientGone, kClientRequest };

// A statement's cancellation may have a parent, its request's: cancelling the request (its
// client went away) cancels the statement running and every later one of the batch.
// REQUIRES: the parent outlives this one.
class Cancellation {
 public:
  explicit Cancellation(const Cancellation* parent = nullptr) : parent_(parent) {}
  Cancellation(const Cancellation&) = delete;
  Cancellation& operator=(const Cancellation&) = delete;

  // The first reason given stays.
  void Cancel(CancelReason why) {
    CancelReason none = CancelReason::kNone;
    reason_.compare_exchange_strong(none, why);
  }
  CancelReason reason() const {
    const CancelReason own = reason_.load();
    if (own != CancelReason::kNone || parent_ == nullptr) return own;
    return parent_->reason();
  }
  bool cancelled() const { return reason() != CancelReason::kNone; }

 private:
  const Cancellation* parent_;
  std::atomic<CancelReason> reason_ = CancelReason::kNone;
};

// What a cancelled statement answers: QUERY_CANCELLED saying why.
inline Status CancelledStatus(CancelReason why) {
  if (why == CancelReason::kClientGone) {
    return {Code::kQueryCancelled, "The client went away: the statement was cancelled and applied nothing"};
  }
  if (why == CancelReason::kClientRequest) {
    return {Code::kQueryCancelled, "The statement was cancelled at the client's request and applied nothing"};
  }
  return {Code::kQueryCancelled, "The statement was cancelled by KILL QUERY and applied nothing"};
}

}  // namespace kalam
