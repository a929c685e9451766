// At most one log line per interval for a repeated error, with a count of the lines held
// back: a failure that repeats thousands of times a second (accept() out of descriptors,
// say) must not fill the disk with the same line.
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>

namespace kalam {

class LogThrottle {
 public:
  explicit LogThrottle(std::chrono::milliseconds interval = std::chrono::seconds(1))
      : interval_(interval) {}

  // nullopt: hold this line back. Else log it, saying how many were held back since the last.
  std::optional<uint64_t> Allow() {
    std::lock_guard lock(mutex_);
    const auto now = std::chrono::steady_clock::now();
    if (logged_once_ && now - last_ < interval_) {
      ++suppressed_;
      return std::nullopt;
    }
    logged_once_ = true;
    last_ = now;
    const uint64_t held_back = suppressed_;
    suppressed_ = 0;
    return held_back;
  }

 private:
  const std::chrono::milliseconds interval_;
  std::mutex mutex_;
  bool logged_once_ = false;
  std::chrono::steady_clock::time_point last_;
  uint64_t suppressed_ = 0;
};

}  // namespace kalam
