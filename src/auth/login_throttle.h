// Failed sign-ins are throttled per user name and per client address. After max failures
// within the window that began with the first of them, the name (or the address) is
// refused for one window — 429 RATE_LIMIT_EXCEEDED, even with the right password — so
// guessing passwords costs the guesser time rather than the server CPU: a refused attempt
// runs no bcrypt. A successful sign-in forgets the user's failures (not the address's).
// root signing in from a loopback address is never throttled nor counted, so a local
// administrator can't be locked out.
#pragma once

#include <chrono>
#include <cstdint>
#include <list>
#include <mutex>
#include <string>
#include <unordered_map>

#include "auth/caller.h"
#include "common/config.h"
#include "common/status.h"

namespace kalam::auth {

using ThrottleClock = std::chrono::steady_clock;

// Failures per key (a user name or an address) within a window. Holds at most capacity keys:
// when full, the key touched longest ago is forgotten, so memory stays bounded however many
// names or addresses are tried. Not thread-safe.
class FailureCounter {
 public:
  // max_failures 0: off (nothing is counted or refused).
  FailureCounter(uint32_t max_failures, std::chrono::seconds window, size_t capacity);

  // How much longer key is refused; zero when it may try now.
  std::chrono::seconds RefusedFor(const std::string& key, ThrottleClock::time_point now);
  void Fail(const std::string& key, ThrottleClock::time_point now);
  void Forget(const std::string& key);
  size_t size() const { return entries_.size(); }

 private:
  struct Entry {
    uint32_t failures = 0;
    ThrottleClock::time_point first;          // of the failures counted
    ThrottleClock::time_point refused_until;  // in the past: not refused
    std::list<std::string>::iterator recency;
  };
  void Touch(Entry& entry);

  const uint32_t max_failures_;
  const std::chrono::seconds window_;
  const size_t capacity_;
  std::unordered_map<std::string, Entry> entries_;
  std::list<std::string> recency_;  // keys, most recently touched first
};

class LoginThrottle {
 public:
  // Keys tracked per table (user names, addresses) at most.
  static constexpr size_t kCapacity = 10000;

  explicit LoginThrottle(const Config::Auth& config, size_t capacity = kCapacity);

  // RATE_LIMIT_EXCEEDED when the user name or the peer's address is refused now.
  Status Check(const std::string& username, const Peer& peer, ThrottleClock::time_point now);
  void Failed(const std::string& username, const Peer& peer, ThrottleClock::time_point now);
  void Succeeded(const std::string& username);

 private:
  static bool Exempt(const std::string& username, const Peer& peer);

  std::mutex mutex_;
  FailureCounter by_user_;     // guarded by mutex_
  FailureCounter by_address_;  // guarded by mutex_
};

}  // namespace kalam::auth
