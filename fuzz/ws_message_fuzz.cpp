// WebSocket client messages (/v1/ws) read from arbitrary text: a refusal is PROTOCOL with a
// message; a subscribe's batch size is within its bounds and its options are a JSON
// object; what was read, written again as a message, reads back the same (its options
// near: json_near.h).
#include <boost/json.hpp>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "json_near.h"
#include "live/client_message.h"

namespace {

namespace json = boost::json;
namespace live = kalam::live;
using kalam::Code;

void Check(bool invariant) {
  if (!invariant) __builtin_trap();
}

bool Refused(const kalam::Status& status) {
  return status.code() == Code::kProtocol && !status.message().empty();
}

// The message as a client would send it.
json::object Written(const live::ClientMessage& message) {
  if (std::holds_alternative<live::PingMessage>(message)) return {{"type", "ping"}};
  if (const auto* m = std::get_if<live::AuthenticateMessage>(&message)) {
    return {{"type", "authenticate"}, {"method", m->method}, {"token", m->token},
            {"username", m->username}, {"password", m->password}};
  }
  if (const auto* m = std::get_if<live::SubscribeMessage>(&message)) {
    if (!m->request.ok()) return {{"type", "subscribe"}};
    return {{"type", "subscribe"},
            {"subscription",
             {{"id", m->request->id}, {"sql", m->request->sql}, {"options", json::parse(m->request->options_json)}}}};
  }
  if (const auto* m = std::get_if<live::UnsubscribeMessage>(&message)) {
    return {{"type", "unsubscribe"}, {"subscription_id", m->subscription_id}};
  }
  return {{"type", 0}};
}

bool Same(const live::ClientMessage& a, const live::ClientMessage& b) {
  if (a.index() != b.index()) return false;
  if (const auto* x = std::get_if<live::AuthenticateMessage>(&a)) {
    const auto& y = std::get<live::AuthenticateMessage>(b);
    return x->method == y.method && x->token == y.token && x->username == y.username && x->password == y.password;
  }
  if (const auto* x = std::get_if<live::SubscribeMessage>(&a)) {
    const auto& y = std::get<live::SubscribeMessage>(b);
    if (x->request.ok() != y.request.ok()) return false;
    if (!x->request.ok()) return true;  // written again without its subscription: refused too
    return x->request->id == y.request->id && x->request->sql == y.request->sql &&
           kalam::fuzz::NearText(x->request->options_json, y.request->options_json) && x->request->last_rows == y.request->last_rows &&
           x->request->from_seq == y.request->from_seq && x->request->batch_size == y.request->batch_size;
  }
  if (const auto* x = std::get_if<live::UnsubscribeMessage>(&a)) {
    return x->subscription_id == std::get<live::UnsubscribeMessage>(b).subscription_id;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto message = live::ParseClientMessage(text);
  if (!message.ok()) {
    Check(Refused(message.status()));
    return 0;
  }
  if (const auto* unknown = std::get_if<live::UnknownMessage>(&*message)) Check(Refused(unknown->refusal));
  if (const auto* subscribe = std::get_if<live::SubscribeMessage>(&*message)) {
    if (subscribe->request.ok()) {
      Check(subscribe->request->batch_size >= 1 && subscribe->request->batch_size <= 10000);
      boost::system::error_code ec;
      Check(json::parse(subscribe->request->options_json, ec).is_object() && !ec);
    } else {
      Check(Refused(subscribe->request.status()));
    }
  }
  const std::string again = json::serialize(Written(*message));
  const auto reread = live::ParseClientMessage(again);
  Check(reread.ok() && Same(*message, *reread));
  return 0;
}
