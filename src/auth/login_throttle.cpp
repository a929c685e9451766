#include "auth/login_throttle.h"

#include <algorithm>

namespace kalam::auth {

FailureCounter::FailureCounter(uint32_t max_failures, std::chrono::seconds window, size_t capacity)
    : max_failures_(max_failures), window_(window), capacity_(std::max<size_t>(1, capacity)) {}

void FailureCounter::Touch(Entry& entry) {
  recency_.splice(recency_.begin(), recency_, entry.recency);
}

std::chrono::seconds FailureCounter::RefusedFor(const std::string& key,
                                                ThrottleClock::time_point now) {
  auto it = entries_.find(key);
  if (it == entries_.end()) return std::chrono::seconds(0);
  Entry& entry = it->second;
  if (entry.refused_until > now) {
    Touch(entry);
    // Rounded up: "try again in 0 seconds" would be refused.
    return std::chrono::ceil<std::chrono::seconds>(entry.refused_until - now);
  }
  if (now - entry.first >= window_) {  // its failures are too old to count
    recency_.erase(entry.recency);
    entries_.erase(it);
  }
  return std::chrono::seconds(0);
}

void FailureCounter::Fail(const std::string& key, ThrottleClock::time_point now) {
  if (max_failures_ == 0) return;
  auto it = entries_.find(key);
  if (it == entries_.end()) {
    if (entries_.size() >= capacity_) {
      entries_.erase(recency_.back());
      recency_.pop_back();
    }
    recency_.push_front(key);
    it = entries_.emplace(key, Entry{0, now, {}, recency_.begin()}).first;
  }
  Entry& entry = it->second;
  Touch(entry);
  if (entry.refused_until > now) return;  // refused attempts neither count nor extend it
  if (now - entry.first >= window_) {
    entry.failures = 0;
    entry.first = now;
  }
  if (++entry.failures >= max_failures_) {
    entry.refused_until = now + window_;
    entry.failures = 0;
  }
}

void FailureCounter::Forget(const std::string& key) {
  auto it = entries_.find(key);
  if (it == entries_.end()) return;
  recency_.erase(it->second.recency);
  entries_.erase(it);
}

namespace {

uint32_t Limit(int64_t configured) {
  return static_cast<uint32_t>(std::clamp<int64_t>(configured, 0, UINT32_MAX));
}

// User names are at most 64 bytes; a longer one (no user has it) is counted by its first 64,
// so a table entry never holds more, whatever a client sends.
std::string UserKey(const std::string& username) { return username.substr(0, 64); }

}  // namespace

LoginThrottle::LoginThrottle(const Config::Auth& config, size_t capacity)
    : by_user_(Limit(config.max_failed_logins_per_user),
               std::chrono::seconds(config.failed_login_window_secs), capacity),
      by_address_(Limit(config.max_failed_logins_per_address),
                  std::chrono::seconds(config.failed_login_window_secs), capacity) {}

bool LoginThrottle::Exempt(const std::string& username, const Peer& peer) {
  return username == "root" && peer.loopback;
}

Status LoginThrottle::Check(const std::string& username, const Peer& peer,
                            ThrottleClock::time_point now) {
  if (Exempt(username, peer)) return Status::Ok();
  std::lock_guard lock(mutex_);
  const auto wait = std::max(by_user_.RefusedFor(UserKey(username), now),
                             by_address_.RefusedFor(peer.address, now));
  if (wait.count() == 0) return Status::Ok();
  return {Code::kRateLimitExceeded,
          "Too many failed sign-ins: try again in " + std::to_string(wait.count()) + " s"};
}

void LoginThrottle::Failed(const std::string& username, const Peer& peer,
                           ThrottleClock::time_point now) {
  if (Exempt(username, peer)) return;
  std::lock_guard lock(mutex_);
  by_user_.Fail(UserKey(username), now);
  by_address_.Fail(peer.address, now);
}

void LoginThrottle::Succeeded(const std::string& username) {
  std::lock_guard lock(mutex_);
  by_user_.Forget(UserKey(username));
}

}  // namespace kalam::auth
