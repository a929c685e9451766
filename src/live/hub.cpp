#include "live/hub.h"

#include <algorithm>

#include "common/clock.h"
#include "common/json_text.h"

namespace kalam::live {
namespace {

using store::ChangeEvent;

bool Matches(const Subscription& sub, const store::RowImage& row) {
  return RowMatches(sub.query, row.cells, row.seq);
}

// The changes of one statement for one subscription, by kind. updates and updated_from
// hold the same rows, after and before; deletes holds the rows as they were.
struct Pending {
  std::string inserts, updates, updated_from, deletes;
  size_t n_inserts = 0, n_updates = 0, n_deletes = 0;
};

// Rows encoded once per select list within one event (alike subscriptions share one
// interned Projection), so a change fanned out to many alike subscriptions is encoded once.
class RowCache {
 public:
  const std::string& Encoded(const Subscription& sub, const store::RowImage& row) {
    auto& slot = cache_[{sub.query.projection.get(), &row}];
    if (slot.empty()) live::AppendRowObject(slot, sub.query, row.cells, row.seq);
    return slot;
  }

 private:
  using Key = std::pair<const Projection*, const store::RowImage*>;
  struct Hash {
    size_t operator()(const Key& k) const {
      return std::hash<const void*>()(k.second) * 31 + std::hash<const void*>()(k.first);
    }
  };
  std::unordered_map<Key, std::string, Hash> cache_;
};

void AppendRow(std::string& list, size_t& n, const Subscription& sub, const store::RowImage& row,
               RowCache& cache) {
  if (n++ > 0) list.push_back(',');
  list += cache.Encoded(sub, row);
}

// The shape clients rely on (docs/api.md): an insert has `rows` only, a delete
// `old_values` only (the rows as they were), an update both.
std::string ChangeMessage(const Subscription& sub, std::string_view kind, const std::string* rows,
                          const std::string* old_values) {
  std::string out;
  out.reserve(80 + sub.subscription_id.size() + (rows != nullptr ? rows->size() : 0) +
              (old_values != nullptr ? old_values->size() : 0));
  out += "{\"type\":\"change\",\"subscription_id\":";
  AppendJsonString(out, sub.subscription_id);
  out += ",\"change_type\":\"";
  out += kind;
  out += "\"";
  if (rows != nullptr) {
    out += ",\"rows\":[";
    out += *rows;
    out += "]";
  }
  if (old_values != nullptr) {
    out += ",\"old_values\":[";
    out += *old_values;
    out += "]";
  }
  out += "}";
  return out;
}

}  // namespace

std::string ErrorMessage(std::string_view subscription_id, std::string_view code,
                         const std::string& message) {
  std::string out = "{\"type\":\"error\"";
  if (!subscription_id.empty()) {
    out += ",\"subscription_id\":";
    AppendJsonString(out, subscription_id);
  }
  out += ",\"code\":";
  AppendJsonString(out, code);
  out += ",\"message\":";
  AppendJsonString(out, message);
  return out + "}";
}

int64_t LiveHub::Add(std::shared_ptr<Subscription> sub) {
  std::lock_guard lock(mutex_);
  sub->live_id = sub->connection_id + "-" + std::to_string(next_id_++);
  sub->created_at = sub->last_update = NowMicros();
  ScopeSubs& scope = tables_[sub->query.table->id()][sub->query.scope];
  if (sub->query.equality) {
    const auto& [column, cell] = *sub->query.equality;
    const ColumnType type = sub->query.table->current().columns[column].type;
    scope.by_value[live::EqualityKey(column, type, cell)].push_back(sub.get());
    auto& indexed = scope.indexed_columns[column];
    ++indexed.first;
    indexed.second = type;
  } else {
    scope.others.push_back(sub.get());
  }
  ++per_user_[sub->user_id];
  by_connection_[sub->connection_id].push_back(sub.get());
  subs_[sub->live_id] = sub;
  if (shard_of_) {
    auto published = last_seq_by_shard_.find(shard_of_(sub->query.table->id(), sub->query.scope));
    return published == last_seq_by_shard_.end() ? start_seq_ : std::max(start_seq_, published->second);
  }
  return last_seq_;
}

void LiveHub::MarkReady(const std::string& live_id) {
  std::lock_guard lock(mutex_);
  auto it = subs_.find(live_id);
  if (it == subs_.end()) return;
  Subscription& sub = *it->second;
  if (!sub.held.empty()) sub.outlet->SendMany(std::move(sub.held));
  sub.held.clear();
  sub.ready = true;
}

void LiveHub::Unindex(Subscription* sub) {
  if (auto conn = by_connection_.find(sub->connection_id); conn != by_connection_.end()) {
    auto& list = conn->second;
    list.erase(std::remove(list.begin(), list.end(), sub), list.end());
    if (list.empty()) by_connection_.erase(conn);
  }
  if (auto user = per_user_.find(sub->user_id); user != per_user_.end() && --user->second == 0) {
    per_user_.erase(user);
  }
  auto table = tables_.find(sub->query.table->id());
  if (table == tables_.end()) return;
  auto scope = table->second.find(sub->query.scope);
  if (scope == table->second.end()) return;
  auto erase = [&](std::vector<Subscription*>& list) {
    list.erase(std::remove(list.begin(), list.end(), sub), list.end());
  };
  if (sub->query.equality) {
    const auto& [column, cell] = *sub->query.equality;
    const std::string key =
        live::EqualityKey(column, sub->query.table->current().columns[column].type, cell);
    erase(scope->second.by_value[key]);
    if (scope->second.by_value[key].empty()) scope->second.by_value.erase(key);
    if (--scope->second.indexed_columns[column].first == 0) {
      scope->second.indexed_columns.erase(column);
    }
  } else {
    erase(scope->second.others);
  }
  if (scope->second.others.empty() && scope->second.by_value.empty()) table->second.erase(scope);
  if (table->second.empty()) tables_.erase(table);
}

bool LiveHub::Remove(const std::string& live_id) {
  std::lock_guard lock(mutex_);
  auto it = subs_.find(live_id);
  if (it == subs_.end()) return false;
  Unindex(it->second.get());
  subs_.erase(it);
  return true;
}

std::set<int32_t> LiveHub::WatchedShards() const {
  std::lock_guard lock(mutex_);
  std::set<int32_t> watched;
  if (!shard_of_) return watched;
  for (const auto& [table_id, scopes] : tables_) {
    for (const auto& [scope, subs] : scopes) {
      const bool any = !subs.others.empty() ||
                       std::any_of(subs.by_value.begin(), subs.by_value.end(),
                                   [](const auto& entry) { return !entry.second.empty(); });
      if (any) watched.insert(shard_of_(table_id, scope));
    }
  }
  return watched;
}

void LiveHub::RemoveConnection(const std::string& connection_id) {
  std::lock_guard lock(mutex_);
  auto conn = by_connection_.find(connection_id);
  if (conn == by_connection_.end()) return;
  const std::vector<Subscription*> subs = conn->second;  // Unindex edits the index
  for (Subscription* sub : subs) {
    const std::string live_id = sub->live_id;
    Unindex(sub);
    subs_.erase(live_id);  // the last reference: sub is gone
  }
}

void LiveHub::EndWithError(Subscription* sub, std::string_view code, const std::string& message) {
  SendQueued();  // what the subscription had before comes first
  sub->outlet->Send(ErrorMessage(sub->subscription_id, code, message));
  Unindex(sub);
  const std::string live_id = sub->live_id;
  subs_.erase(live_id);
}

Status LiveHub::Kill(const std::string& live_id, const auth::Caller& caller) {
  std::lock_guard lock(mutex_);
  auto it = subs_.find(live_id);
  if (it == subs_.end()) return {Code::kNotFound, "Live query '" + live_id + "' does not exist"};
  if (!auth::IsAdmin(caller.role) && it->second->user_id != caller.user_id) {
    return {Code::kPermissionDenied, "Permission denied: live query '" + live_id + "' is not yours"};
  }
  auto keep = it->second;
  EndWithError(keep.get(), "NOT_FOUND", "The live query was killed");
  return Status::Ok();
}

void LiveHub::DropTable(const std::string& table_id) {
  std::lock_guard lock(mutex_);
  last_change_.erase(table_id);
  std::vector<std::shared_ptr<Subscription>> ended;
  for (auto& [id, sub] : subs_) {
    if (sub->query.table->id() == table_id) ended.push_back(sub);
  }
  for (auto& sub : ended) {
    EndWithError(sub.get(), "NOT_FOUND", "Table '" + table_id + "' was dropped");
  }
}

void LiveHub::Deliver(Subscription* sub, std::string message) {
  ++change_messages_;
  sub->changes.fetch_add(1, std::memory_order_relaxed);
  sub->last_update.store(NowMicros(), std::memory_order_relaxed);
  if (!sub->ready) {
    sub->held.push_back(std::move(message));
    return;
  }
  auto [it, fresh] = queued_index_.try_emplace(sub->outlet.get(), queued_.size());
  if (fresh) queued_.emplace_back(sub->outlet.get(), std::vector<std::string>());
  queued_[it->second].second.push_back(std::move(message));
}

void LiveHub::SendQueued() {
  for (auto& [outlet, messages] : queued_) outlet->SendMany(std::move(messages));
  queued_.clear();
  queued_index_.clear();
}

uint64_t LiveHub::ChangeMessages() const {
  std::lock_guard lock(mutex_);
  return change_messages_;
}

int64_t LiveHub::LastChange(const std::string& table_id) const {
  std::lock_guard lock(mutex_);
  auto it = last_change_.find(table_id);
  return it == last_change_.end() ? 0 : it->second;
}

void LiveHub::Publish(std::vector<ChangeEvent>& events, int64_t last_seq) {
  std::lock_guard lock(mutex_);
  last_seq_ = std::max(last_seq_, last_seq);  // shards' parts arrive from several threads
  for (const ChangeEvent& event : events) {
    last_change_[event.table_id] = last_seq;
    if (shard_of_) {
      int64_t& published = last_seq_by_shard_[shard_of_(event.table_id, event.scope)];
      published = std::max(published, last_seq);
    }
    auto table = tables_.find(event.table_id);
    if (table == tables_.end()) continue;
    auto scope = table->second.find(event.scope);
    if (scope == table->second.end()) continue;
    const ScopeSubs& subs = scope->second;

    // The subscriptions a row can match: those without an equality, and those whose
    // equality value the row holds. The work grows with the matches, not the subscribers.
    std::vector<Subscription*> for_row;
    auto candidates = [&](const store::RowImage& row, uint64_t round) {
      auto add = [&](Subscription* sub) {
        if (sub->seen == round) return;
        sub->seen = round;
        for_row.push_back(sub);
      };
      for (Subscription* sub : subs.others) add(sub);
      for (const auto& [column, indexed] : subs.indexed_columns) {
        if (column >= static_cast<int>(row.cells.size())) continue;
        auto it = subs.by_value.find(live::EqualityKey(column, indexed.second, row.cells[column]));
        if (it != subs.by_value.end()) {
          for (Subscription* sub : it->second) add(sub);
        }
      }
    };
    const uint64_t event_round = ++rounds_;
    std::vector<std::pair<Subscription*, Pending>> pending;
    auto pending_for = [&](Subscription* sub) -> Pending& {
      if (sub->pending_round != event_round) {
        sub->pending_round = event_round;
        sub->pending_slot = pending.size();
        pending.emplace_back(sub, Pending());
      }
      return pending[sub->pending_slot].second;
    };
    RowCache cache;
    // Updates that make a row stop matching, as deletes: the row as it was, stamped with the
    // update's _seq like any delete, so _seq keeps rising per subscription. By row index;
    // the cache keys on their addresses, which stay put.
    std::unordered_map<size_t, store::RowImage> stopped;
    std::vector<Subscription*> stale;
    for (size_t i = 0; i < event.rows.size(); ++i) {
      const store::RowImage& row = event.rows[i];
      const store::RowImage* old =
          event.kind == ChangeEvent::Kind::kUpdate ? &event.old_rows[i] : nullptr;
      for_row.clear();
      const uint64_t row_round = ++rounds_;
      candidates(row, row_round);
      if (old != nullptr) candidates(*old, row_round);
      for (Subscription* sub : for_row) {
        if (row.seq <= sub->known_through) continue;
        if (sub->query.table->current().version != event.schema_version) {
          stale.push_back(sub);
          continue;
        }
        Pending& p = pending_for(sub);
        switch (event.kind) {
          case ChangeEvent::Kind::kInsert:
            if (Matches(*sub, row)) AppendRow(p.inserts, p.n_inserts, *sub, row, cache);
            break;
          case ChangeEvent::Kind::kDelete:
            if (Matches(*sub, row)) AppendRow(p.deletes, p.n_deletes, *sub, row, cache);
            break;
          case ChangeEvent::Kind::kUpdate: {
            // An update that starts matching is an insert; one that stops is a delete.
            const bool was = Matches(*sub, *old), is = Matches(*sub, row);
            if (was && is) {
              size_t n_old = p.n_updates;
              AppendRow(p.updates, p.n_updates, *sub, row, cache);
              AppendRow(p.updated_from, n_old, *sub, *old, cache);
            } else if (is) {
              AppendRow(p.inserts, p.n_inserts, *sub, row, cache);
            } else if (was) {
              const store::RowImage& as_was =
                  stopped.try_emplace(i, store::RowImage{old->cells, row.seq}).first->second;
              AppendRow(p.deletes, p.n_deletes, *sub, as_was, cache);
            }
            break;
          }
        }
      }
    }
    for (auto& [sub, p] : pending) {
      if (p.n_inserts > 0) Deliver(sub, ChangeMessage(*sub, "insert", &p.inserts, nullptr));
      if (p.n_updates > 0) {
        Deliver(sub, ChangeMessage(*sub, "update", &p.updates, &p.updated_from));
      }
      if (p.n_deletes > 0) Deliver(sub, ChangeMessage(*sub, "delete", nullptr, &p.deletes));
    }
    std::sort(stale.begin(), stale.end());
    stale.erase(std::unique(stale.begin(), stale.end()), stale.end());
    for (Subscription* sub : stale) {
      if (subs_.contains(sub->live_id)) {
        EndWithError(sub, "UNSUPPORTED", "The table's schema changed: subscribe again");
      }
    }
  }
  SendQueued();
}

std::vector<query::LiveQueryRow> LiveHub::List() const {
  std::lock_guard lock(mutex_);
  std::vector<query::LiveQueryRow> rows;
  for (const auto& [id, sub] : subs_) {
    query::LiveQueryRow row;
    row.live_id = sub->live_id;
    row.connection_id = sub->connection_id;
    row.subscription_id = sub->subscription_id;
    row.namespace_id = sub->query.table->ns;
    row.table_name = sub->query.table->name;
    row.user_id = sub->user_id;
    row.query = sub->sql;
    row.options_json = sub->options_json;
    row.created_at = sub->created_at;
    row.last_update = sub->last_update.load(std::memory_order_relaxed);
    row.changes = sub->changes.load(std::memory_order_relaxed);
    row.node = node_id_;
    rows.push_back(std::move(row));
  }
  return rows;
}

size_t LiveHub::Count() const {
  std::lock_guard lock(mutex_);
  return subs_.size();
}

size_t LiveHub::CountForConnection(const std::string& connection_id) const {
  std::lock_guard lock(mutex_);
  auto it = by_connection_.find(connection_id);
  return it == by_connection_.end() ? 0 : it->second.size();
}

size_t LiveHub::CountForUser(const std::string& user_id) const {
  std::lock_guard lock(mutex_);
  auto it = per_user_.find(user_id);
  return it == per_user_.end() ? 0 : it->second;
}

}  // namespace kalam::live
