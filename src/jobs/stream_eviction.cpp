#include "jobs/stream_eviction.h"

#include <spdlog/spdlog.h>

#include <chrono>

#include "catalog/catalog.h"
#include "jobs/job_manager.h"
#include "store/committer.h"
#include "store/kv_store.h"
#include "store/row_codec.h"

namespace kalam::jobs {

Result<uint64_t> EvictExpiredStreamRows(catalog::Catalog& catalog, store::KvStore& store,
                                        store::Committer& committer, int64_t now_millis,
                                        bool dry_run) {
  auto state = catalog.snapshot();
  uint64_t trimmed = 0;
  for (const auto& [id, table] : state->tables) {
    if (table.type != catalog::TableType::kStream || !table.ttl_seconds) continue;
    const int64_t cutoff = store::SeqFloorAt(now_millis - *table.ttl_seconds * 1000);
    store::WriteSet deletes;
    auto cursor = store.NewCursor(store::Family::kStream, store::TablePrefix(table.table_num));
    while (cursor->Valid()) {
      // Keys are table | user | _seq: the first key of a user is their oldest row.
      const std::string scope(store::ScopeOfKey(cursor->key()));
      const std::string prefix = store::ScopePrefix(table.table_num, scope);
      std::string end = prefix;
      store::AppendKeyCell(end, ColumnType::kBigInt, store::Cell(cutoff));
      if (cursor->key() < std::string_view(end)) {
        deletes.DeleteRange(store::Family::kStream, prefix, end);
        ++trimmed;
      }
      std::string next_scope = prefix;
      next_scope.back() = '\x01';  // just past every key of this scope
      cursor->Seek(next_scope);
    }
    KALAM_RETURN_IF_ERROR(cursor->status());
    if (deletes.empty() || dry_run) continue;
    KALAM_RETURN_IF_ERROR(committer.CommitLocal([&](store::CommitContext& commit) {
      for (const auto& op : deletes.ops()) commit.DeleteRange(op.family, op.key, *op.range_end);
      return Status::Ok();
    }));
  }
  return trimmed;
}

StreamEvictor::StreamEvictor(catalog::Catalog& catalog, store::KvStore& store,
                             store::Committer& committer, JobManager& jobs,
                             int64_t interval_secs)
    : catalog_(catalog),
      store_(store),
      committer_(committer),
      jobs_(jobs),
      interval_secs_(std::max<int64_t>(1, interval_secs)),
      task_(std::chrono::seconds(interval_secs_), [this] { Tick(); }) {}

StreamEvictor::~StreamEvictor() = default;

void StreamEvictor::Submit() {
  if (!last_job_.empty()) {  // still queued behind other work: that one will do
    auto last = jobs_.Find(last_job_);
    if (last && (last->status == "queued" || last->status == "running")) return;
  }
  // The job may run after this evictor is gone (it is stopped before the job manager):
  // it holds only what outlives the manager.
  auto work = [catalog = &catalog_, store = &store_, committer = &committer_,
               jobs = &jobs_](const JobContext&) -> Result<std::string> {
    const int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count();
    auto trimmed = EvictExpiredStreamRows(*catalog, *store, *committer, now);
    if (!trimmed.ok()) return trimmed.status();
    jobs->KeepLatest("stream_eviction", kRecordsKept);
    return "{\"scopes_trimmed\":" + std::to_string(*trimmed) + "}";
  };
  auto job = jobs_.Submit("stream_eviction", "", "", "{}", std::move(work));
  if (job.ok()) last_job_ = *job;
}

void StreamEvictor::Tick() {
  const int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  auto expired = EvictExpiredStreamRows(catalog_, store_, committer_, now, true);
  if (!expired.ok()) {
    spdlog::warn("stream eviction failed: {}", expired.status().message());
  } else if (*expired > 0) {
    Submit();
  }
}

}  // namespace kalam::jobs
