#include "server/relayed_sessions.h"

#include "auth/jwt.h"

namespace kalam::server {

Result<std::pair<std::string, std::shared_ptr<RelayedSessions::Entry>>> RelayedSessions::Open(
    const std::string& user_id) {
  const auto now = std::chrono::steady_clock::now();
  std::lock_guard lock(mutex_);
  SweepLocked(now);
  if (sessions_.size() >= max_sessions_) {
    return Status(Code::kResourceExhausted, "this node holds " + std::to_string(sessions_.size()) +
                                                " transactions moved from other nodes already: retry later");
  }
  std::string id = auth::RandomHex(16);
  auto entry = std::make_shared<Entry>(limits_, user_id);
  entry->last_used = now;
  sessions_.emplace(id, entry);
  return std::make_pair(std::move(id), std::move(entry));
}

Result<std::shared_ptr<RelayedSessions::Entry>> RelayedSessions::Find(const std::string& id,
                                                                      const std::string& user_id) {
  const auto now = std::chrono::steady_clock::now();
  std::lock_guard lock(mutex_);
  SweepLocked(now);
  auto it = sessions_.find(id);
  if (it == sessions_.end() || it->second->user_id != user_id) {
    return Status(Code::kNotFound, "the transaction moved to this node has ended (rolled back, or left idle too long)");
  }
  it->second->last_used = now;
  return it->second;
}

void RelayedSessions::Used(Entry& entry) {
  std::lock_guard lock(mutex_);
  entry.last_used = std::chrono::steady_clock::now();
}

void RelayedSessions::End(const std::string& id) {
  std::shared_ptr<Entry> ended;
  std::lock_guard lock(mutex_);
  if (auto it = sessions_.find(id); it != sessions_.end()) {
    ended = std::move(it->second);
    sessions_.erase(it);
  }
}

void RelayedSessions::Clear() {
  std::unordered_map<std::string, std::shared_ptr<Entry>> ended;
  std::lock_guard lock(mutex_);
  ended.swap(sessions_);
}

size_t RelayedSessions::size() const {
  std::lock_guard lock(mutex_);
  return sessions_.size();
}

void RelayedSessions::SweepLocked(std::chrono::steady_clock::time_point now) {
  const int64_t idle_secs = limits_.idle_in_transaction_timeout_secs > 0 ? limits_.idle_in_transaction_timeout_secs : 3600;
  const auto limit = std::chrono::seconds(idle_secs) + std::chrono::minutes(1);
  std::erase_if(sessions_, [&](const auto& entry) { return now - entry.second->last_used > limit; });
}

}  // namespace kalam::server
