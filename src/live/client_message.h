// A message a WebSocket client sends on /v1/ws (docs/api.md), read from its JSON text
// apart from the connection: what it asks for, or why it is refused (PROTOCOL). Nothing
// here touches the network, checks credentials or registers a subscription.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "common/status.h"

namespace kalam::live {

struct SubscribeRequest {
  std::string id;            // the client's subscription id (1 to 128 characters)
  std::string sql;           // SELECT cols|* FROM ns.t [WHERE cond]
  std::string options_json;  // as the client sent them, shown in system.live_queries
  std::optional<int64_t> last_rows;  // keep only the newest N rows of the snapshot
  std::optional<int64_t> from_seq;   // keep only rows with _seq greater than it
  int64_t batch_size = 1000;         // rows per initial_data_batch, 1 to 10,000
};

// A field that is absent or not a string reads as "".
struct PingMessage {};
struct AuthenticateMessage {
  std::string method;  // "jwt" (token) or "basic" (username and password)
  std::string token;
  std::string username;
  std::string password;
};
// request: PROTOCOL when the message has no "subscription" object, or its options hold a
// number past a double's range.
struct SubscribeMessage {
  Result<SubscribeRequest> request;
};
struct UnsubscribeMessage {
  std::string subscription_id;
};
// Any other "type" ("" when it has none): refused, with PROTOCOL, once the client has
// authenticated (before that, every message but ping and authenticate is).
struct UnknownMessage {
  Status refusal;
};

using ClientMessage =
    std::variant<PingMessage, AuthenticateMessage, SubscribeMessage, UnsubscribeMessage, UnknownMessage>;

// PROTOCOL when text is not a JSON object.
Result<ClientMessage> ParseClientMessage(std::string_view text);

}  // namespace kalam::live
