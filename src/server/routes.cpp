#include "server/routes.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <boost/json.hpp>
#include <chrono>
#include <cstdlib>
#include <map>

#include "client/http_client.h"
#include "cluster/shard_groups.h"
#include "common/encoding.h"
#include "common/json_text.h"
#include "sql/splitter.h"
#include "server/app.h"
#include "server/live_relay.h"
#include "server/request_body.h"
#include "server/ui_routes.h"

namespace kalam::server {
namespace {

namespace http = boost::beast::http;
namespace json = boost::json;

constexpr const char* kVersion = "0.1.0";
constexpr std::string_view kLoginRoute = "/v1/api/auth/login";
constexpr std::string_view kSetupRoute = "/v1/api/auth/setup";
// Between the nodes of a cluster: "the shared catalog is at version N now" (JSON
// {"version": N}); the node answers once it has that version or a later one.
constexpr std::string_view kClusterCatalogRoute = "/v1/cluster/catalog";
// Between nodes: "how far has this shard's log been applied here?" (JSON {"shard": N}),
// asked of its leader: {"index": I}.
constexpr std::string_view kClusterReadIndexRoute = "/v1/cluster/read-index";
// Between nodes: "flush this table's rows of those of these shards you lead" (JSON
// {"table_id": "ns:t", "shards": [N, ...]}): {"shards": [flushed], "result": {...}}.
constexpr std::string_view kClusterFlushRoute = "/v1/cluster/flush";
// Between nodes, to a topic's leader: "append these outbox records of a source shard"
// (JSON {"topic_num": N, "source_shard": S, "records": "<base64 of a delivery>"}):
// {"appended": true}.
constexpr std::string_view kClusterTopicAppendRoute = "/v1/cluster/topic-append";
// Between nodes: "count this table's hot rows of those of these shards you hold" (JSON
// {"table_id": "ns:t", "shards": [N, ...]}): {"counts": {"<shard>": rows, ...}}.
constexpr std::string_view kClusterHotRowsRoute = "/v1/cluster/hot-rows";
// Between nodes: "send this table's rows of the users of those of these shards you hold"
// (JSON {"table_id": "ns:t", "shards": [N, ...]}): {"shards": [read], "rows": "<base64>"}.
constexpr std::string_view kClusterUserRowsRoute = "/v1/cluster/user-rows";

std::string ErrorBody(Code code, const std::string& message) {
  std::string body = R"({"status":"error","error":{"code":)";
  AppendJsonString(body, CodeName(code));
  body += ",\"message\":";
  AppendJsonString(body, message);
  body += "}}";
  return body;
}

std::string HeaderValue(const Request& request, http::field field) {
  auto it = request.find(field);
  return it == request.end() ? std::string() : std::string(it->value());
}

std::optional<std::string_view> UserHeader(const Request& request) {
  auto it = request.find("X-USER-ID");
  if (it == request.end()) return std::nullopt;
  return std::string_view(it->value().data(), it->value().size());
}

std::string_view Target(const Request& request) {
  std::string_view target(request.target().data(), request.target().size());
  return target.substr(0, target.find('?'));
}

std::string TokenBody(const auth::TokenPair& pair) {
  json::object body{{"access_token", pair.access_token},
                    {"refresh_token", pair.refresh_token},
                    {"token_type", "Bearer"},
                    {"expires_in", pair.expires_in},
                    {"user",
                     {{"user_id", pair.user.user_id},
                      {"username", pair.user.username},
                      {"role", std::string(auth::RoleName(pair.user.role))}}}};
  return json::serialize(body);
}

// How long a write sent on to its shard's leader may take (connecting, and a leader cut
// off after the request went out, fail much sooner: App::SendToNode).
constexpr std::chrono::milliseconds kForwardTimeout{30000};

double MillisSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
      .count();
}

void AppendStatementResult(std::string& out, const sql::StatementResult& r,
                           const std::string& as_user) {
  if (r.rows) {
    out += "{\"schema\":";
    out += r.rows->schema_json;
    out += ",\"rows\":";
    out += r.rows->rows_json;
    fmt::format_to(std::back_inserter(out), ",\"row_count\":{}", r.rows->row_count);
    if (r.rows->truncated) out += ",\"truncated\":true";
  } else {
    fmt::format_to(std::back_inserter(out), "{{\"row_count\":{},\"message\":", r.row_count);
    AppendJsonString(out, r.message);
  }
  out += ",\"as_user\":";
  AppendJsonString(out, as_user);
  out += '}';
}

}  // namespace

Routes::Routes(App& app, size_t send_on_limit) : app_(app), send_on_limit_(std::max<size_t>(1, send_on_limit)) {}

Routes::Work Routes::WorkOf(const Request& request) {
  const std::string_view target = Target(request);
  if (target == "/health" || target == "/v1/api/healthcheck" || target == kSetupRoute ||
      IsUiPath(target) || request.method() == http::verb::options) {
    return Work::kInPlace;
  }
  if ((target == kLoginRoute && request.method() == http::verb::post) ||
      app_.authenticator().NeedsPasswordCheck(HeaderValue(request, http::field::authorization))) {
    return Work::kPasswordThenQuery;
  }
  if (!app_.config().cluster.enabled() &&
      (target == "/v1/api/topics/consume" || (target == "/v1/api/topics/ack" && !app_.config().storage.sync_writes))) {
    return Work::kTopic;
  }
  return Work::kQuery;
}

std::optional<Result<SqlBody>> Routes::ReadSql(const Request& request) const {
  const std::string_view target = Target(request);
  if ((target != "/v1/api/sql" && target != "/api/sql") || request.method() != http::verb::post) {
    return std::nullopt;
  }
  return ReadSqlBody(request.body());
}

Result<auth::Caller> Routes::Authenticate(const Request& request, const auth::Peer& peer) {
  // Another node's client (a Postgres wire session's statement sent on to its shard's leader).
  if (auto acting = request.find(kActAsHeader); acting != request.end() && app_.config().cluster.enabled()) {
    return app_.authenticator().ActingAs(HeaderValue(request, http::field::authorization), acting->value());
  }
  if (Target(request) != kLoginRoute) {
    return app_.authenticator().Authenticate(HeaderValue(request, http::field::authorization),
                                             peer, UserHeader(request));
  }
  auto body = ParseBody(request.body());
  if (!body.ok()) return body.status();
  auto username = StringField(*body, "username", true);
  if (!username.ok()) return username.status();
  auto password = StringField(*body, "password", true);
  if (!password.ok()) return password.status();
  return app_.authenticator().SignIn(*username, *password, peer);
}

Response Routes::Json(unsigned status, std::string body, const Request& request) const {
  Response response{static_cast<http::status>(status), request.version()};
  response.set(http::field::server, "kalamdb");
  response.set(http::field::content_type, "application/json");
  response.set(http::field::access_control_allow_origin, "*");
  response.keep_alive(request.keep_alive());
  response.body() = std::move(body);
  return response;
}

Response Routes::Error(Code code, const std::string& message, unsigned version,
                       bool keep_alive) const {
  Response response{static_cast<http::status>(HttpStatus(code)), version};
  response.set(http::field::server, "kalamdb");
  response.set(http::field::content_type, "application/json");
  response.set(http::field::access_control_allow_origin, "*");
  response.keep_alive(keep_alive);
  response.body() = ErrorBody(code, message);
  return response;
}

Response Routes::Handle(const Request& request, const auth::Peer& peer,
                        std::optional<Result<auth::Caller>> caller,
                        const Cancellation* cancellation, TopicWait* wait,
                        const Result<SqlBody>* sql_body) {
  const std::string_view target = Target(request);
  const http::verb method = request.method();
  auto error = [&](Code code, const std::string& message) {
    return Error(code, message, request.version(), request.keep_alive());
  };
  auto only = [&](http::verb allowed) { return method == allowed; };
  auto authenticated = [&] { return caller ? std::move(*caller) : Authenticate(request, peer); };

  if (method == http::verb::options) {  // CORS preflight
    Response response = Json(204, "", request);
    response.set(http::field::access_control_allow_methods, "GET, POST, OPTIONS");
    response.set(http::field::access_control_allow_headers,
                 "Authorization, Content-Type, X-USER-ID");
    response.set(http::field::access_control_max_age, "86400");
    return response;
  }
  try {
    if (target == "/health") {
      if (!only(http::verb::get)) return error(Code::kNotFound, "Use GET /health");
      return Json(200, R"({"status":"ok"})", request);
    }
    if (target == "/v1/api/healthcheck") {
      if (!only(http::verb::get)) return error(Code::kNotFound, "Use GET /v1/api/healthcheck");
      return Json(200,
                  fmt::format(R"({{"status":"healthy","version":"{}","api_version":"v1"}})",
                              kVersion),
                  request);
    }
    if (target == kSetupRoute) {
      if (!only(http::verb::get)) return error(Code::kNotFound, "Use GET /v1/api/auth/setup");
      return Setup(request, peer);
    }
    if (auto ui = ServeUi(request, target)) return std::move(*ui);
    if (target == "/v1/api/sql" || target == "/api/sql") {
      if (!only(http::verb::post)) return error(Code::kNotFound, "Use POST for SQL");
      return Sql(request, authenticated(), cancellation, sql_body);
    }
    if (target == "/v1/api/topics/consume") {
      if (!only(http::verb::post)) return error(Code::kNotFound, "Use POST to consume a topic");
      return TopicConsume(request, authenticated(), wait);
    }
    if (target == "/v1/api/topics/ack") {
      if (!only(http::verb::post)) return error(Code::kNotFound, "Use POST to acknowledge a topic");
      return TopicAck(request, authenticated());
    }
    if (target == kLoginRoute) {
      if (!only(http::verb::post)) return error(Code::kNotFound, "Use POST to log in");
      return Login(request, authenticated());
    }
    if (target == "/v1/api/auth/refresh") {
      if (!only(http::verb::post)) return error(Code::kNotFound, "Use POST to refresh a token");
      return Refresh(request);
    }
    if (target == "/metrics" && app_.config().metrics.enabled) {
      if (!only(http::verb::get)) return error(Code::kNotFound, "Use GET /metrics");
      // From loopback no credentials are needed (none are checked unless sent).
      if (peer.loopback && !request.count(http::field::authorization)) {
        return Metrics(request, peer, auth::Caller{});
      }
      return Metrics(request, peer, authenticated());
    }
    if (target == "/v1/api/auth/me") {
      if (!only(http::verb::get)) return error(Code::kNotFound, "Use GET /v1/api/auth/me");
      return Me(request, authenticated());
    }
    if (target == kClusterCatalogRoute && app_.config().cluster.enabled()) {
      if (!only(http::verb::post)) return error(Code::kNotFound, "Use POST " + std::string(kClusterCatalogRoute));
      // The catalog is at version N: answered once this node has it (or a later one).
      return BetweenNodes(request, "version", 1, INT64_MAX, [&](int64_t version) -> Result<std::string> {
        KALAM_RETURN_IF_ERROR(app_.catalog().RefreshTo(version));
        return std::string(R"({"status":"ok"})");
      });
    }
    if (target == kClusterReadIndexRoute && app_.config().cluster.enabled()) {
      if (!only(http::verb::post)) return error(Code::kNotFound, "Use POST " + std::string(kClusterReadIndexRoute));
      // Asked of a shard's leader: how far its log has been applied here.
      return BetweenNodes(request, "shard", 0, INT32_MAX, [&](int64_t shard) -> Result<std::string> {
        auto index = app_.ShardReadIndex(static_cast<int32_t>(shard));
        if (!index.ok()) return index.status();
        return "{\"index\":" + std::to_string(*index) + "}";
      });
    }
    if (target == kClusterFlushRoute && app_.config().cluster.enabled()) {
      if (!only(http::verb::post)) return error(Code::kNotFound, "Use POST " + std::string(kClusterFlushRoute));
      return ForTableShards(request, [&](const std::string& table_id, const std::vector<int32_t>& shards) {
        return app_.FlushLedShards(table_id, shards, [] { return false; });
      });
    }
    if (target == kClusterHotRowsRoute && app_.config().cluster.enabled()) {
      if (!only(http::verb::post)) return error(Code::kNotFound, "Use POST " + std::string(kClusterHotRowsRoute));
      return ForTableShards(request, [&](const std::string& table_id, const std::vector<int32_t>& shards) {
        return app_.CountHeldHotRows(table_id, shards);
      });
    }
    if (target == kClusterUserRowsRoute && app_.config().cluster.enabled()) {
      if (!only(http::verb::post)) return error(Code::kNotFound, "Use POST " + std::string(kClusterUserRowsRoute));
      return ForTableShards(request, [&](const std::string& table_id, const std::vector<int32_t>& shards) {
        return app_.HeldUserRows(table_id, shards);
      });
    }
    if (target == kClusterSessionRoute && app_.config().cluster.enabled()) {
      if (!only(http::verb::post)) return error(Code::kNotFound, "Use POST " + std::string(kClusterSessionRoute));
      return MovedTransaction(request, authenticated(), cancellation);
    }
    if (target == kClusterTopicAppendRoute && app_.config().cluster.enabled()) {
      if (!only(http::verb::post)) return error(Code::kNotFound, "Use POST " + std::string(kClusterTopicAppendRoute));
      return TopicAppendForNode(request);
    }
    return error(Code::kNotFound, "No route for " + std::string(request.method_string()) + " " +
                                      std::string(target));
  } catch (const std::exception& e) {
    spdlog::error("request {} {} failed: {}", std::string(request.method_string()),
                  std::string(target), e.what());
    return error(Code::kInternalError, "The server could not handle the request");
  }
}

Response Routes::Sql(const Request& request, const Result<auth::Caller>& caller,
                     const Cancellation* cancellation, const Result<SqlBody>* read) {
  const auto start = std::chrono::steady_clock::now();
  auto fail = [&](const Status& s) {
    return Error(s.code(), s.message(), request.version(), request.keep_alive());
  };
  if (!caller.ok()) return fail(caller.status());
  if (Status admitted = app_.rate_limiter().Admit(caller->user_id); !admitted.ok()) return fail(admitted);
  std::optional<Result<SqlBody>> own;
  if (read == nullptr) read = &own.emplace(ReadSqlBody(request.body()));
  if (!read->ok()) return fail(read->status());
  const SqlBody& body = **read;

  sql::BatchRequest batch_request;
  batch_request.sql = body.sql;
  batch_request.cancellation = cancellation;
  if (!body.namespace_id.empty()) batch_request.default_namespace = body.namespace_id;
  batch_request.params = body.params;
  // Cluster mode: rows are read at their shard's leader (the batch goes on there), so a
  // read through any node sees every write acknowledged before it. A batch sent on is not
  // sent on again: it reads the shards led elsewhere here, once this node's replicas have
  // caught up with their leaders.
  if (app_.config().cluster.enabled()) {
    batch_request.freshness =
        request.count(kForwardedHeader) == 0 ? query::ReadFreshness::kLeader : query::ReadFreshness::kSentOn;
  }

  sql::BatchResult batch = app_.executor().Execute(*caller, batch_request);
  if (!batch.error.ok() && batch.replay_from > 0) {
    if (auto replayed = ReplayOnLeader(request, body, *caller, batch, start)) return std::move(*replayed);
  }

  std::string out = batch.error.ok() ? R"({"status":"success","results":[)"
                                     : R"({"status":"error","results":[)";
  for (size_t i = 0; i < batch.results.size(); ++i) {
    if (i > 0) out += ',';
    AppendStatementResult(out, batch.results[i],
                          batch.results[i].as_user.value_or(caller->user_id));
  }
  fmt::format_to(std::back_inserter(out), "],\"took\":{:.3f}", MillisSince(start));
  unsigned status = 200;
  if (!batch.error.ok()) {
    status = static_cast<unsigned>(HttpStatus(batch.error.code()));
    if (batch.error.code() == Code::kInternalError) {
      spdlog::error("statement failed: {}", batch.error.message());
    }
    out += ",\"error\":{\"code\":";
    AppendJsonString(out, CodeName(batch.error.code()));
    out += ",\"message\":";
    AppendJsonString(out, batch.error.message());
    if (batch.statement_index > 0) {
      fmt::format_to(std::back_inserter(out), ",\"statement_index\":{}", batch.statement_index);
    }
    out += '}';
  }
  out += '}';
  return Json(status, std::move(out), request);
}

Response Routes::MovedTransaction(const Request& request, const Result<auth::Caller>& caller,
                                  const Cancellation* cancellation) {
  auto fail = [&](const Status& s) { return Error(s.code(), s.message(), request.version(), request.keep_alive()); };
  // Only another node, acting for its client, opens a session here.
  if (request.count(kActAsHeader) == 0) {
    return fail({Code::kPermissionDenied, "Permission denied: sessions here are opened by the cluster's nodes"});
  }
  if (!caller.ok()) return fail(caller.status());
  RelayedSessions* sessions = app_.relayed_sessions();
  if (sessions == nullptr) return fail({Code::kServiceUnavailable, "this node is closing"});
  auto body = ParseBody(request.body());
  if (!body.ok()) return fail(body.status());
  auto id = StringField(*body, "session", false);
  if (!id.ok()) return fail(id.status());
  if (const json::value* end = body->if_contains("end"); end != nullptr && end->is_bool() && end->as_bool()) {
    if (!id->empty()) sessions->End(*id);  // its transaction, if open, is rolled back
    return Json(200, R"({"state":"idle"})", request);
  }
  struct Statement {
    std::string sql;
    std::string namespace_id;
  };
  std::vector<Statement> statements;
  const json::value* list = body->if_contains("statements");
  if (list == nullptr || !list->is_array() || list->as_array().empty()) {
    return fail({Code::kInvalidInput, "\"statements\" is a non-empty array of {\"sql\", \"namespace_id\"}"});
  }
  for (const json::value& item : list->as_array()) {
    if (!item.is_object()) return fail({Code::kInvalidInput, "each statement is {\"sql\", \"namespace_id\"}"});
    auto sql = StringField(item.as_object(), "sql", true);
    if (!sql.ok()) return fail(sql.status());
    auto namespace_id = StringField(item.as_object(), "namespace_id", false);
    if (!namespace_id.ok()) return fail(namespace_id.status());
    statements.push_back({std::move(sql).value(), std::move(namespace_id).value()});
  }

  std::string session_id = *id;
  std::shared_ptr<RelayedSessions::Entry> entry;
  if (session_id.empty()) {
    auto opened = sessions->Open(caller->user_id);
    if (!opened.ok()) return fail(opened.status());
    session_id = std::move(opened->first);
    entry = std::move(opened->second);
  } else {
    auto found = sessions->Find(session_id, caller->user_id);
    if (!found.ok()) return fail(found.status());
    entry = std::move(found).value();
  }

  std::lock_guard lock(entry->mutex);
  std::string out = "{\"session\":";
  AppendJsonString(out, session_id);
  out += ",\"results\":[";
  Status error;
  size_t results = 0;
  for (const Statement& statement : statements) {
    sql::BatchRequest batch_request;
    batch_request.sql = statement.sql;
    if (!statement.namespace_id.empty()) batch_request.default_namespace = statement.namespace_id;
    batch_request.cancellation = cancellation;
    batch_request.freshness = query::ReadFreshness::kSentOn;  // not sent on again
    sql::BatchResult batch = app_.executor().Execute(*caller, batch_request, entry->session);
    for (const sql::StatementResult& result : batch.results) {
      if (results++ > 0) out += ',';
      AppendStatementResult(out, result, result.as_user.value_or(caller->user_id));
    }
    if (!batch.error.ok()) {
      error = batch.error;
      break;
    }
  }
  const sql::Session::State state = entry->session.state();
  out += "],\"state\":";
  out += state == sql::Session::State::kInTransaction ? "\"in_transaction\""
         : state == sql::Session::State::kFailed      ? "\"failed\""
                                                       : "\"idle\"";
  if (!error.ok()) {
    out += ",\"error\":{\"code\":";
    AppendJsonString(out, CodeName(error.code()));
    out += ",\"message\":";
    AppendJsonString(out, error.message());
    out += '}';
  }
  out += '}';
  sessions->Used(*entry);
  if (state == sql::Session::State::kIdle) sessions->End(session_id);  // the transaction is over
  return Json(200, std::move(out), request);
}

Result<json::object> Routes::NodeRequestBody(const Request& request) {
  KALAM_RETURN_IF_ERROR(app_.authenticator().CheckClusterToken(HeaderValue(request, http::field::authorization)));
  return ParseBody(request.body());
}

Response Routes::BetweenNodes(const Request& request, std::string_view field, int64_t min, int64_t max,
                              const std::function<Result<std::string>(int64_t)>& answer) {
  auto fail = [&](const Status& s) { return Error(s.code(), s.message(), request.version(), request.keep_alive()); };
  auto body = NodeRequestBody(request);
  if (!body.ok()) return fail(body.status());
  const json::value* value = body->if_contains(field);
  if (value == nullptr || !value->is_int64() || value->as_int64() < min || value->as_int64() > max) {
    return fail({Code::kInvalidInput, "Expected {\"" + std::string(field) + "\": <an integer from " +
                                          std::to_string(min) + " to " + std::to_string(max) + ">}"});
  }
  auto reply = answer(value->as_int64());
  if (!reply.ok()) return fail(reply.status());
  return Json(200, std::move(reply).value(), request);
}

Response Routes::ForTableShards(
    const Request& request,
    const std::function<Result<std::string>(const std::string& table_id, const std::vector<int32_t>& shards)>& answer) {
  auto fail = [&](const Status& s) { return Error(s.code(), s.message(), request.version(), request.keep_alive()); };
  auto body = NodeRequestBody(request);
  if (!body.ok()) return fail(body.status());
  const json::value* table_id = body->if_contains("table_id");
  const json::value* shards = body->if_contains("shards");
  const Status malformed(Code::kInvalidInput, R"(Expected {"table_id": "<namespace:table>", "shards": [<shard>, ...]})");
  if (table_id == nullptr || !table_id->is_string() || shards == nullptr || !shards->is_array()) return fail(malformed);
  std::vector<int32_t> list;
  for (const json::value& shard : shards->as_array()) {
    if (!shard.is_int64() || shard.as_int64() < 0 || shard.as_int64() >= app_.config().cluster.shards) return fail(malformed);
    list.push_back(static_cast<int32_t>(shard.as_int64()));
  }
  auto reply = answer(std::string(table_id->as_string()), list);
  if (!reply.ok()) return fail(reply.status());
  return Json(200, std::move(reply).value(), request);
}

Response Routes::TopicAppendForNode(const Request& request) {
  auto fail = [&](const Status& s) { return Error(s.code(), s.message(), request.version(), request.keep_alive()); };
  auto body = NodeRequestBody(request);
  if (!body.ok()) return fail(body.status());
  const json::value* topic_num = body->if_contains("topic_num");
  const json::value* shard = body->if_contains("source_shard");
  const json::value* records = body->if_contains("records");
  if (topic_num == nullptr || !topic_num->is_number() || shard == nullptr || !shard->is_int64() ||
      shard->as_int64() < 0 || shard->as_int64() >= app_.config().cluster.shards || records == nullptr ||
      !records->is_string()) {
    return fail({Code::kInvalidInput, R"(Expected {"topic_num": N, "source_shard": S, "records": "<base64>"})"});
  }
  const std::optional<std::string> bytes = Base64Decode(records->as_string());
  if (!bytes) return fail({Code::kInvalidInput, "\"records\" is not base64"});
  auto delivery = topics::DecodeDelivery(*bytes);
  if (!delivery.ok()) return fail(delivery.status());
  boost::system::error_code ec;
  const auto num = topic_num->to_number<uint64_t>(ec);
  if (ec) return fail({Code::kInvalidInput, "\"topic_num\" is not a topic number"});
  const Status appended = app_.topics().Append(num, static_cast<int32_t>(shard->as_int64()), *delivery);
  if (!appended.ok()) return fail(appended);
  return Json(200, R"({"appended":true})", request);
}

Routes::SendOnSlot::~SendOnSlot() {
  if (count_ != nullptr) count_->fetch_sub(1);
}

std::optional<Routes::SendOnSlot> Routes::TakeSendOnSlot() {
  if (sending_on_.fetch_add(1) >= send_on_limit_) {
    sending_on_.fetch_sub(1);
    return std::nullopt;
  }
  return std::optional<SendOnSlot>(std::in_place, sending_on_);
}

std::optional<Response> Routes::SendTopicRequestOn(const Request& request, const Status& refusal,
                                                   std::chrono::milliseconds timeout) {
  if (!app_.config().cluster.enabled() || request.count(kForwardedHeader) > 0) return std::nullopt;
  const std::optional<std::string> leader = cluster::ShardGroups::LeaderNamedIn(refusal);
  if (!leader || *leader == app_.config().cluster.node_id) return std::nullopt;
  const std::optional<SendOnSlot> slot = TakeSendOnSlot();
  if (!slot) return std::nullopt;
  const auto authorization = request.find(http::field::authorization);
  auto answer = app_.SendToNode(*leader, Target(request), request.body(), timeout,
                                {{std::string(kForwardedHeader), app_.config().cluster.node_id}},
                                authorization != request.end() ? std::string(authorization->value()) : std::string());
  if (!answer.ok()) {
    spdlog::warn("cluster: sending a topic request on to '{}' failed: {}", *leader, answer.status().message());
    return std::nullopt;
  }
  return Json(static_cast<unsigned>(answer->status), std::move(answer->body), request);
}

std::optional<Response> Routes::ReplayOnLeader(const Request& request, const SqlBody& body,
                                               const auth::Caller& caller, const sql::BatchResult& batch,
                                               std::chrono::steady_clock::time_point start) {
  // A request is sent on once at most: the leader answers what it can itself.
  if (request.count(kForwardedHeader) > 0) return std::nullopt;
  // So many waiting on other nodes already: the client is told where to go instead (two
  // nodes sending each other more than their threads would otherwise stall both).
  const std::optional<SendOnSlot> slot = TakeSendOnSlot();
  if (!slot) return std::nullopt;
  const std::optional<std::string> leader = cluster::ShardGroups::LeaderNamedIn(batch.error);
  if (!leader || *leader == app_.config().cluster.node_id) return std::nullopt;

  // The statements from replay_from on; parameters come with single statements only, so a
  // body with them goes as it is.
  std::string forwarded = request.body();
  if (batch.replay_from > 1) {
    std::vector<std::string> statements = sql::SplitStatements(body.sql);
    std::string rest;
    for (size_t i = batch.replay_from - 1; i < statements.size(); ++i) rest += statements[i] + ";\n";
    json::object o;
    o["sql"] = rest;
    if (!body.namespace_id.empty()) o["namespace_id"] = body.namespace_id;
    forwarded = json::serialize(o);
  }
  client::Headers headers = {{std::string(kForwardedHeader), app_.config().cluster.node_id}};
  if (auto user = UserHeader(request)) headers.emplace_back("X-USER-ID", std::string(*user));
  // The client's own credentials: the leader checks them as this node did.
  const auto authorization = request.find(http::field::authorization);
  auto answer = app_.SendToNode(*leader, "/v1/api/sql", forwarded, kForwardTimeout, headers,
                                authorization != request.end() ? std::string(authorization->value()) : std::string());
  if (!answer.ok()) {
    spdlog::warn("cluster: sending statements on to '{}' failed: {}", *leader, answer.status().message());
    return std::nullopt;
  }
  json::object reply;
  try {
    reply = json::parse(answer->body).as_object();
  } catch (const std::exception&) {
    return std::nullopt;
  }
  // The statements that ran here, then the leader's.
  const size_t before = batch.replay_from - 1;
  const bool failed = reply.contains("error");
  std::string out = failed ? R"({"status":"error","results":[)" : R"({"status":"success","results":[)";
  size_t written = 0;
  for (size_t i = 0; i < before && i < batch.results.size(); ++i, ++written) {
    if (written > 0) out += ',';
    AppendStatementResult(out, batch.results[i], batch.results[i].as_user.value_or(caller.user_id));
  }
  if (const json::value* results = reply.if_contains("results"); results != nullptr && results->is_array()) {
    for (const json::value& r : results->as_array()) {
      if (written++ > 0) out += ',';
      out += json::serialize(r);
    }
  }
  fmt::format_to(std::back_inserter(out), "],\"took\":{:.3f}", MillisSince(start));
  if (failed) {
    json::value error = reply.at("error");
    if (json::object* e = error.if_object(); e != nullptr && e->contains("statement_index")) {
      const json::value& index = e->at("statement_index");
      if (index.is_int64()) (*e)["statement_index"] = index.as_int64() + static_cast<int64_t>(before);
    }
    out += ",\"error\":" + json::serialize(error);
  }
  out += '}';
  return Json(static_cast<unsigned>(answer->status), std::move(out), request);
}

std::string_view Routes::Label(std::string_view target) {
  for (const std::string_view route :
       {"/v1/api/sql", "/api/sql", "/v1/api/auth/login", "/v1/api/auth/refresh", "/v1/api/auth/me",
        "/v1/api/topics/consume", "/v1/api/topics/ack",
        "/health", "/v1/api/healthcheck", "/v1/api/auth/setup", "/v1/ws", "/ws", "/metrics"}) {
    if (target.substr(0, target.find('?')) == route) return route;
  }
  if (IsUiPath(target.substr(0, target.find('?')))) return "/ui";
  return "other";
}

// Loopback callers without credentials, and dba and system anywhere, may read the metrics.
Response Routes::Metrics(const Request& request, const auth::Peer& peer,
                         const Result<auth::Caller>& caller) {
  auto fail = [&](const Status& s) {
    return Error(s.code(), s.message(), request.version(), request.keep_alive());
  };
  if (!caller.ok()) return fail(caller.status());
  const bool anonymous_loopback = peer.loopback && caller->user_id.empty();
  if (!anonymous_loopback && !auth::IsAdmin(caller->role)) {
    return fail({Code::kPermissionDenied, "Permission denied: only dba and system may read /metrics"});
  }
  server::Metrics::Levels levels;
  levels.subscriptions = static_cast<int64_t>(app_.hub().Count());
  levels.running_statements = static_cast<int64_t>(app_.executor().running().Rows().size());
  levels.change_messages = app_.hub().ChangeMessages();
  levels.store = app_.store().ReadFigures();
  levels.cold = app_.cold().KnownTotals();
  levels.point_cache = app_.engine().point_cache_figures();
  Response response = Json(200, app_.metrics().Render(levels), request);
  response.set(http::field::content_type, "text/plain; version=0.0.4; charset=utf-8");
  return response;
}

Response Routes::Login(const Request& request, const Result<auth::Caller>& caller) {
  auto fail = [&](const Status& s) {
    return Error(s.code(), s.message(), request.version(), request.keep_alive());
  };
  if (!caller.ok()) return fail(caller.status());
  auto pair = app_.authenticator().IssueTokens(*caller);
  if (!pair.ok()) return fail(pair.status());
  return Json(200, TokenBody(*pair), request);
}

Response Routes::Refresh(const Request& request) {
  auto fail = [&](const Status& s) {
    return Error(s.code(), s.message(), request.version(), request.keep_alive());
  };
  auto body = ParseBody(request.body());
  if (!body.ok()) return fail(body.status());
  auto token = StringField(*body, "refresh_token", true);
  if (!token.ok()) return fail(token.status());
  auto pair = app_.authenticator().Refresh(*token);
  if (!pair.ok()) return fail(pair.status());
  return Json(200, TokenBody(*pair), request);
}

// Whether the first-visit set-up applies: root has no password and the caller is on
// loopback (the only place root may then sign in from). Anywhere else: false, always.
Response Routes::Setup(const Request& request, const auth::Peer& peer) {
  bool needs_setup = false;
  if (peer.loopback) {
    const auto state = app_.catalog().snapshot();
    const catalog::User* root = state->FindUserByName("root");
    needs_setup = root != nullptr && root->password_hash.empty();
  }
  return Json(200, needs_setup ? R"({"needs_setup":true})" : R"({"needs_setup":false})", request);
}

Response Routes::Me(const Request& request, const Result<auth::Caller>& caller) {
  if (!caller.ok()) {
    return Error(caller.status().code(), caller.status().message(), request.version(),
                 request.keep_alive());
  }
  auto state = app_.catalog().snapshot();
  const catalog::User* user = state->FindUser(caller->user_id);
  json::object body{{"user_id", caller->user_id},
                    {"username", caller->username},
                    {"role", std::string(auth::RoleName(caller->role))},
                    {"email", user != nullptr && user->email ? json::value(*user->email)
                                                             : json::value(nullptr)}};
  return Json(200, json::serialize(body), request);
}

}  // namespace kalam::server
