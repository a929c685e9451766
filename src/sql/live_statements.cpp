// SUBSCRIBE TO (over HTTP: the subscription to send over the WebSocket, checked now so
// that mistakes show here) and KILL LIVE QUERY.
#include "catalog/catalog.h"
#include "common/clock.h"
#include "common/json_text.h"
#include "common/text.h"
#include "live/hub.h"
#include "live/subscription.h"
#include "sql/executor.h"
#include "sql/replies.h"

namespace kalam::sql {

Result<StatementResult> Executor::Run(const Scope& scope, const SubscribeTo& stmt) {
  const std::string ns = stmt.table.ns.empty() ? scope.default_namespace : stmt.table.ns;
  const std::string select = "SELECT * FROM " + SqlIdentifier(ns) + "." +
                             SqlIdentifier(stmt.table.name) +
                             (stmt.where_sql.empty() ? "" : " WHERE " + stmt.where_sql);
  auto parsed = live::ParseSubscription(select, *catalog_.snapshot(), scope.caller,
                                        scope.default_namespace);
  if (!parsed.ok()) return parsed.status();
  std::string options = "{";
  for (const auto& [key, value] : stmt.options) {
    if (options.size() > 1) options += ",";
    options += JsonString(key) + ":" + std::to_string(value);
  }
  options += "}";
  const std::string id = "sub-" + std::to_string(NowMicros());
  StatementResult r;
  r.message = "{\"status\":\"subscription_required\",\"ws_url\":" +
              JsonString("ws://" + config_.server.host + ":" + std::to_string(config_.server.port) +
                         "/v1/ws") +
              ",\"subscription\":{\"id\":" + JsonString(id) + ",\"sql\":" + JsonString(select) +
              ",\"options\":" + options + "}}";
  return r;
}

Result<StatementResult> Executor::Run(const Scope& scope, const KillLiveQuery& stmt) {
  KALAM_RETURN_IF_ERROR(hub_.Kill(stmt.live_id, scope.caller));
  return Done("Live query '" + stmt.live_id + "' killed", 1);
}

}  // namespace kalam::sql
