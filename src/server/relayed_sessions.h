// Cluster mode: transactions begun through another node's Postgres wire session and moved
// here, to the leader of the shard they write. Each is a sql::Session kept between that
// node's requests (POST /v1/cluster/session), named by an id this node hands out, and
// dropped when its transaction ends, when the other node gives it up, or once it has been
// left unused past the idle-in-transaction limit (the other node went away).
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "common/status.h"
#include "sql/session.h"

namespace kalam::server {

// Where another node runs a Postgres wire transaction's statements here.
inline constexpr std::string_view kClusterSessionRoute = "/v1/cluster/session";

class RelayedSessions {
 public:
  struct Entry {
    Entry(sql::SessionLimits limits, std::string user) : user_id(std::move(user)), session(limits) {}
    std::mutex mutex;     // one request at a time
    const std::string user_id;  // whose statements it runs
    sql::Session session;
    std::chrono::steady_clock::time_point last_used;  // guarded by RelayedSessions' mutex
  };

  // max_sessions: how many may be open at once.
  RelayedSessions(sql::SessionLimits limits, size_t max_sessions) : limits_(limits), max_sessions_(max_sessions) {}

  // A new session for user_id, and its id; RESOURCE_EXHAUSTED when max_sessions are open.
  Result<std::pair<std::string, std::shared_ptr<Entry>>> Open(const std::string& user_id);
  // The session id names, if it is user_id's; NOT_FOUND otherwise (it ended, or it was
  // left unused too long).
  Result<std::shared_ptr<Entry>> Find(const std::string& id, const std::string& user_id);
  // A request in the session has ended: its idle time counts from now.
  void Used(Entry& entry);
  // Forgets the session (a request running in it ends first; its transaction, if still
  // open, is rolled back when the last reference goes).
  void End(const std::string& id);
  // Forgets every session (the server is closing).
  void Clear();
  size_t size() const;

 private:
  // Drops the sessions unused for longer than the idle-in-transaction limit (an hour when
  // there is none) and a minute more. REQUIRES: mutex_ held.
  void SweepLocked(std::chrono::steady_clock::time_point now);

  const sql::SessionLimits limits_;
  const size_t max_sessions_;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, std::shared_ptr<Entry>> sessions_;
};

}  // namespace kalam::server
