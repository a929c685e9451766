#include "sql/running_statements.h"

#include <chrono>

#include "common/clock.h"
#include "common/role.h"

namespace kalam::sql {
namespace {

// system.running_queries shows this much of a statement's text, as PostgreSQL's
// pg_stat_activity shows the first track_activity_query_size bytes: a 4 MiB INSERT is
// not copied into every row that lists it.
constexpr size_t kShownQueryBytes = 4096;

std::string Shown(std::string_view sql) {
  if (sql.size() <= kShownQueryBytes) return std::string(sql);
  size_t end = kShownQueryBytes;
  // Not inside a UTF-8 sequence: back up over continuation bytes.
  while (end > 0 && (static_cast<unsigned char>(sql[end]) & 0xC0) == 0x80) --end;
  return std::string(sql.substr(0, end)) + "...";
}

}  // namespace

struct RunningStatements::Entry {
  Entry(uint64_t number, const auth::Caller& caller, std::string_view sql, const Cancellation* request)
      : number(number),
        query_id("q" + std::to_string(number)),
        query(Shown(sql)),
        caller(caller),
        started_at(NowMicros()),
        started(std::chrono::steady_clock::now()),
        cancellation(request) {}

  const uint64_t number;
  const std::string query_id;
  const std::string query;
  const auth::Caller caller;
  const int64_t started_at;  // wall clock, microseconds
  const std::chrono::steady_clock::time_point started;
  Cancellation cancellation;
};

const Cancellation& RunningStatements::Registration::cancellation() const {
  return entry_->cancellation;
}

RunningStatements::Registration RunningStatements::Start(const auth::Caller& caller,
                                                         std::string_view sql,
                                                         const Cancellation* request) {
  auto entry = std::make_shared<Entry>(++next_, caller, sql, request);
  std::lock_guard lock(mutex_);
  entries_.emplace(entry->number, entry);
  return Registration(*this, std::move(entry));
}

void RunningStatements::Remove(const Entry& entry) {
  std::lock_guard lock(mutex_);
  entries_.erase(entry.number);
}

Status RunningStatements::Kill(const std::string& query_id, const auth::Caller& by) {
  std::lock_guard lock(mutex_);
  for (auto& [number, entry] : entries_) {
    if (entry->query_id != query_id) continue;
    if (!auth::IsAdmin(by.role) && entry->caller.user_id != by.user_id) {
      return {Code::kPermissionDenied, "Permission denied: query '" + query_id + "' is not yours"};
    }
    entry->cancellation.Cancel(CancelReason::kKilled);
    return Status::Ok();
  }
  return {Code::kNotFound, "Query '" + query_id + "' is not running"};
}

std::vector<query::RunningQueryRow> RunningStatements::Rows() const {
  const auto now = std::chrono::steady_clock::now();
  std::lock_guard lock(mutex_);
  std::vector<query::RunningQueryRow> rows;
  rows.reserve(entries_.size());
  for (const auto& [number, e] : entries_) {
    rows.push_back({e->query_id, e->query, e->caller.user_id, e->caller.username, e->started_at,
                    std::chrono::duration_cast<std::chrono::milliseconds>(now - e->started).count()});
  }
  return rows;
}

}  // namespace kalam::sql
