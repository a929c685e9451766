#include "live/subscribe.h"

#include <algorithm>
#include <boost/json.hpp>

#include "catalog/catalog.h"
#include "common/json_text.h"
#include "live/snapshot.h"
#include "live/subscription.h"
#include "query/engine.h"

namespace kalam::live {

ConnectionSubscriptions::ConnectionSubscriptions(LiveServices& services, std::string connection_id)
    : services_(services), connection_id_(std::move(connection_id)) {}

Status ConnectionSubscriptions::Subscribe(const auth::Caller& caller,
                                          const std::shared_ptr<Outlet>& outlet,
                                          const SubscribeRequest& request) {
  const std::string& id = request.id;
  {
    std::lock_guard lock(mutex_);
    KALAM_RETURN_IF_ERROR(CheckNewId(id));
  }
  if (static_cast<int64_t>(services_.hub.CountForUser(caller.user_id)) >=
      services_.max_subscriptions_per_user) {
    return {Code::kSubscriptionLimitExceeded, "Too many subscriptions for this user"};
  }
  auto parsed = ParseSubscription(request.sql, *services_.catalog.snapshot(), caller, "default");
  if (!parsed.ok()) return parsed.status();
  if (services_.held_here) KALAM_RETURN_IF_ERROR(services_.held_here(*parsed->table, parsed->scope));
  auto sub = std::make_shared<Subscription>();
  sub->connection_id = connection_id_;
  sub->subscription_id = id;
  sub->user_id = caller.user_id;
  sub->sql = request.sql;
  sub->options_json = request.options_json;
  sub->query = std::move(parsed).value();
  sub->outlet = outlet;
  sub->known_through = request.from_seq.value_or(0);
  const SubscriptionQuery& q = sub->query;
  // Registered first, then the snapshot: a commit after snapshot_seq comes as an event,
  // one before it is in the snapshot (the hub drops events the snapshot already holds).
  const int64_t snapshot_seq = services_.hub.Add(sub);
  {
    std::lock_guard lock(mutex_);
    live_ids_[id] = sub->live_id;
  }
  auto undo = [&](Status status) {
    services_.hub.Remove(sub->live_id);
    std::lock_guard lock(mutex_);
    live_ids_.erase(id);
    return status;
  };

  std::vector<std::string> rows;
  if (request.last_rows && *request.last_rows <= 0) {
    // No initial rows asked for: nothing to read (a table of any size costs nothing here).
    outlet->SendMany(SnapshotMessages(id, sub->live_id, q, snapshot_seq, request.batch_size, rows));
    services_.hub.MarkReady(sub->live_id);
    return Status::Ok();
  }
  auto direct = ReadSnapshot(q, *services_.catalog.snapshot(), services_.store, services_.cold,
                             snapshot_seq, request.from_seq, request.last_rows,
                             &services_.snapshot_cache);
  if (!direct.ok()) return undo({Code::kInternalError, direct.status().message()});
  if (direct->has_value()) {
    rows = std::move(**direct);
  } else {
    auto read = ReadSnapshotByEngine(caller, q, snapshot_seq, request.from_seq, request.last_rows);
    if (!read.ok()) return undo(read.status());
    rows = std::move(read).value();
  }
  outlet->SendMany(
      SnapshotMessages(id, sub->live_id, q, snapshot_seq, request.batch_size, rows));
  services_.hub.MarkReady(sub->live_id);
  return Status::Ok();
}

Status ConnectionSubscriptions::CheckNewId(const std::string& id) {
  if (id.empty() || id.size() > 128) {
    return {Code::kInvalidSubscriptionId, "A subscription needs an id of 1 to 128 characters"};
  }
  if (live_ids_.contains(id)) {
    return {Code::kInvalidSubscriptionId, "Subscription '" + id + "' already exists here"};
  }
  if (static_cast<int64_t>(live_ids_.size()) >= services_.max_subscriptions_per_connection) {
    return {Code::kSubscriptionLimitExceeded, "Too many subscriptions on this connection"};
  }
  return Status::Ok();
}

Status ConnectionSubscriptions::Reserve(const std::string& id) {
  std::lock_guard lock(mutex_);
  KALAM_RETURN_IF_ERROR(CheckNewId(id));
  live_ids_[id] = "";
  return Status::Ok();
}

void ConnectionSubscriptions::Release(const std::string& id) {
  std::lock_guard lock(mutex_);
  if (auto it = live_ids_.find(id); it != live_ids_.end() && it->second.empty()) live_ids_.erase(it);
}

bool ConnectionSubscriptions::Unsubscribe(const std::string& id) {
  std::string live_id;
  {
    std::lock_guard lock(mutex_);
    auto it = live_ids_.find(id);
    if (it == live_ids_.end()) return false;
    live_id = it->second;
    live_ids_.erase(it);
  }
  return live_id.empty() || services_.hub.Remove(live_id);
}

namespace {
constexpr std::string_view kHolderNamed = ": subscribe through node '";
}  // namespace

Status NotHeldHere(int32_t shard, const std::string& node_id, const std::optional<std::string>& address) {
  std::string where;
  if (!node_id.empty()) where = std::string(kHolderNamed) + node_id + "'" + (address ? " (" + *address + ")" : "");
  return {Code::kServiceUnavailable, "this node holds no replica of shard " + std::to_string(shard) +
                                         ", so it hears of none of its changes" + where};
}

std::optional<std::string> HolderNamedIn(const Status& refusal) {
  if (refusal.code() != Code::kServiceUnavailable) return std::nullopt;
  const std::string& text = refusal.message();
  const size_t at = text.find(kHolderNamed);
  if (at == std::string::npos) return std::nullopt;
  const size_t begin = at + kHolderNamed.size();
  const size_t end = text.find('\'', begin);
  if (end == std::string::npos || end == begin) return std::nullopt;
  return text.substr(begin, end - begin);
}

void ConnectionSubscriptions::RemoveAll() {
  {
    std::lock_guard lock(mutex_);
    live_ids_.clear();
  }
  services_.hub.RemoveConnection(connection_id_);
}

Result<std::vector<std::string>> ConnectionSubscriptions::ReadSnapshotByEngine(
    const auth::Caller& caller, const SubscriptionQuery& q, int64_t snapshot_seq,
    std::optional<int64_t> from_seq, std::optional<int64_t> last_rows) {
  std::string select = SelectSql(q) + " WHERE _seq <= " + std::to_string(snapshot_seq);
  if (!q.where_sql.empty()) select += " AND (" + q.where_sql + ")";
  if (from_seq) select += " AND _seq > " + std::to_string(*from_seq);
  select += last_rows ? " ORDER BY _seq DESC LIMIT " + std::to_string(std::max<int64_t>(0, *last_rows))
                      : std::string(" ORDER BY _seq");
  auto result = services_.engine.Query({caller, "default"}, select);
  if (!result.ok()) return result.status();
  // The engine answers rows as arrays; the protocol sends objects.
  namespace json = boost::json;
  json::array arrays = json::parse(result->rows_json).as_array();
  if (last_rows) std::reverse(arrays.begin(), arrays.end());
  std::vector<std::string> objects;
  objects.reserve(arrays.size());
  for (const auto& row : arrays) {
    std::string object = "{";
    const auto& values = row.as_array();
    for (size_t i = 0; i < values.size(); ++i) {
      if (i > 0) object += ",";
      object += JsonString(q.projection->names[i]) + ":" + json::serialize(values[i]);
    }
    objects.push_back(object + "}");
  }
  return objects;
}

std::vector<std::string> SnapshotMessages(const std::string& id, const std::string& live_id,
                                          const SubscriptionQuery& q, int64_t snapshot_seq,
                                          int64_t batch_size, const std::vector<std::string>& rows) {
  const size_t total = rows.size();
  const size_t size = static_cast<size_t>(batch_size);
  const size_t batches = (total + size - 1) / size;
  auto control = [&](size_t batch_num, bool has_more) {
    return "{\"batch_num\":" + std::to_string(batch_num) +
           ",\"has_more\":" + (has_more ? "true" : "false") + ",\"status\":\"" +
           (has_more ? "loading" : "ready") + "\",\"last_seq_id\":" +
           std::to_string(snapshot_seq) + "}";
  };
  std::vector<std::string> messages;
  messages.reserve(batches + 1);
  messages.push_back("{\"type\":\"subscription_ack\",\"subscription_id\":" + JsonString(id) +
                     ",\"live_id\":" + JsonString(live_id) +
                     ",\"total_rows\":" + std::to_string(total) + ",\"schema\":" + SchemaJson(q) +
                     ",\"batch_control\":" + control(0, total > 0) + "}");
  for (size_t b = 0; b < batches; ++b) {
    std::string batch = "{\"type\":\"initial_data_batch\",\"subscription_id\":" + JsonString(id) +
                        ",\"rows\":[";
    for (size_t i = b * size; i < std::min(total, (b + 1) * size); ++i) {
      if (i > b * size) batch += ",";
      batch += rows[i];
    }
    batch += "],\"batch_control\":" + control(b + 1, b + 1 < batches) + "}";
    messages.push_back(std::move(batch));
  }
  return messages;
}

}  // namespace kalam::live
