// Per-user query rate limit (rate_limit.queries_per_sec_per_user): a token bucket per
// user that holds at most one second's worth of queries. One limiter serves every door:
// an SQL request over HTTP and a Query message over the Postgres wire each take a token.
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>

#include "common/status.h"

namespace kalam::auth {

class RateLimiter {
 public:
  explicit RateLimiter(uint32_t per_second) : per_second_(per_second) {}

  // Ok when the user may run one more query now (always, when the limit is off);
  // RATE_LIMIT_EXCEEDED otherwise.
  Status Admit(const std::string& user_id) {
    if (Allow(user_id)) return Status::Ok();
    return {Code::kRateLimitExceeded,
            "Too many queries: the limit is " + std::to_string(per_second_) + " per second per user"};
  }

 private:
  bool Allow(const std::string& user_id) {
    if (per_second_ == 0) return true;
    const auto now = std::chrono::steady_clock::now();
    std::lock_guard lock(mutex_);
    auto [it, inserted] = buckets_.try_emplace(user_id, Bucket{double(per_second_), now});
    Bucket& b = it->second;
    const double elapsed = std::chrono::duration<double>(now - b.last).count();
    b.tokens = std::min<double>(per_second_, b.tokens + elapsed * per_second_);
    b.last = now;
    if (b.tokens < 1.0) return false;
    b.tokens -= 1.0;
    return true;
  }

  struct Bucket {
    double tokens;
    std::chrono::steady_clock::time_point last;
  };
  const uint32_t per_second_;
  std::mutex mutex_;
  std::unordered_map<std::string, Bucket> buckets_;
};

}  // namespace kalam::auth
