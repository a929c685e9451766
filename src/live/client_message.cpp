#include "live/client_message.h"

#include <algorithm>
#include <boost/json.hpp>

namespace kalam::live {
namespace {

namespace json = boost::json;

std::string String(const json::object& o, const char* key) {
  const json::value* v = o.if_contains(key);
  return v != nullptr && v->is_string() ? std::string(v->as_string()) : std::string();
}

std::optional<int64_t> Int(const json::object& o, const char* key) {
  const json::value* v = o.if_contains(key);
  if (v == nullptr) return std::nullopt;
  if (v->is_int64()) return v->as_int64();
  if (v->is_uint64()) return static_cast<int64_t>(v->as_uint64());
  return std::nullopt;
}

Result<SubscribeRequest> Subscription(const json::object& message) {
  const json::value* spec_value = message.if_contains("subscription");
  if (spec_value == nullptr || !spec_value->is_object()) {
    return Status(Code::kProtocol, "subscribe needs a \"subscription\" object");
  }
  const json::object& spec = spec_value->as_object();
  json::object options;
  if (const json::value* o = spec.if_contains("options"); o != nullptr && o->is_object()) {
    options = o->as_object();
  }
  SubscribeRequest request;
  request.id = String(spec, "id");
  request.sql = String(spec, "sql");
  request.options_json = json::serialize(options);
  // A number past a double's range (1e999) reads as infinity, which serializes as no JSON.
  boost::system::error_code ec;
  (void)json::parse(request.options_json, ec);
  if (ec) return Status(Code::kProtocol, "subscribe options hold a number out of range");
  request.last_rows = Int(options, "last_rows");
  request.from_seq = Int(options, "from_seq_id");
  request.batch_size = std::clamp<int64_t>(Int(options, "batch_size").value_or(1000), 1, 10000);
  return request;
}

}  // namespace

Result<ClientMessage> ParseClientMessage(std::string_view text) {
  boost::system::error_code ec;
  json::value parsed = json::parse(text, ec);
  if (ec || !parsed.is_object()) return Status(Code::kProtocol, "Messages are JSON objects");
  const json::object& message = parsed.as_object();
  const std::string type = String(message, "type");
  if (type == "ping") return ClientMessage(PingMessage{});
  if (type == "authenticate") {
    return ClientMessage(AuthenticateMessage{String(message, "method"), String(message, "token"),
                                             String(message, "username"), String(message, "password")});
  }
  if (type == "subscribe") return ClientMessage(SubscribeMessage{Subscription(message)});
  if (type == "unsubscribe") return ClientMessage(UnsubscribeMessage{String(message, "subscription_id")});
  return ClientMessage(UnknownMessage{Status(Code::kProtocol, "Unknown message type '" + type + "'")});
}

}  // namespace kalam::live
