// POST /v1/api/topics/consume and /v1/api/topics/ack: a worker's way to topics over HTTP,
// with long polling (the waiting itself is the HTTP server's, off the pools).
#include <fmt/format.h>

#include "catalog/catalog.h"
#include "common/clock.h"
#include "common/json_text.h"
#include "server/app.h"
#include "server/request_body.h"
#include "server/routes.h"

namespace kalam::server {
namespace {

namespace json = boost::json;

// "Latest" | "Earliest" | {"Offset": n}; absent: Latest.
Result<topics::StartAt> StartField(const json::object& body) {
  const json::value* v = body.if_contains("start");
  if (v == nullptr || v->is_null()) return topics::StartAt{};
  if (v->is_string()) {
    const std::string_view s = v->as_string();
    if (s == "Latest" || s == "latest") return topics::StartAt{topics::StartAt::Kind::kLatest, 0};
    if (s == "Earliest" || s == "earliest") return topics::StartAt{topics::StartAt::Kind::kEarliest, 0};
  }
  if (v->is_object()) {
    const json::object& o = v->as_object();
    const char* key = o.contains("Offset") ? "Offset" : "offset";
    auto offset = IntegerField(o, key, 0, INT64_MAX);
    if (!offset.ok()) return Status(Code::kInvalidInput, "\"start\": {\"Offset\": n} takes an offset of 0 or more");
    if (*offset && o.size() == 1) return topics::StartAt{topics::StartAt::Kind::kOffset, **offset};
  }
  return Status(Code::kInvalidInput, "\"start\" is \"Latest\", \"Earliest\" or {\"Offset\": n}");
}

void AppendMessage(std::string& out, const std::string& topic_id, const topics::Message& m) {
  out += "{\"topic_id\":";
  AppendJsonString(out, topic_id);
  fmt::format_to(std::back_inserter(out), ",\"partition_id\":{},\"offset\":{},\"payload\":", m.partition, m.offset);
  AppendJsonString(out, m.payload);
  out += ",\"key\":";
  AppendJsonString(out, m.key);
  fmt::format_to(std::back_inserter(out), ",\"timestamp_ms\":{},\"user\":", m.timestamp_ms);
  if (m.user.empty()) {
    out += "null";
  } else {
    AppendJsonString(out, m.user);
  }
  out += ",\"op\":";
  AppendJsonString(out, topics::OpName(m.op));
  out += "}";
}

// The body of a topic request from a caller who may consume topics (service, dba, system).
Result<json::object> WorkerBody(const Request& request, const Result<auth::Caller>& caller) {
  if (!caller.ok()) return caller.status();
  if (caller->role < auth::Role::kService) {
    return Status(Code::kPermissionDenied, "Permission denied: role '" + std::string(auth::RoleName(caller->role)) +
                                               "' may not consume topics (service, dba and system may)");
  }
  return ParseBody(request.body());
}

}  // namespace

Response Routes::TopicConsume(const Request& request, const Result<auth::Caller>& caller, TopicWait* wait) {
  auto fail = [&](const Status& s) { return Error(s.code(), s.message(), request.version(), request.keep_alive()); };
  auto body = WorkerBody(request, caller);
  if (!body.ok()) return fail(body.status());
  auto topic = StringField(*body, "topic_id", true);
  if (!topic.ok()) return fail(topic.status());
  auto group = StringField(*body, "group_id", false);
  if (!group.ok()) return fail(group.status());
  auto start = StartField(*body);
  if (!start.ok()) return fail(start.status());
  const auto& config = app_.config().topics;
  auto limit = IntegerField(*body, "limit", 1, std::max<int64_t>(1, config.max_consume_limit));
  if (!limit.ok()) return fail(limit.status());
  auto partition = IntegerField(*body, "partition_id", 0, topics::TopicRegistry::kMaxPartitions - 1);
  if (!partition.ok()) return fail(partition.status());
  auto timeout = IntegerField(*body, "timeout_seconds", 0, std::max<int64_t>(0, config.max_wait_secs));
  if (!timeout.ok()) return fail(timeout.status());

  topics::ConsumeRequest consume;
  consume.topic_id = *topic;
  if (!group->empty()) consume.group = *group;
  consume.partition = static_cast<int32_t>(partition->value_or(0));
  consume.start = *start;
  consume.limit = static_cast<size_t>(limit->value_or(100));
  auto batch = app_.topics().Consume(consume);
  // Cluster mode: a topic made through another node a moment ago may not be known here yet.
  if (!batch.ok() && batch.status().code() == Code::kNotFound && app_.catalog().CaughtUpWithNewer()) {
    batch = app_.topics().Consume(consume);
  }
  if (!batch.ok()) {
    // Cluster mode: asked of the topic's leader, which waits for messages itself.
    const auto wait_for = std::chrono::seconds(timeout->value_or(0)) + std::chrono::seconds(10);
    if (auto answered = SendTopicRequestOn(request, batch.status(), wait_for)) return std::move(*answered);
    return fail(batch.status());
  }

  if (batch->messages.empty() && wait != nullptr && timeout->value_or(0) > 0) {
    const auto now = std::chrono::steady_clock::now();
    if (!wait->deadline) wait->deadline = now + std::chrono::seconds(**timeout);
    if (now < *wait->deadline) {
      wait->waiting = true;
      wait->topic_num = batch->topic_num;
      wait->version = batch->version;
      wait->lapse.reset();
      if (batch->lapse_ms) {
        const int64_t in_ms = std::max<int64_t>(0, *batch->lapse_ms - NowMicros() / 1000 + 1);
        wait->lapse = now + std::chrono::milliseconds(in_ms);
      }
      return Json(200, "", request);  // not sent: the server waits and asks again
    }
  }
  std::string out = "{\"messages\":[";
  for (size_t i = 0; i < batch->messages.size(); ++i) {
    if (i > 0) out += ",";
    AppendMessage(out, *topic, batch->messages[i]);
  }
  fmt::format_to(std::back_inserter(out), "],\"next_offset\":{},\"has_more\":{}}}", batch->next_offset,
                 batch->has_more ? "true" : "false");
  return Json(200, std::move(out), request);
}

Response Routes::TopicAck(const Request& request, const Result<auth::Caller>& caller) {
  auto fail = [&](const Status& s) { return Error(s.code(), s.message(), request.version(), request.keep_alive()); };
  auto body = WorkerBody(request, caller);
  if (!body.ok()) return fail(body.status());
  auto topic = StringField(*body, "topic_id", true);
  if (!topic.ok()) return fail(topic.status());
  auto group = StringField(*body, "group_id", true);
  if (!group.ok()) return fail(group.status());
  auto partition = IntegerField(*body, "partition_id", 0, topics::TopicRegistry::kMaxPartitions - 1);
  if (!partition.ok()) return fail(partition.status());
  auto upto = IntegerField(*body, "upto_offset", 0, INT64_MAX);
  if (!upto.ok()) return fail(upto.status());
  if (!*upto) return fail(Status(Code::kInvalidInput, "Missing field \"upto_offset\""));
  const int32_t partition_id = static_cast<int32_t>(partition->value_or(0));
  auto committed = app_.topics().Ack(*topic, *group, partition_id, **upto);
  if (!committed.ok() && committed.status().code() == Code::kNotFound && app_.catalog().CaughtUpWithNewer()) {
    committed = app_.topics().Ack(*topic, *group, partition_id, **upto);
  }
  if (!committed.ok()) {
    if (auto answered = SendTopicRequestOn(request, committed.status(), std::chrono::seconds(30))) {
      return std::move(*answered);
    }
    return fail(committed.status());
  }
  return Json(200, fmt::format("{{\"success\":true,\"acknowledged_offset\":{}}}", *committed), request);
}

}  // namespace kalam::server
